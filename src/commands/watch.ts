// `pubsub-mon watch`: a refreshing, keyboard-driven view of channels, nodes or clients on a terminal; plain refreshes or JSON lines elsewhere.
import { defineCommand } from './command.js';
import { targetFor, useColor } from './io.js';
import { bool, choice, CONNECTION_FLAGS, duration, integer, OUTPUT_FLAGS, text } from '../options.js';
import { SORT_KEYS } from '../stats/arrange.js';
import { CLIENT_GROUP_BY } from '../stats/subscriber-clients.js';
import { WATCH_VIEWS } from '../render/watch-screen.js';
import { InterruptedError, UsageError } from '../errors.js';
import { declaredChannels, loadContract } from './contract-file.js';
import { checkWritable } from './profile-file.js';
import { DEFAULT_RECORD_WINDOW_MS, recordingFlagsProblem, RECORDING_FLAGS, saveRecording, tell } from './recording.js';

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
  ...RECORDING_FLAGS,
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
    ['pubsub-mon watch --record traffic.json --record-group \'orders:*\'', 'record a traffic profile over 60 s (for bench --profile), then exit'],
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
    const recordProblem = recordingFlagsProblem(args);
    if (recordProblem !== undefined) throw new UsageError(recordProblem);
    // A recording ends by itself when its window is over: one snapshot cannot measure a window.
    if (args.record !== undefined && args.once) throw new UsageError('--record measures traffic over --record-window and then exits: leave out --once');
    const contract = args.contract !== undefined ? await loadContract(args.contract) : undefined;
    // Better now, in one line, than after the window: the directory is missing or not writable.
    if (args.record !== undefined) await checkWritable(args.record);
    const target = targetFor(args, io);
    const [{ Monitor }, { interactive, plain }, { TrafficRecording }] = await Promise.all([
      import('../redis/monitor.js'),
      import('./watch-session.js'),
      import('../stats/traffic-recording.js'),
    ]);
    const recording = args.record !== undefined ? new TrafficRecording(args.recordWindow ?? DEFAULT_RECORD_WINDOW_MS) : undefined;
    const monitor = await Monitor.open(target, {
      role: 'watch',
      ...(args.pattern !== undefined ? { pattern: args.pattern } : {}),
      includeKeyspace: args.includeKeyspace,
      // A recording is made of the rates and payload sizes the sampler measures.
      rates: args.rates || recording !== undefined,
      payloadSizes: recording !== undefined,
      reconnect: !args.once,
      // A refresh waits for slow nodes no longer than one interval: the others still refresh on time.
      ...(args.once ? {} : { waitMs: Math.min(target.timeoutMs, args.interval) }),
      declared: declaredChannels(contract),
    });
    try {
      const color = !args.json && useColor(io, args.color);
      const options = { ...args, rates: args.rates || recording !== undefined, color, title: `pubsub-mon watch ${target.display}`, contract, recording };
      const code = !args.once && !args.json && io.stdout.isTTY ? await interactive(monitor, options, io, signal) : await plain(monitor, options, io, signal);
      if (args.record === undefined || recording === undefined) return code;
      if (!recording.complete) {
        throw new InterruptedError(`recording stopped after ${(recording.elapsedMs / 1000).toFixed(1)} s of ${recording.windowMs / 1000} s: ${args.record} not written`);
      }
      tell(io, 'watch', await saveRecording(args.record, recording, args.recordGroup, `${target.host}:${target.port} (${monitor.mode})`));
      return code;
    } finally {
      monitor.close();
    }
  },
});
