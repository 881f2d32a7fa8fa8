// Counts messages per channel for `watch --rates`: one pattern subscription for classic traffic, keyspace
// notifications where they are emitted (each primary), and SSUBSCRIBE on shard owners through connections
// whose names say which channels they hold (see stats/own-subscriptions.ts: no process counts them).
import type { Redis } from 'ioredis';
import type { ConnectionTarget } from './target.js';
import type { TopologyNode } from '../stats/topology.js';
import { openNode } from './connect.js';
import { asked } from './queries.js';
import { describeRedisError, rethrowIfBug } from './errors.js';
import { isKeyspaceChannel } from '../stats/snapshot.js';
import { ConnectionError } from '../errors.js';
import { decodeName, encodeName } from '../stats/channel-name.js';
import { PayloadSizes } from '../stats/payload-sizes.js';
import { KEYSPACE_PATTERN, KEYSPACE_SAMPLER_ROLE, SAMPLER_PATTERN, SAMPLER_ROLE, SHARD_SAMPLER_ROLE, shardRole } from '../stats/own-subscriptions.js';

/** Shard channels per connection: one name carries them all, so it stays a few kilobytes at most. */
const SHARD_CHANNELS_PER_CONNECTION = 64;

/** A connection holding a fixed set of shard channels, named after them. */
interface ShardConnection {
  client: Redis;
  /** Channel -> when its SSUBSCRIBE was confirmed. */
  channels: Map<string, number>;
  /** The server ended one of its subscriptions by itself: its name no longer tells the truth. */
  broken: boolean;
}

/** A pattern subscription held on one node, and since when (undefined while it is not held). */
interface PatternConnection {
  node: TopologyNode;
  client: Redis;
  since: number | undefined;
}

/** Messages counted per channel since the last `take()`, and how long each count really covers. */
export interface SampledCounts {
  channel: Map<string, number>;
  shard: Map<string, number>;
  /** Payload sizes per channel, when the sampler was asked to keep them (watch --record). */
  channelSizes?: Map<string, PayloadSizes>;
  shardSizes?: Map<string, PayloadSizes>;
  /** Time the classic pattern subscription was held in this period; undefined when it was not held. */
  classicWindowMs?: number;
  /** Time keyspace notifications were heard on every primary in this period; undefined when not. */
  keyspaceWindowMs?: number;
  /** Time a shard channel's subscription was held in this period; undefined when not held. */
  shardWindowMs(name: string): number | undefined;
}

export class RateSampler {
  private pattern: PatternConnection | undefined;
  /** Keyspace pattern connections per primary node id. */
  private readonly keyspace = new Map<string, PatternConnection>();
  private keyspaceWanted = 0;
  /** Shard connections per node id. */
  private readonly shards = new Map<string, { node: TopologyNode; connections: ShardConnection[] }>();
  private channelCounts = new Map<string, number>();
  /** Every connection ever opened, and whether close() was called: one opened after it is dropped at once. */
  private readonly opened = new Set<Redis>();
  private closed = false;
  private shardCounts = new Map<string, number>();
  /** Payload sizes since the last take(), per channel; undefined unless asked for (watch --rates alone pays nothing). */
  private channelSizes: Map<string, PayloadSizes> | undefined;
  private shardSizes: Map<string, PayloadSizes> | undefined;
  private since: number;
  /** Why the last subscription attempt failed, for the user to see; undefined when all is held. */
  problem: string | undefined;

  constructor(
    private readonly target: ConnectionTarget,
    private readonly includeKeyspace: boolean,
    private readonly clock: () => number = Date.now,
    /** Keep a histogram of payload sizes per channel too. @default false */
    private readonly sizes = false,
  ) {
    this.since = clock();
    if (sizes) {
      this.channelSizes = new Map();
      this.shardSizes = new Map();
    }
  }

  /** Node ids where this process holds a pattern subscription, once per pattern. */
  patternNodeIds(): string[] {
    const held = [this.pattern, ...this.keyspace.values()].filter((p): p is PatternConnection => p?.client.status === 'ready');
    return held.map((p) => p.node.id);
  }

