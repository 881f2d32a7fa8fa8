// What one refresh of watch (and check, and later the exporter) shows, and the pure fold that builds it from per-node readings.
import type { Topology, TopologyNode } from './topology.js';
import { slotOwners } from './topology.js';
import { hashSlot } from './hash-slot.js';
import type { ClientInfo } from './client-list.js';
import type { OutputBufferLimit } from './output-buffer-limit.js';
import { commandCalls, infoNumber, parseCommandStats } from './info.js';
import { isObserver, ownChannelKind, NO_OWN_SUBSCRIPTIONS, observerShardCounts, type OwnSubscriptions } from './own-subscriptions.js';
import { isPubsubClient } from './client-list.js';
import type { SubscriberClient } from './subscriber-clients.js';
import type { PayloadSizes } from './payload-sizes.js';

/** What one node answered in one round of reads; built by redis/node-reading.ts. */
export interface NodeReading {
  /** Classic channel -> PUBSUB NUMSUB on this node. */
  channels: Map<string, number>;
  /** Shard channel -> PUBSUB SHARDNUMSUB on this node; undefined when not asked or not supported. */
  shardChannels?: Map<string, number>;
  numpat: number;
  info?: Record<string, string>;
  /** CLIENT LIST (every client when `clientsAll`, else TYPE pubsub); undefined with `clientsError` when the server refused it. */
  clients?: ClientInfo[];
  /** `clients` lists every connection, not only pub/sub ones. */
  clientsAll?: boolean;
  clientsError?: string;
  pubsubLimit?: OutputBufferLimit;
  limitsError?: string;
}

