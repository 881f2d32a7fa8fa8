// One deployment under observation: a connection per node, topology kept fresh, one Snapshot per refresh.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { ConnectionTarget } from './target.js';
import type { DiscoveredTopology, TopologyNode } from '../stats/topology.js';
import { orderNodes, slotOwners, standaloneNode, versionAtLeast } from '../stats/topology.js';
import { openNode } from './connect.js';
import { ConnectionError, TimeoutError, type PubsubMonError } from '../errors.js';
import { describeRedisError, rethrowIfBug } from './errors.js';
import { discoverTopology, type InfoAsker } from './discover.js';
import { readInfo } from './queries.js';
import { readNode } from './node-reading.js';
import { attributionWarnings, buildNodeRow, isKeyspaceChannel, mergeChannels, totalPublishRate, withDeclaredChannels, type ChannelRow, type NodeReading, type NodeRow, type Snapshot } from '../stats/snapshot.js';
import type { OwnSubscriptions } from '../stats/own-subscriptions.js';
import { commandCalls, infoNumber, parseCommandStats } from '../stats/info.js';
import { RateSampler } from './sampler.js';
import { globMatch } from '../stats/glob.js';
import { byteString } from '../stats/channel-name.js';
import { CounterRate } from '../stats/counter-rate.js';
import { shardChannelsElsewhere } from '../stats/shard-placement.js';
import { sortClients, subscriberClients, type SubscriberClient } from '../stats/subscriber-clients.js';
import { clientIdentity, ReconnectTracker } from '../stats/reconnects.js';

export interface MonitorOptions {
  /** Connection name suffix: `pubsub-mon:<role>`. */
  role: string;
  /** Server-side glob on channel names. */
  pattern?: string;
  /** Keep keyspace-notification channels. @default false */
  includeKeyspace?: boolean;
  /** Sample message rates per channel with the tool's own subscriptions. @default false */
  rates?: boolean;
  /** With rates, also keep each channel's payload sizes (rows get `payloadSizes`), for a traffic profile. @default false */
  payloadSizes?: boolean;
  /** Read INFO, commandstats, CLIENT LIST and limits for the node table. @default true */
  health?: boolean;
  /** Keep going when nodes drop (watch) rather than failing (check). @default false */
  reconnect?: boolean;
  /** How often the topology is asked for again, in ms. @default 5000 */
  rediscoverMs?: number;
  /** How long a snapshot waits for nodes that have not answered yet; later answers show at the next one. @default the target's timeout */
  waitMs?: number;
  /** Channels every snapshot has a row for, with 0 subscribers when nobody subscribes (a contract's); their rates are sampled too. @default [] */
  declared?: ReadonlyArray<{ name: string; kind: 'channel' | 'shard' }>;
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
  /** The read in flight, and when it started. */
  read?: Promise<void>;
  readStartedAt?: number;
  /** The last reading that came back, and when. */
  last?: { at: number; reading: NodeReading };
  /** The last reading was already used for a snapshot: counters must not count it twice. */
  lastUsed?: boolean;
  /** The last read found no answer within the deadline (a hung or stopped node). */
  timedOut?: boolean;
  /** A refusal the user must fix (ACL, credentials): every snapshot fails with it. */
  fatal?: Error;
  /** Why the last attempt to connect failed. */
  openError?: PubsubMonError;
}

export class Monitor {
  private topology: DiscoveredTopology;
  private discoveredAt: number;
  private readonly states = new Map<string, NodeState>();
  private sampler: RateSampler | undefined;
  private readonly reconnects: ReconnectTracker;
  private readonly clock: () => number;
  private readonly opts: MonitorOptions & typeof DEFAULT_MONITOR_OPTIONS;
  /** Aborted by close(): connections still being opened are dropped, so the process can exit. */
  private readonly closing = new AbortController();

  private constructor(
    private readonly target: ConnectionTarget,
    options: MonitorOptions,
  ) {
    this.opts = { ...DEFAULT_MONITOR_OPTIONS, ...options };
    this.clock = options.clock ?? Date.now;
    this.topology = { mode: 'standalone', version: '', nodes: [], failedNodeIds: [], warnings: [] };
    this.discoveredAt = this.clock();
    this.sampler = options.rates ? this.newSampler() : undefined;
    this.reconnects = new ReconnectTracker({ clock: this.clock });
  }

