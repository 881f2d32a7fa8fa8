// `pubsub-mon bench`: publish/subscribe throughput and end-to-end latency, open loop, HDR histograms.
import fs from 'node:fs';
import { defineCommand } from './command.js';
import { complain, controlTargetFor, targetFor, useColor } from './io.js';
import { bool, choice, CONNECTION_FLAGS, custom, duration, integer, OUTPUT_FLAGS, text, type FlagValues } from '../options.js';
import { parseDurationRange } from '../values.js';
import { UsageError } from '../errors.js';
import { DEFAULT_BENCH, PLACEMENTS, type BenchConfig } from '../stats/bench-config.js';
import type { BenchProgress } from '../bench/runner.js';
import { formatCount, formatMicros, formatRate } from '../render/format.js';
import { escapeText } from '../render/escape.js';

export const BENCH_FLAGS = {
  ...CONNECTION_FLAGS,
  ...OUTPUT_FLAGS,
  rate: integer({ alias: 'r', default: DEFAULT_BENCH.rate, min: 0, max: 100_000_000, describe: 'Total messages per second over all publishers (0 = as fast as possible)' }),
  duration: duration({ alias: 'd', min: 100, describe: `How long to measure, after the warm-up (default ${DEFAULT_BENCH.durationMs / 1000}s)` }),
  warmup: duration({ default: `${DEFAULT_BENCH.warmupMs / 1000}s`, describe: 'Time before measuring starts (messages sent, not counted)' }),
  messages: integer({ alias: 'm', min: 1, describe: 'Measure this many messages in total instead of a --duration' }),
  channels: integer({ alias: 'C', default: DEFAULT_BENCH.channels, min: 1, max: 1_000_000, describe: 'Channels published to (round robin)' }),
  publishers: integer({ alias: 'P', default: DEFAULT_BENCH.publishers, min: 1, max: 10_000, describe: 'Publishing connections (spread over the nodes)' }),
  subscribers: integer({ alias: 'S', default: DEFAULT_BENCH.subscribers, min: 0, max: 1_000_000, describe: 'Subscriber connections (each takes every channel unless --channels-per-subscriber)' }),
  'channels-per-subscriber': integer({ min: 1, describe: 'Channels each subscriber takes (default: all of them)' }),
  placement: choice(PLACEMENTS, { describe: `With --channels-per-subscriber: sparse spreads subscribers evenly over the channels, dense puts them all on the first ones (default ${DEFAULT_BENCH.placement})` }),
  'reconnect-interval': custom({ type: 'string', describe: 'Subscribers close and reopen their connections every MIN[:MAX] (5s:30s); what is published meanwhile is not counted as lost' }, (v, flag) => (v === undefined ? undefined : parseDurationRange(v, flag, 100))),
  size: integer({ default: DEFAULT_BENCH.size, min: 0, describe: 'Payload bytes (at least 24: the header)' }),
  mode: choice(['publish', 'spublish'], { default: DEFAULT_BENCH.mode, describe: 'PUBLISH, or SPUBLISH to each channel\'s owner (Redis 7+)' }),
  subscribe: choice(['channel', 'pattern', 'shard'], { describe: 'SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE (default: shard with spublish, else channel)' }),
  replicas: bool({ describe: 'Shard subscribers on replicas of the owning shard' }),
  threads: integer({ alias: 'T', default: DEFAULT_BENCH.threads, min: 1, max: 64, describe: 'Worker threads the connections are spread over' }),
  profile: text({ describe: 'Replay a traffic profile (watch --record): its channels, rates, payload sizes and fan-out, on renamed copies of its channels' }),
  scale: custom({ type: 'string', describe: 'With --profile: every channel\'s rate times X (0.5, 2, 10)' }, (v, flag) => (v === undefined ? undefined : positiveNumber(v, flag))),
  'same-names': bool({ describe: 'With --profile: publish to the recorded channel names themselves (their real subscribers will get bench payloads)' }),
  'hdr-out': text({ describe: 'Write the HdrHistogram percentile distribution (milliseconds) to this file' }),
  agents: integer({ default: DEFAULT_BENCH.agents, min: 0, max: 1000, describe: 'Share the run with N agents (`pubsub-mon agent` on the load hosts), found through Redis; one merged report' }),
  local: bool({ default: DEFAULT_BENCH.local, describe: 'This process takes a share of the publishers and subscribers too (--no-local: only the agents do)' }),
  'agent-wait': duration({ default: `${DEFAULT_BENCH.agentWaitMs / 1000}s`, min: 100, describe: 'With --agents: how long to wait for them to join' }),
  'control-url': text({ describe: 'With --agents: a separate Redis for the control channel and keys (pubsub-mon:ctl:*); agents need the same --control-url' }),
  processes: integer({ min: 1, max: 64, describe: 'Spread this host\'s publishers and subscribers over N child processes instead of --threads (for hosts with many cores)' }),
} as const;

