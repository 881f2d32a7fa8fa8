// The clients view's model: every subscriber connection of a node, and the ways watch sorts and groups them.
import { isPubsubClient, type ClientInfo } from './client-list.js';
import type { OutputBufferLimit } from './output-buffer-limit.js';
import { isObserver } from './own-subscriptions.js';
import { clientIdentity, hostOf } from './reconnects.js';
import { compareAddress, type NodeRole } from './topology.js';

/** One subscriber connection; a number the server did not report stays undefined (never 0). */
export interface SubscriberClient {
  /** Address of the node the connection is on. */
  node: string;
  nodeRole: NodeRole;
  /** CLIENT LIST `id`: unique per node, and never reused until the server restarts. */
  id: string;
  addr: string;
  /** '' when unnamed. */
  name: string;
  /** CLIENT LIST `lib-name`/`lib-ver` (Redis 7.2+), when present and non-empty. */
  libName?: string;
  libVer?: string;
  sub?: number;
  psub?: number;
  /** Absent before Redis 7.0.3. */
  ssub?: number;
  /** Output buffer, bytes queued for the client. */
  omem?: number;
  /** The node's pubsub client-output-buffer-limit, when known. */
  limit?: OutputBufferLimit;
  /** Seconds since the connection was made, and since its last command. */
  age?: number;
  idle?: number;
  /** Reconnections of this client's identity (its name, or its host when unnamed) on this node within the last minute. */
  reconnects: number;
  flapping: boolean;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/**
 * The pub/sub connections of one node's CLIENT LIST, pubsub-mon's observers left out (its bench
 * load connections are real subscribers and stay). `reconnects` and `flapping` start at nothing:
 * a ReconnectTracker fills them in.
 */
export function subscriberClients(node: { address: string; role: NodeRole }, clients: readonly ClientInfo[], limit?: OutputBufferLimit): SubscriberClient[] {
  const out: SubscriberClient[] = [];
  for (const c of clients) {
    if (!isPubsubClient(c) || isObserver(c)) continue;
    const s: SubscriberClient = { node: node.address, nodeRole: node.role, id: c.id, addr: c.addr, name: c.name, reconnects: 0, flapping: false };
    const libName = nonEmpty(c.raw['lib-name']);
    const libVer = nonEmpty(c.raw['lib-ver']);
    if (libName !== undefined) s.libName = libName;
    if (libVer !== undefined) s.libVer = libVer;
    if (c.sub !== undefined) s.sub = c.sub;
    if (c.psub !== undefined) s.psub = c.psub;
    if (c.ssub !== undefined) s.ssub = c.ssub;
    if (c.omem !== undefined) s.omem = c.omem;
    if (limit) s.limit = limit;
    if (c.age !== undefined) s.age = c.age;
    if (c.idle !== undefined) s.idle = c.idle;
    out.push(s);
  }
  return out;
}

export type ClientGroupBy = 'name' | 'lib' | 'addr';
/** The groupings in the order the `g` key cycles through them. */
export const CLIENT_GROUP_BY: readonly ClientGroupBy[] = ['name', 'lib', 'addr'];

/** A field of which some member did not report its value: the group's total counts only those that did. */
export type ClientTotalField = 'sub' | 'psub' | 'ssub' | 'omem';

/** The connections that share a name, a library or a host. */
export interface ClientGroup {
  /** The name, `libName libVer`, or host; '' for unnamed clients, or an unknown library. */
  key: string;
  connections: number;
  /** Nodes the connections are spread over. */
  nodes: number;
  sub: number;
  psub: number;
  ssub: number;
  /** Output buffers added up, and the largest one. */
  omem: number;
  maxOmem: number;
  /** Flapping identities among the group's connections (a pool that keeps reconnecting counts once per node). */
  flapping: number;
  /** Totals that leave out members whose server did not report the field (ssub before 7.0.3): say so rather than show a number as complete. */
  incomplete: ClientTotalField[];
}

/** The library of a client as shown: `redis-py 5.0.1`, the name alone without a version, '' when unknown. */
export function libraryOf(c: Pick<SubscriberClient, 'libName' | 'libVer'>): string {
  if (c.libName === undefined) return '';
  return c.libVer === undefined ? c.libName : `${c.libName} ${c.libVer}`;
}

function groupKey(c: SubscriberClient, by: ClientGroupBy): string {
  if (by === 'name') return c.name;
  if (by === 'lib') return libraryOf(c);
  // A machine's connections: the port changes with every connection, the host does not.
  return hostOf(c.addr);
}

const TOTAL_FIELDS: readonly ClientTotalField[] = ['sub', 'psub', 'ssub', 'omem'];

/** Connections per name, library or host, with their subscription totals; the largest groups first, then by key. */
export function groupClients(clients: readonly SubscriberClient[], by: ClientGroupBy): ClientGroup[] {
  const groups = new Map<string, { group: ClientGroup; nodes: Set<string>; flapping: Set<string>; incomplete: Set<ClientTotalField> }>();
  for (const c of clients) {
    const key = groupKey(c, by);
    let entry = groups.get(key);
    if (!entry) {
      entry = { group: { key, connections: 0, nodes: 0, sub: 0, psub: 0, ssub: 0, omem: 0, maxOmem: 0, flapping: 0, incomplete: [] }, nodes: new Set(), flapping: new Set(), incomplete: new Set() };
      groups.set(key, entry);
    }
    const g = entry.group;
    g.connections++;
    entry.nodes.add(c.node);
    if (c.flapping) entry.flapping.add(clientIdentity(c));
    for (const field of TOTAL_FIELDS) {
      const value = c[field];
      if (value === undefined) entry.incomplete.add(field);
      else g[field] += value;
    }
    g.maxOmem = Math.max(g.maxOmem, c.omem ?? 0);
  }
  const out = [...groups.values()].map(({ group, nodes, flapping, incomplete }) => ({
    ...group,
    nodes: nodes.size,
    flapping: flapping.size,
    incomplete: TOTAL_FIELDS.filter((f) => incomplete.has(f)),
  }));
  return out.sort((a, b) => b.connections - a.connections || compareText(a.key, b.key));
}

export const CLIENT_SORT_KEYS = ['omem', 'name', 'age', 'idle', 'subscriptions'] as const;
export type ClientSortKey = (typeof CLIENT_SORT_KEYS)[number];

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Larger first; unknown after every known value. */
function descending(a: number | undefined, b: number | undefined): number {
  if (a === undefined || b === undefined) return Number(a === undefined) - Number(b === undefined);
  return b - a;
}

function subscriptions(c: SubscriberClient): number | undefined {
  if (c.sub === undefined && c.psub === undefined && c.ssub === undefined) return undefined;
  return (c.sub ?? 0) + (c.psub ?? 0) + (c.ssub ?? 0);
}

const PRIMARY_ORDER: Readonly<Record<ClientSortKey, (a: SubscriberClient, b: SubscriberClient) => number>> = {
  // The slow subscriber on top: its buffer is what gets it disconnected.
  omem: (a, b) => descending(a.omem, b.omem),
  // Unnamed clients after the named ones.
  name: (a, b) => Number(a.name === '') - Number(b.name === '') || compareText(a.name, b.name),
  // Youngest first: a connection that was just made (or made again) is the one to look at.
  age: (a, b) => descending(a.age === undefined ? undefined : -a.age, b.age === undefined ? undefined : -b.age),
  idle: (a, b) => descending(a.idle, b.idle),
  subscriptions: (a, b) => descending(subscriptions(a), subscriptions(b)),
};

/**
 * The connections in `key` order; ties go by node (in `nodeOrder` when given, e.g. the snapshot's
 * node rows, else by address), then by client address, then id, so rows keep their place between
 * refreshes.
 */
export function sortClients(clients: readonly SubscriberClient[], key: ClientSortKey, nodeOrder?: readonly string[]): SubscriberClient[] {
  const rank = new Map(nodeOrder?.map((address, i) => [address, i]));
  const nodeRank = (c: SubscriberClient) => rank.get(c.node) ?? Infinity;
  const byNode = (a: SubscriberClient, b: SubscriberClient) => {
    const ra = nodeRank(a);
    const rb = nodeRank(b);
    return ra !== rb ? (ra < rb ? -1 : 1) : compareAddress(a.node, b.node);
  };
  const byId = (a: SubscriberClient, b: SubscriberClient) => Number(a.id) - Number(b.id) || compareText(a.id, b.id);
  const primary = PRIMARY_ORDER[key];
  return [...clients].sort((a, b) => primary(a, b) || byNode(a, b) || compareAddress(a.addr, b.addr) || byId(a, b));
}
