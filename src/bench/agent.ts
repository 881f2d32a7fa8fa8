// `pubsub-mon agent`: waits on the control channel for a bench coordinator, runs the share of the run
// it is given in its own worker threads (or processes), and passes their reports back through Redis.
import crypto from 'node:crypto';
import os from 'node:os';
import type { Redis } from 'ioredis';
import { openNode } from '../redis/connect.js';
import { discoverTopology, infoAsker } from '../redis/discover.js';
import { readClusterNodes, readInfo } from '../redis/queries.js';
import type { ConnectionTarget } from '../redis/target.js';
import { describeRedisError, rethrowIfBug } from '../redis/errors.js';
import { plural } from '../stats/plural.js';
import { measureOffset } from './clock-offset.js';
import {
  ALIVE_TTL_MS,
  BEAT_MS,
  decodeControl,
  encodeControl,
  AGENTS_CHANNEL,
  COORDINATOR_CHANNEL,
  LOBBY_CHANNEL,
  PROTOCOL_VERSION,
  readAddressed,
  readCall,
  runNames,
  toWire,
  type AgentMessage,
  type AgentWork,
  type CallMessage,
  type HelloMessage,
  type RefuseMessage,
} from './control.js';
import type { NodeRef, WorkerPlan } from './plan.js';
import { WorkerHandle } from './worker-handle.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';
import v8 from 'node:v8';

export interface AgentOptions {
  name: string;
  /** Worker threads (or processes, with asProcesses) this host lays its share over. */
  threads: number;
  asProcesses: boolean;
  /** Leave after one run instead of waiting for the next. */
  once: boolean;
  /** A separate server for the control channel and keys (--control-url); otherwise the target. */
  control?: ConnectionTarget;
}

export interface AgentHooks {
  /** One line of what the agent is doing, for stderr. */
  onLine(text: string): void;
}

/** How long an agent that answered a call waits to be accepted before it listens again. */
const ACCEPT_WAIT_MS = 10_000;
/** Lines about coordinators not joined, at most (anybody who may publish on the lobby could make more). */
const MAX_REFUSAL_LINES = 20;

/** Addresses of the cluster nodes this connection's server knows (none for a standalone server). */
async function clusterAddresses(client: Redis): Promise<Set<string>> {
  try {
    return new Set((await readClusterNodes(client, true)).map((n) => n.address));
  } catch (err) {
    rethrowIfBug(err);
    return new Set();
  }
}

/**
 * Why this agent's target is not the run's (undefined when it is): a standalone server whose run_id
 * is not the coordinator's, or a node in the work that this agent's own deployment does not have.
 * This agent's credentials go only to servers of the deployment it was pointed at.
 */
async function foreignTarget(target: ConnectionTarget, workers: readonly WorkerPlan[], runId: string | undefined): Promise<string | undefined> {
  const seedAddress = { host: target.host, port: target.port };
  const seed = await openNode(target, seedAddress, 'agent');
  try {
    const topology = await discoverTopology(seed, seedAddress, { forceCluster: target.forceCluster, ask: infoAsker(target, 'agent') });
    if (runId !== undefined) {
      const own = (await readInfo(seed)).run_id;
      if (own !== runId) return `${target.display} is another server than the coordinator's (run_id ${own ?? 'unknown'}, not ${runId}): point the agent at the same server`;
    }
    const known = new Set(topology.nodes.map((n) => n.address));
    for (const w of workers) {
      const nodes = [...w.publishers.flatMap((p) => p.lanes.flatMap((l) => l.routes)), ...w.subscribers.flatMap((s) => s.connections.map((c) => c.node))];
      const stranger = nodes.find((n) => !known.has(n.address));
      if (stranger) return `the work names ${stranger.address}, which is not a node of ${target.display}`;
    }
    return undefined;
  } finally {
    seed.disconnect();
  }
}

interface Run {
  call: CallMessage;
  names: ReturnType<typeof runNames>;
  /** Where this run's keys and clock are. */
  control: Redis;
  ownsControl: boolean;
  accepted: boolean;
  /** Its work was read (the coordinator repeats 'work' until the workers are loaded). */
  working?: boolean;
  handles: WorkerHandle[];
  timers: NodeJS.Timeout[];
}

/** Swaps the coordinator's address of a standalone server for this host's own. */
function retarget(workers: WorkerPlan[], from: { host: string; port: number }, to: { host: string; port: number }): WorkerPlan[] {
  const swap = (n: NodeRef): NodeRef => (n.host === from.host && n.port === from.port ? { ...n, host: to.host, port: to.port, address: `${to.host}:${to.port}` } : n);
  return workers.map((w) => ({
    publishers: w.publishers.map((p) => ({ ...p, lanes: p.lanes.map((l) => ({ ...l, routes: l.routes.map(swap) })) })),
    subscribers: w.subscribers.map((s) => ({ ...s, connections: s.connections.map((c) => ({ ...c, node: swap(c.node) })) })),
  }));
}

