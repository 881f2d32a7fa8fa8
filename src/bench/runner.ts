// Runs a bench: plans it, starts the worker threads, verifies subscriptions, keeps time, and merges results.
import { Worker } from 'node:worker_threads';
import crypto from 'node:crypto';
import type { Redis } from 'ioredis';
import type { ConnectionTarget } from '../redis/target.js';
import { slotOwners, versionAtLeast, type Topology, type TopologyNode } from '../stats/topology.js';
import { hashSlot } from '../stats/hash-slot.js';
import { openNode } from '../redis/connect.js';
import { CLIENT_NAME_PREFIX } from '../stats/own-subscriptions.js';
import { describeRedisError } from '../redis/errors.js';
import { discoverTopology } from '../redis/discover.js';
import { infoNumber, parseInfo } from '../stats/info.js';
import { parseClientList } from '../stats/client-list.js';
import { parseOutputBufferLimits } from '../stats/output-buffer-limit.js';
import { PubsubMonError, ServerError, UsageError } from '../errors.js';
import { createLatencyHistogram, decodeHistogram, encodeHistogram, summarize } from '../stats/histogram.js';
import type { Histogram } from 'hdr-histogram-js';
import { combinationProblem, type BenchConfig, type ServerFacts } from './config.js';
import { makePlan, type BenchPlan } from './plan.js';
import { checkPayloadSize } from './payload-header.js';
import type { PublisherReport, Timing } from './publisher.js';
import type { SubscriberReport } from './subscriber.js';
import type { FromWorker, ToWorker, WorkerInput } from './worker.js';
import type { BenchResult, BenchServerStats, BenchTimePoint } from '../render/bench-report.js';

export interface BenchProgress {
  elapsedMs: number;
  sentPerSec: number;
  receivedPerSec: number;
  p99Us?: number;
  /** Deliveries still owed: messages sent times their subscribers, minus deliveries seen. */
  lag: number;
}

export interface BenchHooks {
  onProgress?: (p: BenchProgress) => void;
  onNotice?: (text: string) => void;
  onPhase?: (text: string) => void;
}

export interface BenchOutcome {
  result: BenchResult;
  histogram?: Histogram;
}

const SUBSCRIBER_NAME = `${CLIENT_NAME_PREFIX}bench-sub`;
/** Time between "go" and the first intended send, so every thread is waiting when it comes. */
const START_DELAY_NS = 300e6;
/** How long deliveries may trail the last publish before the run is closed. */
const DRAIN_MS = 2000;
const POLL_MS = 500;

const hrNow = () => Number(process.hrtime.bigint());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

class WorkerHandle {
  readonly worker: Worker;
  sent = 0;
  received = 0;
  interval?: string;
  published?: PublisherReport[];
  done?: SubscriberReport[];
  failed?: { message: string; kind: string };
  ready = false;
  private waiters: Array<() => void> = [];

  constructor(input: WorkerInput) {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: input });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') this.ready = true;
      else if (m.type === 'failed') this.failed = { message: m.message, kind: m.kind };
      else if (m.type === 'progress') {
        this.sent = m.sent;
        this.received = m.received;
        this.interval = m.interval;
      } else if (m.type === 'published') this.published = m.publishers;
      else if (m.type === 'done') this.done = m.subscribers;
      this.wake();
    });
    this.worker.on('error', (err) => {
      this.failed = { message: `bench worker failed: ${err.message}`, kind: 'server' };
      this.wake();
    });
    this.worker.on('exit', () => {
      if (!this.done) this.failed ??= { message: 'bench worker exited early', kind: 'server' };
      this.wake();
    });
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  async until(test: () => boolean, signal?: AbortSignal): Promise<void> {
    while (!test() && !this.failed && !signal?.aborted) await new Promise<void>((r) => this.waiters.push(r));
  }

  post(m: ToWorker) {
    this.worker.postMessage(m);
  }
}

