// How a bench coordinator and its agents talk through Redis: the control channels and keys (all under
// pubsub-mon:ctl:), the messages on them, and their encoding.
//
// The coordinator calls on the lobby channel; idle agents answer on the run's coordinator channel;
// the coordinator accepts the first N on each agent's own channel, leaves each one's work in a key
// and keeps a liveness key fresh; agents beat once a second. Both ends hear their channels through
// PSUBSCRIBE of the exact name: like every pubsub-mon observer, they never add to what NUMSUB
// counts (stats/own-subscriptions.ts). The first two messages, call and hello, are JSON, so that a
// pubsub-mon of another version can still read them and refuse; the rest are V8's serialization.
import { createRequire } from 'node:module';
import v8 from 'node:v8';
import type { ClockOffset } from './clock-offset.js';
import type { FromWorker, SubscriberOptions, ToWorker } from './worker-protocol.js';
import type { BenchChannel, WorkerPlan } from './plan.js';

/** The version agents and coordinators must share: the package's own. */
export const PROTOCOL_VERSION: string = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

export const CONTROL_PREFIX = 'pubsub-mon:ctl:';
export const LOBBY_CHANNEL = `${CONTROL_PREFIX}lobby`;

/** Agent names go into channel and key names: kept to characters that are neither glob nor space. */
export const AGENT_NAME = /^[A-Za-z0-9._@-]{1,64}$/;

/**
 * Where agents talk to coordinators, and coordinators to agents: one channel each way for every run,
 * each message naming its run (and, to an agent, the agent), so that an ACL can grant them by name.
 * A PSUBSCRIBE is allowed only by a channel rule equal to its pattern (or `&*`): names made per run
 * could not be granted.
 */
export const COORDINATOR_CHANNEL = `${CONTROL_PREFIX}coordinator`;
export const AGENTS_CHANNEL = `${CONTROL_PREFIX}agents`;

/**
 * Key names of one run. The braces make every key of the run hash to one slot, so that on a cluster
 * they all live on one node: the control node, whose clock everybody reads too.
 */
export function runNames(runId: string) {
  const base = `${CONTROL_PREFIX}{${runId}}`;
  return {
    /** One agent's work (short-lived key). */
    work: (name: string) => `${base}:work:${name}`,
    /** Exists while the coordinator lives (short-lived key, refreshed). */
    alive: `${base}:alive`,
    /** The key whose slot picks the control node on a cluster. */
    slotKey: `{${runId}}`,
  };
}

/** How long keys of a run live unless refreshed or removed: the coordinator refreshes `alive` every BEAT_MS. */
export const WORK_TTL_MS = 10 * 60_000;
export const ALIVE_TTL_MS = 5000;
/** Agents and the coordinator beat this often; silence for AGENT_SILENCE_MS means gone. */
export const BEAT_MS = 1000;
export const AGENT_SILENCE_MS = 5000;

/** A clock offset as it travels (its BigInt as a decimal string). */
export interface WireOffset {
  offsetNs: string;
  boundNs: number;
  rttNs: number;
}

export function toWire(o: ClockOffset): WireOffset {
  return { offsetNs: o.offsetNs.toString(), boundNs: o.boundNs, rttNs: o.rttNs };
}

export function fromWire(o: WireOffset): ClockOffset {
  return { offsetNs: BigInt(o.offsetNs), boundNs: o.boundNs, rttNs: o.rttNs };
}

/** Where agents find the control node: their own connection (standalone, --control-url) or a cluster node's address. */
export type ControlNode = { kind: 'own' } | { kind: 'node'; host: string; port: number };

/** On the lobby (JSON). */
export interface CallMessage {
  t: 'call';
  run: string;
  version: string;
  coordinator: string;
  control: ControlNode;
}

/** Agent to coordinator, JSON: joining, or refusing (another version). */
export interface HelloMessage {
  t: 'hello';
  run: string;
  name: string;
  /** This agent process, among agents that may share its name: what the coordinator addresses. */
  id: string;
  version: string;
  host: string;
  pid: number;
  threads: number;
  processes: number;
  clock: WireOffset;
}
export interface RefuseMessage {
  t: 'refuse';
  run: string;
  name: string;
  version: string;
  why: string;
}

/** One agent's share of the run, left in its work key. */
export interface AgentWork {
  workers: WorkerPlan[];
  channels: BenchChannel[];
  groups: number;
  publisherCount: number;
  subscriber: SubscriberOptions;
  asProcesses: boolean;
  /** What the agent adds to its clock to read the coordinator's. */
  clockShiftNs: number;
  /**
   * Standalone: the server's address as the coordinator reached it, which the agent swaps for its
   * own, and that server's run_id, which the agent's must equal (the same server, not another).
   */
  seed?: { host: string; port: number; runId?: string };
}

/** Agent to coordinator after hello (V8), each naming its run. */
export type AgentMessage = { run: string; name: string } & (
  | { t: 'worker'; w: number; m: FromWorker }
  | { t: 'beat' }
  | { t: 'clock'; clock: WireOffset }
  | { t: 'failed'; message: string }
);