/** A channel row as `watch` and `check` see it, already summed over nodes. */
export interface ChannelRow {
  name: string;
  kind: 'channel' | 'shard';
  /** Subscribers summed over the right nodes, minus pubsub-mon's own. */
  subscribers: number;
  /** Shard channels only: the hash slot and the address of the owning primary. */
  slot?: number;
  shard?: string;
  /** Messages per second seen by the sampler; undefined when rates are off or not yet known. */
  rate?: number;
  /** Messages the sampler heard over the window `rate` covers (set with it): what a counter adds up. */
  messages?: number;
  /** The length of that window in ms (set with `rate`): the time the channel's sampling subscription was held. */
  sampledMs?: number;
  /** The sizes of those messages, when the monitor keeps them (a recording). */
  payloadSizes?: PayloadSizes;
  /**
   * A channel of pubsub-mon's own: a bench run's (its subscribers are real, and marked as pubsub-mon's),
   * or the control channel of bench's agents (heard through patterns: no subscriber counted).
   */
  pubsubMon?: 'bench' | 'control';
  /** How the channel fares against the contract watch was given; absent for channels the contract does not cover. */
  contract?: { status: 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN'; reason: string };
}

/** One node's health, as shown in the node table. `undefined` means the server does not report it. */
export interface NodeRow {
  address: string;
  role: TopologyNode['role'];
  up: boolean;
  /** Why the node is down or could not be read. */
  error?: string;
  /** The cluster marked it failed and a replica took over its slots: it is named, not counted, and makes nothing unknown. */
  replaced?: boolean;
  /** Cluster only: the address of the primary of the node's shard (its own for a primary), what shard channels' `shard` names. */
  shard?: string;
  version?: string;
  clients?: number;
  /** Pub/sub clients, minus pubsub-mon's own connections. */
  pubsubClients?: number;
  /** Pattern subscriptions of clients other than pubsub-mon's (psub from CLIENT LIST), or NUMPAT less this process's own when CLIENT LIST was refused. */
  numpat?: number;
  /** `numpat` came from NUMPAT: other pubsub-mon processes' patterns may be in it. */
  numpatEstimated?: boolean;
  opsPerSec?: number;
  /** Calls of PUBLISH plus SPUBLISH per second on this node, from commandstats deltas. */
  publishPerSec?: number;
  /** True where the node's publish count repeats what its primary counted (standalone replicas). */
  publishReplicated?: boolean;
  /** Largest `omem` among pub/sub clients other than pubsub-mon's. */
  maxSubscriberOmem?: number;
  pubsubLimit?: OutputBufferLimit;
  /** Output-buffer disconnections since pubsub-mon started (Redis 7.4+). */
  obufDisconnections?: number;
  /** The server's own counters, as it reports them (they restart with the server or CONFIG RESETSTAT). */
  serverCounters?: {
    /** PUBLISH plus SPUBLISH calls (INFO commandstats). */
    publishCalls: number;
    /** client_output_buffer_limit_disconnections (Redis 7.4+, Valkey 8+). */
    obufDisconnections?: number;
  };
}

/** Everything one refresh of `watch` shows. */
export interface Snapshot {
  /** Milliseconds since the epoch when the snapshot was taken. */
  time: number;
  mode: 'standalone' | 'cluster';
  channels: ChannelRow[];
  nodes: NodeRow[];
  /** PUBLISH+SPUBLISH per second over the deployment, each publish counted once. */
  publishPerSec?: number;
  /** True when any node has pattern subscriptions (so NUMSUB 0 does not mean nobody hears). */
  patternsPresent: boolean;
  /** Nodes down, fields unknown, and other things the reader must know. */
  warnings: string[];
  /**
   * Every subscriber connection of every node that gave its CLIENT LIST, replicas too, pubsub-mon's
   * observers left out; largest output buffer first (sortClients 'omem' in node-row order).
   */
  clients: SubscriberClient[];
  /** Nodes that are up but whose CLIENT LIST was refused or not read: `clients` leaves theirs out, so it is incomplete. */
  clientsUnknown: string[];
  /** Subscriber identities (a name, or a host when unnamed, on one node) that keep reconnecting. */
  flapping: number;
}

/** The key of a channel in maps and sets that hold both kinds (a classic and a shard channel may share a name). */
export function channelKey(c: { name: string; kind: 'channel' | 'shard' }): string {
  return `${c.kind}\u0000${c.name}`;
}

const KEYSPACE = /^__key(space|event)@/;

/** Keyspace-notification channels (`__keyspace@N__:*`, `__keyevent@N__:*`), left out unless asked for. */
export function isKeyspaceChannel(name: string): boolean {
  return KEYSPACE.test(name);
}

/**
 * Classic channels: NUMSUB summed over every node read (PUBLISH reaches all of them, replicas too);
 * pubsub-mon's observers never SUBSCRIBE, so nothing is taken off. Shard channels: SHARDNUMSUB
 * summed over the nodes of the shard that owns the channel's slot (on a cluster) or over every node
 * (standalone, where SPUBLISH replicates), less the observer connections each node's CLIENT LIST
 * names as holding it, from whichever pubsub-mon process (this one's alone when CLIENT LIST was
 * refused). Rows left with no subscriber are dropped.
 */
export function mergeChannels(topology: Topology, readings: ReadonlyMap<string, NodeReading>, own: OwnSubscriptions = NO_OWN_SUBSCRIPTIONS): ChannelRow[] {
  const classic = new Map<string, number>();
  const shard = new Map<string, ChannelRow>();
  const ownerOf = topology.mode === 'cluster' ? slotOwners(topology) : undefined;
  for (const node of topology.nodes) {
    const reading = readings.get(node.id);
    if (!reading) continue;
    for (const [name, count] of reading.channels) classic.set(name, (classic.get(name) ?? 0) + count);
    const observers = reading.clients ? observerShardCounts(reading.clients).counts : undefined;
    const observed = (name: string) => (observers ? (observers.get(name) ?? 0) : own.shardChannels.get(node.id)?.has(name) ? 1 : 0);
    for (const [name, count] of reading.shardChannels ?? []) {
      let row = shard.get(name);
      if (!row) {
        row = { name, kind: 'shard', subscribers: 0 };
        if (ownerOf) {
          row.slot = hashSlot(name);
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
      row.subscribers += Math.max(0, count - observed(name));
    }
  }
  const rows: ChannelRow[] = [];
  for (const [name, subscribers] of classic) if (subscribers > 0) rows.push({ name, kind: 'channel', subscribers });
  for (const row of shard.values()) if (row.subscribers > 0) rows.push(row);
  for (const row of rows) {
    const own = ownChannelKind(row.name);
    if (own) row.pubsubMon = own;
  }
  return rows;
}

/** What a snapshot must say about how pubsub-mon's own subscriptions were told apart on each node. */
export function attributionWarnings(topology: Topology, readings: ReadonlyMap<string, NodeReading>): string[] {
  const warnings: string[] = [];
  for (const node of topology.nodes) {
    const reading = readings.get(node.id);
    if (!reading?.clients) continue;
    const { uncertain } = observerShardCounts(reading.clients);
    if (uncertain.size > 0) warnings.push(`${node.address}: a pubsub-mon connection lost some of its shard subscriptions; counts of ${[...uncertain].slice(0, 3).join(', ')}${uncertain.size > 3 ? ', ...' : ''} may include it until it is replaced`);
  }
  return warnings;
}

/**
 * Pattern subscriptions of everyone but pubsub-mon's observers on one node: the sum of `psub` in
 * CLIENT LIST. Without CLIENT LIST only NUMPAT is left, less this process's own patterns (unique
 * patterns since Redis 6.2, so the figure is an estimate either way).
 */
export function otherPatterns(node: TopologyNode, reading: NodeReading, own: OwnSubscriptions): { count: number; estimated: boolean } {
  if (reading.clients) {
    const count = reading.clients.filter((c) => !isObserver(c)).reduce((sum, c) => sum + (c.psub ?? 0), 0);
    return { count, estimated: false };
  }
  return { count: Math.max(0, reading.numpat - (own.patterns.get(node.id) ?? 0)), estimated: true };
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
  const connected = infoNumber(info, 'connected_clients');
  if (reading.clients) {
    const observers = reading.clients.filter(isObserver).length;
    // A user without CLIENT SETNAME rights leaves our connections unnamed: take this process's out by number.
    const unnamed = observers === 0 ? mine : { total: 0, pubsub: 0 };
    const subscribers = reading.clients.filter((c) => !isObserver(c) && isPubsubClient(c));
    row.pubsubClients = Math.max(0, subscribers.length - unnamed.pubsub);
    row.maxSubscriberOmem = subscribers.reduce((max, c) => Math.max(max, c.omem ?? 0), 0);
    if (reading.clientsAll) row.clients = Math.max(0, reading.clients.length - observers - unnamed.total);
    else if (connected !== undefined) row.clients = Math.max(0, connected - observers - unnamed.total);
  } else {
    if (connected !== undefined) row.clients = Math.max(0, connected - mine.total);
    const total = infoNumber(info, 'pubsub_clients');
    if (total !== undefined) row.pubsubClients = Math.max(0, total - mine.pubsub);
  }
  const patterns = otherPatterns(node, reading, own);
  row.numpat = patterns.count;
  if (patterns.estimated) row.numpatEstimated = true;
  const ops = infoNumber(info, 'instantaneous_ops_per_sec');
  if (ops !== undefined) row.opsPerSec = ops;
  if (counters.publishPerSec !== undefined) row.publishPerSec = counters.publishPerSec;
  if (mode === 'standalone' && node.role === 'replica') row.publishReplicated = true;
  if (reading.pubsubLimit) row.pubsubLimit = reading.pubsubLimit;
  if (counters.obufDisconnections !== undefined) row.obufDisconnections = counters.obufDisconnections;
  if (reading.info) {
    const stats = parseCommandStats(info);
    const disconnections = infoNumber(info, 'client_output_buffer_limit_disconnections');
    row.serverCounters = {
      publishCalls: commandCalls(stats, 'publish') + commandCalls(stats, 'spublish'),
      ...(disconnections !== undefined ? { obufDisconnections: disconnections } : {}),
    };
  }
  return row;
}

/**
 * Rows for channels that must be shown whether or not anyone subscribes (a contract's): each one
 * the merge did not produce is added with 0 subscribers, placed on its shard like merged rows.
 */
export function withDeclaredChannels(rows: ChannelRow[], declared: ReadonlyArray<{ name: string; kind: 'channel' | 'shard' }>, topology: Topology): ChannelRow[] {
  if (declared.length === 0) return rows;
  const present = new Set(rows.map(channelKey));
  const ownerOf = topology.mode === 'cluster' ? slotOwners(topology) : undefined;
  const out = [...rows];
  for (const { name, kind } of declared) {
    const key = channelKey({ name, kind });
    if (present.has(key)) continue;
    present.add(key);
    const row: ChannelRow = { name, kind, subscribers: 0 };
    if (kind === 'shard' && ownerOf) {
      row.slot = hashSlot(name);
      const owner = ownerOf(row.slot);
      if (owner) row.shard = owner.address;
    }
    const own = ownChannelKind(name);
    if (own) row.pubsubMon = own;
    out.push(row);
  }
  return out;
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
