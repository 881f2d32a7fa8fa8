// Lays a bench run out on the deployment: channel names, publisher routes, subscriber connections, threads.
import { slotOwners, type Topology, type TopologyNode } from '../stats/topology.js';
import { hashSlot } from '../stats/hash-slot.js';
import type { SubscribeKind } from '../redis/raw-subscriber.js';
import { splitRate, staggerNs } from './schedule.js';
import type { BenchConfig } from '../stats/bench-config.js';

export interface NodeRef {
  host: string;
  port: number;
  address: string;
}

export interface PublisherPlan {
  id: number;
  /** Messages per second for this publisher; 0 = as fast as possible. */
  rate: number;
  /** Offset of its schedule, so publishers of equal rate do not fire together. */
  offsetNs: number;
  /** Measured messages this publisher sends (with --messages). */
  messages?: number;
  /** For each channel index, the node its publishes go to. */
  routes: NodeRef[];
}

export interface SubscriptionPlan {
  node: NodeRef;
  kind: SubscribeKind;
  names: string[];
}

export interface SubscriberPlan {
  id: number;
  /** One logical subscriber may need a connection per shard (SSUBSCRIBE on each owner). */
  connections: SubscriptionPlan[];
}

export interface WorkerPlan {
  publishers: PublisherPlan[];
  subscribers: SubscriberPlan[];
}

export interface BenchPlan {
  channels: string[];
  /** The pattern subscribers use with --subscribe pattern. */
  pattern: string;
  workers: WorkerPlan[];
}

const ref = (n: TopologyNode): NodeRef => ({ host: n.host, port: n.port, address: n.address });

/** Names unique to one run, so nobody else's traffic and no earlier run's subscribers mix in. */
export function channelNames(runId: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `pubsub-mon:bench:${runId}:${i}`);
}

export function makePlan(config: BenchConfig, topology: Topology, runId: string): BenchPlan {
  const channels = channelNames(runId, config.channels);
  const pattern = `pubsub-mon:bench:${runId}:*`;
  const primaries = topology.nodes.filter((n) => n.role === 'primary');
  const cluster = topology.mode === 'cluster';
  const ownerOf = cluster ? slotOwners(topology) : () => primaries[0];
  const owners = channels.map((name) => ownerOf(hashSlot(name)) ?? primaries[0]!);

  // A standalone replica's PUBLISH never reaches the primary's subscribers: publish on primaries.
  // On a cluster the bus broadcasts PUBLISH from any node, so publishers spread over all of them.
  const publishNodes = cluster ? topology.nodes : primaries;
  const rates = splitRate(config.rate, config.publishers);
  const shares = config.messages !== undefined ? splitRate(config.messages, config.publishers) : undefined;
  const publishers: PublisherPlan[] = Array.from({ length: config.publishers }, (_, id) => {
    const home = ref(publishNodes[id % publishNodes.length]!);
    const rate = rates[id]!;
    return {
      id,
      rate,
      offsetNs: rate > 0 ? staggerNs(id, config.publishers, rate) : 0,
      ...(shares ? { messages: shares[id]! } : {}),
      routes: config.mode === 'spublish' ? owners.map(ref) : channels.map(() => home),
    };
  });

  const subscribers: SubscriberPlan[] = Array.from({ length: config.subscribers }, (_, id) => {
    if (config.subscribe === 'shard') {
      const byShard = new Map<string, { node: TopologyNode; names: string[] }>();
      channels.forEach((name, i) => {
        const owner = owners[i]!;
        let entry = byShard.get(owner.id);
        if (!entry) {
          const replicas = topology.nodes.filter((n) => n.role === 'replica' && n.shardId === owner.shardId);
          const node = config.replicas && replicas.length > 0 ? replicas[id % replicas.length]! : owner;
          byShard.set(owner.id, (entry = { node, names: [] }));
        }
        entry.names.push(name);
      });
      return { id, connections: [...byShard.values()].map(({ node, names }) => ({ node: ref(node), kind: 'ssubscribe' as const, names })) };
    }
    // Classic subscribers hear PUBLISH on any node (replicas too), so they spread over all nodes.
    const node = ref(topology.nodes[id % topology.nodes.length]!);
    return config.subscribe === 'pattern'
      ? { id, connections: [{ node, kind: 'psubscribe' as const, names: [pattern] }] }
      : { id, connections: [{ node, kind: 'subscribe' as const, names: channels }] };
  });

  // Publishers and subscribers on separate threads when there are two or more: a subscriber that
  // shares a thread with a busy publisher reads late, and that lateness would show as latency.
  const threads = Math.max(1, config.threads);
  const workers: WorkerPlan[] = Array.from({ length: threads }, () => ({ publishers: [], subscribers: [] }));
  const pubThreads = threads === 1 || subscribers.length === 0 ? threads : Math.ceil(threads / 2);
  publishers.forEach((p, i) => workers[i % pubThreads]!.publishers.push(p));
  const subStart = threads === 1 ? 0 : pubThreads;
  const subThreads = threads - subStart || 1;
  subscribers.forEach((s, i) => workers[subStart + (i % subThreads)]!.subscribers.push(s));
  return { channels, pattern, workers: workers.filter((w) => w.publishers.length + w.subscribers.length > 0) };
}
