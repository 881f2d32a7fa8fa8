// Folds per-node PUBSUB answers into deployment-wide rows: sums over the right nodes, minus pubsub-mon's own.
import type { ChannelRow, ClientInfo, NodeRow, Topology, TopologyNode } from './types.js';
import type { NodeReading } from './node-reading.js';
import { keyHashSlot, SLOT_COUNT } from './slot.js';
import { infoNumber } from './info.js';
import { CLIENT_NAME_PREFIX } from './connect.js';

/** The sampler's pattern: matches every channel like `*` but is its own NUMPAT entry, so it can be subtracted exactly. */
export const SAMPLER_PATTERN = '**';
export const SAMPLER_ROLE = 'rates';

/** What this process itself subscribes to, per node id, so it can be taken out of the counts. */
export interface OwnSubscriptions {
  patternNodes: ReadonlySet<string>;
  shardChannels: ReadonlyMap<string, ReadonlySet<string>>;
  channels: ReadonlyMap<string, ReadonlySet<string>>;
  /** Connections this process holds per node id (all kinds), and how many of them are pub/sub. */
  connections: ReadonlyMap<string, { total: number; pubsub: number }>;
}

export const NO_OWN_SUBSCRIPTIONS: OwnSubscriptions = {
  patternNodes: new Set(),
  shardChannels: new Map(),
  channels: new Map(),
  connections: new Map(),
};

/** Slot -> the primary that serves it, for a cluster; an empty lookup for standalone. */
export function slotOwners(topology: Topology): (slot: number) => TopologyNode | undefined {
  const owners = new Array<TopologyNode | undefined>(SLOT_COUNT);
  for (const node of topology.nodes) {
    if (node.role !== 'primary') continue;
    for (const [start, end] of node.slots) for (let s = start; s <= end && s < SLOT_COUNT; s++) owners[s] = node;
  }
  return (slot) => owners[slot];
}

function ownHas(map: ReadonlyMap<string, ReadonlySet<string>>, nodeId: string, channel: string): boolean {
  return map.get(nodeId)?.has(channel) ?? false;
}

const isOwnClient = (c: ClientInfo) => c.name.startsWith(CLIENT_NAME_PREFIX);

/**
 * Classic channels: NUMSUB summed over every node read (PUBLISH reaches all of them, replicas too).
 * Shard channels: SHARDNUMSUB summed over the nodes of the shard that owns the channel's slot (on a
 * cluster) or over every node (standalone, where SPUBLISH replicates). Rows left with no subscriber
 * but pubsub-mon's own are dropped.
 */
export function mergeChannels(topology: Topology, readings: ReadonlyMap<string, NodeReading>, own: OwnSubscriptions = NO_OWN_SUBSCRIPTIONS): ChannelRow[] {
  const classic = new Map<string, number>();
  const shard = new Map<string, ChannelRow>();
  const ownerOf = topology.mode === 'cluster' ? slotOwners(topology) : undefined;
  for (const node of topology.nodes) {
    const reading = readings.get(node.id);
    if (!reading) continue;
    for (const [name, count] of reading.channels) {
      const n = count - (ownHas(own.channels, node.id, name) ? 1 : 0);
      classic.set(name, (classic.get(name) ?? 0) + Math.max(0, n));
    }
    for (const [name, count] of reading.shardChannels ?? []) {
      let row = shard.get(name);
      if (!row) {
        row = { name, kind: 'shard', subscribers: 0 };
        if (ownerOf) {
          row.slot = keyHashSlot(name);
          const owner = ownerOf(row.slot);
          if (owner) row.shard = owner.address;
        }
        shard.set(name, row);
      }
      // After a slot moves, the old owner may still list the channel for a moment: it no longer delivers.
      if (ownerOf) {
        const owner = ownerOf(row.slot!);
        if (owner && owner.id !== node.shardId) continue;
      }
      row.subscribers += Math.max(0, count - (ownHas(own.shardChannels, node.id, name) ? 1 : 0));
    }
  }
  const rows: ChannelRow[] = [];
  for (const [name, subscribers] of classic) if (subscribers > 0) rows.push({ name, kind: 'channel', subscribers });
  for (const row of shard.values()) if (row.subscribers > 0) rows.push(row);
  return rows;
}

/** NUMPAT without the sampler's own pattern (held by this process, or by another pubsub-mon watch). */
export function adjustedNumpat(node: TopologyNode, reading: NodeReading, own: OwnSubscriptions): number {
  const samplerHere =
    own.patternNodes.has(node.id) ||
    (reading.clients ?? []).some((c) => c.name === CLIENT_NAME_PREFIX + SAMPLER_ROLE && (c.psub ?? 0) > 0);
  return Math.max(0, reading.numpat - (samplerHere ? 1 : 0));
}

export interface NodeCounters {
  publishPerSec?: number;
  obufDisconnections?: number;
}

/** One node's row for the health table; every field the server did not give stays undefined. */
export function buildNodeRow(
  node: TopologyNode,
  mode: Topology['mode'],
  reading: NodeReading | undefined,
  error: string | undefined,
  own: OwnSubscriptions,
  counters: NodeCounters,
): NodeRow {
  const row: NodeRow = { address: node.address, role: node.role, up: reading !== undefined };
  if (!reading) {
    row.error = error ?? 'not reachable';
    return row;
  }
  const info = reading.info ?? {};
  const mine = own.connections.get(node.id) ?? { total: 0, pubsub: 0 };
  const version = info.valkey_version ? `valkey ${info.valkey_version}` : info.redis_version;
  if (version) row.version = version;
  const clients = infoNumber(info, 'connected_clients');
  if (clients !== undefined) row.clients = Math.max(0, clients - mine.total);
  if (reading.clients) {
    const others = reading.clients.filter((c) => !isOwnClient(c));
    // A user without CLIENT SETNAME rights leaves our connections unnamed: take them out by number.
    const namedOwn = reading.clients.length - others.length;
    const unnamedOwn = namedOwn === 0 ? mine.pubsub : 0;
    row.pubsubClients = Math.max(0, others.length - unnamedOwn);
    row.maxSubscriberOmem = others.reduce((max, c) => Math.max(max, c.omem ?? 0), 0);
  } else {
    const total = infoNumber(info, 'pubsub_clients');
    if (total !== undefined) row.pubsubClients = Math.max(0, total - mine.pubsub);
  }
  row.numpat = adjustedNumpat(node, reading, own);
  const ops = infoNumber(info, 'instantaneous_ops_per_sec');
  if (ops !== undefined) row.opsPerSec = ops;
  if (counters.publishPerSec !== undefined) row.publishPerSec = counters.publishPerSec;
  if (mode === 'standalone' && node.role === 'replica') row.publishReplicated = true;
  if (reading.pubsubLimit) row.pubsubLimit = reading.pubsubLimit;
  if (counters.obufDisconnections !== undefined) row.obufDisconnections = counters.obufDisconnections;
  return row;
}

/**
 * Publishes per second over the deployment, each counted once: on a cluster every node counts only
 * what its own clients sent; standalone replicas re-count their primary's, so they are left out.
 * A node that is down takes no publishes; undefined while any node that is up has no rate yet.
 */
export function totalPublishRate(rows: NodeRow[], mode: Topology['mode']): number | undefined {
  let sum = 0;
  for (const row of rows) {
    if (!row.up || (mode === 'standalone' && row.role === 'replica')) continue;
    if (row.publishPerSec === undefined) return undefined;
    sum += row.publishPerSec;
  }
  return sum;
}
