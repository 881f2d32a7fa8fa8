// `pubsub-mon watch`: a refreshing table of channels and nodes, or one JSON line per refresh.
import { defineCommand } from './command.js';
import { sleep, targetFor, useColor, type Io } from './io.js';
import { bool, choice, CONNECTION_FLAGS, duration, integer, OUTPUT_FLAGS, text } from '../options.js';
import { SORT_KEYS, type SortKey } from '../stats/arrange.js';
import type { Snapshot } from '../stats/snapshot.js';
import { plural } from '../stats/plural.js';
import { UsageError } from '../errors.js';

export const WATCH_FLAGS = {
  ...CONNECTION_FLAGS,
  ...OUTPUT_FLAGS,
  interval: duration({ alias: 'i', default: '1s', min: 100, describe: 'Time between refreshes (500ms, 2s, ...)' }),
  rates: bool({ alias: 'r', describe: 'Measure messages/s per channel (subscribes PSUBSCRIBE on one node and SSUBSCRIBE on shard owners; not counted in the numbers shown)' }),
  pattern: text({ describe: 'Only channels matching this glob (Redis syntax: * ? [abc])' }),
  sort: choice(SORT_KEYS, { default: 'subscribers', describe: 'Order of the channel rows' }),
  limit: integer({ alias: 'n', min: 1, describe: 'Show at most N channels (default: what fits the terminal; all when not a terminal)' }),
  once: bool({ describe: 'Take one snapshot (two samples one --interval apart, for the rates) and exit' }),
  'include-keyspace': bool({ describe: 'Include keyspace-notification channels (__keyspace@*, __keyevent@*)' }),
  view: choice(['channels', 'nodes', 'clients'], { default: 'channels', describe: 'What to show: channels, nodes, or every subscriber connection (clients; --json adds clients[])' }),
  'group-by': choice(['name', 'lib', 'addr'], { describe: 'Group the clients view by client name, library or host (the g key cycles)' }),
} as const;

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

export const watchCommand = defineCommand({
  command: 'watch',
  describe: 'Refreshing table of channels (classic and sharded) and per-node pub/sub health',
  flags: WATCH_FLAGS,
  examples: [
    ['pubsub-mon watch', 'channels and nodes of 127.0.0.1:6379, every second'],
    ['pubsub-mon watch -p 7000 --rates --sort rate', 'a cluster, busiest channels first'],
    ['pubsub-mon watch --once --json | jq .channels', 'one snapshot for a script'],
  ],
  async run(args, io, signal) {
    // Without the sampler there is no rate to sort by: say so rather than sort by nothing.
    if (args.sort === 'rate' && !args.rates) throw new UsageError('--sort rate needs --rates (rates are only measured with it)');
    const target = targetFor(args, io);
    const [{ Monitor }, { arrangeChannels }, { renderSnapshot }, { snapshotToJson }, { jsonLine }] = await Promise.all([
      import('../redis/monitor.js'),
      import('../stats/arrange.js'),
      import('../render/watch-table.js'),
      import('../render/json/watch.js'),
      import('../render/json/line.js'),
    ]);
    const color = !args.json && useColor(io, args.color);
    const tty = Boolean(io.stdout.isTTY) && !args.json;

    const monitor = await Monitor.open(target, {
      role: 'watch',
      ...(args.pattern !== undefined ? { pattern: args.pattern } : {}),
      includeKeyspace: args.includeKeyspace,
      rates: args.rates,
      reconnect: !args.once,
      // A refresh waits for slow nodes no longer than one interval: the others still refresh on time.
      ...(args.once ? {} : { waitMs: Math.min(target.timeoutMs, args.interval) }),
    });
    const present = (s: Snapshot, sort: SortKey, limit: number | undefined): Snapshot => {
      const { rows, hidden } = arrangeChannels(s.channels, sort, limit);
      const warnings = hidden > 0 ? [`${plural(hidden, 'more channel')} not shown (--limit, --pattern or --sort choose which)`, ...s.warnings] : s.warnings;
      return { ...s, channels: rows, warnings };
    };
    const show = (s: Snapshot, title?: string) => {
      const shown = present(s, args.sort, args.limit ?? fittingLimit(io, s.nodes.length));
      if (args.json) return jsonLine(snapshotToJson(shown, { clients: args.view === 'clients' }));
      return renderSnapshot(shown, { color, showRates: args.rates, ...(io.stdout.columns ? { width: io.stdout.columns } : {}), ...(title ? { title } : {}) });
    };
    try {
      if (args.once) {
        // Rates are differences: the first sample only starts the counters.
        await monitor.snapshot();
        await sleep(args.interval, signal);
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
        await sleep(Math.max(0, args.interval - (Date.now() - started)), signal);
      }
      return 0;
    } finally {
      if (tty) io.stdout.write(SHOW_CURSOR);
      monitor.close();
    }
  },
});
