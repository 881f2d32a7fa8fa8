// Holds the subscriptions of `tail`: classic traffic on one node, shard channels on their owners, through reconnects.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { ConnectionTarget } from '../redis/target.js';
import { slotOwners, versionAtLeast, type DiscoveredTopology, type TopologyNode } from '../stats/topology.js';
import { hashSlot } from '../stats/hash-slot.js';
import { openNode } from '../redis/connect.js';
import { describeRedisError, rethrowIfBug } from '../redis/errors.js';
import { discoverTopology, infoAsker } from '../redis/discover.js';
import { listChannels } from '../redis/queries.js';
import { RawSubscriber, type MessageHandler } from '../redis/raw-subscriber.js';
import { UsageError } from '../errors.js';

export interface TailSubscriptions {
  /** PSUBSCRIBE patterns (classic traffic). */
  patterns: string[];
  /** SUBSCRIBE channels. */
  channels: string[];
  /** SSUBSCRIBE channels, each on its owner. */
  shardChannels: string[];
  /** Follow every shard channel that exists, found with SHARDCHANNELS on every node. */
  allShards: boolean;
}

export interface TailerEvents {
  /** Every message, with the address of the node it was read from. */
  onMessage: (...args: [...Parameters<MessageHandler>, node: string]) => void;
  /** A connection dropped: messages from `since` on may be missing until `onResume`. */
  onGap: (node: string, reason: string) => void;
  onResume: (node: string, downMs: number) => void;
  /** Something the user should know once (printed on stderr). */
  onNotice: (text: string) => void;
}

export interface TailerOptions {
  /** How often shard channels are looked for again with --shards. @default 3000 */
  rediscoverMs?: number;
}

const DEFAULT_REDISCOVER_MS = 3000;
const RECONNECT_MAX_MS = 2000;

/** One subscriber connection and what it must hold, so it can be rebuilt after a drop. */
interface Holder {
  role: 'classic' | 'shard';
  node: TopologyNode;
  sub?: RawSubscriber;
  patterns: Set<string>;
  channels: Set<string>;
  shardChannels: Set<string>;
  downSince?: number;
  reconnecting?: boolean;
}

export class Tailer {
  private topology!: DiscoveredTopology;
  private control!: Redis;
  private classic: Holder | undefined;
  private readonly shardHolders = new Map<string, Holder>();
  private closed = false;
  private timer: NodeJS.Timeout | undefined;
  private shardNoticeGiven = false;

  private constructor(
    private readonly target: ConnectionTarget,
    private readonly subs: TailSubscriptions,
    private readonly events: TailerEvents,
    private readonly options: TailerOptions,
  ) {}

  /** Connects, subscribes everything, and resolves once the server confirmed it. Errors are typed. */
  static async open(target: ConnectionTarget, subs: TailSubscriptions, events: TailerEvents, options: TailerOptions = {}): Promise<Tailer> {
    const t = new Tailer(target, subs, events, options);
    try {
      await t.start();
    } catch (err) {
      t.close();
      throw describeRedisError(err, `${target.host}:${target.port}`, target.username);
    }
    return t;
  }

  get mode(): 'standalone' | 'cluster' {
    return this.topology.mode;
  }

  private async start(): Promise<void> {
    const seedAddress = { host: this.target.host, port: this.target.port };
    this.control = await openNode(this.target, seedAddress, 'tail-control', { reconnect: true });
    this.control.on('error', () => undefined);
    this.topology = await discoverTopology(this.control, seedAddress, { forceCluster: this.target.forceCluster, ask: infoAsker(this.target, 'tail-control') });
    const sharded = versionAtLeast(this.topology.version, 7);
    if (!sharded && (this.subs.shardChannels.length > 0 || this.subs.allShards)) {
      throw new UsageError(`sharded pub/sub needs Redis 7.0 or newer; ${seedAddress.host}:${seedAddress.port} runs ${this.topology.version}`);
    }
    // Any node hears every classic PUBLISH on a cluster (the bus broadcasts it): one is enough, and
    // more would print each message more than once.
    if (this.subs.patterns.length > 0 || this.subs.channels.length > 0) {
      const node = this.topology.nodes.find((n) => n.host === seedAddress.host && n.port === seedAddress.port) ?? this.topology.nodes[0]!;
      this.classic = { role: 'classic', node, patterns: new Set(this.subs.patterns), channels: new Set(this.subs.channels), shardChannels: new Set() };
      await this.connectHolder(this.classic);
    }
    for (const name of this.subs.shardChannels) this.holderFor(name).shardChannels.add(name);
    if (this.subs.allShards) for (const name of await this.discoverShardChannels()) this.holderFor(name).shardChannels.add(name);
    await Promise.all([...this.shardHolders.values()].map((h) => this.connectHolder(h)));
    if (sharded && this.subs.patterns.length > 0 && !this.subs.allShards) await this.noticeUnheardShards();
    if (this.subs.allShards) this.schedule();
  }

