// The result of a bench run: what the publishers and subscribers report, what the servers said, and the pure
// assembly of the two into one BenchResult (every number reconciled, every gap named).
import { decodeHistogram, encodeHistogram, summarize, type LatencyHistogram, type LatencySummary } from './histogram.js';
import { infoNumber } from './info.js';
import type { BenchConfig, PublishMode, SubscribeMode } from './bench-config.js';
import { noun, plural } from './plural.js';

/** What one publisher reports at the end of the run. */
export interface PublisherReport {
  id: number;
  /** Measured messages written (replies may still be errors). */
  measuredSent: number;
  /** Measured messages the server accepted, per channel: the basis of "expected". */
  okPerChannel: number[];
  /** Measured messages answered with an error (MOVED, NOPERM, ...): never counted as sent. */
  errors: number;
  errorSamples: string[];
  /** Measured messages per second of intended time, from measureFromNs. */
  perSecond: number[];
  /** Actual hrtime of the last measured write. */
  lastSendNs: number;
  /** The connection broke before all replies came back. */
  failure?: string;
  /** The address of the node whose connection broke. */
  failedNode?: string;
}

/** What one subscriber reports at the end of the run. */
export interface SubscriberReport {
  id: number;
  /** Measured deliveries, duplicates included. */
  received: number;
  unique: number;
  duplicates: number;
  reordered: number;
  /** Messages on the bench channels that did not carry a bench header (someone else publishing). */
  foreign: number;
  histogram: string;
  overflow: number;
  /** Measured deliveries per second of receive time, from measureFromNs. */
  perSecond: number[];
  /** Set when a connection ended during the run: who, why, and when (ns). */
  lost?: { address: string; reason: string; atNs: number };
  /**
   * Set when a node ended subscriptions by itself during the run (a shard channel's slot moved
   * away from it: a slot migration, or a failover that demoted it): where, how many, the first when (ns).
   */
  ended?: { address: string; channels: number; atNs: number };
}

/**
 * Why a result is incomplete. The kind decides the exit code (see incompleteExitCode); the message
 * is for people and may change wording freely.
 */
export type IncompleteKind =
  /** The server closed a subscriber's or publisher's connection, cause not known. */
  | 'disconnected'
  /** The server cut a subscriber off at the pubsub client-output-buffer-limit. */
  | 'output-buffer-limit'
  /** A node stopped answering during the run. */
  | 'node-down'
  /** The server ended a subscription by itself (a shard channel's slot moved). */
  | 'subscription-ended'
  /** Ctrl-C or SIGTERM: the run is shorter than asked, but what was measured is sound. */
  | 'interrupted'
  /** Latencies above the histogram's range were recorded at its top. */
  | 'latency-overflow'
  /** Someone else published on the bench channels. */
  | 'foreign-messages';

export interface IncompleteReason {
  kind: IncompleteKind;
  message: string;
}

/** 0 when the only reason is an interrupt the user asked for; 1 for anything that spoils the numbers. */
export function incompleteExitCode(reasons: readonly IncompleteReason[]): 0 | 1 {
  return reasons.some((r) => r.kind !== 'interrupted') ? 1 : 0;
}

/** Counters summed over every node, read from INFO before and after the measured phase. */
export interface ServerSample {
  cpu?: number;
  netIn?: number;
  netOut?: number;
  disconnections?: number;
}

/** Sums INFO fields over the nodes; a field any node lacks (or a node that did not answer) stays unknown. */
export function sampleFromInfos(infos: ReadonlyArray<Record<string, string> | undefined>): ServerSample {
  const sum = (pick: (i: Record<string, string>) => number | undefined) => {
    let total = 0;
    for (const info of infos) {
      const v = info ? pick(info) : undefined;
      if (v === undefined) return undefined;
      total += v;
    }
    return total;
  };
  const cpu = sum((i) => {
    const u = infoNumber(i, 'used_cpu_user');
    const s = infoNumber(i, 'used_cpu_sys');
    return u === undefined || s === undefined ? undefined : u + s;
  });
  const netIn = sum((i) => infoNumber(i, 'total_net_input_bytes'));
  const netOut = sum((i) => infoNumber(i, 'total_net_output_bytes'));
  const disconnections = sum((i) => infoNumber(i, 'client_output_buffer_limit_disconnections'));
  return {
    ...(cpu !== undefined ? { cpu } : {}),
    ...(netIn !== undefined ? { netIn } : {}),
    ...(netOut !== undefined ? { netOut } : {}),
    ...(disconnections !== undefined ? { disconnections } : {}),
  };
}

