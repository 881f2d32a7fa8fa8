// Runs a bench: plans it, starts the worker threads, verifies subscriptions, keeps time, and hands the gathered data to the assembly.
import crypto from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { ConnectionTarget } from '../redis/target.js';
import { openNode } from '../redis/connect.js';
import { describeRedisError, rethrowIfBug } from '../redis/errors.js';
import { discoverTopology, infoAsker } from '../redis/discover.js';
import { readInfo, readPubsubLimit } from '../redis/queries.js';
import { versionAtLeast, type TopologyNode } from '../stats/topology.js';
import { combinationProblem, type BenchConfig, type ServerFacts } from '../stats/bench-config.js';
import { assembleBenchResult, sampleFromInfos, type AssembledBench, type ServerSample } from '../stats/bench-result.js';
import { createLatencyHistogram, decodeHistogram } from '../stats/histogram.js';
import { noun } from '../stats/plural.js';
import { InterruptedError, PubsubMonError, ServerError, UsageError } from '../errors.js';
import { makePlan } from './plan.js';
import { checkPayloadSize } from './payload-header.js';
import { hrNowNs } from './clock.js';
import { WorkerHandle } from './worker-handle.js';
import { peakSubscriberOmem, verifySubscriptions } from './verify.js';
import type { Timing } from './worker-protocol.js';

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

/** Time between "go" and the first intended send, so every thread is waiting when it comes. */
const START_DELAY_NS = 300e6;
/** How long deliveries may trail the last publish before the run is closed. */
const DRAIN_MS = 2000;
/** How often the subscribers' output buffers are looked at on the server. */
const OMEM_POLL_MS = 500;
const PROGRESS_MS = 1000;

/** INFO counters summed over the nodes; a node that does not answer leaves them unknown. */
async function sampleServers(nodes: readonly TopologyNode[], clients: ReadonlyMap<string, Redis>): Promise<ServerSample> {
  const infos = await Promise.all(
    nodes.map((n) =>
      readInfo(clients.get(n.id)!).catch((err: unknown) => {
        rethrowIfBug(err);
        return undefined;
      }),
    ),
  );
  return sampleFromInfos(infos);
}

/**
 * Addresses of the nodes that do not answer now: asked on their control connection, or on a new
 * one when that broke (its node may have come back since).
 */
async function unansweringNodes(target: ConnectionTarget, nodes: readonly TopologyNode[], clients: Map<string, Redis>): Promise<string[]> {
  const down: string[] = [];
  await Promise.all(
    nodes.map(async (n) => {
      const client = clients.get(n.id)!;
      try {
        if (client.status === 'ready') {
          await client.ping();
          return;
        }
        const fresh = await openNode(target, n, 'bench-control');
        client.disconnect();
        clients.set(n.id, fresh);
      } catch (err) {
        rethrowIfBug(err);
        down.push(n.address);
      }
    }),
  );
  return down;
}

/** The first thing a worker reported going wrong: a bug is rethrown as it is, anything else is typed. */
function workerProblem(handles: readonly WorkerHandle[]): Error | undefined {
  const crashed = handles.find((h) => h.crashed);
  if (crashed) return crashed.crashed;
  const failed = handles.find((h) => h.failed && !h.done);
  return failed ? new PubsubMonError(failed.failed!.kind, failed.failed!.message) : undefined;
}