  /** The shard channels that have a subscriber somewhere: SHARDCHANNELS answers per node. */
  private async discoverShardChannels(): Promise<Set<string>> {
    const names = new Set<string>();
    await Promise.all(
      this.topology.nodes.map(async (node) => {
        let client: Redis | undefined;
        try {
          client = node.host === this.target.host && node.port === this.target.port ? this.control : await openNode(this.target, node, 'tail-control');
          for (const n of await listChannels(client, 'SHARDCHANNELS')) names.add(n);
        } catch (err) {
          rethrowIfBug(err);
          // a node that is down is retried at the next discovery
        } finally {
          if (client && client !== this.control) client.disconnect();
        }
      }),
    );
    return names;
  }

  private async noticeUnheardShards(): Promise<void> {
    if (this.shardNoticeGiven) return;
    const found = await this.discoverShardChannels();
    if (found.size === 0) return;
    this.shardNoticeGiven = true;
    this.events.onNotice(
      `${found.size} shard channel${found.size > 1 ? 's' : ''} exist${found.size > 1 ? '' : 's'} (e.g. ${[...found][0]}): pattern subscriptions never receive SPUBLISH messages; add --shards to follow them too, or --shard NAME`,
    );
  }

  /** The holder of the shard that owns `channel` (its primary on a cluster; the classic node otherwise). */
  private holderFor(channel: string): Holder {
    let node: TopologyNode | undefined;
    if (this.topology.mode === 'cluster') node = slotOwners(this.topology)(hashSlot(channel));
    node ??= this.classic?.node ?? this.topology.nodes[0]!;
    let h = this.shardHolders.get(node.id);
    if (!h) {
      h = { role: 'shard', node, patterns: new Set(), channels: new Set(), shardChannels: new Set() };
      this.shardHolders.set(node.id, h);
    }
    return h;
  }

  private async connectHolder(h: Holder): Promise<void> {
    const sub = new RawSubscriber(this.target, h.node, h.role === 'classic' ? 'tail' : 'tail-shard');
    const address = h.node.address;
    const forward = this.events.onMessage;
    sub.onMessage = (kind, pattern, channel, payload, receivedAt) => forward(kind, pattern, channel, payload, receivedAt, address);
    sub.onClose = (reason) => this.lost(h, reason);
    sub.onServerUnsubscribe = (kind, channel) => {
      if (kind !== 'ssubscribe') return;
      this.events.onGap(channel, `the server ended the subscription to shard channel ${channel} on ${h.node.address} (its slot moved)`);
      h.shardChannels.delete(channel);
      void this.moveShardChannel(channel);
    };
    await sub.connect();
    try {
      await sub.subscribe('psubscribe', [...h.patterns]);
      await sub.subscribe('subscribe', [...h.channels]);
      // One channel per SSUBSCRIBE: several in one call must share a slot, else CROSSSLOT.
      await Promise.all([...h.shardChannels].map((ch) => sub.subscribe('ssubscribe', [ch])));
    } catch (err) {
      sub.close();
      throw err;
    }
    h.sub = sub;
  }

