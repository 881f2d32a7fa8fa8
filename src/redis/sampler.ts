// Counts messages per channel for `watch --rates`: one pattern subscription for classic traffic, SSUBSCRIBE on shard owners.
import type { Redis } from 'ioredis';
import type { ConnectionTarget } from './target.js';
import type { TopologyNode } from '../stats/topology.js';
import { openNode } from './connect.js';
import { asked } from './queries.js';
import { describeRedisError, rethrowIfBug } from './errors.js';
import { isKeyspaceChannel } from '../stats/snapshot.js';
import { SAMPLER_PATTERN, SAMPLER_ROLE, SHARD_SAMPLER_ROLE } from '../stats/own-subscriptions.js';

interface ShardConnection {
  node: TopologyNode;
  client: Redis;
  /** Channel -> when its SSUBSCRIBE was confirmed. */
  channels: Map<string, number>;
}

/** Messages counted per channel since the last `take()`, and how long each count really covers. */
export interface SampledCounts {
  channel: Map<string, number>;
  shard: Map<string, number>;
  /** Time the pattern subscription was held in this period; undefined when it was not held. */
  classicWindowMs?: number;
  /** Time a shard channel's subscription was held in this period; undefined when not held. */
  shardWindowMs(name: string): number | undefined;
}

export class RateSampler {
  private patternNode: TopologyNode | undefined;
  private patternClient: Redis | undefined;
  private readonly shards = new Map<string, ShardConnection>();
  private patternSince: number | undefined;
  private channelCounts = new Map<string, number>();
  private shardCounts = new Map<string, number>();
  private since: number;
  /** Why the last subscription attempt failed, for the user to see; undefined when all is held. */
  problem: string | undefined;

  constructor(
    private readonly target: ConnectionTarget,
    private readonly includeKeyspace: boolean,
    private readonly clock: () => number = Date.now,
  ) {
    this.since = clock();
  }

  /** The node that holds the pattern subscription, if it is held. */
  get patternNodeId(): string | undefined {
    return this.patternClient?.status === 'ready' ? this.patternNode?.id : undefined;
  }