/** One second of the measured run. */
export interface BenchTimePoint {
  /** 0-based second since the clock started (after warm-up): the point covers [second, second + 1) s. */
  second: number;
  /** Messages published during that second. */
  sent: number;
  /** Messages received (by all subscribers) during that second. */
  received: number;
  /** p99 latency of the messages received during that second. */
  p99Us?: number;
}

/** What the servers said about themselves over the run; absent when unknown (never 0 for unknown). */
export interface BenchServerStats {
  /** used_cpu_user + used_cpu_sys delta, summed over nodes. */
  cpuSeconds?: number;
  cpuUsPerMessage?: number;
  netInBytes?: number;
  netOutBytes?: number;
  /** Largest `omem` of a subscriber seen during the run. */
  peakSubscriberOmem?: number;
  /** client-output-buffer-limit pubsub hard limit; 0 means no limit. */
  pubsubLimitBytes?: number;
  /** client_output_buffer_limit_disconnections delta (7.4+, Valkey 8+). */
  obufDisconnections?: number;
}

export interface BenchResult {
  target: string;
  topology: 'standalone' | 'cluster';
  nodes: number;
  mode: PublishMode;
  subscribe: SubscribeMode;
  /** Subscribers were spread over replicas too. */
  replicas: boolean;
  /** Messages per second asked for; 0 = as fast as possible. */
  askedRate: number;
  durationMs: number;
  warmupMs: number;
  /** Stop after this many messages instead of after durationMs. */
  messages?: number;
  channels: number;
  publishers: number;
  subscribers: number;
  /** Payload bytes. */
  size: number;
  threads: number;
  /** Subscriptions asked for vs. found with NUMSUB/SHARDNUMSUB before the clock started. */
  verified: { asked: number; found: number; detail: string };
  published: number;
  publishErrors: number;
  errorSamples: string[];
  /** Deliveries that should have happened: published × subscribers hearing each message. */
  expected: number;
  /** Unique deliveries. */
  received: number;
  lost: number;
  duplicates: number;
  reordered: number;
  publishRate: number;
  deliveryRate: number;
  /** The measured publish phase, from the clock start (after warm-up) to the last publish: rates are over this. */
  elapsedMs: number;
  latency?: LatencySummary;
  histogramEncoded?: string;
  timeseries: BenchTimePoint[];
  server: BenchServerStats;
  /** Reasons the numbers are incomplete (a subscriber cut off by the server, ...). */
  incomplete: IncompleteReason[];
}

/** Everything the run gathered, as plain data: the input of assembleBenchResult. */
export interface BenchRunData {
  config: BenchConfig;
  /** The target as shown to people (never with a password). */
  target: string;
  topologyMode: BenchResult['topology'];
  nodeCount: number;
  threads: number;
  /** Subscribers found per channel index before the clock started, and how they were found. */
  verified: { perChannel: number[]; asked: number; found: number; detail: string };
  /** hrtime (ns) when measuring started, after the warm-up. */
  measureFromNs: number;
  publishers: PublisherReport[];
  subscribers: SubscriberReport[];
  before: ServerSample;
  after: ServerSample;
  peakOmem?: number;
  pubsubLimit?: number;
  /** Live p99 per second of the run, from the progress ticks. */
  p99BySecond: number[];
  interrupted: boolean;
  /** Addresses of the nodes that no longer answered when the run ended. */
  downNodes?: string[];
}

