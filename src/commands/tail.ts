// `pubsub-mon tail`: every message as it arrives, terminal-safe text, NDJSON or a custom format.
import { defineCommand } from './command.js';
import { complain, targetFor, useColor } from './io.js';
import { bool, CONNECTION_FLAGS_CONNECT_TIMEOUT, duration, integer, OUTPUT_FLAGS, positional, text, textList } from '../options.js';
import { UsageError } from '../errors.js';
import type { TailSubscriptions } from '../tail/tailer.js';
import type { TailKind, TailMessage } from '../stats/tail-message.js';
import { compileFormat, FORMAT_TOKENS, makeTextFormatter, TemplateError, type TailFormatter } from '../render/tail-line.js';
import type { TailMarkerJson } from '../render/json/tail.js';
import { escapeText } from '../render/escape.js';
import { formatLocalTime } from '../render/format.js';
import { nameFromArgument } from '../stats/channel-name.js';

export const TAIL_FLAGS = {
  patterns: positional(textList({ describe: 'Glob patterns to PSUBSCRIBE (default: * when no --channel or --shard is given)' })),
  ...CONNECTION_FLAGS_CONNECT_TIMEOUT,
  ...OUTPUT_FLAGS,
  channel: textList({ alias: 'c', describe: 'Exact channel to listen to (repeatable; \\xNN names a byte)' }),
  shard: textList({ alias: 's', describe: 'Shard channel to SSUBSCRIBE on its owner (repeatable; \\xNN names a byte)' }),
  shards: bool({ describe: 'Also follow every shard channel that exists (found on every node, looked for again every few seconds)' }),
  'include-keyspace': bool({ describe: 'Keep keyspace notifications (__keyspace@*, __keyevent@*) that a pattern catches' }),
  exclude: textList({ alias: 'x', describe: 'Leave out channels matching this glob (repeatable)' }),
  grep: text({ alias: 'g', describe: 'Only messages whose payload matches this regular expression' }),
  count: integer({ alias: 'n', min: 1, describe: 'Exit 0 after N messages' }),
  timeout: duration({ alias: 't', describe: 'Exit after this long (30s, 5m); exit 1 if --count was not reached by then' }),
  idle: duration({ describe: 'Exit after this long without a message; exit 1 if --count was not reached' }),
  pretty: bool({ describe: 'Indent JSON payloads' }),
  full: bool({ describe: 'Never cut long payloads at the terminal width' }),
  'max-payload': integer({ min: 0, describe: 'Show at most this many bytes of each payload (text, JSON and --format)' }),
  format: text({ alias: 'f', describe: 'Output template, e.g. "%T %c %s\\n" (tokens below)' }),
} as const;

/** What `tail` subscribes to: `*` when nothing narrower is named. */
function subscriptionsFrom(args: { patterns: string[]; channel: string[]; shard: string[]; shards: boolean }): TailSubscriptions {
  const nothingNamed = args.patterns.length === 0 && args.channel.length === 0 && args.shard.length === 0;
  // Names may be given by their bytes (`\xff`), in the escapes tail prints them with.
  return { patterns: nothingNamed ? ['*'] : args.patterns, channels: args.channel.map(nameFromArgument), shardChannels: args.shard.map(nameFromArgument), allShards: args.shards };
}

/** The --format template, or a usage error naming what is wrong with it. */
function templateFormatter(template: string, maxPayload: number | undefined): TailFormatter {
  try {
    return compileFormat(template, { ...(maxPayload !== undefined ? { maxPayload } : {}) });
  } catch (err) {
    if (err instanceof TemplateError) throw new UsageError(err.message);
    throw err;
  }
}

