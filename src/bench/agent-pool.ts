// The coordinator's side of the agents: calls them on the lobby, takes the first N that answer, hands
// each its share, relays between the runner and their workers, and notices when one goes silent.
import v8 from 'node:v8';
import type { Redis } from 'ioredis';
import { openNode } from '../redis/connect.js';
import type { ConnectionTarget } from '../redis/target.js';
import { rethrowIfBug } from '../redis/errors.js';
import { ServerError } from '../errors.js';
import { noun } from '../stats/plural.js';
import { measureOffset, shiftBetween, type ClockOffset } from './clock-offset.js';
import { hrNowNs } from './clock.js';
import {
  AGENT_SILENCE_MS,
  ALIVE_TTL_MS,
  BEAT_MS,
  decodeControl,
  encodeControl,
  fromWire,
  AGENTS_CHANNEL,
  COORDINATOR_CHANNEL,
  LOBBY_CHANNEL,
  PROTOCOL_VERSION,
  readFromAgent,
  runNames,
  WORK_TTL_MS,
  type AgentWork,
  type ControlNode,
  type CoordinatorMessage,
  type HelloMessage,
  type WireOffset,
} from './control.js';
import { WorkerState } from './worker-handle.js';
import type { FromWorker, ToWorker } from './worker-protocol.js';

/** One agent that joined the run. */
export interface Agent {
  name: string;
  /** The agent process's instance id: messages to it carry it, so that a namesake ignores them. */
  id: string;
  index: number;
  host: string;
  pid: number;
  threads: number;
  asProcesses: boolean;
  /** Its clock against the control server's, when it joined and (after the run) again. */
  clock: ClockOffset;
  clockAfter?: ClockOffset;
  /** What it adds to its clock to read the coordinator's, and how far that can be wrong (ns). */
  shiftNs: number;
  boundNs: number;
  lastHeardMs: number;
  /** When it was given its work (ms). */
  assignedMs?: number;
  /** When it went silent (run clock, ns) and why. */
  lost?: { atNs: number; why: string };
  workers: RemoteWorker[];
}

/** A worker on an agent, as the runner sees it. */
export class RemoteWorker extends WorkerState {
  /** When it last sent anything (ms), and when it was told to start. */
  lastHeardMs = Date.now();
  startedMs: number | undefined;
  private repeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly pool: AgentPool,
    readonly agent: Agent,
    private readonly index: number,
  ) {
    super();
  }

  deliver(m: FromWorker): void {
    this.lastHeardMs = Date.now();
    // A failure there is the agent's, not this host's: it says so.
    this.onMessage(m.type === 'failed' ? { ...m, message: `agent ${this.agent.name}: ${m.message}` } : m);
    if ((m.type === 'ready' && this.repeatOf === 'connect') || (m.type === 'done' && this.repeatOf === 'finish') || m.type === 'failed') this.stopRepeating();
  }

  private repeatOf: 'connect' | 'finish' | undefined;

  /**
   * Pub/sub delivers at most once: 'connect' and 'finish', which a worker takes any number of times,
   * are said again every REPEAT_MS until answered. 'start' is not (a second would start it twice): a
   * worker that never heard it stays silent, and silence is noticed.
   */
  post(m: ToWorker): void {
    if (this.agent.lost) return;
    this.pool.send(this.agent, { t: 'to', w: this.index, m });
    if (m.type === 'start') this.startedMs = Date.now();
    if (m.type === 'connect' || m.type === 'finish') {
      this.stopRepeating();
      this.repeatOf = m.type;
      this.repeat = setInterval(() => {
        if (this.agent.lost || this.gone) this.stopRepeating();
        else this.pool.send(this.agent, { t: 'to', w: this.index, m });
      }, REPEAT_MS);
    }
  }

  private stopRepeating(): void {
    clearInterval(this.repeat);
    this.repeat = undefined;
    this.repeatOf = undefined;
  }

  stop(): void {
    // The agent stops its workers when the run ends ('end') or when the coordinator's key expires.
    this.stopRepeating();
  }
}