/** Coordinator to one agent (the run and the agent named with it: `Addressed`). accept and decline are JSON; the rest V8. */
export type CoordinatorMessage =
  | { t: 'accept'; index: number }
  | { t: 'decline'; why: string }
  | { t: 'work' }
  | { t: 'to'; w: number; m: ToWorker }
  | { t: 'clock' }
  | { t: 'end' };

/** A coordinator's message as it travels on AGENTS_CHANNEL: to one agent (its name and its instance id). */
export type Addressed = CoordinatorMessage & { run: string; to: string; id: string };

const JSON_TYPES: ReadonlySet<string> = new Set(['call', 'hello', 'refuse', 'accept', 'decline']);

export function encodeControl(m: CallMessage | HelloMessage | RefuseMessage | AgentMessage | Addressed): Buffer {
  return JSON_TYPES.has(m.t) ? Buffer.from(JSON.stringify(m)) : v8.serialize(m);
}

/**
 * A control message, or undefined for anything that is not one (someone else publishing on the
 * channel, a message of another version that does not parse). Never throws on input from the wire.
 */
export function decodeControl(buf: Buffer): { t: string; [k: string]: unknown } | undefined {
  try {
    const m: unknown = buf[0] === 0x7b ? JSON.parse(buf.toString('utf8')) : v8.deserialize(buf);
    return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string' ? (m as { t: string }) : undefined;
  } catch {
    return undefined;
  }
}

// What arrives on the control channels is anybody's who may publish there: every message is checked
// for the shape its handler relies on before it is acted on. Nothing here throws.

type Fields = { t: string; [k: string]: unknown };

const RUN_ID = /^[0-9a-f]{1,32}$/;
const isText = (v: unknown, max: number): v is string => typeof v === 'string' && v.length <= max;
const isIndex = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 100_000;
const isPort = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v > 0 && v < 65536;

/** A call as an agent can act on it: a run id bench makes, texts of sane length, a control node that is an address. */
export function readCall(m: Fields): CallMessage | undefined {
  if (m.t !== 'call' || !isText(m.run, 32) || !RUN_ID.test(m.run) || !isText(m.version, 64) || !isText(m.coordinator, 200)) return undefined;
  const c = m.control as { kind?: unknown; host?: unknown; port?: unknown } | null | undefined;
  if (typeof c !== 'object' || c === null) return undefined;
  if (c.kind === 'own') return { t: 'call', run: m.run, version: m.version, coordinator: m.coordinator, control: { kind: 'own' } };
  if (c.kind === 'node' && isText(c.host, 255) && c.host !== '' && isPort(c.port)) {
    return { t: 'call', run: m.run, version: m.version, coordinator: m.coordinator, control: { kind: 'node', host: c.host, port: c.port } };
  }
  return undefined;
}

/** A worker message as it is passed on: an index, and a message object with a type. */
function isWorkerMessage(m: Fields): boolean {
  const inner = m.m as { type?: unknown } | null | undefined;
  return isIndex(m.w) && typeof inner === 'object' && inner !== null && typeof inner.type === 'string';
}

/** A coordinator's message to one agent instance, checked for what each kind carries. */
export function readAddressed(m: Fields, run: string, name: string, id: string): Fields | undefined {
  if (m.run !== run || m.to !== name || m.id !== id) return undefined;
  switch (m.t) {
    case 'accept':
      return isIndex(m.index) ? m : undefined;
    case 'decline':
      return isText(m.why, 500) ? m : undefined;
    case 'to':
      return isWorkerMessage(m) ? m : undefined;
    case 'work':
    case 'clock':
    case 'end':
      return m;
    default:
      return undefined;
  }
}

/** An agent's message to the coordinator of `run`, checked for what each kind carries. */
export function readFromAgent(m: Fields, run: string): Fields | undefined {
  if (m.run !== run || !isText(m.name, 64) || !AGENT_NAME.test(m.name)) return undefined;
  switch (m.t) {
    case 'hello':
      return isText(m.version, 64) && isText(m.id, 64) && isWireOffset(m.clock) ? m : undefined;
    case 'refuse':
      return isText(m.version, 64) && isText(m.why, 500) ? m : undefined;
    case 'worker':
      return isWorkerMessage(m) ? m : undefined;
    case 'clock':
      return isWireOffset(m.clock) ? m : undefined;
    case 'failed':
      return isText(m.message, 2000) ? m : undefined;
    case 'beat':
      return m;
    default:
      return undefined;
  }
}

function isWireOffset(v: unknown): v is WireOffset {
  const c = v as Partial<WireOffset> | null | undefined;
  return typeof c === 'object' && c !== null && typeof c.offsetNs === 'string' && /^-?\d{1,30}$/.test(c.offsetNs) && Number.isFinite(c.boundNs) && Number.isFinite(c.rttNs);
}
