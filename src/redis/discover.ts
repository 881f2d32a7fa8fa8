// Discovers every node of a deployment, replicas included, from whichever node the user named.
import type { Redis } from 'ioredis';
import { UsageError } from '../errors.js';
import { standaloneNode, versionAtLeast, type DiscoveredTopology, type TopologyNode } from '../stats/topology.js';
import { parseReplicas, type ReplicaEntry } from '../stats/info.js';
import { readClusterNodes, readInfo } from './queries.js';
import { describeRedisError } from './errors.js';
import { openNode, type NodeAddress } from './connect.js';
import type { ConnectionTarget } from './target.js';

/** Asks another node for its INFO (replication section at least); how is the caller's business. */
export type InfoAsker = (node: NodeAddress) => Promise<Record<string, string>>;

export interface DiscoverOptions {
  /** --cluster: fail unless the seed is a cluster node. @default false */
  forceCluster?: boolean;
  /**
   * Reaches the other nodes of a standalone deployment: the primary of a replica seed, and each
   * replica for replicas of its own. Without it only the seed is asked, and a replica seed's
   * siblings stay unknown (said in `warnings`).
   */
  ask?: InfoAsker;
}

/**
 * An InfoAsker for `target`'s credentials: `reuse` may hand over a connection already open to the
 * node; otherwise one is opened for the question and closed after it.
 */
export function infoAsker(target: ConnectionTarget, role: string, reuse?: (node: NodeAddress) => Redis | undefined): InfoAsker {
  return async (node) => {
    const open = reuse?.(node);
    if (open) return readInfo(open, 'replication');
    const client = await openNode(target, node, role);
    try {
      return await readInfo(client, 'replication');
    } finally {
      client.disconnect();
    }
  };
}

/** Chained replicas are followed this deep; a loop in a misconfigured deployment stops there. */
const MAX_CHAIN = 8;

/**
 * Cluster: CLUSTER SHARDS on 7.0+, CLUSTER NODES before. Standalone: the primary (the seed, or the
 * primary a replica seed names) and every replica of it, chained replicas too, as each lists its
 * own in INFO replication: a replica's subscribers hear every replicated PUBLISH.
 */
export async function discoverTopology(seed: Redis, seedAddress: NodeAddress, options: DiscoverOptions = {}): Promise<DiscoveredTopology> {
  const info = await readInfo(seed);
  const version = info.redis_version ?? '';
  const isCluster = info.cluster_enabled === '1';
  if (options.forceCluster && !isCluster) {
    throw new UsageError(`--cluster was given but ${seedAddress.host}:${seedAddress.port} is not a cluster node (cluster_enabled:0)`);
  }
  if (isCluster) {
    const nodes = await readClusterNodes(seed, versionAtLeast(version, 7));
    // A node that announces no address (e.g. an empty ip) is reachable where we reached the seed.
    for (const n of nodes) {
      if (!n.host) {
        n.host = seedAddress.host;
        n.address = `${n.host}:${n.port}`;
      }
    }
    return {
      mode: 'cluster',
      version,
      nodes: nodes.map(({ health: _health, ...node }) => node),
      failedNodeIds: nodes.filter((n) => n.health === 'failed').map((n) => n.id),
      warnings: [],
    };
  }
  return discoverStandalone(info, version, seedAddress, options.ask);
}

async function discoverStandalone(seedInfo: Record<string, string>, version: string, seedAddress: NodeAddress, ask: InfoAsker | undefined): Promise<DiscoveredTopology> {
  const seedId = `${seedAddress.host}:${seedAddress.port}`;
  const warnings: string[] = [];
  const infoOf = async (node: NodeAddress): Promise<Record<string, string> | undefined> => {
    if (`${node.host}:${node.port}` === seedId) return seedInfo;
    if (!ask) return undefined;
    try {
      return await ask(node);
    } catch (err) {
      warnings.push(`${node.host}:${node.port} could not be asked for its replicas (${describeRedisError(err, `${node.host}:${node.port}`).message})`);
      return undefined;
    }
  };

  let primary: TopologyNode;
  let primaryInfo: Record<string, string> | undefined;
  if (seedInfo.role === 'slave' && seedInfo.master_host && seedInfo.master_port) {
    primary = standaloneNode(seedInfo.master_host, Number(seedInfo.master_port), 'primary');
    primaryInfo = await infoOf(primary);
    if (!primaryInfo) warnings.push(`the replicas of ${primary.address} other than ${seedId} are unknown: its primary could not be asked, so their subscribers are not counted`);
  } else {
    primary = standaloneNode(seedAddress.host, seedAddress.port, 'primary');
    primaryInfo = seedInfo;
  }

  const nodes: TopologyNode[] = [primary];
  const known = new Set([primary.id]);
  const add = (host: string, port: number) => {
    const node = standaloneNode(host, port, 'replica', primary.id);
    if (known.has(node.id)) return undefined;
    known.add(node.id);
    nodes.push(node);
    return node;
  };
  // Breadth first: the primary's replicas, then theirs (a replica of a replica lists only on its own primary).
  // Each level in address order, so the node table keeps its rows in place from one refresh to the next.
  const ordered = (entries: ReplicaEntry[]) => [...entries].sort((a, b) => a.host.localeCompare(b.host) || a.port - b.port);
  let level = primaryInfo ? ordered(parseReplicas(primaryInfo)).flatMap((r) => add(r.host, r.port) ?? []) : [];
  if (!primaryInfo) add(seedAddress.host, seedAddress.port);
  for (let depth = 0; depth < MAX_CHAIN && level.length > 0; depth++) {
    const next: TopologyNode[] = [];
    // Asked together: a replica that hangs costs the deadline once, not once per replica.
    const infos = await Promise.all(level.map((replica) => infoOf(replica)));
    for (const info of infos) {
      for (const r of info ? ordered(parseReplicas(info)) : []) {
        const added = add(r.host, r.port);
        if (added) next.push(added);
      }
    }
    level = next;
  }
  return { mode: 'standalone', version, nodes, failedNodeIds: [], warnings };
}