/** How often a message that may have been lost is said again. */
const REPEAT_MS = 2000;
/** How long an agent has to load its workers once given its work. */
const LOAD_WAIT_MS = 30_000;
/** Most refusals named (anybody who may publish on the channel could send more). */
const MAX_REFUSALS = 20;
/** An agent's threads or processes, at most (as its own flags allow). */
const MAX_AGENT_THREADS = 64;

export interface GatherOptions {
  /** The server the control channel and keys are on: the target's seed, or --control-url. */
  control: ConnectionTarget;
  /** On a cluster, the node whose clock everybody reads and where the run's keys live (the owner of their slot). */
  controlNode?: { host: string; port: number };
  /** The run's id: its control channels and keys are named after it. */
  runId: string;
  want: number;
  waitMs: number;
  coordinatorName: string;
  onPhase(text: string): void;
  onNotice(text: string): void;
}

export class AgentPool {
  readonly agents: Agent[] = [];
  /** The coordinator's own clock against the control server's. */
  clock!: ClockOffset;
  clockAfter?: ClockOffset;
  private readonly names: ReturnType<typeof runNames>;
  private timers: NodeJS.Timeout[] = [];
  private closed = false;

  private constructor(
    readonly runId: string,
    private readonly commands: Redis,
    private readonly listener: Redis,
    private readonly node: Redis,
  ) {
    this.names = runNames(runId);
  }

  /**
   * Calls agents until `want` have joined, or fails after `waitMs` naming who joined and who refused.
   * Everything opened is closed again on failure.
   */
  static async gather(o: GatherOptions, signal: AbortSignal): Promise<AgentPool> {
    const seed = { host: o.control.host, port: o.control.port };
    const commands = await openNode(o.control, seed, 'bench-control');
    const opened: Redis[] = [commands];
    try {
      const listener = await openNode(o.control, seed, 'bench-control');
      opened.push(listener);
      const node = o.controlNode ? await openNode(o.control, o.controlNode, 'bench-control') : commands;
      if (node !== commands) opened.push(node);
      const pool = new AgentPool(o.runId, commands, listener, node);
      try {
        await pool.call(o, signal);
      } catch (err) {
        // The agents that did join are let go, and the run's keys removed.
        await pool.close();
        throw err;
      }
      return pool;
    } catch (err) {
      opened.forEach((c) => c.disconnect());
      throw err;
    }
  }