  /** Resubscribes a shard channel on its new owner after the server pushed sunsubscribe. */
  private async moveShardChannel(channel: string): Promise<void> {
    const started = Date.now();
    while (!this.closed) {
      await this.refreshTopology();
      const h = this.holderFor(channel);
      h.shardChannels.add(channel);
      try {
        if (!h.sub?.connected) await this.connectHolder(h);
        else await h.sub.subscribe('ssubscribe', [channel]);
        this.events.onResume(channel, Date.now() - started);
        return;
      } catch (err) {
        rethrowIfBug(err);
        h.shardChannels.delete(channel);
        await sleep(200);
      }
    }
  }

  private async refreshTopology(): Promise<void> {
    try {
      this.topology = await discoverTopology(this.control, { host: this.target.host, port: this.target.port }, { ask: infoAsker(this.target, 'tail-control') });
    } catch (err) {
      rethrowIfBug(err);
      // keep the last known layout; the control connection reconnects by itself
    }
  }

  /** A connection dropped: say so, then reconnect (moving to another node if this one stays away). */
  private lost(h: Holder, reason: string): void {
    if (this.closed || h.reconnecting) return;
    h.reconnecting = true;
    h.downSince = Date.now();
    h.sub = undefined;
    this.events.onGap(h.node.address, reason);
    void (async () => {
      let delay = 100;
      let attempt = 0;
      while (!this.closed) {
        await sleep(delay);
        if (this.closed) return;
        attempt++;
        // After a few failures the node may be gone for good (failover): ask the cluster again.
        if (attempt % 3 === 0) await this.rehome(h);
        try {
          await this.connectHolder(h);
          h.reconnecting = false;
          this.events.onResume(h.node.address, Date.now() - (h.downSince ?? Date.now()));
          return;
        } catch (err) {
          rethrowIfBug(err);
          delay = Math.min(delay * 2, RECONNECT_MAX_MS);
        }
      }
    })();
  }

  /** Points a holder at a live node: any node for classic traffic, the current owner for shards. */
  private async rehome(h: Holder): Promise<void> {
    await this.refreshTopology();
    if (this.topology.mode !== 'cluster') return;
    if (h.role === 'classic') {
      const others = this.topology.nodes.filter((n) => n.id !== h.node.id && !this.topology.failedNodeIds.includes(n.id));
      if (others.length > 0) h.node = others[Math.floor(Math.random() * others.length)]!;
      return;
    }
    const owners = slotOwners(this.topology);
    const moved = new Map<string, string[]>();
    for (const ch of h.shardChannels) {
      const owner = owners(hashSlot(ch));
      if (owner && owner.id !== h.node.id) moved.set(owner.id, [...(moved.get(owner.id) ?? []), ch]);
    }
    for (const list of moved.values()) {
      for (const ch of list) {
        h.shardChannels.delete(ch);
        const target = this.holderFor(ch);
        target.shardChannels.add(ch);
        if (target.sub?.connected) await target.sub.subscribe('ssubscribe', [ch]).catch(rethrowIfBug);
        else if (!target.reconnecting) await this.connectHolder(target).catch(() => this.lost(target, 'connect failed'));
      }
    }
  }

  private schedule(): void {
    this.timer = setTimeout(() => {
      void this.followNewShards().finally(() => {
        if (!this.closed) this.schedule();
      });
    }, this.options.rediscoverMs ?? DEFAULT_REDISCOVER_MS);
  }

  /** --shards: subscribes shard channels that appeared since the last look. */
  private async followNewShards(): Promise<void> {
    await this.refreshTopology();
    const held = new Set<string>();
    for (const h of this.shardHolders.values()) for (const ch of h.shardChannels) held.add(ch);
    for (const name of await this.discoverShardChannels()) {
      if (held.has(name) || this.closed) continue;
      const h = this.holderFor(name);
      h.shardChannels.add(name);
      try {
        if (h.sub?.connected) await h.sub.subscribe('ssubscribe', [name]);
        else if (!h.reconnecting) await this.connectHolder(h);
      } catch (err) {
        rethrowIfBug(err);
        h.shardChannels.delete(name);
      }
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.classic?.sub?.close();
    for (const h of this.shardHolders.values()) h.sub?.close();
    this.control?.disconnect();
  }
}
