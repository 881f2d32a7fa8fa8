// Holds the subscriptions of `tail`: classic traffic on one node, shard channels on their owners, through reconnects, slot moves and failovers.
import type { Redis } from 'ioredis';
import type { ConnectionTarget } from '../redis/target.js';
import { slotOwners, versionAtLeast, type DiscoveredTopology, type TopologyNode } from '../stats/topology.js';
import { hashSlot } from '../stats/hash-slot.js';
import { escapeGlob } from '../stats/glob.js';
import { encodeName } from '../stats/channel-name.js';
import { shardRole } from '../stats/own-subscriptions.js';
import { parseMoved } from '../stats/cluster-topology.js';
import { GapBook } from '../stats/tail-gaps.js';
import { openNode, type NodeAddress } from '../redis/connect.js';
import { describeRedisError, rethrowIfBug } from '../redis/errors.js';
import { discoverTopology, infoAsker } from '../redis/discover.js';
import { listChannels } from '../redis/queries.js';
import { RawSubscriber, type MessageHandler } from '../redis/raw-subscriber.js';
import { UsageError } from '../errors.js';

export interface TailSubscriptions {
  /** PSUBSCRIBE patterns (classic traffic). */
  patterns: string[];
  /** Exact channels: heard through a pattern that matches only them, so NUMSUB never counts tail. */
  channels: string[];
  /** SSUBSCRIBE channels, each on its owner. */
  shardChannels: string[];
  /** Follow every shard channel that exists, found with SHARDCHANNELS on every node. */
  allShards: boolean;
}

export interface TailerEvents {
  /** Every message, with the address of the node it was read from. */
  onMessage: (...args: [...Parameters<MessageHandler>, node: string]) => void;
  /** Subscriptions held on `node` (an address) were lost: messages from now on may be missing until `onResume`. */
  onGap: (node: string, reason: string) => void;
  /** What a gap took is held again, on `node` (an address; after a failover or a slot move, another node). */
  onResume: (node: string, downMs: number) => void;
  /** Something the user should know once (printed on stderr). */
  onNotice: (text: string) => void;
}

export interface TailerOptions {
  /** How often shard channels are looked for again with --shards. @default 3000 */
  rediscoverMs?: number;
}

const DEFAULT_REDISCOVER_MS = 3000;
/** Retries after a failed attempt to get everything back start here and double up to the max. */
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;
/** Shard channels per connection, whose name lists them all. */
const SHARD_CHANNELS_PER_CONNECTION = 64;
/** Failed reconnects to the classic node before another node is tried (a cluster only). */
const CLASSIC_ATTEMPTS_PER_NODE = 2;

/** The GapBook keys: the classic connection, and each shard channel. */
const CLASSIC_KEY = 'classic';
const SHARD_PREFIX = 'shard:';
const shardKey = (name: string) => SHARD_PREFIX + name;

/** The classic connection, or the one connection holding shard channels on a node. */
interface Connection {
  node: TopologyNode;
  sub: RawSubscriber;
  /** Shard channels asked for on this connection, and whether the server confirmed them yet. */
  shards: Map<string, 'asked' | 'held'>;
}

