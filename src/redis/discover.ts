// Discovers every node of a deployment, replicas included, from one seed connection.
import type { Redis } from 'ioredis';
import { UsageError } from '../errors.js';
import { standaloneNode, versionAtLeast, type DiscoveredTopology } from '../stats/topology.js';
import { parseReplicas } from '../stats/info.js';
import { readClusterNodes, readInfo } from './queries.js';
import type { NodeAddress } from './connect.js';

/**
 * Cluster: CLUSTER SHARDS on 7.0+, CLUSTER NODES before. Standalone: the seed, plus the replicas a
 * primary lists in INFO replication (they hear every replicated PUBLISH), or the primary of a
 * replica seed.
 */
export async function discoverTopology(seed: Redis, seedAddress: NodeAddress, forceCluster = false): Promise<DiscoveredTopology> {
  const info = await readInfo(seed);
  const version = info.redis_version ?? '';
  const isCluster = info.cluster_enabled === '1';
  if (forceCluster && !isCluster) {
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
    };
  }
  if (info.role === 'slave' && info.master_host && info.master_port) {
    const primary = standaloneNode(info.master_host, Number(info.master_port), 'primary');
    return {
      mode: 'standalone',
      version,
      nodes: [primary, standaloneNode(seedAddress.host, seedAddress.port, 'replica', primary.id)],
      failedNodeIds: [],
    };
  }
  const primary = standaloneNode(seedAddress.host, seedAddress.port, 'primary');
  const replicas = parseReplicas(info).map((r) => standaloneNode(r.host, r.port, 'replica', primary.id));
  return { mode: 'standalone', version, nodes: [primary, ...replicas], failedNodeIds: [] };
}
