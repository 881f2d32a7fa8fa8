// `pubsub-mon watch`: a refreshing, keyboard-driven view of channels, nodes or clients on a terminal; plain refreshes or JSON lines elsewhere.
import { defineCommand } from './command.js';
import { targetFor, useColor } from './io.js';
import { bool, choice, CONNECTION_FLAGS, duration, integer, OUTPUT_FLAGS, text } from '../options.js';
import { SORT_KEYS } from '../stats/arrange.js';
import { CLIENT_GROUP_BY } from '../stats/subscriber-clients.js';
import { WATCH_VIEWS } from '../render/watch-screen.js';
import { UsageError } from '../errors.js';
import { declaredChannels, loadContract } from './contract-file.js';

export const WATCH_FLAGS = {
  ...CONNECTION_FLAGS,
  ...OUTPUT_FLAGS,
  interval: duration({ alias: 'i', default: '1s', min: 100, describe: 'Time between refreshes (500ms, 2s, ...)' }),
  rates: bool({ alias: 'r', describe: 'Measure messages/s per channel (subscribes PSUBSCRIBE on one node and SSUBSCRIBE on shard owners; not counted in the numbers shown)' }),
  pattern: text({ describe: 'Only channels matching this glob (Redis syntax: * ? [abc])' }),
  sort: choice(SORT_KEYS, { default: 'subscribers', describe: 'Order of the channel rows (the s key cycles)' }),
  limit: integer({ alias: 'n', min: 1, describe: 'Show at most N channels (default: all; the full screen scrolls, --once on a terminal shows what fits)' }),
  view: choice(WATCH_VIEWS, { default: 'channels', describe: 'First view (Tab switches on a terminal; the only one with --once or off a terminal)' }),
  'group-by': choice(CLIENT_GROUP_BY, { describe: 'Clients view: one row per client name, library or host (the g key cycles)' }),
  once: bool({ describe: 'Take one snapshot (two samples one --interval apart, for the rates) and exit' }),
  'include-keyspace': bool({ describe: 'Include keyspace-notification channels (__keyspace@*, __keyevent@*)' }),
  contract: text({ describe: 'YAML file declaring channels and thresholds: declared channels shown even with no subscriber, breaches marked and listed first' }),
} as const;

export const watchCommand = defineCommand({
  command: 'watch',
  describe: 'Refreshing view of channels (classic and sharded), per-node pub/sub health and subscriber clients',
  flags: WATCH_FLAGS,
  examples: [
    ['pubsub-mon watch', 'channels and nodes of 127.0.0.1:6379, every second'],
    ['pubsub-mon watch -p 7000 --rates --sort rate', 'a cluster, busiest channels first'],
    ['pubsub-mon watch --view clients', 'every subscriber connection, the largest output buffer first'],
    ['pubsub-mon watch --once --json | jq .channels', 'one snapshot for a script'],
    ['pubsub-mon watch --contract channels.yaml', 'declared channels shown even at 0 subscribers, breaches marked and first'],
  ],
  epilog:
    'Keys on a terminal: q quit, p pause, s sort, / filter (Enter applies, Esc clears), r rates on/off, ' +
    'Tab next view, g group clients, j/k or arrows scroll, ? all keys. On a narrow terminal the channel ' +
    'table drops SLOT, then SHARD, then KIND; the node table VERSION, OPS/S, CLIENTS, OBUF DISCONN, PATTERNS.',
  async run(args, io, signal) {
    // Without the sampler there is no rate to sort by: say so rather than sort by nothing.
    if (args.sort === 'rate' && !args.rates) throw new UsageError('--sort rate needs --rates (rates are only measured with it)');
    // The server-side glob would hide declared channels it does not match, and judge patterns on part of the channels.
    if (args.contract !== undefined && args.pattern !== undefined) throw new UsageError('--contract judges every channel it declares, so it cannot be combined with --pattern: filter the view with / instead');
    if (args.groupBy !== undefined && args.view !== 'clients') throw new UsageError('--group-by applies to the clients view: add --view clients');
    const contract = args.contract !== undefined ? await loadContract(args.contract) : undefined;
    const target = targetFor(args, io);
    const [{ Monitor }, { interactive, plain }] = await Promise.all([import('../redis/monitor.js'), import('./watch-session.js')]);
    const monitor = await Monitor.open(target, {
      role: 'watch',
      ...(args.pattern !== undefined ? { pattern: args.pattern } : {}),
      includeKeyspace: args.includeKeyspace,
      rates: args.rates,
      reconnect: !args.once,
      // A refresh waits for slow nodes no longer than one interval: the others still refresh on time.
      ...(args.once ? {} : { waitMs: Math.min(target.timeoutMs, args.interval) }),
      declared: declaredChannels(contract),
    });
    try {
      const color = !args.json && useColor(io, args.color);
      const options = { ...args, color, title: `pubsub-mon watch ${target.display}`, contract };
      if (!args.once && !args.json && io.stdout.isTTY) return await interactive(monitor, options, io, signal);
      return await plain(monitor, options, io, signal);
    } finally {
      monitor.close();
    }
  },
});
