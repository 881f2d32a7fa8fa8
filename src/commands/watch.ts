// `pubsub-mon watch`: a refreshing table of channels and nodes, or one JSON line per refresh.
import type { Argv, Options } from 'yargs';
import type { CommandModule } from './command.js';
import { sleep, useColor, type Io } from './io.js';
import { CONNECTION_OPTIONS, OUTPUT_OPTIONS, lastWins, targetFromArgs, type ConnectionArgs } from '../options.js';
import { parseDuration, parseInteger } from '../values.js';
import { Monitor } from '../redis/monitor.js';
import type { Snapshot } from '../stats/snapshot.js';
import { arrangeChannels, SORT_KEYS, type SortKey } from '../stats/arrange.js';
import { renderSnapshot } from '../render/watch-table.js';
import { snapshotToJson } from '../render/json/watch.js';
import { UsageError } from '../errors.js';

export const WATCH_OPTIONS = lastWins({
  interval: { alias: 'i', type: 'string', default: '1s', describe: 'Time between refreshes (500ms, 2s, ...)' },
  rates: { alias: 'r', type: 'boolean', default: false, describe: 'Measure messages/s per channel (subscribes PSUBSCRIBE on one node and SSUBSCRIBE on shard owners; not counted in the numbers shown)' },
  pattern: { type: 'string', describe: 'Only channels matching this glob (Redis syntax: * ? [abc])' },
  sort: { type: 'string', choices: SORT_KEYS, default: 'subscribers', describe: 'Order of the channel rows' },
  limit: { alias: 'n', type: 'string', describe: 'Show at most N channels (default: what fits the terminal; all when not a terminal)' },
  once: { type: 'boolean', default: false, describe: 'Take one snapshot (two samples one --interval apart, for the rates) and exit' },
  'include-keyspace': { type: 'boolean', default: false, describe: 'Include keyspace-notification channels (__keyspace@*, __keyevent@*)' },
} as const satisfies Record<string, Options>);

interface WatchArgs extends ConnectionArgs {
  interval: string;
  rates: boolean;
  pattern?: string;
  sort: SortKey;
  limit?: string;
  once: boolean;
  includeKeyspace: boolean;
  json: boolean;
  color: boolean;
}

const CLEAR_SCREEN = '\x1b[2J';
const HOME = '\x1b[H';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/** Channel rows that fit a terminal of `rows` lines beside the node table and the headers. */
function fittingLimit(io: Io, nodeCount: number): number | undefined {
  const rows = io.stdout.rows;
  if (!io.stdout.isTTY || !rows) return undefined;
  return Math.max(3, rows - nodeCount - 12);
}

function present(s: Snapshot, sort: SortKey, limit: number | undefined): Snapshot {
  const { rows, hidden } = arrangeChannels(s.channels, sort, limit);
  const warnings = hidden > 0 ? [`${hidden} more channels not shown (--limit, --pattern or --sort choose which)`, ...s.warnings] : s.warnings;
  return { ...s, channels: rows, warnings };
}

export const watchCommand: CommandModule = {
  command: 'watch',
  describe: 'Refreshing table of channels (classic and sharded) and per-node pub/sub health',
  builder: (y: Argv) => y.options(CONNECTION_OPTIONS).options(OUTPUT_OPTIONS).options(WATCH_OPTIONS)
    .example('pubsub-mon watch', 'channels and nodes of 127.0.0.1:6379, every second')
    .example('pubsub-mon watch -p 7000 --rates --sort rate', 'a cluster, busiest channels first')
    .example('pubsub-mon watch --once --json | jq .channels', 'one snapshot for a script'),
  async run(raw, io, signal) {
    const args = raw as unknown as WatchArgs;
    const target = targetFromArgs(args, io.env);
    const intervalMs = parseDuration(args.interval, '--interval');
    if (intervalMs < 100) throw new UsageError(`--interval must be at least 100ms, got '${args.interval}'`);
    const explicitLimit = args.limit === undefined ? undefined : parseInteger(args.limit, '--limit', 1);
    const color = !args.json && useColor(io, args.color);
    const tty = Boolean(io.stdout.isTTY) && !args.json;

    const monitor = await Monitor.open(target, {
      role: 'watch',
      ...(args.pattern !== undefined ? { pattern: args.pattern } : {}),
      includeKeyspace: args.includeKeyspace,
      rates: args.rates,
      reconnect: !args.once,
    });
    const show = (s: Snapshot, title?: string) => {
      const limit = explicitLimit ?? fittingLimit(io, s.nodes.length);
      const shown = present(s, args.sort, limit);
      if (args.json) return `${JSON.stringify(snapshotToJson(shown))}\n`;
      return renderSnapshot(shown, { color, showRates: args.rates, ...(io.stdout.columns ? { width: io.stdout.columns } : {}), ...(title ? { title } : {}) });
    };
    try {
      if (args.once) {
        // Rates are differences: the first sample only starts the counters.
        await monitor.snapshot();
        await sleep(intervalMs, signal);
        if (signal.aborted) return 0;
        io.stdout.write(show(await monitor.snapshot()));
        return 0;
      }
      if (tty) io.stdout.write(HIDE_CURSOR + CLEAR_SCREEN);
      while (!signal.aborted) {
        const started = Date.now();
        const snapshot = await monitor.snapshot();
        if (signal.aborted) break;
        if (tty) {
          const frame = show(snapshot, `pubsub-mon watch ${target.display}`);
          io.stdout.write(HOME + frame.split('\n').join(`${CLEAR_LINE_END}\n`) + CLEAR_BELOW);
        } else {
          io.stdout.write(args.json ? show(snapshot) : `${show(snapshot)}\n`);
        }
        await sleep(Math.max(0, intervalMs - (Date.now() - started)), signal);
      }
      return 0;
    } finally {
      if (tty) io.stdout.write(SHOW_CURSOR);
      monitor.close();
    }
  },
};