/** Runs until `signal` aborts (or after one run with `once`). */
export async function runAgent(target: ConnectionTarget, options: AgentOptions, hooks: AgentHooks, signal: AbortSignal): Promise<void> {
  const controlTarget = options.control ?? target;
  const seed = { host: controlTarget.host, port: controlTarget.port };
  const commands = await openNode(controlTarget, seed, 'agent', { reconnect: true });
  const listener = await openNode(controlTarget, seed, 'agent', { reconnect: true }).catch((err: unknown) => {
    commands.disconnect();
    throw err;
  });
  let run: Run | undefined;
  const refused = new Set<string>();
  /** Tells this process apart from another agent given the same name. */
  const instance = crypto.randomBytes(6).toString('hex');
  let finished!: () => void;
  const done = new Promise<void>((resolve) => (finished = resolve));

  const publish = (m: HelloMessage | RefuseMessage | AgentMessage) => {
    commands.publish(COORDINATOR_CHANNEL, encodeControl(m)).catch((err: unknown) => rethrowIfBug(err));
  };

  const leave = async (why: string | undefined) => {
    const r = run;
    if (!r) return;
    run = undefined;
    r.timers.forEach((t) => clearInterval(t));
    r.handles.forEach((h) => h.stop());
    if (r.ownsControl) r.control.disconnect();
    if (why) hooks.onLine(why);
    if (r.accepted && options.once) finished();
  };

  const onCall = async (call: CallMessage) => {
    const names = runNames(call.run);
    if (call.version !== PROTOCOL_VERSION) {
      if (!refused.has(call.run) && refused.size < MAX_REFUSAL_LINES) {
        refused.add(call.run);
        hooks.onLine(`not joining coordinator ${call.coordinator}: it runs pubsub-mon ${call.version}, this agent ${PROTOCOL_VERSION} (run the same version on every host)`);
      }
      publish({ t: 'refuse', run: call.run, name: options.name, version: PROTOCOL_VERSION, why: `pubsub-mon ${PROTOCOL_VERSION}, not ${call.version}` });
      return;
    }
    if (run) return;
    // The credentials go only where this agent was pointed: a control node named in a call must be
    // a node of the cluster this agent's own control connection belongs to.
    if (call.control.kind === 'node') {
      const { host, port } = call.control;
      const known = await clusterAddresses(commands);
      if (!known.has(`${host}:${port}`)) {
        if (!refused.has(call.run) && refused.size < MAX_REFUSAL_LINES) {
          refused.add(call.run);
          hooks.onLine(`not joining coordinator ${call.coordinator}: its control node ${host}:${port} is not a node of ${controlTarget.display}`);
        }
        return;
      }
    }
    if (run) return;
    const control = call.control.kind === 'own' ? commands : await openNode(controlTarget, { host: call.control.host, port: call.control.port }, 'agent');
    const r: Run = { call, names, control, ownsControl: control !== commands, accepted: false, handles: [], timers: [] };
    run = r;
    try {
      const clock = await measureOffset(control);
      if (run !== r) return;
      publish({ t: 'hello', run: call.run, name: options.name, id: instance, version: PROTOCOL_VERSION, host: os.hostname(), pid: process.pid, threads: options.threads, processes: options.asProcesses ? options.threads : 0, clock: toWire(clock) });
      r.timers.push(setTimeout(() => void (run === r && !r.accepted ? leave(undefined) : undefined), ACCEPT_WAIT_MS));
    } catch (err) {
      rethrowIfBug(err);
      await leave(`could not answer coordinator ${call.coordinator}: ${(err as Error).message}`);
    }
  };

  const onAccepted = (r: Run, index: number) => {
    r.accepted = true;
    hooks.onLine(`joined coordinator ${r.call.coordinator} (run ${r.call.run}) as agent ${index + 1}`);
    r.timers.push(setInterval(() => publish({ t: 'beat', run: r.call.run, name: options.name }), BEAT_MS));
    // The coordinator keeps its key fresh; once it has expired, nobody will say 'end'.
    let missing = 0;
    r.timers.push(
      setInterval(() => {
        r.control.exists(r.names.alive).then(
          (n) => {
            missing = n === 1 ? 0 : missing + 1;
            if (missing >= 2 && run === r) void leave(`coordinator ${r.call.coordinator} is gone (its key ${r.names.alive} expired): stopped this run's workers`);
          },
          (err: unknown) => {
            // The control server not answering is the coordinator out of reach: the same for this run.
            rethrowIfBug(err);
            missing++;
            if (missing >= 2 && run === r) void leave(`the control server does not answer (${(err as Error).message}): stopped this run's workers`);
          },
        );
      }, Math.max(BEAT_MS, ALIVE_TTL_MS / 2)),
    );
  };

  const onWork = async (r: Run) => {
    // The coordinator repeats 'work' until the workers say they are loaded: read it once.
    if (r.working) return;
    r.working = true;
    const blob = await r.control.getBuffer(r.names.work(options.name));
    // Read once: gone at once, even if the coordinator dies before it can remove it.
    await r.control.del(r.names.work(options.name));
    if (run !== r) return;
    if (!blob) {
      publish({ t: 'failed', run: r.call.run, name: options.name, message: `its work key ${r.names.work(options.name)} was not there` });
      return;
    }
    let work: AgentWork;
    try {
      work = v8.deserialize(blob) as AgentWork;
      if (!Array.isArray(work.workers) || !Array.isArray(work.channels)) throw new TypeError('not a share of a run');
    } catch (err) {
      publish({ t: 'failed', run: r.call.run, name: options.name, message: `its work key held no work it could read (${(err as Error).message})` });
      return;
    }
    const own = { host: target.host, port: target.port };
    const workers = work.seed ? retarget(work.workers, work.seed, own) : work.workers;
    const wrong = await foreignTarget(target, workers, work.seed?.runId);
    if (run !== r) return;
    if (wrong) {
      hooks.onLine(`not running coordinator ${r.call.coordinator}'s work: ${wrong}`);
      publish({ t: 'failed', run: r.call.run, name: options.name, message: wrong });
      return;
    }
    r.handles = workers.map((plan, w) => {
      const input = { target, plan, channels: work.channels, groups: work.groups, publisherCount: work.publisherCount, subscriber: work.subscriber, clockShiftNs: work.clockShiftNs };
      return new WorkerHandle(input, work.asProcesses, (m: FromWorker) => {
        if (m.type === 'failed') hooks.onLine(`worker ${w + 1}: ${m.message}`);
        publish({ t: 'worker', run: r.call.run, name: options.name, w, m });
      });
    });
    const publishers = workers.reduce((n, w) => n + w.publishers.length, 0);
    const subscribers = workers.reduce((n, w) => n + w.subscribers.length, 0);
    hooks.onLine(`running ${plural(workers.length, 'worker')}: ${plural(publishers, 'publisher')}, ${plural(subscribers, 'subscriber')}`);
  };

  const onMessage = (channel: Buffer, message: Buffer) => {
    let m = decodeControl(message);
    if (!m) return;
    const ch = channel.toString('latin1');
    if (ch === LOBBY_CHANNEL) {
      const call = readCall(m);
      if (call) void onCall(call).catch((err: unknown) => rethrowIfBug(err));
      return;
    }
    const r = run;
    const a = r && ch === AGENTS_CHANNEL ? readAddressed(m, r.call.run, options.name, instance) : undefined;
    if (!r || !a) return;
    m = a;
    if (m.t === 'accept' && !r.accepted) onAccepted(r, Number(m.index));
    else if (m.t === 'decline') void leave(`coordinator ${r.call.coordinator} did not take this agent: ${String((m as { why?: unknown }).why)}`);
    else if (!r.accepted) return;
    else if (m.t === 'work') void onWork(r).catch((err: unknown) => rethrowIfBug(err));
    else if (m.t === 'to') {
      const { w, m: toWorker } = m as unknown as { w: number; m: ToWorker };
      if (w < r.handles.length) r.handles[w]!.post(toWorker);
    } else if (m.t === 'clock') {
      void measureOffset(r.control).then(
        (clock) => publish({ t: 'clock', run: r.call.run, name: options.name, clock: toWire(clock) }),
        (err: unknown) => rethrowIfBug(err),
      );
    } else if (m.t === 'end') void leave(`run ${r.call.run} ended`);
  };

  listener.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, message: Buffer) => onMessage(channel, message));
  const onAbort = () => {
    void leave(undefined).finally(finished);
  };
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    await listener.psubscribe(LOBBY_CHANNEL, AGENTS_CHANNEL);
    hooks.onLine(`agent ${options.name} (pubsub-mon ${PROTOCOL_VERSION}) waiting for a coordinator on ${controlTarget.display}`);
    await done;
  } catch (err) {
    throw describeRedisError(err, `${controlTarget.host}:${controlTarget.port}`, controlTarget.username);
  } finally {
    signal.removeEventListener('abort', onAbort);
    await leave(undefined);
    listener.disconnect();
    commands.disconnect();
  }
}
