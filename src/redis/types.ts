// The data model shared by the redis layer, the stats layer and the renderers.

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

/** The three numbers of `client-output-buffer-limit pubsub <hard> <soft> <seconds>`. */
export interface OutputBufferLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

/** One field of commandstats, e.g. `cmdstat_publish`. */
export interface CommandStat {
  calls: number;
  usec: number;
  usecPerCall: number;
  /** Absent before Redis 6.2. */
  rejectedCalls?: number;
  failedCalls?: number;
}

/** One line of CLIENT LIST, the fields pubsub-mon uses; absent fields stay undefined. */
export interface ClientInfo {
  id: string;
  addr: string;
  name: string;
  flags: string;
  age?: number;
  idle?: number;
  sub?: number;
  psub?: number;
  /** Absent before Redis 7.0.3. */
  ssub?: number;
  omem?: number;
  /** Absent before Redis 6.2. */
  totMem?: number;
  /** Everything the line had, for fields not named above. */
  raw: Record<string, string>;
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
}

/** One node's health, as shown in the node table. `undefined` means the server does not report it. */
export interface NodeRow {
  address: string;
  role: NodeRole;
  up: boolean;
  /** Why the node is down or could not be read. */
  error?: string;
  version?: string;
  clients?: number;
  /** Pub/sub clients, minus pubsub-mon's own connections. */
  pubsubClients?: number;
  /** PUBSUB NUMPAT minus the sampler's pattern. */
  numpat?: number;
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
}
