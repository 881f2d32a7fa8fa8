// Runs a bench: plans it, starts the worker threads, verifies subscriptions, keeps time, and hands the gathered data to the assembly.
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { ConnectionTarget } from '../redis/target.js';
import { openNode } from '../redis/connect.js';
import { describeRedisError, rethrowIfBug } from '../redis/errors.js';
import { discoverTopology, infoAsker } from '../redis/discover.js';
import { readClientRoom, readInfo, readPubsubLimit } from '../redis/queries.js';
import { slotOwners, versionAtLeast, type Topology, type TopologyNode } from '../stats/topology.js';
import { hashSlot } from '../stats/hash-slot.js';
import { combinationProblem, type BenchConfig, type ServerFacts } from '../stats/bench-config.js';
import { assembleBenchResult, sampleFromInfos, type AssembledBench, type BenchRunData, type HostRunData, type ServerSample } from '../stats/bench-result.js';
import { addSparseCounts, createLatencyHistogram } from '../stats/histogram.js';
import { noun } from '../stats/plural.js';
import { InterruptedError, PubsubMonError, ServerError, UsageError } from '../errors.js';
import { makePlan, splitOverHosts, type BenchPlan, type HostShape, type WorkerPlan } from './plan.js';
import { AgentPool, type Agent } from './agent-pool.js';
import { runNames, type AgentWork } from './control.js';
import { checkPayloadSize } from './payload-header.js';
import { hrNowNs } from './clock.js';
import { WorkerHandle, type WorkerState } from './worker-handle.js';
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
  /** How many agents have joined, while waiting for them: a phase, but worth a line each time it changes even where there is no spinner. */
  onWaiting?: (text: string) => void;
}

/** Time between "go" and the first intended send, so every thread is waiting when it comes. */
const START_DELAY_NS = 300e6;
const AGENT_START_DELAY_NS = 1500e6;
/** How long the agents have to read their clocks again after the run. */
const CLOCK_AGAIN_MS = 5000;
/**
 * After the last publish, the run waits for what is owed while deliveries keep coming: it is closed
 * once this long passes with none (a fan-out to 50,000 can trail the publisher by seconds).
 */
const DRAIN_MS = 2500;
/** How often the subscribers' output buffers are looked at on the server. */
const OMEM_POLL_MS = 500;
const PROGRESS_MS = 1000;
/** Memory per subscriber connection is reported from this many connections on. */
const MIN_CONNECTIONS_FOR_MEMORY = 100;

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
function workerProblem(handles: readonly WorkerState[]): Error | undefined {
  const crashed = handles.find((h) => h.crashed);
  if (crashed) return crashed.crashed;
  const failed = handles.find((h) => h.failed && !h.done);
  return failed ? new PubsubMonError(failed.failed!.kind, failed.failed!.message) : undefined;
}

/** One worker of the run: its share of the plan, the host it runs on (0 = this one, unless --no-local), and whether it is a child process. */
interface Placed {
  plan: WorkerPlan;
  host: number;
  asProcess: boolean;
}

/** The node of a cluster whose clock a coordinator and its agents read, and where the run's control keys live. */
function controlNodeOf(topology: Topology, runId: string): { host: string; port: number } {
  const owner = slotOwners(topology)(hashSlot(runNames(runId).slotKey)) ?? topology.nodes.find((n) => n.role === 'primary')!;
  return { host: owner.host, port: owner.port };
}

/**
 * Lays the plan over this host (unless --no-local) and the agents, each with its own threads or
 * processes; returns how many child processes this host runs.
 */
function placeOverHosts(config: BenchConfig, plan: BenchPlan, pool: AgentPool, placed: Placed[]): number {
  const shapes: HostShape[] = [];
  if (config.local) shapes.push({ threads: config.processes ?? config.threads, asProcesses: config.processes !== undefined });
  for (const a of pool.agents) shapes.push({ threads: a.threads, asProcesses: a.asProcesses });
  const split = splitOverHosts(plan, shapes);
  split.forEach((h, host) => {
    for (const w of h.workers) placed.push({ plan: w, host, asProcess: shapes[host]!.asProcesses });
  });
  return config.local && config.processes !== undefined ? split[0]!.workers.length : 0;
}

