// The `bench --json` document. This file is the public contract of that output.
import type { LatencySummary } from '../../stats/histogram.js';
import type { BenchResult, IncompleteKind } from '../../stats/bench-result.js';
import { known, round2 } from './numbers.js';

/** Latency percentiles in microseconds: the summary without its count (the histogram has it). */
export type LatencyJson = Omit<LatencySummary, 'count'>;

/** The stable `bench --json` document. Unknown numbers are null, never 0. */
export interface BenchJson {
  published: number;
  publish_errors: number;
  error_samples: string[];
  received: number;
  expected: number;
  lost: number;
  duplicates: number;
  reordered: number;
  publish_rate: number;
  delivery_rate: number;
  /** 0 = as fast as possible. */
  asked_rate: number;
  elapsed_ms: number;
  latency_us: LatencyJson | null;
  /** The merged HDR histogram (compressed base64, µs), for merging runs or plotting; null when empty. */
  histogram: string | null;
  timeseries: { second: number; sent: number; received: number; p99_us: number | null }[];
  verified: { asked: number; found: number; detail: string };
  server: {
    cpu_seconds: number | null;
    cpu_us_per_message: number | null;
    net_in_bytes: number | null;
    net_out_bytes: number | null;
    peak_subscriber_omem: number | null;
    pubsub_limit_bytes: number | null;
    obuf_disconnections: number | null;
  };
  config: {
    target: string;
    topology: BenchResult['topology'];
    nodes: number;
    mode: BenchResult['mode'];
    subscribe: BenchResult['subscribe'];
    replicas: boolean;
    duration_ms: number;
    warmup_ms: number;
    messages: number | null;
    channels: number;
    publishers: number;
    subscribers: number;
    size: number;
    threads: number;
  };
  /** Why the numbers are incomplete, for people; the same reasons with their kinds are in incomplete_reasons. */
  incomplete: string[];
  /** `kind` is one of disconnected, output-buffer-limit, node-down, subscription-ended, interrupted, latency-overflow, foreign-messages. */
  incomplete_reasons: { kind: IncompleteKind; message: string }[];
}

function latencyJson(l: LatencySummary | undefined): LatencyJson | null {
  if (!l) return null;
  return {
    min: l.min,
    p50: l.p50,
    p90: l.p90,
    p99: l.p99,
    p999: l.p999,
    p9999: l.p9999,
    max: l.max,
    mean: round2(l.mean),
    stdev: round2(l.stdev),
  };
}

export function benchToJson(r: BenchResult): BenchJson {
  const s = r.server;
  return {
    published: r.published,
    publish_errors: r.publishErrors,
    error_samples: [...r.errorSamples],
    received: r.received,
    expected: r.expected,
    lost: r.lost,
    duplicates: r.duplicates,
    reordered: r.reordered,
    publish_rate: round2(r.publishRate),
    delivery_rate: round2(r.deliveryRate),
    asked_rate: round2(r.askedRate),
    elapsed_ms: round2(r.elapsedMs),
    latency_us: latencyJson(r.latency),
    histogram: r.histogramEncoded ?? null,
    timeseries: r.timeseries.map((t) => ({
      second: t.second,
      sent: t.sent,
      received: t.received,
      p99_us: known(t.p99Us),
    })),
    verified: { asked: r.verified.asked, found: r.verified.found, detail: r.verified.detail },
    server: {
      // INFO reports CPU to the microsecond; more digits are floating-point noise.
      cpu_seconds: s.cpuSeconds === undefined ? null : Math.round(s.cpuSeconds * 1e6) / 1e6,
      cpu_us_per_message: s.cpuUsPerMessage === undefined ? null : round2(s.cpuUsPerMessage),
      net_in_bytes: known(s.netInBytes),
      net_out_bytes: known(s.netOutBytes),
      peak_subscriber_omem: known(s.peakSubscriberOmem),
      pubsub_limit_bytes: known(s.pubsubLimitBytes),
      obuf_disconnections: known(s.obufDisconnections),
    },
    config: {
      target: r.target,
      topology: r.topology,
      nodes: r.nodes,
      mode: r.mode,
      subscribe: r.subscribe,
      replicas: r.replicas,
      duration_ms: r.durationMs,
      warmup_ms: r.warmupMs,
      messages: r.messages ?? null,
      channels: r.channels,
      publishers: r.publishers,
      subscribers: r.subscribers,
      size: r.size,
      threads: r.threads,
    },
    incomplete: r.incomplete.map((reason) => reason.message),
    incomplete_reasons: r.incomplete.map((reason) => ({ kind: reason.kind, message: reason.message })),
  };
}