export const tailCommand = defineCommand({
  command: 'tail [patterns..]',
  describe: 'Print every message as it arrives (classic and sharded), terminal-safe, as text or NDJSON',
  flags: TAIL_FLAGS,
  examples: [
    ["pubsub-mon tail 'news:*'", 'everything published on channels matching news:*'],
    ['pubsub-mon tail --shards --json > traffic.ndjson', 'all traffic, shard channels too, as NDJSON'],
    ['pubsub-mon tail -c deploys --count 1 --timeout 60s', 'wait up to a minute for one message (exit 1 if none)'],
  ],
  epilog: `--format tokens: ${FORMAT_TOKENS.map((t) => `${t.token} ${t.description}`).join('; ')}`,
  async run(args, io, signal) {
    const target = targetFor({ ...args, timeout: args.connectTimeout }, io);
    const { count, maxPayload } = args;
    const timeoutMs = args.timeout;
    const idleMs = args.idle;
    const [{ Tailer }, { makeFilter }, { OutputQueue }, { makeJsonFormatter, markerLine }] = await Promise.all([
      import('../tail/tailer.js'),
      import('../tail/filter.js'),
      import('../tail/output-queue.js'),
      import('../render/json/tail.js'),
    ]);
    if (args.json && args.format !== undefined) throw new UsageError('--json and --format are two output formats: choose one');
    let grep: RegExp | undefined;
    if (args.grep !== undefined) {
      try {
        grep = new RegExp(args.grep);
      } catch (err) {
        throw new UsageError(`--grep is not a valid regular expression: ${(err as Error).message}`);
      }
    }
    const filter = makeFilter({ includeKeyspace: args.includeKeyspace, exclude: args.exclude, ...(grep ? { grep } : {}) });
    const tty = Boolean(io.stdout.isTTY);
    const color = useColor(io, args.color);
    const render: TailFormatter = args.json
      ? makeJsonFormatter({ ...(maxPayload !== undefined ? { maxPayload } : {}) })
      : args.format !== undefined
        ? templateFormatter(args.format, maxPayload)
        : makeTextFormatter({ color, full: args.full || !tty, pretty: args.pretty, ...(maxPayload !== undefined ? { maxPayload } : {}), ...(tty && io.stdout.columns ? { width: io.stdout.columns } : {}) });

    const seen: Record<TailKind, number> = { message: 0, pmessage: 0, smessage: 0 };
    let printed = 0;
    let filtered = 0;
    let gaps = 0;
    let outcome: 'count' | 'timeout' | 'idle' | 'signal' | 'pipe' | undefined;
    let finish: () => void = () => undefined;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const stop = (why: NonNullable<typeof outcome>) => {
      if (outcome) return;
      outcome = why;
      finish();
    };

    const queue = new OutputQueue(io.stdout, {
      onDropStart: () => complain(io, 'output is not keeping up: dropping messages (counted; the summary at exit says how many)'),
    });
    io.stdout.on('error', (err: NodeJS.ErrnoException) => {
      // The reader went away (`| head`): that is how pipes end, not a failure.
      if (err.code === 'EPIPE') stop('pipe');
    });
    const marker = (text: string, event: TailMarkerJson) => {
      if (args.json) queue.push(markerLine(event));
      else queue.push(`${formatLocalTime(Date.parse(event.ts), { millis: true })}  --- ${escapeText(text)} ---\n`);
      if (!tty) complain(io, text);
    };

    let idleTimer: NodeJS.Timeout | undefined;
    const armIdle = () => {
      if (idleMs === undefined) return;
      if (idleTimer) clearTimeout(idleTimer);
      idleTimer = setTimeout(() => stop('idle'), idleMs);
    };

    const tailer = await Tailer.open(target, subscriptionsFrom(args), {
      onMessage: (kind, pattern, channel, payload, receivedAt, node) => {
        if (outcome) return;
        seen[kind]++;
        if (filter && !filter(kind, pattern, channel, payload)) {
          filtered++;
          return;
        }
        const m: TailMessage = pattern ? { receivedAt, node, kind, pattern, channel, payload } : { receivedAt, node, kind, channel, payload };
        if (queue.push(render(m))) printed++;
        if (idleMs !== undefined) armIdle();
        if (count !== undefined && printed >= count) stop('count');
      },
      onGap: (node, reason) => {
        gaps++;
        marker(`${reason}; messages published until it is back are missed`, { ts: new Date().toISOString(), kind: 'gap', node, reason });
      },
      onResume: (node, downMs) => marker(`resubscribed on ${node}, ${downMs} ms after the gap`, { ts: new Date().toISOString(), kind: 'resumed', node, down_ms: downMs }),
      onNotice: (text) => complain(io, text),
    });

    armIdle();
    const timeoutTimer = timeoutMs === undefined ? undefined : setTimeout(() => stop('timeout'), timeoutMs);
    const onAbort = () => stop('signal');
    signal.addEventListener('abort', onAbort);
    if (signal.aborted) stop('signal');
    try {
      await finished;
    } finally {
      signal.removeEventListener('abort', onAbort);
      if (timeoutTimer) clearTimeout(timeoutTimer);
      if (idleTimer) clearTimeout(idleTimer);
      tailer.close();
      if (outcome !== 'pipe') await queue.end();
    }
    const received = seen.message + seen.pmessage + seen.smessage;
    const parts = [`${printed} printed of ${received} received (message ${seen.message}, pmessage ${seen.pmessage}, smessage ${seen.smessage})`];
    if (filtered) parts.push(`${filtered} filtered out`);
    parts.push(`${queue.dropped} dropped`);
    if (gaps) parts.push(`${gaps} gap${gaps > 1 ? 's' : ''} where messages may be missing`);
    if (outcome !== 'pipe') io.stderr.write(`pubsub-mon tail: ${parts.join(', ')}\n`);
    const countMissed = count !== undefined && printed < count && (outcome === 'timeout' || outcome === 'idle');
    return countMissed ? 1 : 0;
  },
});
