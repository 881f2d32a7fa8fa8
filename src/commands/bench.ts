// `pubsub-mon bench`: publish/subscribe throughput and end-to-end latency, open loop, HDR histograms.
import fs from 'node:fs';
import { defineCommand } from './command.js';
import { complain, targetFor, useColor } from './io.js';
import { bool, choice, CONNECTION_FLAGS, duration, integer, OUTPUT_FLAGS, text, type FlagValues } from '../options.js';
import { UsageError } from '../errors.js';
import { DEFAULT_BENCH, type BenchConfig } from '../stats/bench-config.js';
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
  subscribers: integer({ alias: 'S', default: DEFAULT_BENCH.subscribers, min: 0, max: 10_000, describe: 'Subscribers, each subscribed to every channel' }),
  size: integer({ default: DEFAULT_BENCH.size, min: 0, describe: 'Payload bytes (at least 24: the header)' }),
  mode: choice(['publish', 'spublish'], { default: DEFAULT_BENCH.mode, describe: 'PUBLISH, or SPUBLISH to each channel\'s owner (Redis 7+)' }),
  subscribe: choice(['channel', 'pattern', 'shard'], { describe: 'SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE (default: shard with spublish, else channel)' }),
  replicas: bool({ describe: 'Shard subscribers on replicas of the owning shard' }),
  threads: integer({ alias: 'T', default: DEFAULT_BENCH.threads, min: 1, max: 64, describe: 'Worker threads the connections are spread over' }),
  'hdr-out': text({ describe: 'Write the HdrHistogram percentile distribution (milliseconds) to this file' }),
} as const;

/** Turns the flags into a run description; cross-flag rules are checked here, single values by their flags. */
export function benchConfigFrom(args: FlagValues<typeof BENCH_FLAGS>): BenchConfig {
  if (args.messages !== undefined && args.duration !== undefined) throw new UsageError('--messages and --duration both say when to stop: give one');
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
  ],
  async run(args, io, signal) {
    const config = benchConfigFrom(args);
    const target = targetFor(args, io);
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
    const spinner = !args.json && io.stderr.isTTY ? ora({ stream: io.stderr, text: 'starting' }).start() : undefined;
    let lastPlain = 0;
    const outcome = await runBench(
      target,
      config,
      {
        onPhase: (text) => {
          if (spinner) spinner.text = text;
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