export interface AssembledBench {
  result: BenchResult;
  /** The merged latency histogram, for --hdr-out; absent when nothing was received. */
  histogram?: LatencyHistogram;
}

function mib(n: number): string {
  return `${(n / 1048576).toFixed(n < 1048576 ? 2 : 1)} MiB`;
}

/** Seconds into the measured run, as reasons show them. */
function secondsAt(atNs: number, a: BenchRunData): string {
  return ((atNs - a.measureFromNs) / 1e9).toFixed(1);
}

/**
 * Why a subscriber's connection ended: its node went down when it no longer answered at the end;
 * the output-buffer limit when the server's counter says so; otherwise the cause is not known.
 */
function subscriberLoss(r: SubscriberReport & { lost: NonNullable<SubscriberReport['lost']> }, a: BenchRunData, disconnections: number | undefined): IncompleteReason {
  const head = `subscriber ${r.id} on ${r.lost.address} was disconnected at ${secondsAt(r.lost.atNs, a)} s (${r.lost.reason})`;
  const tail = 'everything it would have received after that counts as lost';
  if (a.downNodes?.includes(r.lost.address)) {
    return { kind: 'node-down', message: `${head}: ${r.lost.address} went down (it no longer answered when the run ended); ${tail}` };
  }
  if (disconnections !== undefined && disconnections > 0) {
    return {
      kind: 'output-buffer-limit',
      message: `${head}: the server cut it off for its output buffer (client_output_buffer_limit_disconnections rose by ${disconnections}); ${tail}`,
    };
  }
  if (a.pubsubLimit !== undefined) {
    const seen = a.peakOmem !== undefined ? `; its output buffer was last seen at ${mib(a.peakOmem)}` : '';
    return {
      kind: 'disconnected',
      message: `${head}: a subscriber that falls behind is cut off at the pubsub output-buffer limit, here ${mib(a.pubsubLimit)} (client-output-buffer-limit)${seen}; the server log says "for overcoming of output buffer limits" when that was the cause; ${tail}`,
    };
  }
  return { kind: 'disconnected', message: `${head}: the server closed it; a slow subscriber is cut off at the client-output-buffer-limit for pubsub; ${tail}` };
}