export class Tailer {
  private topology!: DiscoveredTopology;
  /** The connection topology questions go to; it moves to another node when its node goes away. */
  private control: { client: Redis; node: NodeAddress } | undefined;
  /** Where classic traffic is heard (any node of a cluster), when patterns or channels are asked for. */
  private classicNode: TopologyNode | undefined;
  private classic: Connection | undefined;
  private classicFailures = 0;
  /**
   * Shard connections, each named after the channels it was opened for (how every pubsub-mon
   * process leaves them out of the counts): a batch of channels placed together on one node shares
   * one, and a channel is never held twice.
   */
  private readonly shardConns = new Set<Connection>();
  /** Every shard channel to hold. */
  private readonly wanted = new Set<string>();
  /** Every subscriber connection made and not closed yet, connecting ones too, so close() ends them all. */
  private readonly subs = new Set<RawSubscriber>();
  private readonly gaps = new GapBook();
  /** The topology may be out of date (a connection was lost, a subscription ended or was refused). */
  private stale = false;
  /**
   * Slots a MOVED reply sent elsewhere, to their node's address. They outrank the topology, which
   * the node asked may not know yet, until subscribing there fails.
   */
  private readonly moved = new Map<number, string>();
  private readonly noticed = new Set<string>();
  private running = false;
  private again = false;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryMs = RETRY_MIN_MS;
  private discoveryTimer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(
    private readonly target: ConnectionTarget,
    private readonly subscriptions: TailSubscriptions,
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
    const seed = { host: this.target.host, port: this.target.port };
    this.control = { client: await openNode(this.target, seed, 'tail-control'), node: seed };
    this.topology = await discoverTopology(this.control.client, seed, { forceCluster: this.target.forceCluster, ask: infoAsker(this.target, 'tail-control') });
    const sharded = versionAtLeast(this.topology.version, 7);
    const { patterns, channels, shardChannels, allShards } = this.subscriptions;
    if (!sharded && (shardChannels.length > 0 || allShards)) {
      throw new UsageError(`sharded pub/sub needs Redis 7.0 or newer; ${seed.host}:${seed.port} runs ${this.topology.version}`);
    }
    // Any node hears every classic PUBLISH on a cluster (the bus broadcasts it): one is enough, and
    // more would print each message more than once.
    const seedNode = this.topology.nodes.find((n) => n.host === seed.host && n.port === seed.port) ?? this.topology.nodes[0]!;
    if (patterns.length > 0 || channels.length > 0) {
      this.classicNode = seedNode;
      this.classic = await this.openClassic(seedNode);
    }
    for (const name of shardChannels) this.wanted.add(name);
    if (allShards) for (const name of await this.discoverShardChannels()) this.wanted.add(name);
    await this.placeShards(true);
    if (sharded && patterns.length > 0 && !allShards) await this.noticeUnheardShards();
    if (allShards) this.scheduleDiscovery();
  }

  // ---- getting everything back: one pass at a time, so one connection per node ----