  /** Shard channels held per node id, as the server confirmed them. */
  shardChannels(): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const [id, conn] of this.shards) if (conn.client.status === 'ready') out.set(id, new Set(conn.channels.keys()));
    return out;
  }

  /** Pub/sub connections held per node id. */
  connectionCounts(): Map<string, number> {
    const out = new Map<string, number>();
    const add = (id: string) => out.set(id, (out.get(id) ?? 0) + 1);
    if (this.patternClient && this.patternNode) add(this.patternNode.id);
    for (const [id] of this.shards) add(id);
    return out;
  }

  /**
   * Holds `PSUBSCRIBE **` on one of `candidates` (any node hears every classic PUBLISH on a
   * cluster). Moves to another node when the current one is gone.
   */
  async ensurePattern(candidates: TopologyNode[]): Promise<void> {
    if (this.patternClient && this.patternNode && candidates.some((n) => n.id === this.patternNode!.id)) {
      if (this.patternClient.status === 'ready') return;
      // ioredis resubscribes by itself after a reconnect; the messages of the gap are not counted.
      if (this.patternClient.status !== 'end') {
        this.patternSince = undefined;
        return;
      }
    }
    this.patternClient?.disconnect();
    this.patternClient = undefined;
    this.patternSince = undefined;
    for (const node of candidates) {
      try {
        const client = await openNode(this.target, node, SAMPLER_ROLE, { reconnect: true });
        client.on('pmessageBuffer', (_pattern: Buffer, channel: Buffer) => {
          const name = channel.toString();
          if (!this.includeKeyspace && isKeyspaceChannel(name)) return;
          this.channelCounts.set(name, (this.channelCounts.get(name) ?? 0) + 1);
        });
        client.on('ready', () => {
          if (this.patternSince === undefined) this.patternSince = this.clock();
        });
        try {
          asked(client, ['PSUBSCRIBE', SAMPLER_PATTERN]);
          await client.psubscribe(SAMPLER_PATTERN);
        } catch (err) {
          client.disconnect();
          throw err;
        }
        this.patternClient = client;
        this.patternNode = node;
        this.patternSince = this.clock();
        this.problem = undefined;
        return;
      } catch (err) {
        // Try the next node; a node that is down shows in the node table, a refusal is said here.
        this.problem = describeRedisError(err, node.address, this.target.username).message;
      }
    }
  }

  /** Subscribes each wanted shard channel on its owner and drops the ones no longer wanted. */
  async syncShards(wanted: Map<string, { node: TopologyNode; channels: Set<string> }>): Promise<void> {
    for (const [id, conn] of this.shards) {
      if (!wanted.has(id) || conn.client.status === 'end') {
        conn.client.disconnect();
        this.shards.delete(id);
      }
    }
    await Promise.all(
      [...wanted].map(async ([id, { node, channels }]) => {
        let conn = this.shards.get(id);
        if (!conn) {
          try {
            const client = await openNode(this.target, node, SHARD_SAMPLER_ROLE, { reconnect: true });
            conn = { node, client, channels: new Map() };
            const c = conn;
            client.on('smessageBuffer', (channel: Buffer) => {
              const name = channel.toString();
              this.shardCounts.set(name, (this.shardCounts.get(name) ?? 0) + 1);
            });
            // ioredis reports a server-pushed sunsubscribe (slot moved) as a queue error: forget the channel.
            client.on('error', (err: Error) => {
              const m = /Last reply: sunsubscribe,([^,]*),/.exec(err.message);
              if (m?.[1] !== undefined) c.channels.delete(m[1]);
            });
            this.shards.set(id, conn);
          } catch (err) {
            rethrowIfBug(err);
            return;
          }
        }
        const current = conn;
        const drop = [...current.channels.keys()].filter((ch) => !channels.has(ch));
        const add = [...channels].filter((ch) => !current.channels.has(ch));
        for (const ch of drop) {
          current.channels.delete(ch);
          asked(current.client, ['SUNSUBSCRIBE', ch]);
          await current.client.sunsubscribe(ch).catch(rethrowIfBug);
        }
        // One channel per SSUBSCRIBE: channels of different slots in one call would be CROSSSLOT.
        await Promise.all(
          add.map(async (ch) => {
            try {
              asked(current.client, ['SSUBSCRIBE', ch]);
              await current.client.ssubscribe(ch);
              current.channels.set(ch, this.clock());
            } catch (err) {
              // MOVED while a slot migrates: the next refresh finds the new owner. A refusal is said.
              const e = describeRedisError(err, node.address, this.target.username);
              if (e.kind === 'permission') this.problem = e.message;
            }
          }),
        );
      }),
    );
  }

  /** Counts since the previous call, and the time each subscription was held within that period. */
  take(): SampledCounts {
    const now = this.clock();
    const since = this.since;
    const window = (start: number | undefined) => (start === undefined ? undefined : Math.max(1, now - Math.max(since, start)));
    const held = new Map<string, number>();
    for (const conn of this.shards.values()) {
      if (conn.client.status !== 'ready') continue;
      for (const [ch, at] of conn.channels) held.set(ch, at);
    }
    const patternHeld = this.patternClient?.status === 'ready' ? this.patternSince : undefined;
    const classicWindowMs = window(patternHeld);
    const out: SampledCounts = {
      channel: this.channelCounts,
      shard: this.shardCounts,
      ...(classicWindowMs !== undefined ? { classicWindowMs } : {}),
      shardWindowMs: (name) => window(held.get(name)),
    };
    this.channelCounts = new Map();
    this.shardCounts = new Map();
    this.since = now;
    return out;
  }

  close(): void {
    this.patternClient?.disconnect();
    for (const conn of this.shards.values()) conn.client.disconnect();
    this.shards.clear();
  }
}