/** Folds the reports and server samples into the result; pure, so every reconciliation is unit-tested. */
export function assembleBenchResult(a: BenchRunData): AssembledBench {
  const { config, verified, publishers, subscribers } = a;
  const ok = publishers.reduce((s, p) => s + p.okPerChannel.reduce((x, y) => x + y, 0), 0);
  const errors = publishers.reduce((s, p) => s + p.errors, 0);
  const expected = publishers.reduce((s, p) => s + p.okPerChannel.reduce((x, n, c) => x + n * (verified.perChannel[c] ?? 0), 0), 0);
  const received = subscribers.reduce((s, r) => s + r.received, 0);
  const unique = subscribers.reduce((s, r) => s + r.unique, 0);
  const lastSend = Math.max(a.measureFromNs, ...publishers.map((p) => p.lastSendNs));
  const windowSec = Math.max(1e-9, (lastSend - a.measureFromNs) / 1e9);

  let histogram: LatencyHistogram | undefined;
  for (const r of subscribers) {
    const h = decodeHistogram(r.histogram);
    if (!histogram) histogram = h;
    else histogram.add(h);
  }

  const delta = (k: keyof ServerSample) => (a.before[k] !== undefined && a.after[k] !== undefined ? a.after[k]! - a.before[k]! : undefined);
  const incomplete: IncompleteReason[] = [];
  for (const p of publishers) {
    if (!p.failure) continue;
    const down = p.failedNode !== undefined && a.downNodes?.includes(p.failedNode);
    incomplete.push(down ? { kind: 'node-down', message: `${p.failure}: ${p.failedNode} went down (it no longer answered when the run ended)` } : { kind: 'disconnected', message: p.failure });
  }
  const disconnections = delta('disconnections');
  for (const r of subscribers) if (r.lost) incomplete.push(subscriberLoss({ ...r, lost: r.lost }, a, disconnections));
  for (const r of subscribers) {
    if (!r.ended) continue;
    const { address, channels, atNs } = r.ended;
    incomplete.push({
      kind: 'subscription-ended',
      message:
        `subscriber ${r.id}: ${address} ended its ${noun(channels, 'subscription')} to ${plural(channels, 'shard channel')} at ${secondsAt(atNs, a)} s, ` +
        `as a node does when a slot it serves moves away (a slot migration, or a failover that made another node the shard's primary); ` +
        `bench does not follow a channel to its new owner, so what was published to it after that counts as lost`,
    });
  }
  for (const r of subscribers) {
    if (r.overflow > 0) incomplete.push({ kind: 'latency-overflow', message: `subscriber ${r.id}: ${r.overflow} latencies above 60 s were recorded as 60 s` });
  }
  if (a.interrupted) incomplete.push({ kind: 'interrupted', message: 'interrupted (Ctrl-C): the run is shorter than asked' });
  const foreign = subscribers.reduce((s, r) => s + r.foreign, 0);
  if (foreign > 0) {
    incomplete.push({ kind: 'foreign-messages', message: `${foreign} messages without a bench header arrived on the bench channels (someone else published there)` });
  }

  const server: BenchServerStats = {};
  const cpu = delta('cpu');
  if (cpu !== undefined) {
    server.cpuSeconds = cpu;
    if (ok > 0) server.cpuUsPerMessage = (cpu * 1e6) / ok;
  }
  const netIn = delta('netIn');
  const netOut = delta('netOut');
  if (netIn !== undefined) server.netInBytes = netIn;
  if (netOut !== undefined) server.netOutBytes = netOut;
  if (disconnections !== undefined) server.obufDisconnections = disconnections;
  if (a.peakOmem !== undefined) server.peakSubscriberOmem = a.peakOmem;
  if (a.pubsubLimit !== undefined) server.pubsubLimitBytes = a.pubsubLimit;

  const maxSeconds = Math.max(0, ...publishers.map((p) => p.perSecond.length), ...subscribers.map((r) => r.perSecond.length));
  const timeseries: BenchTimePoint[] = [];
  for (let s = 0; s < maxSeconds; s++) {
    const point: BenchTimePoint = {
      second: s,
      sent: publishers.reduce((x, p) => x + (p.perSecond[s] ?? 0), 0),
      received: subscribers.reduce((x, r) => x + (r.perSecond[s] ?? 0), 0),
    };
    const live = a.p99BySecond[s];
    if (live !== undefined) point.p99Us = live;
    timeseries.push(point);
  }
  const latency = histogram ? summarize(histogram) : undefined;
  const result: BenchResult = {
    target: a.target,
    topology: a.topologyMode,
    nodes: a.nodeCount,
    mode: config.mode,
    subscribe: config.subscribe,
    replicas: config.replicas,
    askedRate: config.rate,
    durationMs: config.durationMs,
    warmupMs: config.warmupMs,
    ...(config.messages !== undefined ? { messages: config.messages } : {}),
    channels: config.channels,
    publishers: config.publishers,
    subscribers: config.subscribers,
    size: config.size,
    threads: a.threads,
    verified: { asked: verified.asked, found: verified.found, detail: verified.detail },
    published: ok,
    publishErrors: errors,
    errorSamples: [...new Set(publishers.flatMap((p) => p.errorSamples))].slice(0, 5),
    expected,
    received,
    lost: Math.max(0, expected - unique),
    duplicates: subscribers.reduce((s, r) => s + r.duplicates, 0),
    reordered: subscribers.reduce((s, r) => s + r.reordered, 0),
    publishRate: (ok + errors) / windowSec,
    deliveryRate: received / windowSec,
    elapsedMs: windowSec * 1000,
    ...(latency ? { latency } : {}),
    ...(histogram ? { histogramEncoded: encodeHistogram(histogram) } : {}),
    timeseries,
    server,
    incomplete,
  };
  return histogram ? { result, histogram } : { result };
}
