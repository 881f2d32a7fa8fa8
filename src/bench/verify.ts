// Asks the servers what a bench run really got subscribed, before the clock starts: expected deliveries follow from it.
import type { Redis } from 'ioredis';
import { slotOwners, type Topology, type TopologyNode } from '../stats/topology.js';
import { hashSlot } from '../stats/hash-slot.js';
import { clientName, observerShardCounts } from '../stats/own-subscriptions.js';
import { noun } from '../stats/plural.js';
import type { BenchConfig } from '../stats/bench-config.js';
import { countSubscribers, readInfo, readPubsubClients } from '../redis/queries.js';
import { infoNumber } from '../stats/info.js';
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

/** Shard subscriptions that other pubsub-mon processes' samplers hold on `nodes`, per channel (none known when CLIENT LIST is refused). */
async function observerShardSubscriptions(clients: ReadonlyMap<string, Redis>, nodes: readonly TopologyNode[]): Promise<Map<string, number>> {
  const total = new Map<string, number>();
  for (const node of nodes) {
    try {
      for (const [channel, n] of observerShardCounts(await readPubsubClients(clients.get(node.id)!)).counts) total.set(channel, (total.get(channel) ?? 0) + n);
    } catch (err) {
      rethrowIfBug(err);
    }
  }
  return total;
}

/** Sum of PUBSUB NUMSUB or SHARDNUMSUB for each channel over `nodes`. */
async function sumOverNodes(clients: ReadonlyMap<string, Redis>, nodes: readonly TopologyNode[], sub: 'NUMSUB' | 'SHARDNUMSUB', names: string[]): Promise<Map<string, number>> {
  const total = new Map<string, number>();
  const perNode = await Promise.all(nodes.map((node) => countSubscribers(clients.get(node.id)!, sub, names)));
  for (const counts of perNode) for (const [name, n] of counts) total.set(name, (total.get(name) ?? 0) + n);
  return total;
}

/**
 * @param others subscriptions found on the same channels before bench subscribed (a replay with
 *   --same-names shares the live channels): they are not bench's, so they are taken off.
 */
export async function verifySubscriptions(config: BenchConfig, plan: BenchPlan, topology: Topology, clients: ReadonlyMap<string, Redis>, others?: readonly number[]): Promise<Verified> {
  const nodes = topology.nodes;
  const onNodes = `${nodes.length} ${noun(nodes.length, 'node')}`;
  const subscribers = plan.workers.reduce((n, w) => n + w.subscribers.length, 0);
  if (subscribers === 0) return { perChannel: plan.channels.map(() => 0), asked: 0, found: 0, detail: 'no subscribers asked for' };
  if (!config.mix && config.subscribe === 'pattern') {
    const lists = await Promise.all(nodes.map((node) => readPubsubClients(clients.get(node.id)!)));
    const found = lists.flat().filter((c) => c.name === SUBSCRIBER_NAME && (c.psub ?? 0) > 0).length;
    return {
      perChannel: plan.channels.map(() => found),
      asked: subscribers,
      found,
      detail: `${found} of ${subscribers} pattern subscribers (${plan.pattern}) found with CLIENT LIST on ${onNodes}`,
    };
  }
  const asked = plan.fanout.reduce((a, b) => a + b, 0);
  const counts = new Map<string, number>();
  const classic = plan.channels.filter((c) => c.kind === 'channel').map((c) => c.name);
  const shard = plan.channels.filter((c) => c.kind === 'shard').map((c) => c.name);
  if (classic.length > 0) for (const [k, v] of await sumOverNodes(clients, nodes, 'NUMSUB', classic)) counts.set(`channel:${k}`, v);
  if (shard.length > 0) {
    // SHARDNUMSUB is not redirected: each node answers for itself, so ask each channel's shard.
    const byShard = new Map<string, string[]>();
    const owners = topology.mode === 'cluster' ? slotOwners(topology) : undefined;
    for (const name of shard) {
      const shardId = owners ? owners(hashSlot(name))?.shardId : nodes[0]?.shardId;
      if (shardId !== undefined) byShard.set(shardId, [...(byShard.get(shardId) ?? []), name]);
    }
    for (const [shardId, names] of byShard) {
      const shardNodes = nodes.filter((n) => n.shardId === shardId);
      const part = await sumOverNodes(clients, shardNodes, 'SHARDNUMSUB', names);
      // Another pubsub-mon measuring rates (watch --rates, the exporter) SSUBSCRIBEs shard channels
      // it sees, bench's too: those are not bench's subscribers, and nobody delivers to bench for them.
      const observers = await observerShardSubscriptions(clients, shardNodes);
      for (const [k, v] of part) counts.set(`shard:${k}`, Math.max(0, v - (observers.get(k) ?? 0)));
    }
  }
  const perChannel = plan.channels.map((c, i) => Math.max(0, (counts.get(`${c.kind}:${c.name}`) ?? 0) - (others?.[i] ?? 0)));
  const found = perChannel.reduce((a, b) => a + b, 0);
  const otherCount = others?.reduce((a, b) => a + b, 0) ?? 0;
  const how = [classic.length > 0 ? `PUBSUB NUMSUB summed over ${onNodes}` : '', shard.length > 0 ? "PUBSUB SHARDNUMSUB on each channel's shard" : ''].filter(Boolean).join(' and ');
  const layout = config.mix
    ? `the profile's fan-out over ${plan.channels.length} ${noun(plan.channels.length, 'channel')}`
    : config.channelsPerSubscriber !== undefined && config.channelsPerSubscriber < plan.channels.length
      ? `${subscribers} ${noun(subscribers, 'subscriber')} × ${config.channelsPerSubscriber} of ${plan.channels.length} ${noun(plan.channels.length, 'channel')}, ${config.placement}`
      : `${subscribers} ${noun(subscribers, 'subscriber')} × ${plan.channels.length} ${noun(plan.channels.length, 'channel')}`;
  const besides = otherCount > 0 ? `; ${otherCount} other ${noun(otherCount, 'subscription')} on the same channels, there before bench subscribed, not counted` : '';
  return { perChannel, asked, found, detail: `${found} of ${asked} subscriptions (${layout}) found with ${how}${besides}` };
}

/**
 * Above this many subscriber connections CLIENT LIST is no longer asked during a run: listing 10,000
 * clients stalls the server for milliseconds each time, and that stall would show as the latency
 * being measured. INFO's client_recent_max_output_buffer (any client of the node) stands in for it.
 */
const CLIENT_LIST_MAX_CONNECTIONS = 1000;

/**
 * Largest `omem` among the run's own subscriber connections over every node (or, for a run with
 * more connections than CLIENT_LIST_MAX_CONNECTIONS, the largest output buffer of any client);
 * undefined when none could be read.
 */
export async function peakSubscriberOmem(nodes: readonly TopologyNode[], clients: ReadonlyMap<string, Redis>, connections: number): Promise<number | undefined> {
  let peak: number | undefined;
  await Promise.all(
    nodes.map(async (n) => {
      try {
        const client = clients.get(n.id)!;
        if (connections > CLIENT_LIST_MAX_CONNECTIONS) {
          const v = infoNumber(await readInfo(client, 'clients'), 'client_recent_max_output_buffer');
          if (v !== undefined) peak = Math.max(peak ?? 0, v);
          return;
        }
        for (const c of await readPubsubClients(client)) if (c.name === SUBSCRIBER_NAME) peak = Math.max(peak ?? 0, c.omem ?? 0);
      } catch (err) {
        // CLIENT LIST refused or the node went away: the peak stays what was seen.
        rethrowIfBug(err);
      }
    }),
  );
  return peak;
}