/** Sum of PUBSUB NUMSUB or SHARDNUMSUB for each channel over `nodes`, in batches. */
async function countSubscriptions(clients: Map<string, Redis>, nodes: TopologyNode[], sub: 'NUMSUB' | 'SHARDNUMSUB', names: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  await Promise.all(
    nodes.map(async (node) => {
      const c = clients.get(node.id)!;
      for (let i = 0; i < names.length; i += 1000) {
        const flat = (await c.call('PUBSUB', sub, ...names.slice(i, i + 1000))) as Array<string | number>;
        for (let k = 0; k + 1 < flat.length; k += 2) counts.set(String(flat[k]), (counts.get(String(flat[k])) ?? 0) + Number(flat[k + 1]));
      }
    }),
  );
  return counts;
}

/** What the run really got subscribed, per channel, asked of the servers before the clock starts. */
async function verify(config: BenchConfig, plan: BenchPlan, topology: Topology, clients: Map<string, Redis>): Promise<{ perChannel: number[]; asked: number; found: number; detail: string }> {
  const nodes = topology.nodes;
  if (config.subscribers === 0) return { perChannel: plan.channels.map(() => 0), asked: 0, found: 0, detail: 'no subscribers asked for' };
  if (config.subscribe === 'pattern') {
    let found = 0;
    for (const node of nodes) {
      const list = parseClientList(String(await clients.get(node.id)!.call('CLIENT', 'LIST', 'TYPE', 'pubsub')));
      found += list.filter((c) => c.name === SUBSCRIBER_NAME && (c.psub ?? 0) > 0).length;
    }
    return { perChannel: plan.channels.map(() => found), asked: config.subscribers, found, detail: `${found} of ${config.subscribers} pattern subscribers (${plan.pattern}) found with CLIENT LIST on ${nodes.length} node${nodes.length > 1 ? 's' : ''}` };
  }
  const asked = config.subscribers * config.channels;
  let counts: Map<string, number>;
  if (config.subscribe === 'shard' && topology.mode === 'cluster') {
    // SHARDNUMSUB is not redirected: each node answers for itself, so ask each channel's shard.
    const owners = slotOwners(topology);
    counts = new Map();
    const byShard = new Map<string, string[]>();
    for (const name of plan.channels) {
      const owner = owners(hashSlot(name));
      if (owner) byShard.set(owner.shardId, [...(byShard.get(owner.shardId) ?? []), name]);
    }
    for (const [shardId, names] of byShard) {
      const part = await countSubscriptions(clients, nodes.filter((n) => n.shardId === shardId), 'SHARDNUMSUB', names);
      for (const [k, v] of part) counts.set(k, v);
    }
  } else {
    counts = await countSubscriptions(clients, nodes, config.subscribe === 'shard' ? 'SHARDNUMSUB' : 'NUMSUB', plan.channels);
  }
  const perChannel = plan.channels.map((n) => counts.get(n) ?? 0);
  const found = perChannel.reduce((a, b) => a + b, 0);
  const how = config.subscribe === 'shard' ? 'PUBSUB SHARDNUMSUB on each channel\'s shard' : `PUBSUB NUMSUB summed over ${nodes.length} node${nodes.length > 1 ? 's' : ''}`;
  return { perChannel, asked, found, detail: `${found} of ${asked} subscriptions (${config.subscribers} subscriber${config.subscribers > 1 ? 's' : ''} × ${config.channels} channel${config.channels > 1 ? 's' : ''}) found with ${how}` };
}

interface ServerSample {
  cpu?: number;
  netIn?: number;
  netOut?: number;
  disconnections?: number;
}

async function sampleServers(nodes: TopologyNode[], clients: Map<string, Redis>): Promise<ServerSample> {
  const infos = await Promise.all(nodes.map((n) => clients.get(n.id)!.info().then(parseInfo, () => undefined)));
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
  return { ...(cpu !== undefined ? { cpu } : {}), ...(netIn !== undefined ? { netIn } : {}), ...(netOut !== undefined ? { netOut } : {}), ...(disconnections !== undefined ? { disconnections } : {}) };
}