  private newSampler(): RateSampler {
    return new RateSampler(this.target, Boolean(this.opts.includeKeyspace), this.clock, Boolean(this.opts.payloadSizes));
  }

  /** Connects to the seed and discovers the deployment; a seed that cannot be reached or read is fatal. */
  static async open(target: ConnectionTarget, options: MonitorOptions): Promise<Monitor> {
    const seedAddress = { host: target.host, port: target.port };
    const seed = await openNode(target, seedAddress, options.role, { reconnect: Boolean(options.reconnect) });
    const monitor = new Monitor(target, options);
    try {
      // The other nodes are asked through the monitor's own connections, which its reads then reuse.
      monitor.topology = await discoverTopology(seed, seedAddress, { forceCluster: target.forceCluster, ask: monitor.asker() });
      monitor.discoveredAt = monitor.clock();
    } catch (err) {
      seed.disconnect();
      monitor.close();
      throw describeRedisError(err, `${target.host}:${target.port}`, target.username);
    }
    const seedNode = monitor.topology.nodes.find((n) => n.host === target.host && n.port === target.port);
    if (seedNode && !monitor.state(seedNode.id).client) monitor.state(seedNode.id).client = seed;
    else seed.disconnect();
    return monitor;
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
      s.opening ??= openNode(this.target, node, this.opts.role, { reconnect: this.opts.reconnect, signal: this.closing.signal })
        .then((c) => {
          s.client = c;
          s.openError = undefined;
          c.on('error', (err: unknown) => {
            s.linkError = describeRedisError(err, node.address, this.target.username).message;
          });
        })
        .catch((err: unknown) => {
          const e = describeRedisError(err, node.address, this.target.username);
          s.openError = e;
          s.lastError = e.message;
          // Not answering at all is a hang: the next snapshot does not wait for this node again.
          if (e instanceof TimeoutError) s.timedOut = true;
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

  /**
   * Starts one round of reads on `node`, bounded as a whole by the deadline; its outcome lands in
   * the node's state, where snapshots find it whether they waited for it or not.
   */
  private startRead(node: TopologyNode, s: NodeState, sharded: boolean, now: number, deadlineMs: number): void {
    const wantLimits = this.opts.health && now - s.limitsReadAt >= LIMITS_REFRESH_MS;
    const options = { ...(this.opts.pattern ? { pattern: this.opts.pattern } : {}), includeKeyspace: Boolean(this.opts.includeKeyspace), sharded, health: this.opts.health, limits: wantLimits };
    s.readStartedAt = this.clock();
    const attempt = (async () => {
      const client = await this.client(node);
      if (!client) throw s.openError ?? new ConnectionError(s.lastError ?? 'not reachable');
      return readNode(client, node.address, options, this.target.username);
    })();
    s.read = withDeadline(attempt, deadlineMs)
      .then(
        (reading) => {
          if (wantLimits) {
            s.limitsReadAt = now;
            s.limits = reading.pubsubLimit;
            s.limitsError = reading.limitsError;
          }
          if (s.limits) reading.pubsubLimit = s.limits;
          s.last = { at: this.clock(), reading };
          s.lastUsed = false;
          s.timedOut = false;
          s.lastError = undefined;
        },
        (err: unknown) => {
          if (err === TIMED_OUT) {
            s.timedOut = true;
            return;
          }
          const e = describeRedisError(err, node.address, this.target.username);
          // A permission problem is the user's to fix, not a node being down: every snapshot says so.
          if (e.kind === 'permission' || e.kind === 'auth') s.fatal = e;
          s.timedOut = e instanceof TimeoutError;
          s.lastError = e.message;
          s.last = undefined;
        },
      )
      .finally(() => {
        s.read = undefined;
        s.readStartedAt = undefined;
      });
  }

  /**
   * Asks a standalone deployment's other nodes (ids are addresses there) through this monitor's own
   * connections, opened if need be and kept for its reads; a node that times out is not waited
   * for again by the next snapshot.
   */
  private asker(): InfoAsker {
    return async (address) => {
      const node = standaloneNode(address.host, address.port, 'replica');
      // Discovery waits no longer than a snapshot would: a hung replica must not hold up the first one.
      const budget = this.opts.waitMs ?? this.target.timeoutMs;
      const client = await withDeadline(this.client(node), budget).catch((err: unknown) => {
        if (err === TIMED_OUT) throw new TimeoutError(`no answer from ${node.address} within ${budget} ms`);
        throw err;
      });
      if (!client) throw this.state(node.id).openError ?? new ConnectionError(`${node.address}: not reachable`);
      return readInfo(client, 'replication');
    };
  }

  /** Asks any reachable node for the topology again; keeps the old one if none answers. */
  private async rediscover(): Promise<void> {
    const candidates = [...this.topology.nodes].sort((a, b) => Number(this.states.get(b.id)?.client?.status === 'ready') - Number(this.states.get(a.id)?.client?.status === 'ready'));
    for (const node of candidates) {
      const s = this.states.get(node.id);
      if (s?.client?.status !== 'ready') continue;
      try {
        this.topology = await discoverTopology(s.client, node, { ask: this.asker() });
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
    const patterns = new Map<string, number>();
    let shardChannels = new Map<string, Set<string>>();
    if (this.sampler) {
      for (const [id, n] of this.sampler.connectionCounts()) {
        const c = connections.get(id) ?? { total: 0, pubsub: 0 };
        connections.set(id, { total: c.total + n, pubsub: c.pubsub + n });
      }
      for (const id of this.sampler.patternNodeIds()) patterns.set(id, (patterns.get(id) ?? 0) + 1);
      shardChannels = this.sampler.shardChannels();
    }
    return { patterns, shardChannels, connections };
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
    const deadlineMs = this.target.timeoutMs;
    // A node the cluster marked failed that serves no slot was replaced by a promoted replica: the
    // deployment is complete without it. It is named, but it makes nothing unknown.
    const replaced = new Set(topology.nodes.filter((n) => topology.failedNodeIds.includes(n.id) && n.slots.length === 0).map((n) => n.id));

    const reads: Promise<void>[] = [];
    for (const node of topology.nodes) {
      if (replaced.has(node.id)) continue;
      const s = this.state(node.id);
      if (!s.read) this.startRead(node, s, sharded, now, deadlineMs);
      // A node that has not answered within the deadline is not waited for again until it does.
      if (s.read && !s.timedOut) reads.push(s.read);
    }
    await waitAtMost(Promise.all(reads), this.opts.waitMs ?? deadlineMs);

    const warnings: string[] = [...topology.warnings];
    for (const node of topology.nodes) {
      const s = this.state(node.id);
      if (s.fatal) throw s.fatal;
      if (replaced.has(node.id)) continue;
      const age = (at: number | undefined) => (at === undefined ? 'no reading yet' : `last reading ${((now - at) / 1000).toFixed(1)} s old`);
      const waited = s.read && s.readStartedAt !== undefined ? this.clock() - s.readStartedAt : 0;
      if (s.timedOut || waited >= deadlineMs) {
        errors.set(node.id, `no answer within ${deadlineMs} ms (timed out; ${age(s.last?.at)})`);
      } else if (s.read && s.last) {
        // Slow but within its deadline: its previous reading stands in, and says how old it is.
        readings.set(node.id, s.last.reading);
        warnings.push(`${node.address} has not answered for ${(waited / 1000).toFixed(1)} s: showing its ${age(s.last.at)}`);
      } else if (s.read) {
        errors.set(node.id, `no answer yet after ${(waited / 1000).toFixed(1)} s`);
      } else if (s.lastError !== undefined || !s.last) {
        errors.set(node.id, s.lastError ?? 'not reachable');
      } else {
        readings.set(node.id, s.last.reading);
      }
    }

    // Shard by shard, primary first: rows stay in place whatever order the server listed the nodes in.
    const ordered = orderNodes(topology.nodes);
    const nodes: NodeRow[] = ordered.map((node) => {
      if (replaced.has(node.id)) return { address: node.address, role: node.role, up: false, replaced: true, error: 'marked failed by the cluster; its slots are served by another node' };
      const s = this.state(node.id);
      const reading = readings.get(node.id);
      const counters: { publishPerSec?: number; obufDisconnections?: number } = {};
      if (reading?.info && !s.lastUsed) {
        const stats = parseCommandStats(reading.info);
        const rate = s.publishRate.update(commandCalls(stats, 'publish') + commandCalls(stats, 'spublish'), s.last?.at ?? now);
        if (rate !== undefined) counters.publishPerSec = rate;
        const disc = infoNumber(reading.info, 'client_output_buffer_limit_disconnections');
        if (disc !== undefined) {
          // A counter that went down means the server restarted: count from its new value.
          if (s.disconnectionsLast !== undefined) s.disconnectionsSeen += disc >= s.disconnectionsLast ? disc - s.disconnectionsLast : disc;
          s.disconnectionsLast = disc;
        }
      }
      if (reading) {
        s.lastUsed = true;
        if (s.disconnectionsLast !== undefined) counters.obufDisconnections = s.disconnectionsSeen;
        if (reading.clientsError) warnings.push(`${node.address}: CLIENT LIST refused (${reading.clientsError}): pub/sub clients and output buffers unknown, patterns taken from NUMPAT, and other pubsub-mon processes' shard subscriptions counted`);
        if (s.limitsError) warnings.push(`${node.address}: output-buffer limit unknown (${s.limitsError})`);
      }
      const row = buildNodeRow(node, topology.mode, reading, errors.get(node.id), own, counters);
      if (topology.mode === 'cluster') {
        const primary = node.role === 'primary' ? node : topology.nodes.find((n) => n.id === node.shardId || n.id === node.primaryId);
        if (primary) row.shard = primary.address;
      }
      return row;
    });

    for (const node of topology.nodes) {
      if (replaced.has(node.id)) warnings.push(`${node.address} is marked failed by the cluster and serves no slot anymore (a replica took over): not counted`);
      else if (errors.has(node.id)) warnings.push(`${node.address} (${node.role}) is down: ${errors.get(node.id)}; counts leave out its subscribers`);
    }
    if (!sharded) warnings.push(`sharded pub/sub needs Redis 7.0+ (this server is ${this.topology.version || 'older'}): shard channels not shown`);

    // A node lists a shard channel of a slot the topology gives to another shard: the slot moved.
    // Ask again now, or the channel would be missing until the next rediscovery.
    if (shardChannelsElsewhere(topology, readings).length > 0) await this.rediscover();
    warnings.push(...attributionWarnings(this.topology, readings));
    let channels = mergeChannels(this.topology, readings, own);
    const pattern = this.opts.pattern;
    const declared = (this.opts.declared ?? []).filter((d) => pattern === undefined || globMatch(byteString(pattern), byteString(d.name)));
    channels = withDeclaredChannels(channels, declared, this.topology);
    // Held in a local: watch's r key may close the sampler while this refresh awaits.
    const sampler = this.sampler;
    if (sampler) {
      channels = this.applyRates(sampler, channels, warnings);
      await this.updateSampler(sampler, this.topology, channels, errors);
    }
    const { clients, clientsUnknown } = this.subscribers(ordered, readings);
    const snapshot: Snapshot = {
      time: now,
      mode: topology.mode,
      channels,
      nodes,
      patternsPresent: nodes.some((n) => (n.numpat ?? 0) > 0),
      warnings,
      clients: sortClients(clients, 'omem', nodes.map((n) => n.address)),
      clientsUnknown,
      flapping: new Set(clients.filter((c) => c.flapping).map(clientIdentity)).size,
    };
    const total = totalPublishRate(nodes, topology.mode);
    if (total !== undefined) snapshot.publishPerSec = total;
    return snapshot;
  }

  /**
   * Every node's subscriber connections, with their reconnections counted; the nodes that are up
   * but gave no CLIENT LIST are named, so the list is never taken for complete when it is not.
   */
  private subscribers(nodes: readonly TopologyNode[], readings: ReadonlyMap<string, NodeReading>): { clients: SubscriberClient[]; clientsUnknown: string[] } {
    const clients: SubscriberClient[] = [];
    const clientsUnknown: string[] = [];
    for (const node of nodes) {
      const reading = readings.get(node.id);
      if (!reading) continue;
      if (!reading.clients) {
        clientsUnknown.push(node.address);
        continue;
      }
      clients.push(...this.reconnects.observe(node.address, subscriberClients(node, reading.clients, reading.pubsubLimit)));
    }
    return { clients, clientsUnknown };
  }

  /**
   * Adds messages/s to each row, and rows for channels that carry traffic but have no subscriber.
   * A rate is only given over the time its subscription was held: otherwise it stays unknown.
   */
  private applyRates(sampler: RateSampler, rows: ChannelRow[], warnings: string[]): ChannelRow[] {
    const counts = sampler.take();
    const perSec = (n: number | undefined, windowMs: number | undefined) => (windowMs === undefined ? undefined : ((n ?? 0) * 1000) / windowMs);
    for (const row of rows) {
      const classicWindow = isKeyspaceChannel(row.name) ? counts.keyspaceWindowMs : counts.classicWindowMs;
      const windowMs = row.kind === 'shard' ? counts.shardWindowMs(row.name) : classicWindow;
      const messages = row.kind === 'shard' ? counts.shard.get(row.name) : counts.channel.get(row.name);
      const rate = perSec(messages, windowMs);
      if (rate !== undefined && windowMs !== undefined) {
        row.rate = rate;
        row.messages = messages ?? 0;
        row.sampledMs = windowMs;
        const sizes = (row.kind === 'shard' ? counts.shardSizes : counts.channelSizes)?.get(row.name);
        if (sizes) row.payloadSizes = sizes;
      }
    }
    const known = new Set(rows.filter((r) => r.kind === 'channel').map((r) => r.name));
    for (const [name, n] of counts.channel) {
      if (known.has(name)) continue;
      if (this.opts.pattern && !globMatch(byteString(this.opts.pattern), byteString(name))) continue;
      const windowMs = isKeyspaceChannel(name) ? counts.keyspaceWindowMs : counts.classicWindowMs;
      const rate = perSec(n, windowMs);
      const sizes = counts.channelSizes?.get(name);
      rows.push({ name, kind: 'channel', subscribers: 0, ...(rate !== undefined && windowMs !== undefined ? { rate, messages: n, sampledMs: windowMs, ...(sizes ? { payloadSizes: sizes } : {}) } : {}) });
    }
    if (sampler.problem) warnings.push(`message rates incomplete: ${sampler.problem}`);
    return rows;
  }

  /** Keeps the pattern subscription on a live node and shard subscriptions on each channel's owner. */
  private async updateSampler(sampler: RateSampler, topology: DiscoveredTopology, channels: ChannelRow[], errors: Map<string, string>): Promise<void> {
    const live = topology.nodes.filter((n) => !errors.has(n.id));
    // Prefer a replica: the sampler's traffic then stays off the primaries.
    await sampler.ensurePattern([...live.filter((n) => n.role === 'replica'), ...live.filter((n) => n.role === 'primary')]);
    // Keyspace notifications are emitted where keys are written: on every primary, each its own.
    await sampler.ensureKeyspace(live.filter((n) => n.role === 'primary'));
    const wanted = new Map<string, { node: TopologyNode; channels: Set<string> }>();
    const declaredShard = new Set((this.opts.declared ?? []).filter((d) => d.kind === 'shard').map((d) => d.name));
    const ownerOf = topology.mode === 'cluster' ? slotOwners(topology) : undefined;
    const primary = topology.nodes.find((n) => n.role === 'primary');
    for (const row of channels) {
      // A declared channel is sampled even with no subscriber: its contract may ask for traffic.
      if (row.kind !== 'shard' || (row.subscribers === 0 && !declaredShard.has(row.name))) continue;
      const owner = ownerOf && row.slot !== undefined ? ownerOf(row.slot) : primary;
      if (!owner || errors.has(owner.id)) continue;
      let entry = wanted.get(owner.id);
      if (!entry) wanted.set(owner.id, (entry = { node: owner, channels: new Set() }));
      entry.channels.add(row.name);
    }
    await sampler.syncShards(wanted);
  }

  /** Starts or stops measuring message rates (watch's r key); the next snapshot has them, or not. */
  setRates(on: boolean): void {
    if (on && !this.sampler) this.sampler = this.newSampler();
    if (!on && this.sampler) {
      this.sampler.close();
      this.sampler = undefined;
    }
  }

  close(): void {
    this.closing.abort();
    this.sampler?.close();
    for (const s of this.states.values()) s.client?.disconnect();
    this.states.clear();
  }
}

/** What withDeadline rejects with when the time is up. */
const TIMED_OUT = Symbol('timed out');

/** `work`, or a rejection with TIMED_OUT once `ms` have passed; a late outcome of `work` is dropped (a bug in it still surfaces). */
function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(TIMED_OUT), ms);
  });
  work.catch(rethrowIfBug);
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}

/** Waits for `work` to settle, or `ms`, whichever comes first. */
async function waitAtMost(work: Promise<unknown>, ms: number): Promise<void> {
  const giveUp = new AbortController();
  await Promise.race([work, sleep(ms, undefined, { signal: giveUp.signal }).catch(() => undefined)]);
  giveUp.abort();
}
