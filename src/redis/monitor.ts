// One deployment under observation: a connection per node, topology kept fresh, one Snapshot per refresh.
import type { Redis } from 'ioredis';
import type { ConnectionTarget } from './target.js';
import type { DiscoveredTopology, TopologyNode } from '../stats/topology.js';
import { slotOwners, versionAtLeast } from '../stats/topology.js';
import { openNode } from './connect.js';
import { describeRedisError, rethrowIfBug } from './errors.js';
import { discoverTopology } from './discover.js';
import { readNode } from './node-reading.js';
import { buildNodeRow, mergeChannels, totalPublishRate, type ChannelRow, type NodeReading, type NodeRow, type Snapshot } from '../stats/snapshot.js';
import type { OwnSubscriptions } from '../stats/own-subscriptions.js';
import { commandCalls, infoNumber, parseCommandStats } from '../stats/info.js';
import { RateSampler } from './sampler.js';
import { globMatch } from '../stats/glob.js';
import { CounterRate } from '../stats/counter-rate.js';
import { shardChannelsElsewhere } from '../stats/shard-placement.js';

export interface MonitorOptions {
  /** Connection name suffix: `pubsub-mon:<role>`. */
  role: string;
  /** Server-side glob on channel names. */
  pattern?: string;
  /** Keep keyspace-notification channels. @default false */
  includeKeyspace?: boolean;
  /** Sample message rates per channel with the tool's own subscriptions. @default false */
  rates?: boolean;
  /** Read INFO, commandstats, CLIENT LIST and limits for the node table. @default true */
  health?: boolean;
  /** Keep going when nodes drop (watch) rather than failing (check). @default false */
  reconnect?: boolean;
  /** How often the topology is asked for again, in ms. @default 5000 */
  rediscoverMs?: number;
  clock?: () => number;
}

export const DEFAULT_MONITOR_OPTIONS: Required<Pick<MonitorOptions, 'health' | 'reconnect' | 'rediscoverMs'>> = {
  health: true,
  reconnect: false,
  rediscoverMs: 5000,
};

/** How often the (rarely changed) output-buffer limit is read again. */
const LIMITS_REFRESH_MS = 30_000;

interface NodeState {
  client?: Redis;
  lastError?: string;
  /** The last error of the node's connection itself, what `reconnecting (...)` is built from. */
  linkError?: string;
  publishRate: CounterRate;
  disconnectionsLast?: number;
  disconnectionsSeen: number;
  limitsReadAt: number;
  limits?: NodeReading['pubsubLimit'];
  limitsError?: string;
  opening?: Promise<void>;
}

export class Monitor {
  private topology: DiscoveredTopology;
  private discoveredAt: number;
  private readonly states = new Map<string, NodeState>();
  private readonly sampler: RateSampler | undefined;
  private readonly clock: () => number;
  private readonly opts: MonitorOptions & typeof DEFAULT_MONITOR_OPTIONS;

  private constructor(
    private readonly target: ConnectionTarget,
    options: MonitorOptions,
    seed: Redis,
    topology: DiscoveredTopology,
  ) {
    this.opts = { ...DEFAULT_MONITOR_OPTIONS, ...options };
    this.clock = options.clock ?? Date.now;
    this.topology = topology;
    this.discoveredAt = this.clock();
    const seedNode = topology.nodes.find((n) => n.host === target.host && n.port === target.port);
    if (seedNode) this.state(seedNode.id).client = seed;
    else seed.disconnect();
    this.sampler = options.rates ? new RateSampler(target, Boolean(options.includeKeyspace), this.clock) : undefined;
  }

  /** Connects to the seed and discovers the deployment; a seed that cannot be reached or read is fatal. */
  static async open(target: ConnectionTarget, options: MonitorOptions): Promise<Monitor> {
    const seedAddress = { host: target.host, port: target.port };
    const seed = await openNode(target, seedAddress, options.role, { reconnect: Boolean(options.reconnect) });
    try {
      const topology = await discoverTopology(seed, seedAddress, target.forceCluster);
      return new Monitor(target, options, seed, topology);
    } catch (err) {
      seed.disconnect();
      throw describeRedisError(err, `${target.host}:${target.port}`, target.username);
    }
  }

  get mode(): 'standalone' | 'cluster' {
    return this.topology.mode;
  }

  get nodes(): TopologyNode[] {
    return this.topology.nodes;
  }

  /** Whether the seed's server has sharded pub/sub (7.0+). */
  get supportsSharded(): boolean {
    return versionAtLeast(this.topology.version, 7);
  }

  private state(id: string): NodeState {
    let s = this.states.get(id);
    if (!s) {
      s = { publishRate: new CounterRate(), disconnectionsSeen: 0, limitsReadAt: -Infinity };
      this.states.set(id, s);
    }
    return s;
  }