/** A number above 0, written plainly (`2`, `0.5`). */
function positiveNumber(value: unknown, flag: string): number {
  const text = String(value).trim();
  const n = Number(text);
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(text) || !(n > 0) || !Number.isFinite(n)) throw new UsageError(`${flag} takes a number above 0, like 0.5 or 2, got '${text}'`);
  return n;
}

/** Flags a profile decides for itself, with the value each has when not given. */
const PROFILE_DECIDES = [
  ['rate', '--rate', DEFAULT_BENCH.rate, 'the profile sets each channel\'s rate (--scale multiplies them)'],
  ['channels', '--channels', DEFAULT_BENCH.channels, 'the profile lists the channels'],
  ['subscribers', '--subscribers', DEFAULT_BENCH.subscribers, 'the profile sets each channel\'s subscribers'],
  ['size', '--size', DEFAULT_BENCH.size, 'the profile sets the payload sizes'],
  ['mode', '--mode', DEFAULT_BENCH.mode, 'each channel of the profile is classic or shard'],
] as const;

/** Turns the flags into a run description; cross-flag rules are checked here, single values by their flags. */
export function benchConfigFrom(args: FlagValues<typeof BENCH_FLAGS>): BenchConfig {
  if (args.messages !== undefined && args.duration !== undefined) throw new UsageError('--messages and --duration both say when to stop: give one');
  if (args.agents === 0 && args.controlUrl !== undefined) throw new UsageError('--control-url goes with --agents N');
  if (args.processes !== undefined && args.threads !== DEFAULT_BENCH.threads) throw new UsageError('--processes and --threads both say how to spread the work here: give one');
  if (args.placement !== undefined && args.channelsPerSubscriber === undefined && args.profile === undefined) {
    throw new UsageError('--placement goes with --channels-per-subscriber N: without it every subscriber takes every channel, and there is nothing to place');
  }
  if (args.profile === undefined) {
    if (args.scale !== undefined) throw new UsageError('--scale goes with --profile');
    if (args.sameNames) throw new UsageError('--same-names goes with --profile');
  } else {
    for (const [key, flag, fallback, why] of PROFILE_DECIDES) {
      if (args[key] !== fallback) throw new UsageError(`${flag} does not go with --profile: ${why}`);
    }
    if (args.subscribe !== undefined) throw new UsageError('--subscribe does not go with --profile: each channel of the profile is classic or shard');
    if (args.channelsPerSubscriber !== undefined) throw new UsageError('--channels-per-subscriber does not go with --profile: the profile sets each channel\'s subscribers');
    if (args.placement !== undefined) throw new UsageError('--placement does not go with --profile: the profile sets each channel\'s subscribers');
  }
  return {
    rate: args.rate,
    durationMs: args.duration ?? DEFAULT_BENCH.durationMs,
    warmupMs: args.warmup,
    channels: args.channels,
    publishers: args.publishers,
    subscribers: args.subscribers,
    size: args.size,
    mode: args.mode,
    subscribe: args.subscribe ?? (args.mode === 'spublish' ? 'shard' : 'channel'),
    replicas: args.replicas,
    threads: args.threads,
    placement: args.placement ?? DEFAULT_BENCH.placement,
    agents: args.agents,
    local: args.local,
    agentWaitMs: args.agentWait,
    ...(args.processes !== undefined ? { processes: args.processes } : {}),
    ...(args.channelsPerSubscriber !== undefined ? { channelsPerSubscriber: args.channelsPerSubscriber } : {}),
    ...(args.reconnectInterval !== undefined ? { reconnect: args.reconnectInterval } : {}),
    ...(args.sameNames ? { sameNames: true } : {}),
    ...(args.messages !== undefined ? { messages: args.messages } : {}),
  };
}

function progressLine(p: BenchProgress): string {
  const parts = [p.elapsedMs > 0 ? `${(p.elapsedMs / 1000).toFixed(1)} s` : 'warming up', `sent ${formatRate(p.sentPerSec)}`, `received ${formatRate(p.receivedPerSec)}`];
  parts.push(`p99 ${p.p99Us !== undefined ? formatMicros(p.p99Us) : '–'}`, `lag ${formatCount(p.lag)}`);
  return parts.join(' · ');
}

