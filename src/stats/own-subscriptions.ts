// pubsub-mon's own connections and subscriptions: how they are named and what is subtracted for them.
import type { ClientInfo } from './client-list.js';

/** Prefix of every connection name pubsub-mon sets, so its own clients can be told apart. */
export const CLIENT_NAME_PREFIX = 'pubsub-mon:';

/** The connection name for one role: `pubsub-mon:<role>`. */
export function clientName(role: string): string {
  return `${CLIENT_NAME_PREFIX}${role}`;
}

/** True for a connection that pubsub-mon (any process of it) opened. */
export function isOwnClient(c: ClientInfo): boolean {
  return c.name.startsWith(CLIENT_NAME_PREFIX);
}

/** The sampler's pattern: matches every channel like `*` but is its own NUMPAT entry, so it can be subtracted exactly. */
export const SAMPLER_PATTERN = '**';
/** Role of the connection that holds the sampler's pattern. */
export const SAMPLER_ROLE = 'rates';
/** Role of the connections that hold the sampler's shard subscriptions. */
export const SHARD_SAMPLER_ROLE = 'rates-shard';

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

/** Whether this process holds `channel` on node `nodeId`. */
export function ownHas(map: ReadonlyMap<string, ReadonlySet<string>>, nodeId: string, channel: string): boolean {
  return map.get(nodeId)?.has(channel) ?? false;
}