  /** Runs a pass after `delayMs` (at once when 0); a call during a pass makes another follow it. */
  private wake(delayMs = 0): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.retryTimer) {
      if (delayMs > 0) return;
      clearTimeout(this.retryTimer);
    }
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      void this.run();
    }, delayMs);
  }

  private async run(): Promise<void> {
    this.running = true;
    let complete = false;
    try {
      complete = await this.pass();
    } finally {
      this.running = false;
    }
    if (this.closed) return;
    if (complete) this.retryMs = RETRY_MIN_MS;
    if (this.again) {
      this.again = false;
      this.wake(0);
    } else if (!complete) {
      this.wake(this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, RETRY_MAX_MS);
    }
  }

  /**
   * Announces new gaps, reads the topology again if it may have changed, reconnects the classic
   * connection and places every shard channel not held on its owner, then says what came back.
   * True when everything is held.
   */
  private async pass(): Promise<boolean> {
    for (const g of this.gaps.announce()) this.events.onGap(g.node, g.reason);
    if (this.stale && (await this.refreshTopology())) this.stale = false;
    if (this.closed) return true;
    const classicHeld = this.classicNode === undefined || this.classic !== undefined || (await this.restoreClassic());
    const shardsHeld = await this.placeShards(false);
    if (this.closed) return true;
    for (const r of this.gaps.resolve((key) => this.heldOn(key))) this.events.onResume(r.node, r.downMs);
    return classicHeld && shardsHeld;
  }

  /** The address of the node holding `key` (confirmed by the server), if any. */
  private heldOn(key: string): string | undefined {
    if (key === CLASSIC_KEY) return this.classic?.node.address;
    const name = key.slice(SHARD_PREFIX.length);
    for (const conn of this.shardConns) if (conn.shards.get(name) === 'held') return conn.node.address;
    return undefined;
  }

  /**
   * Reads the topology from any node that answers: the control connection's node, the other known
   * nodes (those the cluster does not call failed first), then the seed. False if none answered.
   */
  private async refreshTopology(): Promise<boolean> {
    const failed = new Set(this.topology.failedNodeIds);
    const candidates = new Map<string, NodeAddress>();
    const add = (n: NodeAddress) => candidates.set(`${n.host}:${n.port}`, { host: n.host, port: n.port });
    if (this.control) add(this.control.node);
    for (const n of this.topology.nodes) if (!failed.has(n.id)) add(n);
    for (const n of this.topology.nodes) add(n);
    add({ host: this.target.host, port: this.target.port });
    for (const node of candidates.values()) {
      try {
        const client = await this.controlOn(node);
        if (!client) return false;
        this.topology = await discoverTopology(client, node, { ask: infoAsker(this.target, 'tail-control') });
        return true;
      } catch (err) {
        rethrowIfBug(err);
        // this node cannot say: ask the next
      }
    }
    return false;
  }

  /** A ready control connection to `node`: the current one, or a new one that replaces it. */
  private async controlOn(node: NodeAddress): Promise<Redis | undefined> {
    const current = this.control;
    if (current && current.node.host === node.host && current.node.port === node.port && current.client.status === 'ready') return current.client;
    const client = await openNode(this.target, node, 'tail-control');
    if (this.closed) {
      client.disconnect();
      return undefined;
    }
    this.control?.client.disconnect();
    this.control = { client, node };
    return client;
  }

  // ---- classic traffic ----

  private async openClassic(node: TopologyNode): Promise<Connection> {
    const sub = this.subscriber(node, 'tail');
    // An exact channel is heard through a pattern that matches only it: NUMSUB then never counts
    // tail as a subscriber. Its messages arrive as pmessage of that pattern and are told as plain
    // messages again, as a SUBSCRIBE would have given them.
    const exact = new Set(this.subscriptions.channels.map((name) => encodeName(escapeGlob(name)).toString('latin1')));
    if (exact.size > 0) {
      const forward = sub.onMessage;
      sub.onMessage = (kind, pattern, channel, payload, receivedAt) => {
        if (kind === 'pmessage' && pattern && exact.has(pattern.toString('latin1'))) forward('message', undefined, channel, payload, receivedAt);
        else forward(kind, pattern, channel, payload, receivedAt);
      };
    }
    const conn: Connection = { node, sub, shards: new Map() };
    sub.onClose = (reason) => {
      this.subs.delete(sub);
      if (this.classic !== conn) return;
      this.classic = undefined;
      this.gaps.connectionLost(node.address, [CLASSIC_KEY], reason);
      this.stale = true;
      this.wake();
    };
    try {
      await sub.connect();
      await sub.subscribe('psubscribe', [...this.subscriptions.patterns, ...this.subscriptions.channels.map(escapeGlob)]);
    } catch (err) {
      this.closeSubscriber(sub);
      throw err;
    }
    return conn;
  }

  /** Reconnects classic traffic; on a cluster, to another node once its own keeps failing. */
  private async restoreClassic(): Promise<boolean> {
    let node = this.classicNode!;
    if (this.topology.mode === 'cluster') {
      const current = this.topology.nodes.find((n) => n.id === node.id);
      const failed = new Set(this.topology.failedNodeIds);
      if (!current || failed.has(node.id) || this.classicFailures >= CLASSIC_ATTEMPTS_PER_NODE) {
        const others = this.topology.nodes.filter((n) => n.id !== node.id && !failed.has(n.id));
        if (others.length > 0) {
          node = others[Math.floor(Math.random() * others.length)]!;
          this.classicNode = node;
          this.classicFailures = 0;
        }
      } else node = current;
    }
    try {
      const conn = await this.openClassic(node);
      if (this.closed) return true;
      this.classic = conn;
      this.classicFailures = 0;
      return true;
    } catch (err) {
      this.refused(err, node);
      this.classicFailures++;
      return false;
    }
  }

  // ---- shard channels ----

  /**
   * Subscribes every wanted shard channel that no connection holds or has asked for, on its
   * owner's connection (opened if needed); closes shard connections left with nothing. A channel
   * stays where it is held until the server ends it there, so it is never held twice. `strict`
   * (the first pass) throws the first error instead of leaving it to a later pass.
   */
  private async placeShards(strict: boolean): Promise<boolean> {
    const placed = new Set<string>();
    for (const conn of this.shardConns) for (const name of conn.shards.keys()) placed.add(name);
    const ownerOf = this.owners();
    const todo = new Map<string, { node: TopologyNode; names: string[] }>();
    let complete = true;
    for (const name of this.wanted) {
      if (placed.has(name)) continue;
      const node = ownerOf(name);
      // No node serves the slot right now (mid-failover): a later pass finds it.
      if (!node) {
        complete = false;
        continue;
      }
      let entry = todo.get(node.id);
      if (!entry) todo.set(node.id, (entry = { node, names: [] }));
      entry.names.push(name);
    }
    for (const conn of this.shardConns) {
      if (conn.shards.size === 0) {
        this.shardConns.delete(conn);
        this.closeSubscriber(conn.sub);
      }
    }
    // A connection's name lists its channels: a few dozen per connection keep names short.
    const batches = [...todo.values()].flatMap(({ node, names }) =>
      Array.from({ length: Math.ceil(names.length / SHARD_CHANNELS_PER_CONNECTION) }, (_, i) => ({ node, names: names.slice(i * SHARD_CHANNELS_PER_CONNECTION, (i + 1) * SHARD_CHANNELS_PER_CONNECTION) })),
    );
    const results = await Promise.all(batches.map(({ node, names }) => this.holdOn(node, names, strict)));
    return complete && results.every(Boolean);
  }

  /** The node that should hold a shard channel: its slot's primary on a cluster, else the classic node. */
  private owners(): (name: string) => TopologyNode | undefined {
    if (this.topology.mode !== 'cluster') {
      const node = this.classicNode ?? this.topology.nodes[0];
      return () => node;
    }
    const bySlot = slotOwners(this.topology);
    return (name) => {
      const slot = hashSlot(name);
      const sentTo = this.moved.get(slot);
      const redirected = sentTo === undefined ? undefined : this.topology.nodes.find((n) => n.address === sentTo);
      return redirected ?? bySlot(slot);
    };
  }

  /** Opens one connection on `node` named after `names`, and subscribes each of them on it. */
  private async holdOn(node: TopologyNode, names: string[], strict: boolean): Promise<boolean> {
    let c: Connection;
    try {
      c = await this.openShard(node, names);
    } catch (err) {
      if (strict) throw err;
      this.refused(err, node, names);
      return false;
    }
    if (this.closed) return true;
    this.shardConns.add(c);
    // One channel per SSUBSCRIBE: several in one call must share a slot, else CROSSSLOT.
    const results = await Promise.all(
      names.map(async (name) => {
        c.shards.set(name, 'asked');
        try {
          await c.sub.subscribe('ssubscribe', [name]);
          // The server may have ended it already, right after confirming (its slot moved meanwhile).
          if (c.shards.get(name) === 'asked') c.shards.set(name, 'held');
          return c.shards.has(name);
        } catch (err) {
          c.shards.delete(name);
          if (strict) throw err;
          this.refused(err, node, [name]);
          return false;
        }
      }),
    );
    return results.every(Boolean);
  }

  private async openShard(node: TopologyNode, names: string[]): Promise<Connection> {
    const sub = this.subscriber(node, shardRole('tail-shard', names));
    const conn: Connection = { node, sub, shards: new Map() };
    sub.onClose = (reason) => {
      this.subs.delete(sub);
      if (!this.shardConns.has(conn)) return;
      this.shardConns.delete(conn);
      const held = [...conn.shards].filter(([, state]) => state === 'held').map(([name]) => shardKey(name));
      conn.shards.clear();
      this.gaps.connectionLost(node.address, held, reason);
      this.stale = true;
      this.wake();
    };
    sub.onServerUnsubscribe = (kind, name) => {
      if (kind !== 'ssubscribe') return;
      const state = conn.shards.get(name);
      if (state === undefined) return;
      conn.shards.delete(name);
      if (state === 'held') this.gaps.subscriptionEnded(node.address, shardKey(name), name);
      this.stale = true;
      this.wake();
    };
    try {
      await sub.connect();
    } catch (err) {
      this.closeSubscriber(sub);
      throw err;
    }
    return conn;
  }

  /**
   * A failed connect or subscribe during a later pass: the topology may have changed. A MOVED
   * reply says where a channel's slot went; a node a MOVED sent us to that fails is not trusted
   * again. A refusal the user must fix is said once; a bug is rethrown.
   */
  private refused(err: unknown, node: TopologyNode, channels: readonly string[] = []): void {
    const e = describeRedisError(err, node.address, this.target.username);
    this.stale = true;
    const moved = parseMoved(e.message);
    for (const name of channels) {
      const slot = hashSlot(name);
      if (this.moved.get(slot) === node.address) this.moved.delete(slot);
      if (moved?.slot === slot) this.moved.set(slot, moved.address);
    }
    if ((e.kind === 'permission' || e.kind === 'auth') && !this.noticed.has(e.message)) {
      this.noticed.add(e.message);
      this.events.onNotice(`${e.message}; retrying`);
    }
  }

  /** A subscriber connection to `node` whose messages carry the node's address. */
  private subscriber(node: TopologyNode, role: string): RawSubscriber {
    const sub = new RawSubscriber(this.target, node, role);
    const address = node.address;
    const forward = this.events.onMessage;
    sub.onMessage = (kind, pattern, channel, payload, receivedAt) => forward(kind, pattern, channel, payload, receivedAt, address);
    this.subs.add(sub);
    return sub;
  }

  private closeSubscriber(sub: RawSubscriber): void {
    this.subs.delete(sub);
    sub.close();
  }

  // ---- finding shard channels (--shards) ----

  /** The shard channels that have a subscriber somewhere: SHARDCHANNELS answers per node. */
  private async discoverShardChannels(): Promise<Set<string>> {
    const names = new Set<string>();
    await Promise.all(
      this.topology.nodes.map(async (node) => {
        const control = this.control;
        const reuse = control && control.node.host === node.host && control.node.port === node.port && control.client.status === 'ready' ? control.client : undefined;
        let client: Redis | undefined;
        try {
          client = reuse ?? (await openNode(this.target, node, 'tail-control'));
          for (const n of await listChannels(client, 'SHARDCHANNELS')) names.add(n);
        } catch (err) {
          rethrowIfBug(err);
          // a node that is down is retried at the next discovery
        } finally {
          if (client && client !== reuse) client.disconnect();
        }
      }),
    );
    return names;
  }

  private async noticeUnheardShards(): Promise<void> {
    const found = await this.discoverShardChannels();
    if (found.size === 0) return;
    this.events.onNotice(
      `${found.size} shard channel${found.size > 1 ? 's' : ''} exist${found.size > 1 ? '' : 's'} (e.g. ${[...found][0]}): pattern subscriptions never receive SPUBLISH messages; add --shards to follow them too, or --shard NAME`,
    );
  }

  /** --shards: looks for new shard channels every few seconds, with a fresh look at the topology. */
  private scheduleDiscovery(): void {
    this.discoveryTimer = setTimeout(() => {
      void this.discoverShardChannels().then((names) => {
        if (this.closed) return;
        for (const name of names) this.wanted.add(name);
        this.stale = true;
        this.wake();
        this.scheduleDiscovery();
      });
    }, this.options.rediscoverMs ?? DEFAULT_REDISCOVER_MS);
  }

  close(): void {
    this.closed = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    if (this.discoveryTimer) clearTimeout(this.discoveryTimer);
    for (const sub of this.subs) sub.close();
    this.subs.clear();
    this.shardConns.clear();
    this.classic = undefined;
    this.control?.client.disconnect();
  }
}
