// Lays a bench run out on the deployment: channels, publisher lanes and routes, which subscriber takes which channels, threads.
import { slotOwners, type Topology, type TopologyNode } from '../stats/topology.js';
import { hashSlot } from '../stats/hash-slot.js';
import type { SubscribeKind } from '../redis/raw-subscriber.js';
import { splitRate, staggerNs } from './schedule.js';
import type { BenchConfig } from '../stats/bench-config.js';
import type { MixKind, SizeClass, TrafficMix } from '../stats/traffic-mix.js';

export interface NodeRef {
  host: string;
  port: number;
  address: string;
  /** Where to connect from: set only to spread many loopback connections over source addresses. */
  localAddress?: string;
}

/**
 * Connections from one source address to one server address are bounded by the local port range
 * (32768-60999 by default on Linux, 28,232 ports). Past this many to one loopback node, bench
 * connects the rest from 127.0.0.2, 127.0.0.3, ...: every 127/8 address is this machine's. The
 * first ones are left to connect() to pick a port: an explicit source address means bind() first,
 * which cannot take a port still in TIME_WAIT from an earlier run, where connect() can.
 */
const PER_SOURCE_ADDRESS = 20_000;

export interface BenchChannel {
  /** pubsub-mon's byte-keeping string form (stats/channel-name.ts). */
  name: string;
  kind: MixKind;
  /** Index into BenchPlan.groups. */
  group: number;
}

/**
 * One open-loop schedule of a publisher: message i of the lane goes to channels[i mod n] with the
 * sequence floor(i / n) of that (publisher, channel) stream, a size drawn from `sizes`.
 */
export interface PublisherLane {
  /** Channel indices, each in exactly one lane of this publisher. */
  channels: number[];
  /** The node each of `channels` is published on. */
  routes: NodeRef[];
  /** Messages per second; 0 = as fast as possible (the only lane of its publisher then). */
  rate: number;
  /** Offset of its schedule, so lanes of equal rate do not fire together. */
  offsetNs: number;
  sizes: SizeClass[];
}

export interface PublisherPlan {
  id: number;
  lanes: PublisherLane[];
  /** Measured messages this publisher sends (with --messages). */
  messages?: number;
}

export interface SubscriptionPlan {
  node: NodeRef;
  kind: SubscribeKind;
  /** Channel indices, ascending; identical lists are shared objects (structured clone keeps one copy). */
  channels: number[];
  /** The pattern, for psubscribe. */
  pattern?: string;
}

export interface SubscriberPlan {
  id: number;
  /** One logical subscriber may need a connection per shard (SSUBSCRIBE on each owner) besides a classic one. */
  connections: SubscriptionPlan[];
}

export interface WorkerPlan {
  publishers: PublisherPlan[];
  subscribers: SubscriberPlan[];
}

export interface BenchPlan {
  channels: BenchChannel[];
  /** Report groups: a profile's groups, or one group for a run from the flags. */
  groups: string[];
  /** The pattern subscribers use with --subscribe pattern. */
  pattern: string;
  /** Subscriptions asked for per channel (pattern subscribers count on every channel). */
  fanout: number[];
  /** Subscriber connections in all. */
  connections: number;
  workers: WorkerPlan[];
}

const ref = (n: TopologyNode): NodeRef => ({ host: n.host, port: n.port, address: n.address });

/** Gives the subscriber connections to a loopback node, when there are more than PER_SOURCE_ADDRESS, several source addresses in turn. */
function spreadLoopbackSources(subscribers: readonly SubscriberPlan[]): void {
  const byNode = new Map<string, SubscriptionPlan[]>();
  for (const s of subscribers) {
    for (const c of s.connections) {
      const list = byNode.get(c.node.address);
      if (list) list.push(c);
      else byNode.set(c.node.address, [c]);
    }
  }
  for (const list of byNode.values()) {
    const host = list[0]!.node.host;
    if (list.length <= PER_SOURCE_ADDRESS || !/^127\.\d+\.\d+\.\d+$/.test(host)) continue;
    list.forEach((c, i) => {
      if (i >= PER_SOURCE_ADDRESS) c.node = { ...c.node, localAddress: `127.0.0.${1 + Math.floor(i / PER_SOURCE_ADDRESS)}` };
    });
  }
}

/** Names unique to one run, so nobody else's traffic and no earlier run's subscribers mix in. */
export function channelNames(runId: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `pubsub-mon:bench:${runId}:${i}`);
}

/** The prefix of every channel of a run (profile replays put it before the recorded names). */
function runPrefix(runId: string): string {
  return `pubsub-mon:bench:${runId}:`;
}