export const benchCommand = defineCommand({
  command: 'bench',
  describe: 'Publish/subscribe throughput and end-to-end latency (HDR histograms), classic or sharded',
  flags: BENCH_FLAGS,
  examples: [
    ['pubsub-mon bench --rate 100000', '100k messages/s to one subscriber for 10 s: rates, loss and latency'],
    ['pubsub-mon bench -p 7000 --mode spublish -C 64 -S 2', 'sharded publishes on a cluster, each to its channel\'s owner'],
    ['pubsub-mon bench --rate 0 -S 0 --json', 'publish as fast as possible, no subscriber, JSON result'],
    ['pubsub-mon bench --rate 10 -S 10000', 'fan-out: one channel, 10,000 subscriber connections'],
    ['pubsub-mon bench -S 1000 -C 100 --channels-per-subscriber 5', '5 channels per connection, spread evenly (--placement sparse)'],
    ['pubsub-mon bench --profile traffic.json --scale 2', 'replay a recorded profile (watch --record) at twice its rates'],
    ['pubsub-mon bench -u redis://10.0.0.5:7000 --mode spublish -P 6 -S 6 --agents 2', 'with `pubsub-mon agent -u redis://10.0.0.5:7000` running on two load hosts: one merged report'],
  ],
  async run(args, io, signal) {
    let config = benchConfigFrom(args);
    if (args.profile !== undefined) {
      const { loadProfile } = await import('./profile-file.js');
      const { profileToMix } = await import('../stats/profile.js');
      const scale = args.scale ?? 1;
      config = { ...config, mix: profileToMix(await loadProfile(args.profile), { scale }), profile: { file: args.profile, scale } };
    }
    const target = targetFor(args, io);
    const control = controlTargetFor(args.controlUrl, args.timeout, io, args.authWarning);
    const [{ runBench }, { renderBenchReport }, { benchToJson }, { jsonLine }, { incompleteExitCode }, { percentileDistribution }, { default: ora }] = await Promise.all([
      import('../bench/runner.js'),
      import('../render/bench-report.js'),
      import('../render/json/bench.js'),
      import('../render/json/line.js'),
      import('../stats/bench-result.js'),
      import('../stats/histogram.js'),
      import('ora'),
    ]);
    const color = useColor(io, args.color);
    // discardStdin off: ora would put the terminal in raw mode to swallow keys, and Ctrl-C would no
    // longer become SIGINT (the run went on to its end).
    // ora draws only where it may animate: not with TERM=dumb, nor where CI is set, even on a
    // terminal. There it would print "- starting" once and drop every later text, so bench says
    // its phases and progress in lines instead, as it does into a log.
    const animated = !args.json && io.stderr.isTTY ? ora({ stream: io.stderr, text: 'starting', discardStdin: false }) : undefined;
    const spinner = animated?.isEnabled ? animated.start() : undefined;
    let lastPlain = 0;
    let lastWaiting = '';
    const outcome = await runBench(
      target,
      config,
      {
        onPhase: (text) => {
          if (spinner) spinner.text = escapeText(text);
          else if (!args.json) io.stderr.write(`bench: ${escapeText(text)}\n`);
        },
        onWaiting: (text) => {
          // Without a spinner (a log, CI), a line each time the count changes: the wait can be long.
          if (spinner) spinner.text = escapeText(text);
          else if (!args.json && text !== lastWaiting) io.stderr.write(`bench: ${escapeText(text)}\n`);
          lastWaiting = text;
        },
        onNotice: (text) => {
          if (spinner) spinner.warn(escapeText(text)).start();
          else complain(io, text);
        },
        onProgress: (p) => {
          const line = progressLine(p);
          if (spinner) spinner.text = line;
          else if (!args.json && Date.now() - lastPlain >= 900) {
            lastPlain = Date.now();
            io.stderr.write(`bench: ${line}\n`);
          }
        },
      },
      signal,
      control,
    ).finally(() => spinner?.stop());
    const { result, histogram } = outcome;
    if (args.hdrOut !== undefined) {
      if (!histogram) complain(io, '--hdr-out: no latency was recorded (no subscriber received anything); no file written');
      else {
        try {
          fs.writeFileSync(args.hdrOut, percentileDistribution(histogram));
        } catch (err) {
          throw new UsageError(`--hdr-out ${args.hdrOut}: cannot write the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
        }
      }
    }
    if (args.json) io.stdout.write(jsonLine(benchToJson(result)));
    else io.stdout.write(renderBenchReport(result, { color, ...(io.stdout.columns ? { width: io.stdout.columns } : {}) }));
    return incompleteExitCode(result.incomplete);
  },
});
