// The `bench --json` document. This file is the public contract of that output.
import type { LatencySummary } from '../../stats/histogram.js';
import type { BenchResult, IncompleteKind } from '../../stats/bench-result.js';
import { known, knownRound2, round2 } from './numbers.js';
import { escapeText } from '../escape.js';

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
    /** Child processes the subscribers were spread over (the open-file limit); 0 when none. */
    processes: number;
    /** The replayed profile (--profile), or null; size is then the mean payload size. */
    profile: { file: string; scale: number; same_names: boolean } | null;
  };
  /** One entry per report group (a profile's groups, named as its file writes them; one, `all`, for a run from the flags). */
  groups: {
    group: string;
    channels: number;
    asked_rate: number;
    published: number;
    expected: number;
    received: number;
    lost: number;
    publish_rate: number;
    delivery_rate: number;
    latency_us: LatencyJson | null;
  }[];
  /** Subscriptions per channel as laid out (least and most subscribed channel) and subscriber connections opened. */
  fanout: { min: number; max: number };
  connections: number;
  /** With --reconnect-interval: reconnects, deliveries missed while away (not counted as lost), time to resubscribe. */
  reconnects: { count: number; missed_while_away: number; resubscribe_us: LatencyJson | null } | null;
  /** What the bench process spent while measuring; CPU per message needs Linux's per-thread figures. */
  client: {
    publisher_cpu_seconds: number | null;
    subscriber_cpu_seconds: number | null;
    shared_cpu_seconds: number | null;
    process_cpu_seconds: number | null;
    publisher_cpu_us_per_message: number | null;
    subscriber_cpu_us_per_delivery: number | null;
    bytes_per_connection: number | null;
    /** This host's bench processes at the end of the run: the main one and its child processes (config.processes). */
    rss_bytes: number | null;
  };
  /**
   * A run over agents (--agents N): one entry per host, this process first unless --no-local. Over the
   * entries whose status is `ok`, published, received and lost add up to the totals above; a `lost`
   * agent's counts are null (unknown) and its last report is in last_heard. `histogram` is the host's
   * own merged HDR histogram. `clock` is its shift onto the coordinator's clock and that estimate's
   * bound (µs). A host's `expected` follows the subscriptions planned for it: should the check before
   * the start find fewer than planned (the run then says so), the hosts' expected and lost can add up
   * to more than the totals, which follow what was found. Null for a run from one process.
   */
  agents:
    | {
        name: string;
        host: string;
        role: 'coordinator' | 'agent';
        status: 'ok' | 'lost';
        publishers: number;
        subscribers: number;
        published: number | null;
        expected: number | null;
        received: number | null;
        lost: number | null;
        publish_rate: number | null;
        delivery_rate: number | null;
        latency_us: LatencyJson | null;
        histogram: string | null;
        cpu_seconds: number | null;
        clock: { offset_us: number; bound_us: number; drift_us: number | null };
        lost_at_s: number | null;
        last_heard: { sent: number; received: number } | null;
      }[]
    | null;
  /**
   * A run over agents: latency of deliveries within one host (exact) and across hosts, whose every
   * figure may be off by up to clock_bound_us (the two hosts' clock estimates). Null otherwise.
   */
  host_latency: { same_host_us: LatencyJson | null; cross_host_us: LatencyJson | null; clock_bound_us: number } | null;
  /** Why the numbers are incomplete, for people; the same reasons with their kinds are in incomplete_reasons. */
  incomplete: string[];
  /** `kind` is one of disconnected, output-buffer-limit, node-down, subscription-ended, interrupted, latency-overflow, foreign-messages, unanswered, lost, agent-lost. */
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

/** Seconds to the microsecond, or null. */
function seconds(v: number | undefined): number | null {
  return v === undefined ? null : Math.round(v * 1e6) / 1e6;
}

export function benchToJson(r: BenchResult): BenchJson {
  const s = r.server;
  const c = r.client;
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
      cpu_us_per_message: knownRound2(s.cpuUsPerMessage),
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
      processes: r.processes,
      profile: r.profile ? { file: r.profile.file, scale: r.profile.scale, same_names: r.profile.sameNames } : null,
    },
    groups: r.groups.map((g) => ({
      // As the profile file writes it (a byte that is not UTF-8 as \xNN): JSON cannot carry the byte.
      group: escapeText(g.name),
      channels: g.channels,
      asked_rate: round2(g.askedRate),
      published: g.published,
      expected: g.expected,
      received: g.received,
      lost: g.lost,
      publish_rate: round2(g.publishRate),
      delivery_rate: round2(g.deliveryRate),
      latency_us: latencyJson(g.latency),
    })),
    fanout: { ...r.fanout },
    connections: r.connections,
    reconnects: r.reconnects ? { count: r.reconnects.count, missed_while_away: r.reconnects.excused, resubscribe_us: latencyJson(r.reconnects.resubscribe) } : null,
    client: {
      publisher_cpu_seconds: seconds(c.publisherCpuSeconds),
      subscriber_cpu_seconds: seconds(c.subscriberCpuSeconds),
      shared_cpu_seconds: seconds(c.sharedCpuSeconds),
      process_cpu_seconds: seconds(c.processCpuSeconds),
      publisher_cpu_us_per_message: knownRound2(c.publisherCpuUsPerMessage),
      subscriber_cpu_us_per_delivery: knownRound2(c.subscriberCpuUsPerDelivery),
      bytes_per_connection: c.bytesPerConnection === undefined ? null : Math.round(c.bytesPerConnection),
      rss_bytes: known(c.rssBytes),
    },
    agents: r.agents
      ? r.agents.map((a) => ({
          name: a.name,
          host: escapeText(a.host),
          role: a.role,
          status: a.status,
          publishers: a.publishers,
          subscribers: a.subscribers,
          published: known(a.published),
          expected: known(a.expected),
          received: known(a.received),
          lost: known(a.lost),
          publish_rate: knownRound2(a.publishRate),
          delivery_rate: knownRound2(a.deliveryRate),
          latency_us: latencyJson(a.latency),
          histogram: a.histogramEncoded ?? null,
          cpu_seconds: seconds(a.cpuSeconds),
          clock: { offset_us: round2(a.clock.offsetUs), bound_us: round2(a.clock.boundUs), drift_us: knownRound2(a.clock.driftUs) },
          lost_at_s: knownRound2(a.lostAtS),
          last_heard: a.lastHeard ? { ...a.lastHeard } : null,
        }))
      : null,
    host_latency: r.hostLatency ? { same_host_us: latencyJson(r.hostLatency.sameHost), cross_host_us: latencyJson(r.hostLatency.crossHost), clock_bound_us: round2(r.hostLatency.boundUs) } : null,
    incomplete: r.incomplete.map((reason) => reason.message),
    incomplete_reasons: r.incomplete.map((reason) => ({ kind: reason.kind, message: reason.message })),
  };
}