  /** A ready client for the node, opening one if needed; undefined (with lastError set) if unreachable. */
  private async client(node: TopologyNode): Promise<Redis | undefined> {
    const s = this.state(node.id);
    if (s.client && s.client.status === 'end') s.client = undefined;
    if (!s.client) {
      s.opening ??= openNode(this.target, node, this.opts.role, { reconnect: this.opts.reconnect })
        .then((c) => {
          s.client = c;
          c.on('error', (err: unknown) => {
            s.linkError = describeRedisError(err, node.address, this.target.username).message;
          });
        })
        .catch((err: unknown) => {
          s.lastError = describeRedisError(err, node.address, this.target.username).message;
        })
        .finally(() => {
          s.opening = undefined;
        });
      await s.opening;
    }
    if (!s.client) return undefined;
    if (s.client.status !== 'ready') {
      // Built from the connection's own error each time, never from the last message: one
      // `reconnecting (...)` however many refreshes it lasts.
      const cause = s.linkError ?? 'connection lost';
      s.lastError = s.client.status === 'reconnecting' || s.client.status === 'connecting' ? `reconnecting (${cause})` : cause;
      return undefined;
    }
    return s.client;
  }

  /** Asks any reachable node for the topology again; keeps the old one if none answers. */
  private async rediscover(): Promise<void> {
    const candidates = [...this.topology.nodes].sort((a, b) => Number(this.states.get(b.id)?.client?.status === 'ready') - Number(this.states.get(a.id)?.client?.status === 'ready'));
    for (const node of candidates) {
      const s = this.states.get(node.id);
      if (s?.client?.status !== 'ready') continue;
      try {
        this.topology = await discoverTopology(s.client, node, false);
        this.discoveredAt = this.clock();
        for (const id of [...this.states.keys()]) {
          if (!this.topology.nodes.some((n) => n.id === id)) {
            this.states.get(id)?.client?.disconnect();
            this.states.delete(id);
          }
        }
        return;
      } catch (err) {
        rethrowIfBug(err);
        // try the next node
      }
    }
  }

  private ownSubscriptions(): OwnSubscriptions {
    const connections = new Map<string, { total: number; pubsub: number }>();
    for (const [id, s] of this.states) if (s.client?.status === 'ready') connections.set(id, { total: 1, pubsub: 0 });
    const patternNodes = new Set<string>();
    let shardChannels = new Map<string, Set<string>>();
    if (this.sampler) {
      for (const [id, n] of this.sampler.connectionCounts()) {
        const c = connections.get(id) ?? { total: 0, pubsub: 0 };
        connections.set(id, { total: c.total + n, pubsub: c.pubsub + n });
      }
      const p = this.sampler.patternNodeId;
      if (p) patternNodes.add(p);
      shardChannels = this.sampler.shardChannels();
    }
    return { patternNodes, shardChannels, channels: new Map(), connections };
  }