export async function runBench(target: ConnectionTarget, config: BenchConfig, hooks: BenchHooks, signal: AbortSignal): Promise<AssembledBench> {
  checkPayloadSize(config.size);
  const early = combinationProblem(config);
  if (early) throw new UsageError(early);
  const seedAddress = { host: target.host, port: target.port };
  const clients = new Map<string, Redis>();
  const handles: WorkerHandle[] = [];
  try {
    // The deployment, and one control connection per node for the server-side readings.
    const seed = await openNode(target, seedAddress, 'bench-control');
    const topology = await discoverTopology(seed, seedAddress, { forceCluster: target.forceCluster, ask: infoAsker(target, 'bench-control') }).finally(() => seed.disconnect());
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
    const pubsubLimit = await readPubsubLimit(clients.get(topology.nodes[0]!.id)!).then(
      (limit) => limit?.hardBytes,
      (err: unknown) => {
        // CONFIG refused: the limit stays unknown.
        rethrowIfBug(err);
        return undefined;
      },
    );

    // Workers connect and subscribe; the servers are asked what they really got.
    const plan = makePlan(config, topology, crypto.randomBytes(3).toString('hex'));
    hooks.onPhase?.(`connecting ${config.publishers} ${noun(config.publishers, 'publisher')} and ${config.subscribers} ${noun(config.subscribers, 'subscriber')} on ${plan.workers.length} ${noun(plan.workers.length, 'thread')}`);
    for (const w of plan.workers) {
      handles.push(new WorkerHandle({ target, plan: w, channels: plan.channels, size: config.size, mode: config.mode, publisherCount: config.publishers }));
    }
    await Promise.all(handles.map((h) => h.until(() => h.ready, signal)));
    const notReady = workerProblem(handles);
    if (notReady) throw notReady;
    if (signal.aborted) throw new InterruptedError('interrupted before the run started');
    hooks.onPhase?.('verifying subscriptions');
    const verified = await verifySubscriptions(config, plan, topology, clients);
    if (verified.found < verified.asked) hooks.onNotice?.(`only ${verified.detail}; expected deliveries are computed from what was found`);

    // Go: every thread starts at the same instant; the servers' counters are read when measuring starts.
    const startNs = hrNowNs() + START_DELAY_NS;
    const timing: Timing = {
      startNs,
      measureFromNs: startNs + config.warmupMs * 1e6,
      ...(config.messages === undefined ? { endNs: startNs + (config.warmupMs + config.durationMs) * 1e6 } : {}),
    };
    handles.forEach((h) => h.post({ type: 'start', timing }));
    hooks.onPhase?.('warming up');
    const before = sleep(Math.max(0, (timing.measureFromNs - hrNowNs()) / 1e6)).then(() => sampleServers(topology.nodes, clients));

    // While it runs: the live line, and the subscribers' output buffers on the server.
    let peakOmem: number | undefined;
    const notePeak = (v: number | undefined) => {
      if (v !== undefined) peakOmem = Math.max(peakOmem ?? 0, v);
    };
    const subsPerMessage = verified.perChannel.reduce((a, b) => a + b, 0) / Math.max(1, plan.channels.length);
    const progress = startProgress(handles, timing, subsPerMessage, hooks);
    const omemPoll = setInterval(() => void peakSubscriberOmem(topology.nodes, clients).then(notePeak), OMEM_POLL_MS);
    const onAbort = () => handles.forEach((h) => h.post({ type: 'stop' }));
    signal.addEventListener('abort', onAbort);
    try {
      await Promise.all(handles.map((h) => h.until(() => h.published !== undefined)));
      const owed = handles.flatMap((h) => h.published ?? []).reduce((s, p) => s + p.okPerChannel.reduce((a, ok, c) => a + ok * (verified.perChannel[c] ?? 0), 0), 0);
      const drainUntil = Date.now() + DRAIN_MS;
      while (Date.now() < drainUntil && handles.reduce((s, h) => s + h.received, 0) < owed && !signal.aborted) await sleep(50);
    } finally {
      progress.stop();
      clearInterval(omemPoll);
      signal.removeEventListener('abort', onAbort);
    }

    // Collect: the subscribers' reports, the last output-buffer look, the servers' counters after.
    handles.forEach((h) => h.post({ type: 'finish' }));
    await Promise.all(handles.map((h) => h.until(() => h.done !== undefined)));
    const failure = workerProblem(handles);
    if (failure) throw failure instanceof PubsubMonError ? new ServerError(failure.message) : failure;
    const downNodes = await unansweringNodes(target, topology.nodes, clients);
    notePeak(await peakSubscriberOmem(topology.nodes, clients));
    const after = await sampleServers(topology.nodes, clients);

    return assembleBenchResult({
      config,
      target: target.display,
      topologyMode: topology.mode,
      nodeCount: topology.nodes.length,
      threads: plan.workers.length,
      verified,
      measureFromNs: timing.measureFromNs,
      publishers: handles.flatMap((h) => h.published ?? []),
      subscribers: handles.flatMap((h) => h.done ?? []),
      before: await before,
      after,
      ...(peakOmem !== undefined ? { peakOmem } : {}),
      ...(pubsubLimit !== undefined ? { pubsubLimit } : {}),
      p99BySecond: progress.p99BySecond,
      interrupted: signal.aborted,
      ...(downNodes.length > 0 ? { downNodes } : {}),
    });
  } catch (err) {
    throw describeRedisError(err, `${target.host}:${target.port}`, target.username);
  } finally {
    for (const h of handles) void h.worker.terminate();
    for (const c of clients.values()) c.disconnect();
  }
}

/**
 * The live line, once a second: rates since the last tick, the p99 of the workers' interval
 * histograms, and deliveries still owed. Each tick's p99 is also kept for the second it mostly covers.
 */
function startProgress(handles: readonly WorkerHandle[], timing: Timing, subsPerMessage: number, hooks: BenchHooks): { p99BySecond: number[]; stop(): void } {
  const p99BySecond: number[] = [];
  let lastSent = 0;
  let lastReceived = 0;
  let lastTick = Date.now();
  const timer = setInterval(() => {
    const sent = handles.reduce((s, h) => s + h.sent, 0);
    const received = handles.reduce((s, h) => s + h.received, 0);
    const nowMs = Date.now();
    const seconds = Math.max(0.001, (nowMs - lastTick) / 1000);
    const merged = createLatencyHistogram();
    for (const h of handles) if (h.interval) merged.add(decodeHistogram(h.interval));
    const p99Us = merged.totalCount > 0 ? merged.getValueAtPercentile(99) : undefined;
    const p: BenchProgress = {
      elapsedMs: (hrNowNs() - timing.measureFromNs) / 1e6,
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
  }, PROGRESS_MS);
  return { p99BySecond, stop: () => clearInterval(timer) };
}
