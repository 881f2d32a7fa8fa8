// The result of a bench run: what the publishers and subscribers report, what the servers said, and the pure
// assembly of the two into one BenchResult (every number reconciled, every gap named).
import { decodeHistogram, encodeHistogram, summarize, type LatencyHistogram, type LatencySummary } from './histogram.js';
import { infoNumber } from './info.js';
import type { BenchConfig, PublishMode, SubscribeMode } from './bench-config.js';
import { noun, plural } from './plural.js';
import { mixTotals } from './traffic-mix.js';

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
  /** The last sequence sent per channel index (-1 for none), warm-up included. */
  lastSeq: number[];
  /** Measured messages written whose reply had not come when the run ended (5 s after the last write). */
  unanswered: number;
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
  /** Messages published while it was away (between a reconnect's close and its resubscription): not lost. */
  excused: number;
  /** Times it closed a connection and subscribed again (--reconnect-interval). */
  reconnects: number;
  /** Set when a connection ended during the run: who, why, and when (ns). */
  lost?: { address: string; reason: string; atNs: number };
  /**
   * Set when a node ended subscriptions by itself during the run (a shard channel's slot moved
   * away from it: a slot migration, or a failover that demoted it): where, how many, the first when (ns).
   */
  ended?: { address: string; channels: number; atNs: number };
}

/** What the subscribers of one worker thread add up to. */
export interface TallyReport {
  /** Latency of every measured delivery (encoded HDR histogram, µs). */
  histogram: string;
  /** Latencies above the histogram's range, recorded at its top. */
  overflow: number;
  /** Per report group, when there is more than one. */
  groupHistograms: string[];
  receivedPerGroup: number[];
  uniquePerGroup: number[];
  /** Deliveries missed while reconnecting, per group. */
  excusedPerGroup: number[];
  /** Measured deliveries per second of receive time, from measureFromNs. */
  perSecond: number[];
  /** Time from closing a connection to its subscriptions confirmed again (µs), when any reconnected. */
  resubscribe?: string;
  /**
   * On a run over several hosts: latency from publishers on the subscriber's own host and from the
   * others (encoded), and deliveries counted by publisher id.
   */
  hostSplit?: { same: string; cross: string; byPublisher: { received: number[]; unique: number[]; excused: number[] } };
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
  | 'foreign-messages'
  /** Publishes still unanswered at the end: the server was too busy to reply (counted nowhere). */
  | 'unanswered'
  /** Deliveries missing with no connection seen to end: a node that stalled, a failover, a dropped message. */
  | 'lost'
  /** An agent went silent during the run: its share is left out of the totals. */
  | 'agent-lost';

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
  /** A profile replay takes each channel's kind from the profile: `mixed` when it has both. */
  mode: PublishMode | 'mixed';
  subscribe: SubscribeMode | 'mixed';
  /** Subscribers were spread over replicas too. */
  replicas: boolean;
  /** A replayed traffic profile: its file, the rate multiplier, and whether the recorded names were used as they are. */
  profile?: { file: string; scale: number; sameNames: boolean };
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
  /** Child processes the subscribers were spread over (0: all in threads of this one). */
  processes: number;
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
  /** One row per report group (one for a run from the flags, a profile's groups otherwise). */
  groups: BenchGroupResult[];
  /** Subscriptions per channel as laid out: the fan-out, from the least to the most subscribed channel. */
  fanout: { min: number; max: number };
  /** Subscriber connections opened (a shard subscriber has one per shard). */
  connections: number;
  /** --reconnect-interval: connections closed and reopened, what was published meanwhile, and how long coming back took. */
  reconnects?: { count: number; excused: number; resubscribe?: LatencySummary };
  client: ClientCost;
  /** A run over agents: one row per host, whose published, received and lost add up to the totals (lost hosts aside). */
  agents?: AgentResult[];
  /**
   * A run over agents: latency of deliveries whose publisher and subscriber share a host (exact) and
   * of those that cross hosts, which is off by at most `boundUs` (the two clock estimates' bounds).
   */
  hostLatency?: { sameHost?: LatencySummary; crossHost?: LatencySummary; boundUs: number };
  /** Reasons the numbers are incomplete (a subscriber cut off by the server, ...). */
  incomplete: IncompleteReason[];
}