  /** Reads every node in parallel and folds the answers into one snapshot. */
  async snapshot(): Promise<Snapshot> {
    const now = this.clock();
    if (now - this.discoveredAt >= this.opts.rediscoverMs) await this.rediscover();
    const topology = this.topology;
    const own = this.ownSubscriptions();
    const readings = new Map<string, NodeReading>();
    const errors = new Map<string, string>();
    const sharded = this.supportsSharded;

    await Promise.all(
      topology.nodes.map(async (node) => {
        const s = this.state(node.id);
        const client = await this.client(node);
        if (!client) {
          errors.set(node.id, s.lastError ?? 'not reachable');
          return;
        }
        const wantLimits = this.opts.health && now - s.limitsReadAt >= LIMITS_REFRESH_MS;
        try {
          const reading = await readNode(
            client,
            node.address,
            { ...(this.opts.pattern ? { pattern: this.opts.pattern } : {}), includeKeyspace: Boolean(this.opts.includeKeyspace), sharded, health: this.opts.health, limits: wantLimits },
            this.target.username,
          );
          if (wantLimits) {
            s.limitsReadAt = now;
            s.limits = reading.pubsubLimit;
            s.limitsError = reading.limitsError;
          }
          if (s.limits) reading.pubsubLimit = s.limits;
          readings.set(node.id, reading);
        } catch (err) {
          const e = describeRedisError(err, node.address, this.target.username);
          // A permission problem is the user's to fix, not a node being down: stop here.
          if (e.kind === 'permission' || e.kind === 'auth') throw e;
          errors.set(node.id, e.message);
        }
      }),
    );

    const warnings: string[] = [];
    const nodes: NodeRow[] = topology.nodes.map((node) => {
      const s = this.state(node.id);
      const reading = readings.get(node.id);
      const counters: { publishPerSec?: number; obufDisconnections?: number } = {};
      if (reading?.info) {
        const stats = parseCommandStats(reading.info);
        const rate = s.publishRate.update(commandCalls(stats, 'publish') + commandCalls(stats, 'spublish'), now);
        if (rate !== undefined) counters.publishPerSec = rate;
        const disc = infoNumber(reading.info, 'client_output_buffer_limit_disconnections');
        if (disc !== undefined) {
          // A counter that went down means the server restarted: count from its new value.
          if (s.disconnectionsLast !== undefined) s.disconnectionsSeen += disc >= s.disconnectionsLast ? disc - s.disconnectionsLast : disc;
          s.disconnectionsLast = disc;
          counters.obufDisconnections = s.disconnectionsSeen;
        }
        if (reading.clientsError) warnings.push(`${node.address}: pub/sub clients and output buffers unknown (${reading.clientsError})`);
        if (s.limitsError) warnings.push(`${node.address}: output-buffer limit unknown (${s.limitsError})`);
      }
      return buildNodeRow(node, topology.mode, reading, errors.get(node.id), own, counters);
    });

    for (const node of topology.nodes) {
      if (errors.has(node.id)) warnings.push(`${node.address} (${node.role}) is down: ${errors.get(node.id)}; counts leave out its subscribers`);
    }
    if (!sharded) warnings.push(`sharded pub/sub needs Redis 7.0+ (this server is ${this.topology.version || 'older'}): shard channels not shown`);

    // A node lists a shard channel of a slot the topology gives to another shard: the slot moved.
    // Ask again now, or the channel would be missing until the next rediscovery.
    if (shardChannelsElsewhere(topology, readings).length > 0) await this.rediscover();
    let channels = mergeChannels(this.topology, readings, own);
    if (this.sampler) {
      channels = this.applyRates(channels, warnings);
      await this.updateSampler(this.topology, channels, errors);
    }
    const snapshot: Snapshot = {
      time: now,
      mode: topology.mode,
      channels,
      nodes,
      patternsPresent: nodes.some((n) => (n.numpat ?? 0) > 0),
      warnings,
    };
    const total = totalPublishRate(nodes, topology.mode);
    if (total !== undefined) snapshot.publishPerSec = total;
    return snapshot;
  }

  /**
   * Adds messages/s to each row, and rows for channels that carry traffic but have no subscriber.
   * A rate is only given over the time its subscription was held: otherwise it stays unknown.
   */
  private applyRates(rows: ChannelRow[], warnings: string[]): ChannelRow[] {
    const counts = this.sampler!.take();
    const perSec = (n: number | undefined, windowMs: number | undefined) => (windowMs === undefined ? undefined : ((n ?? 0) * 1000) / windowMs);
    for (const row of rows) {
      const rate = row.kind === 'shard' ? perSec(counts.shard.get(row.name), counts.shardWindowMs(row.name)) : perSec(counts.channel.get(row.name), counts.classicWindowMs);
      if (rate !== undefined) row.rate = rate;
    }
    const known = new Set(rows.filter((r) => r.kind === 'channel').map((r) => r.name));
    for (const [name, n] of counts.channel) {
      if (known.has(name)) continue;
      if (this.opts.pattern && !globMatch(this.opts.pattern, name)) continue;
      const rate = perSec(n, counts.classicWindowMs);
      rows.push({ name, kind: 'channel', subscribers: 0, ...(rate !== undefined ? { rate } : {}) });
    }
    if (this.sampler!.problem) warnings.push(`message rates incomplete: ${this.sampler!.problem}`);
    return rows;
  }

  /** Keeps the pattern subscription on a live node and shard subscriptions on each channel's owner. */
  private async updateSampler(topology: DiscoveredTopology, channels: ChannelRow[], errors: Map<string, string>): Promise<void> {
    const live = topology.nodes.filter((n) => !errors.has(n.id));
    // Prefer a replica: the sampler's traffic then stays off the primaries.
    await this.sampler!.ensurePattern([...live.filter((n) => n.role === 'replica'), ...live.filter((n) => n.role === 'primary')]);
    const wanted = new Map<string, { node: TopologyNode; channels: Set<string> }>();
    const ownerOf = topology.mode === 'cluster' ? slotOwners(topology) : undefined;
    const primary = topology.nodes.find((n) => n.role === 'primary');
    for (const row of channels) {
      if (row.kind !== 'shard' || row.subscribers === 0) continue;
      const owner = ownerOf && row.slot !== undefined ? ownerOf(row.slot) : primary;
      if (!owner || errors.has(owner.id)) continue;
      let entry = wanted.get(owner.id);
      if (!entry) wanted.set(owner.id, (entry = { node: owner, channels: new Set() }));
      entry.channels.add(row.name);
    }
    await this.sampler!.syncShards(wanted);
  }

  close(): void {
    this.sampler?.close();
    for (const s of this.states.values()) s.client?.disconnect();
    this.states.clear();
  }
}