  private async call(o: GatherOptions, signal: AbortSignal): Promise<void> {
    const refusals = new Map<string, string>();
    let wake: () => void = () => undefined;
    this.listener.on('pmessageBuffer', (_p: Buffer, _c: Buffer, message: Buffer) => {
      const raw = decodeControl(message);
      const m = raw ? readFromAgent(raw, this.runId) : undefined;
      if (!m) return;
      if (m.t === 'hello') this.onHello(m as unknown as HelloMessage, o);
      else if (m.t === 'refuse') {
        const name = String(m.name);
        if (!refusals.has(name) && refusals.size < MAX_REFUSALS) {
          o.onNotice(`agent ${name} refused: it runs ${String(m.why)}`);
          refusals.set(name, String(m.why));
        }
      } else this.onAgentMessage(m);
      wake();
    });
    await this.listener.psubscribe(COORDINATOR_CHANNEL);
    this.clock = await measureOffset(this.node);
    await this.refreshAlive();
    this.timers.push(setInterval(() => void this.refreshAlive().catch((err: unknown) => rethrowIfBug(err)), BEAT_MS));
    const control: ControlNode = o.controlNode ? { kind: 'node', ...o.controlNode } : { kind: 'own' };
    const call = encodeControl({ t: 'call', run: this.runId, version: PROTOCOL_VERSION, coordinator: o.coordinatorName, control });
    const deadline = Date.now() + o.waitMs;
    let lastCall = 0;
    const onAbort = () => wake();
    signal.addEventListener('abort', onAbort);
    try {
      while (this.agents.length < o.want) {
        if (signal.aborted) return;
        if (Date.now() > deadline) {
          const joined = this.agents.length > 0 ? ` (${this.agents.map((a) => a.name).join(', ')})` : '';
          const refused = refusals.size > 0 ? `; refused: ${[...refusals].slice(0, 5).map(([n, why]) => `${n} (${why})`).join(', ')}${refusals.size > 5 ? ` and ${refusals.size - 5} more` : ''}` : '';
          throw new ServerError(
            `only ${this.agents.length} of ${o.want} ${noun(o.want, 'agent')} joined within ${o.waitMs / 1000} s${joined}${refused}: start \`pubsub-mon agent\` on each load host, pointed at the same Redis (or the same --control-url); an agent busy with another run does not answer`,
          );
        }
        o.onPhase(`waiting for agents: ${this.agents.length} of ${o.want} joined${this.agents.length > 0 ? ` (${this.agents.map((a) => a.name).join(', ')})` : ''}`);
        // Once a second, whatever wakes the loop meanwhile (a hello, a beat).
        if (Date.now() - lastCall >= BEAT_MS) {
          lastCall = Date.now();
          await this.commands.publish(LOBBY_CHANNEL, call);
        }
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, Math.max(10, BEAT_MS - (Date.now() - lastCall)));
          wake = () => {
            clearTimeout(t);
            resolve();
          };
        });
      }
    } finally {
      signal.removeEventListener('abort', onAbort);
      wake = () => undefined;
    }
    this.timers.push(setInterval(() => this.checkSilence(), BEAT_MS));
  }

  private onHello(m: HelloMessage, o: GatherOptions): void {
    const name = m.name;
    // An agent of another version should have refused by itself: it is not taken.
    if (m.version !== PROTOCOL_VERSION) return;
    const namesake = this.agents.find((a) => a.name === name);
    if (namesake) {
      if (namesake.id !== m.id) this.send({ name, id: m.id }, { t: 'decline', why: `another agent named ${name} (${namesake.host}, pid ${namesake.pid}) has joined: give each agent its own --name` });
      return;
    }
    if (this.agents.length >= o.want) {
      this.send({ name, id: m.id }, { t: 'decline', why: `the coordinator has its ${o.want} ${noun(o.want, 'agent')}` });
      return;
    }
    const clock = fromWire(m.clock as WireOffset);
    const { shiftNs, boundNs } = shiftBetween(clock, this.clock);
    const agent: Agent = {
      name,
      id: m.id,
      index: this.agents.length,
      host: String(m.host),
      pid: Number(m.pid),
      threads: Math.min(MAX_AGENT_THREADS, Math.max(1, Math.floor(Number(m.threads)) || 1)),
      asProcesses: Number(m.processes) > 0,
      clock,
      shiftNs,
      boundNs,
      lastHeardMs: Date.now(),
      workers: [],
    };
    this.agents.push(agent);
    this.send(agent, { t: 'accept', index: agent.index });
  }

  private onAgentMessage(m: { t: string; name?: unknown; [k: string]: unknown }): void {
    const agent = this.agents.find((a) => a.name === m.name);
    if (!agent || agent.lost) return;
    agent.lastHeardMs = Date.now();
    if (m.t === 'worker') agent.workers[Number(m.w)]?.deliver(m.m as FromWorker);
    else if (m.t === 'clock') {
      agent.clockAfter = fromWire(m.clock as WireOffset);
      this.wakeClock?.();
    } else if (m.t === 'failed') {
      for (const w of agent.workers) w.deliver({ type: 'failed', message: String(m.message), kind: 'server' });
    }
  }

  private wakeClock: (() => void) | undefined;

  /**
   * An agent silent for AGENT_SILENCE_MS is lost; so is one whose workers did not load within
   * LOAD_WAIT_MS of its work, or one whose started worker has sent nothing for AGENT_SILENCE_MS
   * (it reports every second until done) while the agent itself still beats.
   */
  private checkSilence(): void {
    const now = Date.now();
    for (const a of this.agents) {
      if (a.lost) continue;
      const who = `agent ${a.name} (${a.host}, pid ${a.pid})`;
      let why: string | undefined;
      let since = a.lastHeardMs;
      if (now - a.lastHeardMs > AGENT_SILENCE_MS) why = `${who} stopped answering (silent for ${AGENT_SILENCE_MS / 1000} s)`;
      else if (a.assignedMs !== undefined && a.workers.some((w) => !w.loaded) && now - a.assignedMs > LOAD_WAIT_MS) {
        why = `${who} did not start its workers within ${LOAD_WAIT_MS / 1000} s of being given its work`;
        since = a.assignedMs;
      } else if (now - a.lastHeardMs <= BEAT_MS * 2.5) {
        // Only while the agent itself still beats. A killed agent's workers often fell silent a
        // moment before its last beat, so they would cross the limit first and name the wrong cause;
        // its own silence names it at most a few seconds later.
        const mute = a.workers.find((w) => w.startedMs !== undefined && !w.done && !w.failed && now - Math.max(w.startedMs, w.lastHeardMs) > AGENT_SILENCE_MS);
        if (mute) {
          why = `${who}: a worker of it sent nothing for ${AGENT_SILENCE_MS / 1000} s`;
          since = Math.max(mute.startedMs!, mute.lastHeardMs);
        }
      }
      if (!why) continue;
      a.lost = { atNs: hrNowNs() - (now - since) * 1e6, why };
      for (const w of a.workers) w.markGone(why, a.lost.atNs);
    }
  }

  private async refreshAlive(): Promise<void> {
    if (!this.closed) await this.node.set(this.names.alive, PROTOCOL_VERSION, 'PX', ALIVE_TTL_MS);
  }

  send(agent: Pick<Agent, 'name' | 'id'>, m: CoordinatorMessage): void {
    this.commands.publish(AGENTS_CHANNEL, encodeControl({ ...m, run: this.runId, to: agent.name, id: agent.id })).catch((err: unknown) => rethrowIfBug(err));
  }

  /** Leaves an agent its share in its work key, tells it to start its workers, and returns them. */
  async assign(agent: Agent, work: AgentWork): Promise<RemoteWorker[]> {
    await this.node.set(this.names.work(agent.name), v8.serialize(work), 'PX', WORK_TTL_MS);
    agent.workers = work.workers.map((_, i) => new RemoteWorker(this, agent, i));
    agent.assignedMs = Date.now();
    // Said again until its workers are loaded: a message lost on the way must not hang the run.
    this.send(agent, { t: 'work' });
    const repeat = setInterval(() => {
      if (agent.lost || this.closed || agent.workers.every((w) => w.loaded || w.failed)) clearInterval(repeat);
      else this.send(agent, { t: 'work' });
    }, REPEAT_MS);
    this.timers.push(repeat);
    return agent.workers;
  }

  /** Every live agent's clock, and the coordinator's, read again: how far they drifted over the run. */
  async measureAgain(timeoutMs: number): Promise<void> {
    const live = this.agents.filter((a) => !a.lost);
    live.forEach((a) => this.send(a, { t: 'clock' }));
    try {
      this.clockAfter = await measureOffset(this.node);
    } catch (err) {
      // The control server gone by now: the drift stays unknown, and the bounds as they were.
      rethrowIfBug(err);
      return;
    }
    const deadline = Date.now() + timeoutMs;
    while (live.some((a) => !a.clockAfter) && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 100);
        this.wakeClock = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Tells the agents the run is over, removes the run's keys, and closes the control connections. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.timers.forEach((t) => clearInterval(t));
    for (const a of this.agents) this.send(a, { t: 'end' });
    try {
      await this.node.del(this.names.alive, ...this.agents.map((a) => this.names.work(a.name)));
    } catch (err) {
      // The keys expire on their own (ALIVE_TTL_MS, WORK_TTL_MS).
      rethrowIfBug(err);
    }
    this.listener.disconnect();
    if (this.node !== this.commands) this.node.disconnect();
    // After the last 'end' is written.
    await this.commands.quit().catch(() => this.commands.disconnect());
  }
}