/** One host of a run over agents. A lost one has no counts of its own: only what it last said. */
export interface AgentResult {
  name: string;
  host: string;
  role: 'coordinator' | 'agent';
  status: 'ok' | 'lost';
  publishers: number;
  subscribers: number;
  published?: number;
  expected?: number;
  received?: number;
  lost?: number;
  publishRate?: number;
  deliveryRate?: number;
  /** Its subscribers' latency, every publisher's messages included, and that histogram encoded. */
  latency?: LatencySummary;
  histogramEncoded?: string;
  cpuSeconds?: number;
  /** Its clock against the coordinator's (µs): the shift it read the run's clock with, how far that can be wrong, how far it moved over the run. */
  clock: { offsetUs: number; boundUs: number; driftUs?: number };
  /** When it went silent (s into the measured run), and the counts it last sent. */
  lostAtS?: number;
  lastHeard?: { sent: number; received: number };
}

export interface BenchGroupResult {
  name: string;
  channels: number;
  /** Messages per second asked for over the group's channels (0 = as fast as possible). */
  askedRate: number;
  published: number;
  expected: number;
  received: number;
  lost: number;
  publishRate: number;
  deliveryRate: number;
  latency?: LatencySummary;
}

/** What the bench process itself spent: CPU time while measuring, per message, and memory per subscriber connection. */
export interface ClientCost {
  /** CPU seconds of the threads that only publish; undefined when not readable or no such thread. */
  publisherCpuSeconds?: number;
  /** CPU seconds of the threads that only subscribe. */
  subscriberCpuSeconds?: number;
  /** CPU seconds of threads that do both (--threads 1). */
  sharedCpuSeconds?: number;
  /** This process over the measured phase: every thread, the garbage collector's included (not child processes). */
  processCpuSeconds?: number;
  publisherCpuUsPerMessage?: number;
  subscriberCpuUsPerDelivery?: number;
  /** RSS growth while the subscriber connections were opened, per connection (bytes). */
  bytesPerConnection?: number;
  /** RSS at the end of the run. */
  rssBytes?: number;
}

/** Everything the run gathered, as plain data: the input of assembleBenchResult. */
export interface BenchRunData {
  config: BenchConfig;
  /** The target as shown to people (never with a password). */
  target: string;
  topologyMode: BenchResult['topology'];
  nodeCount: number;
  threads: number;
  processes: number;
  /** Subscribers found per channel index before the clock started, and how they were found. */
  verified: { perChannel: number[]; asked: number; found: number; detail: string };
  /** hrtime (ns) when measuring started, after the warm-up. */
  measureFromNs: number;
  publishers: PublisherReport[];
  subscribers: SubscriberReport[];
  tallies: TallyReport[];
  /** Report group names, and the group and asked rate (messages/s, 0 = as fast as possible) of each channel index. */
  groups: string[];
  channelGroups: number[];
  channelRates: number[];
  /** Subscriptions asked for per channel, and subscriber connections opened. */
  fanout: number[];
  connections: number;
  /** Logical subscribers (a shard subscriber may hold a connection per shard). */
  subscriberCount: number;
  /** CPU time read from the threads (by role) and the process, in seconds, and memory figures. */
  cpu: { publisher?: number; subscriber?: number; shared?: number; process?: number };
  bytesPerConnection?: number;
  rssBytes?: number;
  before: ServerSample;
  after: ServerSample;
  peakOmem?: number;
  pubsubLimit?: number;
  /** Live p99 per second of the run, from the progress ticks. */
  p99BySecond: number[];
  interrupted: boolean;
  /** Addresses of the nodes that no longer answered when the run ended. */
  downNodes?: string[];
  /** A run over agents: each host's own share (this process first, unless --no-local). */
  hosts?: HostRunData[];
}

/** What one host of a run over agents did: its reports, what its subscribers were to get, its clock. */
export interface HostRunData {
  name: string;
  /** Its machine's host name. */
  host: string;
  role: 'coordinator' | 'agent';
  publisherIds: number[];
  subscriberCount: number;
  publishers: PublisherReport[];
  subscribers: SubscriberReport[];
  tallies: TallyReport[];
  /** Subscriptions its subscribers were planned to hold, per channel index. */
  subscriptions: number[];
  /** CPU of its worker threads (and processes) while measuring, when every one could be read. */
  cpuSeconds?: number;
  /**
   * What it adds to its clock to read the coordinator's, how far that can be wrong (the estimates'
   * bounds, widened by the drift seen between before and after the run), and that drift (ns).
   */
  clock: { shiftNs: number; boundNs: number; driftNs?: number };
  /** It went silent during the run: when (run clock, ns), why, and the last counts it sent. */
  lost?: { atNs: number; why: string; lastSent: number; lastReceived: number };
}