  /** Shard channels held per node id, as the server confirmed them. */
  shardChannels(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const [id, { connections }] of this.shards) {
      const held = new Set<string>();
      for (const c of connections) if (c.client.status === 'ready') for (const ch of c.channels.keys()) held.add(ch);
      out.set(id, held);
    }
    return out;
  }

  /** Pub/sub connections held per node id. */
  connectionCounts(): Map<string, number> {
    const out = new Map<string, number>();
    const add = (id: string, n = 1) => out.set(id, (out.get(id) ?? 0) + n);
    if (this.pattern) add(this.pattern.node.id);
    for (const [id] of this.keyspace) add(id);
    for (const [id, { connections }] of this.shards) add(id, connections.length);
    return out;
  }

  private count(name: string, payloadBytes: number): void {
    this.channelCounts.set(name, (this.channelCounts.get(name) ?? 0) + 1);
    if (this.channelSizes) sizeOf(this.channelSizes, name).add(payloadBytes);
  }

  /** Opens a pattern subscription on `node`, counting what it hears through `onChannel`. */
  private async subscribePattern(node: TopologyNode, role: string, pattern: string, onChannel: (name: string, payloadBytes: number) => void): Promise<PatternConnection> {
    const client = this.keep(await openNode(this.target, node, role, { reconnect: true }));
    const held: PatternConnection = { node, client, since: undefined };
    client.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer, payload: Buffer) => onChannel(decodeName(channel), payload.length));
    client.on('ready', () => {
      held.since ??= this.clock();
    });
    client.on('close', () => {
      // ioredis resubscribes by itself after a reconnect; the messages of the gap are not counted.
      held.since = undefined;
    });
    try {
      asked(client, ['PSUBSCRIBE', pattern]);
      await client.psubscribe(pattern);
    } catch (err) {
      client.disconnect();
      throw err;
    }
    held.since = this.clock();
    return held;
  }

  /**
   * Holds `PSUBSCRIBE **` on one of `candidates` (any node hears every classic PUBLISH on a
   * cluster). Moves to another node when the current one is gone. Keyspace notifications are not
   * counted here: a node emits only its own, and only where keys are written.
   */
  async ensurePattern(candidates: TopologyNode[]): Promise<void> {
    const current = this.pattern;
    if (current && candidates.some((n) => n.id === current.node.id) && current.client.status !== 'end') return;
    current?.client.disconnect();
    this.pattern = undefined;
    for (const node of candidates) {
      try {
        this.pattern = await this.subscribePattern(node, SAMPLER_ROLE, SAMPLER_PATTERN, (name, bytes) => {
          if (!isKeyspaceChannel(name)) this.count(name, bytes);
        });
        this.problem = undefined;
        return;
      } catch (err) {
        // Try the next node; a node that is down shows in the node table, a refusal is said here.
        this.problem = describeRedisError(err, node.address, this.target.username).message;
      }
    }
  }

  /** With --include-keyspace: a keyspace pattern on every primary, where keys are written and notifications emitted. */
  async ensureKeyspace(primaries: TopologyNode[]): Promise<void> {
    if (!this.includeKeyspace) return;
    this.keyspaceWanted = primaries.length;
    for (const [id, held] of this.keyspace) {
      if (!primaries.some((n) => n.id === id) || held.client.status === 'end') {
        held.client.disconnect();
        this.keyspace.delete(id);
      }
    }
    await Promise.all(
      primaries
        .filter((n) => !this.keyspace.has(n.id))
        .map(async (node) => {
          try {
            this.keyspace.set(node.id, await this.subscribePattern(node, KEYSPACE_SAMPLER_ROLE, KEYSPACE_PATTERN, (name, bytes) => this.count(name, bytes)));
          } catch (err) {
            this.problem = `keyspace notifications: ${describeRedisError(err, node.address, this.target.username).message}`;
          }
        }),
    );
  }

  /** Opens one connection for `channels` on `node`, named after them, and subscribes each; all or none. */
  private async openShardConnection(node: TopologyNode, channels: string[]): Promise<ShardConnection | undefined> {
    const opened = await openNode(this.target, node, shardRole(SHARD_SAMPLER_ROLE, channels), { reconnect: false });
    if (this.closed) {
      opened.disconnect();
      return undefined;
    }
    const client = this.keep(opened);
    const held: ShardConnection = { client, channels: new Map(), broken: false };
    client.on('smessageBuffer', (channel: Buffer, payload: Buffer) => {
      const name = decodeName(channel);
      this.shardCounts.set(name, (this.shardCounts.get(name) ?? 0) + 1);
      if (this.shardSizes) sizeOf(this.shardSizes, name).add(payload.length);
    });
    // ioredis reports a server-pushed sunsubscribe (slot moved) as an error: the name is stale now.
    client.on('error', (err: Error) => {
      if (/Last reply: sunsubscribe/.test(err.message)) held.broken = true;
    });
    try {
      // One channel per SSUBSCRIBE: channels of different slots in one call would be CROSSSLOT.
      await Promise.all(
        channels.map(async (ch) => {
          asked(client, ['SSUBSCRIBE', ch]);
          await client.ssubscribe(encodeName(ch));
          held.channels.set(ch, this.clock());
        }),
      );
      return held;
    } catch (err) {
      // MOVED while a slot migrates: the next refresh finds the new owner. A refusal is said.
      client.disconnect();
      const e = describeRedisError(err, node.address, this.target.username);
      if (e.kind === 'permission') this.problem = e.message;
      return undefined;
    }
  }

  /**
   * Subscribes each wanted shard channel on its owner and drops the rest. A connection's name lists
   * its channels and cannot change while subscribed, so one that holds a channel no longer wanted
   * (or lost one) is replaced by a new one for what it should still hold.
   */
  async syncShards(wanted: Map<string, { node: TopologyNode; channels: Set<string> }>): Promise<void> {
    for (const [id, entry] of this.shards) {
      if (!wanted.has(id)) {
        for (const c of entry.connections) c.client.disconnect();
        this.shards.delete(id);
      }
    }
    await Promise.all(
      [...wanted].map(async ([id, { node, channels }]) => {
        const entry = this.shards.get(id) ?? { node, connections: [] };
        this.shards.set(id, entry);
        const keep: ShardConnection[] = [];
        for (const c of entry.connections) {
          const exact = !c.broken && c.client.status !== 'end' && [...c.channels.keys()].every((ch) => channels.has(ch));
          if (exact) keep.push(c);
          else c.client.disconnect();
        }
        const held = new Set(keep.flatMap((c) => [...c.channels.keys()]));
        const missing = [...channels].filter((ch) => !held.has(ch));
        const opened: ShardConnection[] = [];
        for (let i = 0; i < missing.length; i += SHARD_CHANNELS_PER_CONNECTION) {
          const c = await this.openShardConnection(node, missing.slice(i, i + SHARD_CHANNELS_PER_CONNECTION)).catch((err: unknown) => {
            rethrowIfBug(err);
            return undefined;
          });
          if (c) opened.push(c);
        }
        entry.connections = [...keep, ...opened];
      }),
    );
  }

  /** Counts since the previous call, and the time each subscription was held within that period. */
  take(): SampledCounts {
    const now = this.clock();
    const since = this.since;
    const window = (start: number | undefined) => (start === undefined ? undefined : Math.max(1, now - Math.max(since, start)));
    const held = new Map<string, number>();
    for (const { connections } of this.shards.values()) {
      for (const c of connections) {
        if (c.client.status !== 'ready' || c.broken) continue;
        for (const [ch, at] of c.channels) held.set(ch, at);
      }
    }
    const classicWindowMs = window(this.pattern?.client.status === 'ready' ? this.pattern.since : undefined);
    // Keyspace rates are sums over primaries: known only while every primary's subscription was held.
    let latestStart: number | undefined;
    let allHeld = this.keyspaceWanted > 0 && this.keyspace.size === this.keyspaceWanted;
    for (const k of this.keyspace.values()) {
      if (k.client.status !== 'ready' || k.since === undefined) allHeld = false;
      else latestStart = Math.max(latestStart ?? k.since, k.since);
    }
    const keyspaceWindowMs = allHeld ? window(latestStart) : undefined;
    const out: SampledCounts = {
      channel: this.channelCounts,
      shard: this.shardCounts,
      ...(classicWindowMs !== undefined ? { classicWindowMs } : {}),
      ...(keyspaceWindowMs !== undefined ? { keyspaceWindowMs } : {}),
      shardWindowMs: (name) => window(held.get(name)),
      ...(this.channelSizes && this.shardSizes ? { channelSizes: this.channelSizes, shardSizes: this.shardSizes } : {}),
    };
    this.channelCounts = new Map();
    this.shardCounts = new Map();
    if (this.sizes) {
      this.channelSizes = new Map();
      this.shardSizes = new Map();
    }
    this.since = now;
    return out;
  }

  /**
   * Registers a new connection; if the sampler was closed while it was being opened (watch's r key
   * turned rates off mid-refresh), it is dropped rather than left subscribed and counted nowhere.
   */
  private keep(client: Redis): Redis {
    if (this.closed) {
      client.disconnect();
      throw new ConnectionError('rate sampling was turned off');
    }
    this.opened.add(client);
    client.once('end', () => this.opened.delete(client));
    return client;
  }

  close(): void {
    this.closed = true;
    for (const client of this.opened) client.disconnect();
    this.opened.clear();
    this.pattern?.client.disconnect();
    for (const k of this.keyspace.values()) k.client.disconnect();
    for (const { connections } of this.shards.values()) for (const c of connections) c.client.disconnect();
    this.shards.clear();
    this.keyspace.clear();
  }
}

/** The histogram of `name`, created on its first payload. */
function sizeOf(sizes: Map<string, PayloadSizes>, name: string): PayloadSizes {
  let h = sizes.get(name);
  if (!h) sizes.set(name, (h = new PayloadSizes()));
  return h;
}