/**
 * Which channels subscriber `s` of `subscribers` takes when each takes `perSubscriber` of `channels`:
 * dense, the same first ones for everybody (the largest fan-out on the fewest channels); sparse, a
 * run of consecutive channels starting where the previous subscriber's ended, wrapping around, so
 * subscriptions spread as evenly as they can. Ascending indices; equal lists are the same array.
 */
function subscriberChannels(channels: number, perSubscriber: number, placement: 'dense' | 'sparse'): (s: number) => number[] {
  const n = Math.min(perSubscriber, channels);
  const all = Array.from({ length: n }, (_, i) => i);
  if (placement === 'dense' || n === channels) return () => all;
  const cache = new Map<number, number[]>();
  return (s) => {
    const start = (s * n) % channels;
    let list = cache.get(start);
    if (!list) {
      list = Array.from({ length: n }, (_, k) => (start + k) % channels).sort((a, b) => a - b);
      cache.set(start, list);
    }
    return list;
  };
}

/** The channels of the run, with their rates, sizes and fan-out: from the flags, or the profile's mix. */
function channelsOf(config: BenchConfig, runId: string): { channels: BenchChannel[]; groups: string[]; mix?: TrafficMix } {
  if (config.mix) {
    // Renamed copies unless asked otherwise: bench payloads must not reach the real channels' consumers.
    const prefix = config.sameNames ? '' : runPrefix(runId);
    const groups: string[] = [];
    const index = new Map<string, number>();
    const channels = config.mix.channels.map((c) => {
      let g = index.get(c.group);
      if (g === undefined) index.set(c.group, (g = groups.push(c.group) - 1));
      return { name: prefix + c.name, kind: c.kind, group: g };
    });
    return { channels, groups, mix: config.mix };
  }
  const kind: MixKind = config.mode === 'spublish' ? 'shard' : 'channel';
  return { channels: channelNames(runId, config.channels).map((name) => ({ name, kind, group: 0 })), groups: ['all'] };
}

/**
 * @param subscriberWorkers at least this many workers for the subscribers (the runner asks for more
 *   when their connections must be spread over processes for the open-file limit).
 */
export function makePlan(config: BenchConfig, topology: Topology, runId: string, subscriberWorkers = 1): BenchPlan {
  const { channels, groups, mix } = channelsOf(config, runId);
  const pattern = `${runPrefix(runId)}*`;
  const primaries = topology.nodes.filter((n) => n.role === 'primary');
  const cluster = topology.mode === 'cluster';
  const ownerOf = cluster ? slotOwners(topology) : () => primaries[0];
  const owners = channels.map((c) => ownerOf(hashSlot(c.name)) ?? primaries[0]!);

  // A standalone replica's PUBLISH never reaches the primary's subscribers: publish on primaries.
  // On a cluster the bus broadcasts PUBLISH from any node, so publishers spread over all of them.
  const publishNodes = cluster ? topology.nodes : primaries;
  const routeOf = (c: number, home: TopologyNode): NodeRef => ref(channels[c]!.kind === 'shard' ? owners[c]! : home);
  const shares = config.messages !== undefined ? splitRate(config.messages, config.publishers) : undefined;
  const publishers: PublisherPlan[] = Array.from({ length: config.publishers }, (_, id) => ({ id, lanes: [], ...(shares ? { messages: shares[id]! } : {}) }));
  if (mix) {
    // A lane per channel, dealt to the publishers busiest first so their loads stay close.
    const order = mix.channels.map((c, i) => ({ c, i })).sort((a, b) => b.c.rate - a.c.rate);
    const load = new Array<number>(publishers.length).fill(0);
    for (const { c, i } of order) {
      const p = load.indexOf(Math.min(...load));
      load[p] = load[p]! + c.rate;
      const home = publishNodes[p % publishNodes.length]!;
      publishers[p]!.lanes.push({ channels: [i], routes: [routeOf(i, home)], rate: c.rate, offsetNs: 0, sizes: c.sizes });
    }
    for (const p of publishers) p.lanes.forEach((lane, k) => (lane.offsetNs = staggerNs(k, p.lanes.length, lane.rate)));
  } else {
    const rates = splitRate(config.rate, config.publishers);
    const all = channels.map((_, i) => i);
    for (const p of publishers) {
      const home = publishNodes[p.id % publishNodes.length]!;
      const rate = rates[p.id]!;
      p.lanes.push({ channels: all, routes: all.map((c) => routeOf(c, home)), rate, offsetNs: rate > 0 ? staggerNs(p.id, config.publishers, rate) : 0, sizes: [{ bytes: config.size, weight: 1 }] });
    }
  }

  // Who takes which channels: the profile's fan-out (subscriber s takes every channel with more than
  // s subscribers), or --channels-per-subscriber with --placement, or every channel.
  const subscriberCount = mix ? Math.max(0, ...mix.channels.map((c) => c.subscribers)) : config.subscribers;
  const takes: (s: number) => number[] = mix
    ? (s) => mix.channels.flatMap((c, i) => (c.subscribers > s ? [i] : []))
    : subscriberChannels(channels.length, config.channelsPerSubscriber ?? channels.length, config.placement);
  const fanout = new Array<number>(channels.length).fill(0);
  let connections = 0;
  const subscribers: SubscriberPlan[] = Array.from({ length: subscriberCount }, (_, id) => {
    // Classic subscribers hear PUBLISH on any node (replicas too), so they spread over all nodes.
    const classicNode = ref(topology.nodes[id % topology.nodes.length]!);
    if (!mix && config.subscribe === 'pattern') {
      channels.forEach((_, i) => fanout[i]!++);
      connections++;
      return { id, connections: [{ node: classicNode, kind: 'psubscribe', channels: [], pattern }] };
    }
    const mine = takes(id);
    for (const c of mine) fanout[c]!++;
    const classic = mine.filter((c) => channels[c]!.kind === 'channel');
    const out: SubscriptionPlan[] = [];
    if (classic.length > 0) out.push({ node: classicNode, kind: 'subscribe', channels: classic.length === mine.length ? mine : classic });
    const byShard = new Map<string, SubscriptionPlan>();
    for (const c of mine) {
      if (channels[c]!.kind !== 'shard') continue;
      const owner = owners[c]!;
      let entry = byShard.get(owner.id);
      if (!entry) {
        const replicas = topology.nodes.filter((n) => n.role === 'replica' && n.shardId === owner.shardId);
        const node = config.replicas && replicas.length > 0 ? replicas[id % replicas.length]! : owner;
        byShard.set(owner.id, (entry = { node: ref(node), kind: 'ssubscribe', channels: [] }));
      }
      entry.channels.push(c);
    }
    out.push(...byShard.values());
    connections += out.length;
    return { id, connections: out };
  });

  spreadLoopbackSources(subscribers);

  return { channels, groups, pattern, fanout, connections, workers: layWorkers(publishers, subscribers, config.threads, subscriberWorkers) };
}