export interface AssembledBench {
  result: BenchResult;
  /** The merged latency histogram, for --hdr-out; absent when nothing was received. */
  histogram?: LatencyHistogram;
}

/** The mean payload size of a mix, weighted by each channel's rate and its size classes. */
function meanPayload(mix: NonNullable<BenchConfig['mix']>): number {
  const { rate, bytesPerSecond } = mixTotals(mix);
  return rate > 0 ? bytesPerSecond / rate : 0;
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

/**
 * The time the measured messages stand for. A paced run's is its schedule's: the duration asked, or
 * for --messages N the N intervals they take (not the N - 1 between the first send and the last, nor
 * the first send's lateness: 3 messages at 3/s are 3/s). A run that fell behind, or went as fast as
 * it could, took the time from the start of measuring to its last send. Interrupted, the schedule's
 * end is unknown: that span, plus one interval when paced.
 */
function measuredWindowSec(a: BenchRunData, spanSec: number, askedRate: number, sent: number): number {
  const { config } = a;
  const interval = askedRate > 0 && sent > 0 ? 1 / askedRate : 0;
  let scheduled = 0;
  if (a.interrupted) scheduled = spanSec + interval;
  else if (config.messages === undefined) scheduled = config.durationMs / 1000;
  else if (askedRate > 0) scheduled = config.messages / askedRate;
  return Math.max(1e-9, spanSec, scheduled);
}

/** The publish and subscribe commands of a run; a replay's come from its profile's channels, classic or shard. */
function commandsOf(config: BenchConfig): Pick<BenchResult, 'mode' | 'subscribe'> {
  if (!config.mix) return { mode: config.mode, subscribe: config.subscribe };
  const kinds = new Set(config.mix.channels.map((c) => c.kind));
  if (kinds.size > 1) return { mode: 'mixed', subscribe: 'mixed' };
  return kinds.has('shard') ? { mode: 'spublish', subscribe: 'shard' } : { mode: 'publish', subscribe: 'channel' };
}

/** Folds the reports and server samples into the result; pure, so every reconciliation is unit-tested. */
export function assembleBenchResult(input: BenchRunData): AssembledBench {
  const { a, gone } = withoutLostHosts(input);
  const { config, verified, publishers, subscribers } = a;
  const ok = publishers.reduce((s, p) => s + p.okPerChannel.reduce((x, y) => x + y, 0), 0);
  const errors = publishers.reduce((s, p) => s + p.errors, 0);
  const expected = publishers.reduce((s, p) => s + p.okPerChannel.reduce((x, n, c) => x + n * (verified.perChannel[c] ?? 0), 0), 0);
  const received = subscribers.reduce((s, r) => s + r.received, 0) - gone.received;
  const unique = subscribers.reduce((s, r) => s + r.unique, 0) - gone.unique;
  const excused = subscribers.reduce((s, r) => s + r.excused, 0) - gone.excused;
  const lastSend = Math.max(a.measureFromNs, ...publishers.map((p) => p.lastSendNs));
  const askedRate = config.mix ? a.channelRates.reduce((x, y) => x + y, 0) : config.rate;
  const windowSec = measuredWindowSec(a, (lastSend - a.measureFromNs) / 1e9, askedRate, ok + errors);

  const histogram = mergeEncoded(a.tallies.map((t) => t.histogram));

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
  const overflow = a.tallies.reduce((s, t) => s + t.overflow, 0);
  if (overflow > 0) incomplete.push({ kind: 'latency-overflow', message: `${overflow} latencies above 60 s were recorded as 60 s` });
  for (const h of a.hosts ?? []) if (h.lost) incomplete.push(agentLoss(h, a, gone));
  // A node that stalled (kill -STOP, a long fork) keeps its connections open: nothing above names it.
  for (const address of a.downNodes ?? []) {
    if (incomplete.some((r) => r.kind === 'node-down' && r.message.includes(`${address} went down`))) continue;
    incomplete.push({
      kind: 'node-down',
      message: `${address} did not answer when the run ended (down, or stalled): the server's figures are unknown, and whatever it had not yet answered or delivered is missing`,
    });
  }
  const unanswered = publishers.reduce((s, p) => s + p.unanswered, 0);
  if (unanswered > 0) {
    incomplete.push({
      kind: 'unanswered',
      message: `${unanswered} measured publishes had no reply when the run ended (the server was still busy, delivering or stalled): they count neither as published nor as expected deliveries, so the rates and the loss leave them out`,
    });
  }
  // Loss that nothing above accounts for: say so, rather than a lost count with a clean bill.
  const lostNow = Math.max(0, expected - excused - unique);
  const explained = incomplete.some((r) => r.kind === 'disconnected' || r.kind === 'output-buffer-limit' || r.kind === 'node-down' || r.kind === 'subscription-ended');
  if (lostNow > 0 && !explained && !a.interrupted) {
    incomplete.push({
      kind: 'lost',
      message: `${lostNow} expected deliveries never arrived, though no subscriber connection was seen to end: a node that stopped answering for a while, a failover, or messages dropped on the way`,
    });
  }
  if (a.interrupted) incomplete.push({ kind: 'interrupted', message: 'interrupted (Ctrl-C or a signal): the run is shorter than asked' });
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

  const maxSeconds = Math.max(0, ...publishers.map((p) => p.perSecond.length), ...a.tallies.map((t) => t.perSecond.length));
  const timeseries: BenchTimePoint[] = [];
  for (let s = 0; s < maxSeconds; s++) {
    const point: BenchTimePoint = {
      second: s,
      sent: publishers.reduce((x, p) => x + (p.perSecond[s] ?? 0), 0),
      received: a.tallies.reduce((x, t) => x + (t.perSecond[s] ?? 0), 0),
    };
    const live = a.p99BySecond[s];
    if (live !== undefined) point.p99Us = live;
    timeseries.push(point);
  }
  const latency = histogram ? summarize(histogram) : undefined;
  const reconnects = subscribers.reduce((s, r) => s + r.reconnects, 0);
  const resubscribe = mergeEncoded(a.tallies.flatMap((t) => (t.resubscribe ? [t.resubscribe] : [])));
  const resubscribeSummary = resubscribe ? summarize(resubscribe) : undefined;
  const result: BenchResult = {
    target: a.target,
    topology: a.topologyMode,
    nodes: a.nodeCount,
    ...commandsOf(config),
    replicas: config.replicas,
    ...(config.profile ? { profile: { ...config.profile, sameNames: config.sameNames === true } } : {}),
    askedRate,
    durationMs: config.durationMs,
    warmupMs: config.warmupMs,
    ...(config.messages !== undefined ? { messages: config.messages } : {}),
    channels: a.fanout.length,
    publishers: config.publishers,
    subscribers: a.subscriberCount,
    size: config.mix ? Math.round(meanPayload(config.mix)) : config.size,
    threads: a.threads,
    processes: a.processes,
    verified: { asked: verified.asked, found: verified.found, detail: verified.detail },
    published: ok,
    publishErrors: errors,
    errorSamples: [...new Set(publishers.flatMap((p) => p.errorSamples))].slice(0, 5),
    expected,
    received,
    lost: Math.max(0, expected - excused - unique),
    duplicates: subscribers.reduce((s, r) => s + r.duplicates, 0),
    reordered: subscribers.reduce((s, r) => s + r.reordered, 0),
    publishRate: (ok + errors) / windowSec,
    deliveryRate: received / windowSec,
    elapsedMs: windowSec * 1000,
    ...(latency ? { latency } : {}),
    ...(histogram ? { histogramEncoded: encodeHistogram(histogram) } : {}),
    timeseries,
    server,
    groups: groupResults(a, windowSec, histogram, gone),
    // reduce, not Math.min(...): a run may have a million channels, too many arguments for a call.
    fanout: { min: a.fanout.length > 0 ? a.fanout.reduce((x, y) => Math.min(x, y)) : 0, max: a.fanout.reduce((x, y) => Math.max(x, y), 0) },
    connections: a.connections,
    ...(a.config.reconnect ? { reconnects: { count: reconnects, excused, ...(resubscribeSummary ? { resubscribe: resubscribeSummary } : {}) } } : {}),
    client: clientCost(a, ok, received),
    ...(a.hosts ? { agents: agentResults(a, windowSec), hostLatency: hostLatency(a) } : {}),
    incomplete,
  };
  return histogram ? { result, histogram } : { result };
}

/** The encoded histograms merged into one; undefined when there are none or all are empty. */
function mergeEncoded(encoded: readonly string[]): LatencyHistogram | undefined {
  let merged: LatencyHistogram | undefined;
  for (const e of encoded) {
    const h = decodeHistogram(e);
    if (!merged) merged = h;
    else merged.add(h);
  }
  return merged && merged.totalCount > 0 ? merged : undefined;
}

/** A share of the run (a group, a host): its counts, the loss they leave, and the rates over the measured window. */
function flow(c: { published: number; expected: number; received: number; unique: number; excused: number }, windowSec: number) {
  return {
    published: c.published,
    expected: c.expected,
    received: c.received,
    lost: Math.max(0, c.expected - c.excused - c.unique),
    publishRate: c.published / windowSec,
    deliveryRate: c.received / windowSec,
  };
}

/** The run's figures per report group; with one group, the run's own latency. */
/**
 * With lost hosts, what the others had from those hosts' publishers is counted by publisher, not by
 * group: taken off a run of one group; a profile's groups keep it (the report's reason says how much).
 */
function groupResults(a: BenchRunData, windowSec: number, overall: LatencyHistogram | undefined, gone: GoneCounts): BenchGroupResult[] {
  const off = a.groups.length === 1 ? gone : { received: 0, unique: 0, excused: 0 };
  return a.groups.map((name, g) => {
    const mine = a.channelGroups.flatMap((group, c) => (group === g ? [c] : []));
    let published = 0;
    let expected = 0;
    for (const p of a.publishers) {
      for (const c of mine) {
        published += p.okPerChannel[c] ?? 0;
        expected += (p.okPerChannel[c] ?? 0) * (a.verified.perChannel[c] ?? 0);
      }
    }
    const received = a.tallies.reduce((s, t) => s + (t.receivedPerGroup[g] ?? 0), 0) - off.received;
    const unique = a.tallies.reduce((s, t) => s + (t.uniquePerGroup[g] ?? 0), 0) - off.unique;
    const excused = a.tallies.reduce((s, t) => s + (t.excusedPerGroup[g] ?? 0), 0) - off.excused;
    const histogram = a.groups.length === 1 ? overall : mergeEncoded(a.tallies.flatMap((t) => (t.groupHistograms[g] ? [t.groupHistograms[g]] : [])));
    const latency = histogram ? summarize(histogram) : undefined;
    return {
      name,
      channels: mine.length,
      askedRate: mine.reduce((s, c) => s + (a.channelRates[c] ?? 0), 0),
      ...flow({ published, expected, received, unique, excused }, windowSec),
      ...(latency ? { latency } : {}),
    };
  });
}

/** CPU per message: publishing threads per published message, subscribing threads per delivery. */
function clientCost(a: BenchRunData, published: number, received: number): ClientCost {
  const { publisher, subscriber, shared, process } = a.cpu;
  return {
    ...(publisher !== undefined ? { publisherCpuSeconds: publisher } : {}),
    ...(subscriber !== undefined ? { subscriberCpuSeconds: subscriber } : {}),
    ...(shared !== undefined ? { sharedCpuSeconds: shared } : {}),
    ...(process !== undefined ? { processCpuSeconds: process } : {}),
    ...(publisher !== undefined && published > 0 ? { publisherCpuUsPerMessage: (publisher * 1e6) / published } : {}),
    ...(subscriber !== undefined && received > 0 ? { subscriberCpuUsPerDelivery: (subscriber * 1e6) / received } : {}),
    ...(a.bytesPerConnection !== undefined ? { bytesPerConnection: a.bytesPerConnection } : {}),
    ...(a.rssBytes !== undefined ? { rssBytes: a.rssBytes } : {}),
  };
}

/** Deliveries that came from the publishers of lost hosts, counted by the hosts that are left. */
interface GoneCounts {
  publisherIds: Set<number>;
  received: number;
  unique: number;
  excused: number;
}

function fromPublishers(tallies: readonly TallyReport[], ids: ReadonlySet<number>, field: 'received' | 'unique' | 'excused'): number {
  let n = 0;
  for (const t of tallies) for (const p of ids) n += t.hostSplit?.byPublisher[field][p] ?? 0;
  return n;
}

/**
 * A run whose lost hosts (agents gone silent) are left out: their publishers' reports, the deliveries
 * other hosts had from those publishers, and what their own subscribers were to get. What is left
 * reconciles as any run does; what was left out is named in the 'agent-lost' reason.
 */
function withoutLostHosts(a: BenchRunData): { a: BenchRunData; gone: GoneCounts } {
  const lost = (a.hosts ?? []).filter((h) => h.lost);
  const ids = new Set(lost.flatMap((h) => h.publisherIds));
  if (lost.length === 0) return { a, gone: { publisherIds: ids, received: 0, unique: 0, excused: 0 } };
  const perChannel = a.verified.perChannel.map((n, c) => Math.max(0, n - lost.reduce((s, h) => s + (h.subscriptions[c] ?? 0), 0)));
  const live = (a.hosts ?? []).filter((h) => !h.lost);
  const tallies = live.flatMap((h) => h.tallies);
  return {
    a: { ...a, verified: { ...a.verified, perChannel }, publishers: a.publishers.filter((p) => !ids.has(p.id)) },
    gone: { publisherIds: ids, received: fromPublishers(tallies, ids, 'received'), unique: fromPublishers(tallies, ids, 'unique'), excused: fromPublishers(tallies, ids, 'excused') },
  };
}

function agentLoss(h: HostRunData, a: BenchRunData, gone: GoneCounts): IncompleteReason {
  const at = h.lost!;
  const owed = a.publishers.reduce((s, p) => s + p.okPerChannel.reduce((x, n, c) => x + n * (h.subscriptions[c] ?? 0), 0), 0);
  return {
    kind: 'agent-lost',
    message:
      `${at.why}, last heard from ${secondsAt(at.atNs, a)} s into the measured run: its ${plural(h.publisherIds.length, 'publisher')} and ${plural(h.subscriberCount, 'subscriber')} are left out of the totals ` +
      `(its last report: sent ${at.lastSent}, received ${at.lastReceived}); so are the ${gone.received} deliveries the other hosts had from its publishers, ` +
      `and the ${owed} deliveries the others' publishers owed its subscribers`,
  };
}

function agentResults(a: BenchRunData, windowSec: number): AgentResult[] {
  const voidIds = new Set((a.hosts ?? []).filter((h) => h.lost).flatMap((h) => h.publisherIds));
  return (a.hosts ?? []).map((h) => {
    const clock = { offsetUs: h.clock.shiftNs / 1000, boundUs: h.clock.boundNs / 1000, ...(h.clock.driftNs !== undefined ? { driftUs: h.clock.driftNs / 1000 } : {}) };
    const base = { name: h.name, host: h.host, role: h.role, publishers: h.publisherIds.length, subscribers: h.subscriberCount, clock };
    if (h.lost) {
      return { ...base, status: 'lost', lostAtS: (h.lost.atNs - a.measureFromNs) / 1e9, lastHeard: { sent: h.lost.lastSent, received: h.lost.lastReceived } };
    }
    const published = h.publishers.reduce((s, p) => s + p.okPerChannel.reduce((x, y) => x + y, 0), 0);
    const expected = a.publishers.reduce((s, p) => s + p.okPerChannel.reduce((x, n, c) => x + n * (h.subscriptions[c] ?? 0), 0), 0);
    const received = h.subscribers.reduce((s, r) => s + r.received, 0) - fromPublishers(h.tallies, voidIds, 'received');
    const unique = h.subscribers.reduce((s, r) => s + r.unique, 0) - fromPublishers(h.tallies, voidIds, 'unique');
    const excused = h.subscribers.reduce((s, r) => s + r.excused, 0) - fromPublishers(h.tallies, voidIds, 'excused');
    const histogram = mergeEncoded(h.tallies.map((t) => t.histogram));
    const latency = histogram ? summarize(histogram) : undefined;
    return {
      ...base,
      status: 'ok',
      ...flow({ published, expected, received, unique, excused }, windowSec),
      ...(latency && histogram ? { latency, histogramEncoded: encodeHistogram(histogram) } : {}),
      ...(h.cpuSeconds !== undefined ? { cpuSeconds: h.cpuSeconds } : {}),
    };
  });
}

/**
 * Latency within hosts and across them. Each host reads the coordinator's clock with its own shift,
 * wrong by at most its bound; a delivery between two hosts is off by at most the sum of their two
 * bounds, so the largest two give the bound of every cross-host figure.
 */
function hostLatency(a: BenchRunData): NonNullable<BenchResult['hostLatency']> {
  const same = mergeEncoded(a.tallies.flatMap((t) => (t.hostSplit ? [t.hostSplit.same] : [])));
  const cross = mergeEncoded(a.tallies.flatMap((t) => (t.hostSplit ? [t.hostSplit.cross] : [])));
  const bounds = (a.hosts ?? []).map((h) => h.clock.boundNs).sort((x, y) => y - x);
  const boundUs = ((bounds[0] ?? 0) + (bounds[1] ?? 0)) / 1000;
  return { ...(same ? { sameHost: summarize(same) } : {}), ...(cross ? { crossHost: summarize(cross) } : {}), boundUs };
}