/** Largest `omem` among the run's own subscriber connections, over every node. */
async function peakSubscriberOmem(nodes: TopologyNode[], clients: Map<string, Redis>): Promise<number | undefined> {
  let peak: number | undefined;
  await Promise.all(
    nodes.map(async (n) => {
      try {
        const list = parseClientList(String(await clients.get(n.id)!.call('CLIENT', 'LIST', 'TYPE', 'pubsub')));
        for (const c of list) if (c.name === SUBSCRIBER_NAME) peak = Math.max(peak ?? 0, c.omem ?? 0);
      } catch {
        // CLIENT LIST refused or the node went away: the peak stays what was seen
      }
    }),
  );
  return peak;
}

export async function runBench(target: ConnectionTarget, config: BenchConfig, hooks: BenchHooks, signal: AbortSignal): Promise<BenchOutcome> {
  checkPayloadSize(config.size);
  const early = combinationProblem(config);
  if (early) throw new UsageError(early);
  const seedAddress = { host: target.host, port: target.port };
  const clients = new Map<string, Redis>();
  const handles: WorkerHandle[] = [];
  try {
    const seed = await openNode(target, seedAddress, 'bench-control');
    let topology;
    try {
      topology = await discoverTopology(seed, seedAddress, target.forceCluster);
    } finally {
      seed.disconnect();
    }
    const facts: ServerFacts = {
      cluster: topology.mode === 'cluster',
      sharded: versionAtLeast(topology.version, 7),
      version: topology.version,
      hasReplicas: topology.nodes.some((n) => n.role === 'replica'),
    };
    const problem = combinationProblem(config, facts);
    if (problem) throw new UsageError(problem);
    if (topology.failedNodeIds.length > 0) throw new ServerError(`the cluster reports failed nodes (${topology.failedNodeIds.length}); a benchmark on a degraded cluster would measure the failure`);
    for (const node of topology.nodes) clients.set(node.id, await openNode(target, node, 'bench-control'));
    const first = clients.get(topology.nodes[0]!.id)!;
    let pubsubLimit: number | undefined;
    try {
      const cfg = (await first.call('CONFIG', 'GET', 'client-output-buffer-limit')) as string[];
      pubsubLimit = cfg[1] ? parseOutputBufferLimits(cfg[1]).pubsub?.hardBytes : undefined;
    } catch {
      // CONFIG refused: the limit stays unknown
    }

    const runId = crypto.randomBytes(3).toString('hex');
    const plan = makePlan(config, topology, runId);
    hooks.onPhase?.(`connecting ${config.publishers} publisher${config.publishers > 1 ? 's' : ''} and ${config.subscribers} subscriber${config.subscribers === 1 ? '' : 's'} on ${plan.workers.length} thread${plan.workers.length > 1 ? 's' : ''}`);
    for (const w of plan.workers) {
      handles.push(new WorkerHandle({ target, plan: w, channels: plan.channels, size: config.size, mode: config.mode, publisherCount: config.publishers }));
    }
    await Promise.all(handles.map((h) => h.until(() => h.ready, signal)));
    const failed = handles.find((h) => h.failed);
    if (failed) throw new PubsubMonError(failed.failed!.kind as PubsubMonError['kind'], failed.failed!.message);
    if (signal.aborted) throw new UsageError('interrupted before the run started');

    hooks.onPhase?.('verifying subscriptions');
    const verified = await verify(config, plan, topology, clients);
    if (verified.found < verified.asked) hooks.onNotice?.(`only ${verified.detail}; expected deliveries are computed from what was found`);

    const startNs = hrNow() + START_DELAY_NS;
    const timing: Timing = {
      startNs,
      measureFromNs: startNs + config.warmupMs * 1e6,
      ...(config.messages === undefined ? { endNs: startNs + (config.warmupMs + config.durationMs) * 1e6 } : {}),
    };
    handles.forEach((h) => h.post({ type: 'start', timing }));
    hooks.onPhase?.('warming up');
    // The server's counters are read when measuring starts, so the warm-up's work is not in them.
    const before = sleep(Math.max(0, (timing.measureFromNs - hrNow()) / 1e6)).then(() => sampleServers(topology.nodes, clients));

    // While it runs: the live line, and the subscribers' output buffers on the server.
    let peakOmem: number | undefined;
    // Live p99 per second of the run: each 1 s progress tick is credited to the second it mostly covers.
    const p99BySecond: number[] = [];
    let lastSent = 0;
    let lastReceived = 0;
    let lastTick = Date.now();
    const subsPerMessage = verified.perChannel.reduce((a, b) => a + b, 0) / Math.max(1, plan.channels.length);
    const progressTimer = setInterval(() => {
      const sent = handles.reduce((s, h) => s + h.sent, 0);
      const received = handles.reduce((s, h) => s + h.received, 0);
      const nowMs = Date.now();
      const seconds = Math.max(0.001, (nowMs - lastTick) / 1000);
      let p99Us: number | undefined;
      const merged = createLatencyHistogram();
      for (const h of handles) if (h.interval) merged.add(decodeHistogram(h.interval));
      if (merged.totalCount > 0) p99Us = merged.getValueAtPercentile(99);
      const p: BenchProgress = {
        elapsedMs: (hrNow() - timing.measureFromNs) / 1e6,
        sentPerSec: (sent - lastSent) / seconds,
        receivedPerSec: (received - lastReceived) / seconds,
        lag: Math.max(0, Math.round(sent * subsPerMessage - received)),
        ...(p99Us !== undefined ? { p99Us } : {}),
      };
      if (p99Us !== undefined && p.elapsedMs >= 500) p99BySecond[Math.max(0, Math.round(p.elapsedMs / 1000) - 1)] ??= p99Us;
      lastSent = sent;
      lastReceived = received;
      lastTick = nowMs;
      hooks.onProgress?.(p);
    }, 1000);
    const pollTimer = setInterval(() => {
      void peakSubscriberOmem(topology.nodes, clients).then((v) => {
        if (v !== undefined) peakOmem = Math.max(peakOmem ?? 0, v);
      });
    }, POLL_MS);
    const onAbort = () => handles.forEach((h) => h.post({ type: 'stop' }));
    signal.addEventListener('abort', onAbort);
    try {
      await Promise.all(handles.map((h) => h.until(() => h.published !== undefined)));
      const publishers = handles.flatMap((h) => h.published ?? []);
      const owed = publishers.reduce((s, p) => s + p.okPerChannel.reduce((a, ok, c) => a + ok * (verified.perChannel[c] ?? 0), 0), 0);
      const drainUntil = Date.now() + DRAIN_MS;
      while (Date.now() < drainUntil && handles.reduce((s, h) => s + h.received, 0) < owed && !signal.aborted) await sleep(50);
    } finally {
      clearInterval(progressTimer);
      clearInterval(pollTimer);
      signal.removeEventListener('abort', onAbort);
    }
    handles.forEach((h) => h.post({ type: 'finish' }));
    await Promise.all(handles.map((h) => h.until(() => h.done !== undefined)));
    const workerFailure = handles.find((h) => h.failed && !h.done);
    if (workerFailure) throw new ServerError(workerFailure.failed!.message);
    const finalOmem = await peakSubscriberOmem(topology.nodes, clients);
    if (finalOmem !== undefined) peakOmem = Math.max(peakOmem ?? 0, finalOmem);
    const after = await sampleServers(topology.nodes, clients);

    return assemble({ config, target, topology, plan, verified, timing, handles, before: await before, after, peakOmem, pubsubLimit, p99BySecond, interrupted: signal.aborted });
  } catch (err) {
    throw describeRedisError(err, `${target.host}:${target.port}`, target.username);
  } finally {
    for (const h of handles) void h.worker.terminate();
    for (const c of clients.values()) c.disconnect();
  }
}

