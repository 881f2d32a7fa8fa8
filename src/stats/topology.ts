// The shape of a deployment (every node, replicas too, and who owns which slot), and the pure questions asked of it.
import { SLOT_COUNT } from './hash-slot.js';

/** Role of a node as the server reports it. */
export type NodeRole = 'primary' | 'replica';

/** One server in the deployment, as discovered (not yet queried). */
export interface TopologyNode {
  /** Cluster node id; for standalone deployments the address. */
  id: string;
  host: string;
  port: number;
  /** `host:port`, the way people and redis-cli write it. */
  address: string;
  role: NodeRole;
  /** For a replica: the id of its primary. */
  primaryId?: string;
  /** Slot ranges served by this node's shard (inclusive pairs); empty outside a cluster. */
  slots: Array<[number, number]>;
  /** Id of the shard's primary: every node of one shard shares it. */
  shardId: string;
}

/** Every node of a deployment, primaries and replicas. */
export interface Topology {
  mode: 'standalone' | 'cluster';
  nodes: TopologyNode[];
}

/** A topology as discovered from a live node, with what that node said about the rest. */
export interface DiscoveredTopology extends Topology {
  /** `redis_version` of the seed node. */
  version: string;
  /** Nodes the cluster itself reports as failed; they are still listed in `nodes`. */
  failedNodeIds: string[];
  /** What discovery could not find out (a primary or replica that could not be asked). */
  warnings: string[];
}

/** Major and minor of a version string like "7.0.15"; [0, 0] when unknown. */
function versionOf(version: string | undefined): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(version ?? '');
  return m ? [Number(m[1]), Number(m[2])] : [0, 0];
}

export function versionAtLeast(version: string | undefined, major: number, minor = 0): boolean {
  const [a, b] = versionOf(version);
  return a > major || (a === major && b >= minor);
}

/** A node of a standalone deployment: its address is its id, and its primary's address its shard. */
export function standaloneNode(host: string, port: number, role: NodeRole, primaryId?: string): TopologyNode {
  const address = `${host}:${port}`;
  return {
    id: address,
    host,
    port,
    address,
    role,
    slots: [],
    shardId: primaryId ?? address,
    ...(primaryId ? { primaryId } : {}),
  };
}

/** Slot -> the primary that serves it, for a cluster; an empty lookup for standalone. */
export function slotOwners(topology: Topology): (slot: number) => TopologyNode | undefined {
  const owners = new Array<TopologyNode | undefined>(SLOT_COUNT);
  for (const node of topology.nodes) {
    if (node.role !== 'primary') continue;
    for (const [start, end] of node.slots) for (let s = start; s <= end && s < SLOT_COUNT; s++) owners[s] = node;
  }
  return (slot) => owners[slot];
}

/** `host:port` order: hosts as text, ports as numbers (7002 before 7010), anything unparsable as text. */
export function compareAddress(a: string, b: string): number {
  const split = (s: string): [string, number] => {
    const colon = s.lastIndexOf(':');
    const port = colon < 0 ? '' : s.slice(colon + 1);
    return /^\d+$/.test(port) ? [s.slice(0, colon), Number(port)] : [s, -1];
  };
  const [hostA, portA] = split(a);
  const [hostB, portB] = split(b);
  if (hostA !== hostB) return hostA < hostB ? -1 : 1;
  return portA - portB;
}

/** The lowest slot a node serves; Infinity for none (standalone, or a primary left without slots). */
function lowestSlot(node: TopologyNode): number {
  return node.slots.reduce((low, [start]) => Math.min(low, start), Infinity);
}

/**
 * The nodes shard by shard, each primary followed by its replicas (by address): on a cluster the
 * shards go by their primary's lowest slot, so the order reads like the slot map and stays the same
 * between refreshes whatever order the server listed them in. Primaries without slots come after
 * those with, and replicas whose primary is not in the list come last.
 */
export function orderNodes<N extends TopologyNode>(nodes: readonly N[]): N[] {
  const primaries = nodes.filter((n) => n.role === 'primary');
  primaries.sort((a, b) => lowestSlot(a) - lowestSlot(b) || compareAddress(a.address, b.address));
  const replicasOf = new Map<string, N[]>();
  for (const n of nodes) {
    if (n.role !== 'replica') continue;
    const key = n.primaryId ?? n.shardId;
    const list = replicasOf.get(key) ?? [];
    list.push(n);
    replicasOf.set(key, list);
  }
  const byAddress = (a: N, b: N) => compareAddress(a.address, b.address);
  const ordered: N[] = [];
  for (const p of primaries) {
    ordered.push(p, ...(replicasOf.get(p.id) ?? []).sort(byAddress));
    replicasOf.delete(p.id);
  }
  ordered.push(...[...replicasOf.values()].flat().sort(byAddress));
  return ordered;
}