/**
 * Publishers and subscribers on separate threads when there are two or more: a subscriber that
 * shares a thread with a busy publisher reads late, and that lateness would show as latency.
 */
export function layWorkers(publishers: readonly PublisherPlan[], subscribers: readonly SubscriberPlan[], threadCount: number, subscriberWorkers = 1): WorkerPlan[] {
  const threads = Math.max(1, threadCount);
  let workers: WorkerPlan[];
  if (subscribers.length > 0 && threads === 1 && subscriberWorkers <= 1) {
    workers = [{ publishers: [...publishers], subscribers: [...subscribers] }];
  } else {
    const pubWorkers = subscribers.length === 0 ? threads : Math.max(1, Math.ceil(threads / 2));
    const subWorkers = subscribers.length === 0 ? 0 : Math.max(threads - pubWorkers, subscriberWorkers, 1);
    workers = Array.from({ length: pubWorkers + subWorkers }, () => ({ publishers: [], subscribers: [] }));
    publishers.forEach((p, i) => workers[i % pubWorkers]!.publishers.push(p));
    subscribers.forEach((s, i) => workers[pubWorkers + (i % subWorkers)]!.subscribers.push(s));
  }
  return workers.filter((w) => w.publishers.length + w.subscribers.length > 0);
}

/** How one host of a run lays out its share: worker threads, or that many child processes. */
export interface HostShape {
  threads: number;
  /** Run the workers as child processes (--processes): each has its own core's worth of event loop. */
  asProcesses: boolean;
}

/** One host's share of a run: its workers, and the publishers that are not on it (their latency crosses clocks). */
export interface HostPlan {
  workers: WorkerPlan[];
  remotePublishers: number[];
}

/**
 * Deals the run's publishers and subscribers to hosts in turn (publisher p and subscriber s to host
 * p mod n and s mod n), each host laying out its share over its own threads or processes.
 */
export function splitOverHosts(plan: BenchPlan, hosts: readonly HostShape[]): HostPlan[] {
  const publishers = plan.workers.flatMap((w) => w.publishers).sort((a, b) => a.id - b.id);
  const subscribers = plan.workers.flatMap((w) => w.subscribers).sort((a, b) => a.id - b.id);
  return hosts.map((shape, h) => {
    const mine = publishers.filter((p) => p.id % hosts.length === h);
    const theirs = publishers.filter((p) => p.id % hosts.length !== h).map((p) => p.id);
    const workers = layWorkers(mine, subscribers.filter((s) => s.id % hosts.length === h), shape.threads);
    return { workers, remotePublishers: theirs };
  });
}
