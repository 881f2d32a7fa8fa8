// Asks the servers what a bench run really got subscribed, before the clock starts: expected deliveries follow from it.
import type { Redis } from 'ioredis';
import { slotOwners, type Topology, type TopologyNode } from '../stats/topology.js';
import { hashSlot } from '../stats/hash-slot.js';
import { clientName } from '../stats/own-subscriptions.js';
import { noun } from '../stats/plural.js';
import type { BenchConfig } from '../stats/bench-config.js';
import { countSubscribers, readPubsubClients } from '../redis/queries.js';
import { rethrowIfBug } from '../redis/errors.js';
import type { BenchPlan } from './plan.js';

/** The connection name of every bench subscriber. */
const SUBSCRIBER_NAME = clientName('bench-sub');

export interface Verified {
  /** Subscribers found per channel index. */
  perChannel: number[];
  asked: number;
  found: number;
  /** How they were found, for the report. */
  detail: string;
}

/** Sum of PUBSUB NUMSUB or SHARDNUMSUB for each channel over `nodes`. */
async function sumOverNodes(clients: ReadonlyMap<string, Redis>, nodes: readonly TopologyNode[], sub: 'NUMSUB' | 'SHARDNUMSUB', names: string[]): Promise<Map<string, number>> {
  const total = new Map<string, number>();
  const perNode = await Promise.all(nodes.map((node) => countSubscribers(clients.get(node.id)!, sub, names)));
  for (const counts of perNode) for (const [name, n] of counts) total.set(name, (total.get(name) ?? 0) + n);
  return total;
}

export async function verifySubscriptions(config: BenchConfig, plan: BenchPlan, topology: Topology, clients: ReadonlyMap<string, Redis>): Promise<Verified> {
  const nodes = topology.nodes;
  const onNodes = `${nodes.length} ${noun(nodes.length, 'node')}`;
  if (config.subscribers === 0) return { perChannel: plan.channels.map(() => 0), asked: 0, found: 0, detail: 'no subscribers asked for' };
  if (config.subscribe === 'pattern') {
    const lists = await Promise.all(nodes.map((node) => readPubsubClients(clients.get(node.id)!)));
    const found = lists.flat().filter((c) => c.name === SUBSCRIBER_NAME && (c.psub ?? 0) > 0).length;
    return {
      perChannel: plan.channels.map(() => found),
      asked: config.subscribers,
      found,
      detail: `${found} of ${config.subscribers} pattern subscribers (${plan.pattern}) found with CLIENT LIST on ${onNodes}`,
    };
  }
  const asked = config.subscribers * config.channels;
  let counts: Map<string, number>;
  if (config.subscribe === 'shard' && topology.mode === 'cluster') {
    // SHARDNUMSUB is not redirected: each node answers for itself, so ask each channel's shard.
    const owners = slotOwners(topology);
    counts = new Map();
    const byShard = new Map<string, string[]>();
    for (const name of plan.channels) {
      const owner = owners(hashSlot(name));
      if (owner) byShard.set(owner.shardId, [...(byShard.get(owner.shardId) ?? []), name]);
    }
    for (const [shardId, names] of byShard) {
      const part = await sumOverNodes(clients, nodes.filter((n) => n.shardId === shardId), 'SHARDNUMSUB', names);
      for (const [k, v] of part) counts.set(k, v);
    }
  } else {
    counts = await sumOverNodes(clients, nodes, config.subscribe === 'shard' ? 'SHARDNUMSUB' : 'NUMSUB', plan.channels);
  }
  const perChannel = plan.channels.map((n) => counts.get(n) ?? 0);
  const found = perChannel.reduce((a, b) => a + b, 0);
  const how = config.subscribe === 'shard' ? 'PUBSUB SHARDNUMSUB on each channel\'s shard' : `PUBSUB NUMSUB summed over ${onNodes}`;
  return {
    perChannel,
    asked,
    found,
    detail: `${found} of ${asked} subscriptions (${config.subscribers} ${noun(config.subscribers, 'subscriber')} × ${config.channels} ${noun(config.channels, 'channel')}) found with ${how}`,
  };
}

/** Largest `omem` among the run's own subscriber connections, over every node; undefined when none could be read. */
export async function peakSubscriberOmem(nodes: readonly TopologyNode[], clients: ReadonlyMap<string, Redis>): Promise<number | undefined> {
  let peak: number | undefined;
  await Promise.all(
    nodes.map(async (n) => {
      try {
        for (const c of await readPubsubClients(clients.get(n.id)!)) if (c.name === SUBSCRIBER_NAME) peak = Math.max(peak ?? 0, c.omem ?? 0);
      } catch (err) {
        // CLIENT LIST refused or the node went away: the peak stays what was seen.
        rethrowIfBug(err);
      }
    }),
  );
  return peak;
}
