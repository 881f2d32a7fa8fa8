// `pubsub-mon bench`: publish/subscribe throughput and end-to-end latency, open loop, HDR histograms.
import fs from 'node:fs';
import type { Argv, Options } from 'yargs';
import ora from 'ora';
import type { CommandModule } from './command.js';
import { complain, useColor, type Io } from './io.js';
import { CONNECTION_OPTIONS, OUTPUT_OPTIONS, lastWins, targetFromArgs, type ConnectionArgs } from '../options.js';
import { parseDuration, parseInteger } from '../values.js';
import { UsageError } from '../errors.js';
import { DEFAULT_BENCH, type BenchConfig, type PublishMode, type SubscribeMode } from '../stats/bench-config.js';
import { runBench, type BenchProgress } from '../bench/runner.js';
import { renderBenchReport } from '../render/bench-report.js';
import { benchToJson } from '../render/json/bench.js';
import { incompleteExitCode } from '../stats/bench-result.js';
import { percentileDistribution } from '../stats/histogram.js';
import { formatCount, formatMicros, formatRate } from '../render/format.js';

export const BENCH_OPTIONS = lastWins({
  rate: { alias: 'r', type: 'string', default: String(DEFAULT_BENCH.rate), describe: 'Total messages per second over all publishers (0 = as fast as possible)' },
  duration: { alias: 'd', type: 'string', describe: `How long to measure, after the warm-up (default ${DEFAULT_BENCH.durationMs / 1000}s)` },
  warmup: { type: 'string', default: `${DEFAULT_BENCH.warmupMs / 1000}s`, describe: 'Time before measuring starts (messages sent, not counted)' },
  messages: { alias: 'm', type: 'string', describe: 'Measure this many messages in total instead of a --duration' },
  channels: { alias: 'C', type: 'string', default: String(DEFAULT_BENCH.channels), describe: 'Channels published to (round robin)' },
  publishers: { alias: 'P', type: 'string', default: String(DEFAULT_BENCH.publishers), describe: 'Publishing connections (spread over the nodes)' },
  subscribers: { alias: 'S', type: 'string', default: String(DEFAULT_BENCH.subscribers), describe: 'Subscribers, each subscribed to every channel' },
  size: { type: 'string', default: String(DEFAULT_BENCH.size), describe: 'Payload bytes (at least 24: the header)' },
  mode: { type: 'string', choices: ['publish', 'spublish'], default: DEFAULT_BENCH.mode, describe: 'PUBLISH, or SPUBLISH to each channel\'s owner (Redis 7+)' },
  subscribe: { type: 'string', choices: ['channel', 'pattern', 'shard'], describe: 'SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE (default: shard with spublish, else channel)' },
  replicas: { type: 'boolean', default: false, describe: 'Shard subscribers on replicas of the owning shard' },
  threads: { alias: 'T', type: 'string', default: String(DEFAULT_BENCH.threads), describe: 'Worker threads the connections are spread over' },
  'hdr-out': { type: 'string', describe: 'Write the HdrHistogram percentile distribution (milliseconds) to this file' },
} as const satisfies Record<string, Options>);

interface BenchArgs extends ConnectionArgs {
  rate: string;
  duration?: string;
  warmup: string;
  messages?: string;
  channels: string;
  publishers: string;
  subscribers: string;
  size: string;
  mode: PublishMode;
  subscribe?: SubscribeMode;
  replicas: boolean;
  threads: string;
  hdrOut?: string;
  json: boolean;
  color: boolean;
}

/** Turns the flags into a run description; every bad value is a UsageError naming its flag. */
export function benchConfigFrom(args: BenchArgs): BenchConfig {
  const messages = args.messages === undefined ? undefined : parseInteger(args.messages, '--messages', 1);
  if (messages !== undefined && args.duration !== undefined) throw new UsageError('--messages and --duration both say when to stop: give one');
  const config: BenchConfig = {
    rate: parseInteger(args.rate, '--rate', 0, 100_000_000),
    durationMs: args.duration === undefined ? DEFAULT_BENCH.durationMs : parseDuration(args.duration, '--duration'),
    warmupMs: parseDuration(args.warmup, '--warmup'),
    channels: parseInteger(args.channels, '--channels', 1, 1_000_000),
    publishers: parseInteger(args.publishers, '--publishers', 1, 10_000),
    subscribers: parseInteger(args.subscribers, '--subscribers', 0, 10_000),
    size: parseInteger(args.size, '--size', 0),
    mode: args.mode,
    subscribe: args.subscribe ?? (args.mode === 'spublish' ? 'shard' : 'channel'),
    replicas: args.replicas,
    threads: parseInteger(args.threads, '--threads', 1, 64),
    ...(messages !== undefined ? { messages } : {}),
  };
  if (config.durationMs < 100 && messages === undefined) throw new UsageError('--duration must be at least 100ms');
  return config;
}

function progressLine(p: BenchProgress): string {
  const parts = [p.elapsedMs > 0 ? `${(p.elapsedMs / 1000).toFixed(1)} s` : 'warming up', `sent ${formatRate(p.sentPerSec)}`, `received ${formatRate(p.receivedPerSec)}`];
  parts.push(`p99 ${p.p99Us !== undefined ? formatMicros(p.p99Us) : '–'}`, `lag ${formatCount(p.lag)}`);
  return parts.join(' · ');
}

export const benchCommand: CommandModule = {
  command: 'bench',
  describe: 'Publish/subscribe throughput and end-to-end latency (HDR histograms), classic or sharded',
  builder: (y: Argv) =>
    y
      .options(CONNECTION_OPTIONS)
      .options(OUTPUT_OPTIONS)
      .options(BENCH_OPTIONS)
      .example('pubsub-mon bench --rate 100000', '100k messages/s to one subscriber for 10 s: rates, loss and latency')
      .example('pubsub-mon bench -p 7000 --mode spublish -C 64 -S 2', 'sharded publishes on a cluster, each to its channel\'s owner')
      .example('pubsub-mon bench --rate 0 -S 0 --json', 'publish as fast as possible, no subscriber, JSON result'),
  async run(raw, io: Io, signal) {
    const args = raw as unknown as BenchArgs;
    const config = benchConfigFrom(args);
    const target = targetFromArgs(args, io.env);
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
          if (spinner) spinner.warn(text).start();
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
    if (args.json) io.stdout.write(`${JSON.stringify(benchToJson(result))}\n`);
    else io.stdout.write(renderBenchReport(result, { color, ...(io.stdout.columns ? { width: io.stdout.columns } : {}) }));
    return incompleteExitCode(result.incomplete);
  },
};