/** Ids of the publishers that run on other hosts than `host`. */
function remotePublishersOf(placed: readonly Placed[], host: number): number[] {
  return placed.filter((p) => p.host !== host).flatMap((p) => p.plan.publishers.map((x) => x.id));
}

/** Who takes part, in host order: this process (unless --no-local), then the agents. */
function hostsOf(config: BenchConfig, pool: AgentPool | undefined): HostRef[] {
  const out: HostRef[] = [];
  if (config.local) out.push({ name: 'coordinator', host: os.hostname() });
  for (const a of pool?.agents ?? []) out.push({ name: a.name, host: a.host, agent: a });
  return out;
}

interface HostRef {
  name: string;
  host: string;
  agent?: Agent;
}

/**
 * @param control a separate server for the agents' control channel and keys (--control-url);
 *   otherwise the target itself
 */
export async function runBench(target: ConnectionTarget, config: BenchConfig, hooks: BenchHooks, signal: AbortSignal, control?: ConnectionTarget): Promise<AssembledBench> {
  checkPayloadSize(config.size);
  const early = combinationProblem(config);
  if (early) throw new UsageError(early);
  const seedAddress = { host: target.host, port: target.port };
  const clients = new Map<string, Redis>();
  const handles: WorkerState[] = [];
  /** Where each of `handles` runs, in the same order. */
  const roles: Placed[] = [];
  let pool: AgentPool | undefined;
  let hosts: HostRef[] = [];
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

    // Agents first, when there are any: the plan is laid over them.
    const runId = crypto.randomBytes(3).toString('hex');
    if (config.agents > 0) {
      const controlNode = control === undefined && topology.mode === 'cluster' ? controlNodeOf(topology, runId) : undefined;
      pool = await AgentPool.gather(
        {
          control: control ?? target,
          ...(controlNode ? { controlNode } : {}),
          runId,
          want: config.agents,
          waitMs: config.agentWaitMs,
          coordinatorName: `${os.hostname()}:${process.pid}`,
          onPhase: (text) => hooks.onWaiting?.(text),
          onNotice: (text) => hooks.onNotice?.(text),
        },
        signal,
      );
      if (signal.aborted) throw new InterruptedError('interrupted while waiting for agents');
    }

    // Workers connect and subscribe; the servers are asked what they really got.
    let plan = makePlan(config, topology, runId);
    let processes = 0;
    const placed: Placed[] = [];
    if (!pool) {
      // Past this process's open-file limit, the subscribers move to child processes, each with its own.
      const needed = processesFor(plan.connections, config.publishers * topology.nodes.length + topology.nodes.length);
      if (typeof needed === 'string') throw new UsageError(needed);
      if (config.processes !== undefined) {
        plan = makePlan({ ...config, threads: Math.max(config.processes, needed) }, topology, runId);
        processes = plan.workers.length;
      } else if (needed > 0) {
        plan = makePlan(config, topology, runId, needed);
        processes = needed;
      }
      for (const w of plan.workers) placed.push({ plan: w, host: 0, asProcess: config.processes !== undefined || (processes > 0 && w.publishers.length === 0) });
    } else {
      processes = placeOverHosts(config, plan, pool, placed);
    }
    hosts = hostsOf(config, pool);
    const subscriberCount = plan.workers.reduce((n, w) => n + w.subscribers.length, 0);
    await checkClientRoom(topology.nodes, clients, plan);
    const threads = placed.filter((p) => p.host === 0 && config.local && !p.asProcess).length;
    const here = [threads > 0 ? `${threads} ${noun(threads, 'thread')}` : '', processes > 0 ? `${processes} ${noun(processes, 'process', 'processes')}` : ''].filter(Boolean).join(' and ');
    const where = pool ? `${pool.agents.length} ${noun(pool.agents.length, 'agent')}${config.local && here ? ` and ${here} here` : ''}` : here;
    hooks.onPhase?.(`connecting ${config.publishers} ${noun(config.publishers, 'publisher')} and ${subscriberCount} ${noun(subscriberCount, 'subscriber')} (${plan.connections} ${noun(plan.connections, 'connection')}) on ${where}`);
    // On the live channels (--same-names), whoever already listens there is not bench: counted now, taken off later.
    const others = config.sameNames && subscriberCount > 0 ? (await verifySubscriptions(config, plan, topology, clients)).perChannel : undefined;
    const subscriberOptions = config.reconnect ? { reconnect: config.reconnect } : {};
    const common = { channels: plan.channels, groups: plan.groups.length, publisherCount: config.publishers };
    const remote = pool && config.local ? { remotePublishers: remotePublishersOf(placed, 0) } : {};
    for (const p of placed) {
      if (p.host !== 0 || !config.local) continue;
      handles.push(new WorkerHandle({ target, plan: p.plan, ...common, subscriber: { ...subscriberOptions, ...remote } }, p.asProcess));
      roles.push(p);
    }
    // Which standalone server this is, so that an agent pointed at another one says so.
    const seedNode = topology.nodes.find((n) => n.host === target.host && n.port === target.port) ?? topology.nodes[0]!;
    const seedRunId = pool && topology.mode === 'standalone' ? (await readInfo(clients.get(seedNode.id)!)).run_id : undefined;
    for (const agent of pool?.agents ?? []) {
      const host = agent.index + (config.local ? 1 : 0);
      const mine = placed.filter((p) => p.host === host);
      const work: AgentWork = {
        workers: mine.map((p) => p.plan),
        ...common,
        subscriber: { ...subscriberOptions, remotePublishers: remotePublishersOf(placed, host) },
        asProcesses: agent.asProcesses,
        clockShiftNs: agent.shiftNs,
        ...(topology.mode === 'standalone' ? { seed: { ...seedAddress, ...(seedRunId ? { runId: seedRunId } : {}) } } : {}),
      };
      handles.push(...(await pool!.assign(agent, work)));
      roles.push(...mine);
    }
    await Promise.all(handles.map((h) => h.until(() => h.loaded, signal)));
    const rssLoaded = process.memoryUsage.rss();
    handles.forEach((h) => h.post({ type: 'connect' }));
    await Promise.all(handles.map((h) => h.until(() => h.ready, signal)));
    const rssConnected = process.memoryUsage.rss();
    // An agent lost before the start leaves its share undone: no run to speak of.
    const goneEarly = handles.find((h) => h.gone);
    if (goneEarly) throw new ServerError(`${goneEarly.gone!.why}, before the run started`);
    const notReady = workerProblem(handles);
    if (notReady) throw notReady;
    if (signal.aborted) throw new InterruptedError('interrupted before the run started');
    hooks.onPhase?.('verifying subscriptions');
    const verified = await verifySubscriptions(config, plan, topology, clients, others);
    if (verified.found < verified.asked) hooks.onNotice?.(`only ${verified.detail}; expected deliveries are computed from what was found`);

    // Go: every thread starts at the same instant; the servers' counters are read when measuring starts.
    // Through Redis to the agents and on to their workers takes longer than to a thread of this process.
    const startNs = hrNowNs() + (pool ? AGENT_START_DELAY_NS : START_DELAY_NS);
    const timing: Timing = {
      startNs,
      measureFromNs: startNs + config.warmupMs * 1e6,
      ...(config.messages === undefined ? { endNs: startNs + (config.warmupMs + config.durationMs) * 1e6 } : {}),
    };
    handles.forEach((h) => h.post({ type: 'start', timing }));
    hooks.onPhase?.('warming up');
    let cpuAtMeasure: NodeJS.CpuUsage | undefined;
    const before = sleep(Math.max(0, (timing.measureFromNs - hrNowNs()) / 1e6)).then(() => {
      cpuAtMeasure = process.cpuUsage();
      return sampleServers(topology.nodes, clients);
    });

    // While it runs: the live line, and the subscribers' output buffers on the server.
    let peakOmem: number | undefined;
    const notePeak = (v: number | undefined) => {
      if (v !== undefined) peakOmem = Math.max(peakOmem ?? 0, v);
    };
    const subsPerMessage = expectedPerMessage(plan, verified.perChannel);
    const progress = startProgress(handles, timing, subsPerMessage, hooks);
    const omemPoll = setInterval(() => void peakSubscriberOmem(topology.nodes, clients, plan.connections).then(notePeak), OMEM_POLL_MS);
    const onAbort = () => handles.forEach((h) => h.post({ type: 'stop' }));
    signal.addEventListener('abort', onAbort);
    try {
      await Promise.all(handles.map((h) => h.until(() => h.published !== undefined)));
      const owed = handles.flatMap((h) => h.published ?? []).reduce((s, p) => s + p.okPerChannel.reduce((a, ok, c) => a + ok * (verified.perChannel[c] ?? 0), 0), 0);
      let seen = -1;
      let lastNew = Date.now();
      for (;;) {
        const received = handles.reduce((s, h) => s + h.received, 0);
        if (received >= owed || signal.aborted) break;
        if (received !== seen) {
          seen = received;
          lastNew = Date.now();
        } else if (Date.now() - lastNew > DRAIN_MS) break;
        await sleep(50);
      }
    } finally {
      progress.stop();
      clearInterval(omemPoll);
      signal.removeEventListener('abort', onAbort);
    }

    // Collect: the subscribers' reports, the last output-buffer look, the servers' counters after.
    const processCpu = cpuAtMeasure ? process.cpuUsage(cpuAtMeasure) : undefined;
    const lastSent: number[][] = [];
    for (const p of handles.flatMap((h) => h.published ?? [])) lastSent[p.id] = p.lastSeq;
    handles.forEach((h) => h.post({ type: 'finish', lastSent }));
    await Promise.all(handles.map((h) => h.until(() => h.done !== undefined)));
    const failure = workerProblem(handles);
    if (failure) throw failure instanceof PubsubMonError ? new ServerError(failure.message) : failure;
    const downNodes = await unansweringNodes(target, topology.nodes, clients);
    notePeak(await peakSubscriberOmem(topology.nodes, clients, plan.connections));
    const after = await sampleServers(topology.nodes, clients);
    if (pool) await pool.measureAgain(CLOCK_AGAIN_MS);

    return assembleBenchResult({
      config,
      target: target.display,
      topologyMode: topology.mode,
      nodeCount: topology.nodes.length,
      threads: roles.filter((r) => r.host === 0 && config.local && !r.asProcess).length,
      processes,
      verified,
      measureFromNs: timing.measureFromNs,
      publishers: handles.flatMap((h) => h.published ?? []),
      subscribers: handles.flatMap((h) => h.done ?? []),
      tallies: handles.flatMap((h) => (h.tally ? [h.tally] : [])),
      groups: plan.groups,
      channelGroups: plan.channels.map((c) => c.group),
      channelRates: channelRates(config, plan),
      fanout: plan.fanout,
      connections: plan.connections,
      subscriberCount,
      cpu: cpuByRole(roles, handles, processCpu),
      ...(pool ? { hosts: hostData(hosts, roles, handles, plan, pool) } : {}),
      // Below a hundred connections, RSS moving by itself (heaps growing, collections) drowns what they cost.
      ...(plan.connections >= MIN_CONNECTIONS_FOR_MEMORY ? { bytesPerConnection: (Math.max(0, rssConnected - rssLoaded) + handles.reduce((s, h) => s + (h.rssGrowth ?? 0), 0)) / plan.connections } : {}),
      // This host's bench processes: the main one and its children (an agent's are its own business).
      rssBytes: process.memoryUsage.rss() + handles.reduce((s, h, i) => s + (roles[i]!.host === 0 ? (h.rss ?? 0) : 0), 0),
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
    for (const h of handles) h.stop();
    await pool?.close();
    for (const c of clients.values()) c.disconnect();
  }
}

/** Each host's own reports, planned subscriptions and clock, for the per-agent breakdown. */
function hostData(hosts: readonly HostRef[], roles: readonly Placed[], handles: readonly WorkerState[], plan: BenchPlan, pool: AgentPool): HostRunData[] {
  return hosts.map((h, i) => {
    const mine = handles.filter((_, k) => roles[k]!.host === i);
    const plans = roles.filter((r) => r.host === i).map((r) => r.plan);
    const subscriptions = new Array<number>(plan.channels.length).fill(0);
    for (const w of plans) {
      for (const s of w.subscribers) {
        for (const c of s.connections) {
          if (c.kind === 'psubscribe') subscriptions.forEach((_, k) => subscriptions[k]!++);
          else for (const k of c.channels) subscriptions[k]!++;
        }
      }
    }
    const cpuNs = mine.reduce((t, w) => (t === undefined || w.cpuNs === undefined ? undefined : t + w.cpuNs), 0 as number | undefined);
    const a = h.agent;
    const shiftAfter = a?.clockAfter && pool.clockAfter ? Number(a.clockAfter.offsetNs - pool.clockAfter.offsetNs) : undefined;
    const boundAfter = a?.clockAfter && pool.clockAfter ? a.clockAfter.boundNs + pool.clockAfter.boundNs : undefined;
    const gone = mine.find((w) => w.gone)?.gone;
    return {
      name: h.name,
      host: h.host,
      role: a ? 'agent' : 'coordinator',
      publisherIds: plans.flatMap((w) => w.publishers.map((p) => p.id)),
      subscriberCount: plans.reduce((n, w) => n + w.subscribers.length, 0),
      publishers: mine.flatMap((w) => w.published ?? []),
      subscribers: mine.flatMap((w) => w.done ?? []),
      tallies: mine.flatMap((w) => (w.tally ? [w.tally] : [])),
      subscriptions,
      ...(cpuNs !== undefined && mine.length > 0 ? { cpuSeconds: cpuNs / 1e9 } : {}),
      clock: a
        ? {
            shiftNs: a.shiftNs,
            boundNs: Math.max(a.boundNs, boundAfter ?? 0) + (shiftAfter !== undefined ? Math.abs(shiftAfter - a.shiftNs) : 0),
            ...(shiftAfter !== undefined ? { driftNs: shiftAfter - a.shiftNs } : {}),
          }
        : { shiftNs: 0, boundNs: 0 },
      ...(gone ? { lost: { atNs: gone.atNs, why: gone.why, lastSent: mine.reduce((n, w) => n + w.sent, 0), lastReceived: mine.reduce((n, w) => n + w.received, 0) } } : {}),
    };
  });
}

/** Deliveries each published message owes on average: the live line's lag. */
function expectedPerMessage(plan: BenchPlan, perChannel: readonly number[]): number {
  // Weighted by each channel's share of the publishing: its lanes' rates (all equal from the flags).
  let weight = 0;
  let owed = 0;
  for (const w of plan.workers) {
    for (const p of w.publishers) {
      for (const lane of p.lanes) {
        const each = (lane.rate || 1) / lane.channels.length;
        for (const c of lane.channels) {
          weight += each;
          owed += each * (perChannel[c] ?? 0);
        }
      }
    }
  }
  return weight > 0 ? owed / weight : 0;
}

/** Messages per second asked for on each channel (0 = as fast as possible). */
function channelRates(config: BenchConfig, plan: BenchPlan): number[] {
  if (config.mix) return config.mix.channels.map((c) => c.rate);
  return plan.channels.map(() => config.rate / plan.channels.length);
}

/** CPU seconds of the threads that only publish, only subscribe, or both (on every host), and of this whole process. */
function cpuByRole(roles: readonly Placed[], handles: readonly WorkerState[], processCpu: NodeJS.CpuUsage | undefined): BenchRunData['cpu'] {
  const out: BenchRunData['cpu'] = {};
  const add = (key: 'publisher' | 'subscriber' | 'shared', ns: number | undefined) => {
    if (ns !== undefined) out[key] = (out[key] ?? 0) + ns / 1e9;
  };
  handles.forEach((h, i) => {
    const w = roles[i]!.plan;
    add(w.subscribers.length === 0 ? 'publisher' : w.publishers.length === 0 ? 'subscriber' : 'shared', h.cpuNs);
  });
  if (processCpu) out.process = (processCpu.user + processCpu.system) / 1e6;
  return out;
}

/** Child processes bench may spread subscribers over; more means the limit itself is the problem. */
const MAX_PROCESSES = 32;
/** Descriptors a process keeps for itself (stdio, libuv, the control connections). */
const SPARE_DESCRIPTORS = 128;

/**
 * How many child processes the subscriber connections need (0: they fit in this one), or one line
 * saying which limit to raise. Node raised its soft open-file limit to the hard one at start, so the
 * hard limit is what counts; each child process gets as many.
 */
function processesFor(subscriberConnections: number, otherConnections: number): number | string {
  const limit = openFileLimit();
  if (limit === undefined || subscriberConnections + otherConnections + SPARE_DESCRIPTORS <= limit) return 0;
  const perProcess = limit - SPARE_DESCRIPTORS;
  const processes = perProcess > 0 ? Math.ceil(subscriberConnections / perProcess) : Number.POSITIVE_INFINITY;
  if (processes <= MAX_PROCESSES && otherConnections + SPARE_DESCRIPTORS <= limit) return processes;
  const needed = subscriberConnections + otherConnections + SPARE_DESCRIPTORS;
  return `${subscriberConnections} subscriber connections need more open files than ${MAX_PROCESSES} processes of ${limit} each give: raise the limit (\`ulimit -n ${Math.ceil(needed / 1024) * 1024}\` in the shell that starts pubsub-mon; above the hard limit, as root or in /etc/security/limits.conf)`;
}

/** RLIMIT_NOFILE of this process, from /proc/self/limits; undefined where it cannot be read. */
function openFileLimit(): number | undefined {
  try {
    const line = fs.readFileSync('/proc/self/limits', 'latin1').split('\n').find((l) => l.startsWith('Max open files'));
    const soft = line?.split(/\s{2,}/)[1];
    return soft === undefined || soft === 'unlimited' ? undefined : Number(soft);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * Refuses a run that would take more connections than a node accepts (maxclients), before opening
 * thousands of them only for the last ones to be turned away.
 */
async function checkClientRoom(nodes: readonly TopologyNode[], clients: ReadonlyMap<string, Redis>, plan: BenchPlan): Promise<void> {
  const perNode = new Map<string, number>();
  for (const w of plan.workers) {
    for (const s of w.subscribers) for (const c of s.connections) perNode.set(c.node.address, (perNode.get(c.node.address) ?? 0) + 1);
    for (const p of w.publishers) for (const a of new Set(p.lanes.flatMap((l) => l.routes.map((r) => r.address)))) perNode.set(a, (perNode.get(a) ?? 0) + 1);
  }
  for (const node of nodes) {
    const wanted = perNode.get(node.address) ?? 0;
    if (wanted === 0) continue;
    const client = clients.get(node.id)!;
    const room = await readClientRoom(client);
    if (room && wanted > room.free) {
      throw new UsageError(
        `${node.address} accepts ${room.maxclients} clients and has ${room.connected} already; this run would open ${wanted} more there: raise maxclients (CONFIG SET maxclients ${room.connected + wanted + 100}) or ask for fewer subscribers`,
      );
    }
  }
}

/**
 * The live line, once a second: rates since the last tick, the p99 of the workers' interval
 * histograms, and deliveries still owed. Each tick's p99 is also kept for the second it mostly covers.
 */
function startProgress(handles: readonly WorkerState[], timing: Timing, subsPerMessage: number, hooks: BenchHooks): { p99BySecond: number[]; stop(): void } {
  const p99BySecond: number[] = [];
  let lastSent = 0;
  let lastReceived = 0;
  let lastTick = Date.now();
  const timer = setInterval(() => {
    const sent = handles.reduce((s, h) => s + h.sent, 0);
    const received = handles.reduce((s, h) => s + h.received, 0);
    const nowMs = Date.now();
    const seconds = Math.max(0.001, (nowMs - lastTick) / 1000);
    const merged = createLatencyHistogram(2);
    for (const h of handles) if (h.interval) addSparseCounts(merged, h.interval);
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