interface AssembleInput {
  config: BenchConfig;
  target: ConnectionTarget;
  topology: Topology;
  plan: BenchPlan;
  verified: { perChannel: number[]; asked: number; found: number; detail: string };
  timing: Timing;
  handles: WorkerHandle[];
  before: ServerSample;
  after: ServerSample;
  peakOmem?: number;
  pubsubLimit?: number;
  p99BySecond: number[];
  interrupted: boolean;
}

function assemble(a: AssembleInput): BenchOutcome {
  const { config, verified, timing } = a;
  const publishers = a.handles.flatMap((h) => h.published ?? []);
  const subscribers = a.handles.flatMap((h) => h.done ?? []);
  const ok = publishers.reduce((s, p) => s + p.okPerChannel.reduce((x, y) => x + y, 0), 0);
  const errors = publishers.reduce((s, p) => s + p.errors, 0);
  const expected = publishers.reduce((s, p) => s + p.okPerChannel.reduce((x, n, c) => x + n * (verified.perChannel[c] ?? 0), 0), 0);
  const received = subscribers.reduce((s, r) => s + r.received, 0);
  const unique = subscribers.reduce((s, r) => s + r.unique, 0);
  const lastSend = Math.max(timing.measureFromNs, ...publishers.map((p) => p.lastSendNs));
  const windowSec = Math.max(1e-9, (lastSend - timing.measureFromNs) / 1e9);

  let histogram: Histogram | undefined;
  for (const r of subscribers) {
    const h = decodeHistogram(r.histogram);
    if (!histogram) histogram = h;
    else histogram.add(h);
  }
  const incomplete: string[] = [];
  for (const p of publishers) if (p.failure) incomplete.push(p.failure);
  const disconnections = a.after.disconnections !== undefined && a.before.disconnections !== undefined ? a.after.disconnections - a.before.disconnections : undefined;
  for (const r of subscribers) {
    if (!r.lost) continue;
    const at = ((r.lost.atNs - timing.measureFromNs) / 1e9).toFixed(1);
    const mib = (n: number) => `${(n / 1048576).toFixed(n < 1048576 ? 2 : 1)} MiB`;
    let why: string;
    if (disconnections !== undefined && disconnections > 0) {
      why = `the server cut it off for its output buffer (client_output_buffer_limit_disconnections rose by ${disconnections})`;
    } else if (a.pubsubLimit !== undefined) {
      const seen = a.peakOmem !== undefined ? `; its output buffer was last seen at ${mib(a.peakOmem)}` : '';
      why = `a subscriber that falls behind is cut off at the pubsub output-buffer limit, here ${mib(a.pubsubLimit)} (client-output-buffer-limit)${seen}; the server log says "for overcoming of output buffer limits" when that was the cause`;
    } else {
      why = 'the server closed it; a slow subscriber is cut off at the client-output-buffer-limit for pubsub';
    }
    incomplete.push(`subscriber ${r.id} on ${r.lost.address} was disconnected at ${at} s (${r.lost.reason}): ${why}; everything it would have received after that counts as lost`);
  }
  for (const r of subscribers) if (r.overflow > 0) incomplete.push(`subscriber ${r.id}: ${r.overflow} latencies above 60 s were recorded as 60 s`);
  if (a.interrupted) incomplete.push('interrupted (Ctrl-C): the run is shorter than asked');
  const foreign = subscribers.reduce((s, r) => s + r.foreign, 0);
  if (foreign > 0) incomplete.push(`${foreign} messages without a bench header arrived on the bench channels (someone else published there)`);

  const server: BenchServerStats = {};
  const delta = (k: keyof ServerSample) => (a.before[k] !== undefined && a.after[k] !== undefined ? a.after[k]! - a.before[k]! : undefined);
  const cpu = delta('cpu');
  if (cpu !== undefined) {
    server.cpuSeconds = cpu;
    if (ok > 0) server.cpuUsPerMessage = (cpu * 1e6) / ok;
  }
  const netIn = delta('netIn');
  const netOut = delta('netOut');
  const disc = delta('disconnections');
  if (netIn !== undefined) server.netInBytes = netIn;
  if (netOut !== undefined) server.netOutBytes = netOut;
  if (disc !== undefined) server.obufDisconnections = disc;
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
    target: a.target.display,
    topology: a.topology.mode,
    nodes: a.topology.nodes.length,
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
    threads: a.plan.workers.length,
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
