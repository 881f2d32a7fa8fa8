// pubsub-mon's own connections, from any of its processes: how they are named, and what is taken out of the counts for them.
//
// The design that keeps every count exact while any number of pubsub-mon processes run:
// - An observer (watch, check, tail, the exporter) never SUBSCRIBEs a classic channel: it hears
//   classic channels through patterns, which NUMSUB never counts. "Pattern subscriptions exist"
//   counts `psub` of connections that are not observers, from CLIENT LIST.
// - A shard subscription can only be made with SSUBSCRIBE, which SHARDNUMSUB counts. So an
//   observer's shard connection carries the channels it holds in its own name
//   (`pubsub-mon:<role>:s:<base64url>.<base64url>...`), fixed when it connects; CLIENT LIST on each
//   node then says exactly which channels to take one off, whichever process holds them.
// - Every observer connection is named `pubsub-mon:<role>`; CLIENTS, PUBSUB CLIENTS and the
//   output-buffer column leave all of them out. bench's publishers and subscribers are real load
//   on channels of their own (`pubsub-mon:bench:*`): they are counted, and their channels marked.
import type { ClientInfo } from './client-list.js';
import { decodeName, encodeName } from './channel-name.js';

/** Prefix of every connection name pubsub-mon sets, so its own clients can be told apart. */
const CLIENT_NAME_PREFIX = 'pubsub-mon:';

/** Roles whose connections are real traffic (a bench run), not observation: counted like anyone's. */
const LOAD_ROLES: ReadonlySet<string> = new Set(['bench-sub', 'bench-pub']);

/** Prefix of the channels a bench run publishes on. */
const BENCH_CHANNEL_PREFIX = `${CLIENT_NAME_PREFIX}bench:`;

/** The connection name for one role: `pubsub-mon:<role>`. */
export function clientName(role: string): string {
  return `${CLIENT_NAME_PREFIX}${role}`;
}

/** The role a pubsub-mon connection name carries (`watch`, `rates-shard`, ...); undefined for anyone else's. */
function roleOf(name: string): string | undefined {
  if (!name.startsWith(CLIENT_NAME_PREFIX)) return undefined;
  const rest = name.slice(CLIENT_NAME_PREFIX.length);
  const colon = rest.indexOf(':');
  return colon < 0 ? rest : rest.slice(0, colon);
}

/** A connection some pubsub-mon process opened to look, not to carry traffic: never counted. */
export function isObserver(c: Pick<ClientInfo, 'name'>): boolean {
  const role = roleOf(c.name);
  return role !== undefined && !LOAD_ROLES.has(role);
}

const SHARD_MARK = ':s:';

/** The role (the part after `pubsub-mon:`) of an observer connection that will hold exactly these shard channels. */
export function shardRole(role: string, channels: readonly string[]): string {
  return `${role}${SHARD_MARK}${channels.map((c) => encodeName(c).toString('base64url')).join('.')}`;
}

/** The shard channels an observer connection's name says it holds; undefined when it says none. */
function shardChannelsNamed(c: Pick<ClientInfo, 'name'>): string[] | undefined {
  if (!isObserver(c)) return undefined;
  const at = c.name.indexOf(SHARD_MARK, CLIENT_NAME_PREFIX.length);
  if (at < 0) return undefined;
  const list = c.name.slice(at + SHARD_MARK.length);
  return list === '' ? [] : list.split('.').map((part) => decodeName(Buffer.from(part, 'base64url')));
}

/** Prefix of the channels bench's coordinator and agents talk on (bench/control.ts). */
const CONTROL_CHANNEL_PREFIX = `${CLIENT_NAME_PREFIX}ctl:`;

/** What a channel of pubsub-mon's own is for: a bench run's traffic, or its agents' control messages; undefined for anyone else's. */
export function ownChannelKind(name: string): 'bench' | 'control' | undefined {
  return name.startsWith(BENCH_CHANNEL_PREFIX) ? 'bench' : name.startsWith(CONTROL_CHANNEL_PREFIX) ? 'control' : undefined;
}

/** The sampler's pattern: matches every channel like `*`; it is never counted, whichever process holds it. */
export const SAMPLER_PATTERN = '**';
/** Role of the connection that holds the sampler's pattern. */
export const SAMPLER_ROLE = 'rates';
/** Role of the connections that hold the sampler's shard subscriptions. */
export const SHARD_SAMPLER_ROLE = 'rates-shard';
/** Role of the connections that hear keyspace notifications on each primary (watch --rates --include-keyspace). */
export const KEYSPACE_SAMPLER_ROLE = 'rates-keyspace';
/** Matches `__keyspace@...` and `__keyevent@...` channels: the only ones a node emits by itself. */
export const KEYSPACE_PATTERN = '__key[se]*';

/**
 * What this process itself holds, per node id. It is only needed when CLIENT LIST is refused:
 * then other processes' subscriptions cannot be told apart, but this one's can.
 */
export interface OwnSubscriptions {
  /** Pattern subscriptions held per node id. */
  patterns: ReadonlyMap<string, number>;
  shardChannels: ReadonlyMap<string, ReadonlySet<string>>;
  /** Connections this process holds per node id (all kinds), and how many of them are pub/sub. */
  connections: ReadonlyMap<string, { total: number; pubsub: number }>;
}

export const NO_OWN_SUBSCRIPTIONS: OwnSubscriptions = {
  patterns: new Map(),
  shardChannels: new Map(),
  connections: new Map(),
};

/**
 * How many observer connections on one node hold each shard channel, from its CLIENT LIST. A
 * connection whose `ssub` disagrees with its name (the server ended a subscription by itself) is
 * left out: its channels are then reported in `uncertain`.
 */
export function observerShardCounts(clients: readonly ClientInfo[]): { counts: Map<string, number>; uncertain: Set<string> } {
  const counts = new Map<string, number>();
  const uncertain = new Set<string>();
  for (const c of clients) {
    const named = shardChannelsNamed(c);
    if (!named || named.length === 0) continue;
    if (c.ssub !== undefined && c.ssub !== named.length) {
      for (const ch of named) uncertain.add(ch);
      continue;
    }
    for (const ch of named) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  }
  return { counts, uncertain };
}
