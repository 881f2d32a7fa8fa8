// What the bench unit tests build plans and properties from: a 3+3 cluster and a standalone pair as
// topologies, a run config from the defaults, and a seeded random source.
import { DEFAULT_BENCH, type BenchConfig } from '../../src/stats/bench-config.js';
import type { Topology, TopologyNode } from '../../src/stats/topology.js';

const node = (id: string, port: number, role: 'primary' | 'replica', slots: Array<[number, number]>, shardId: string): TopologyNode => ({
  id, host: '127.0.0.1', port, address: `127.0.0.1:${port}`, role, slots, shardId, ...(role === 'replica' ? { primaryId: shardId } : {}),
});

/** Primaries on 7001-7003 with the usual three slot ranges, a replica each on 7004-7006. */
export const cluster: Topology = {
  mode: 'cluster',
  nodes: [
    node('a', 7001, 'primary', [[0, 5460]], 'a'),
    node('b', 7002, 'primary', [[5461, 10922]], 'b'),
    node('c', 7003, 'primary', [[10923, 16383]], 'c'),
    node('a1', 7004, 'replica', [[0, 5460]], 'a'),
    node('b1', 7005, 'replica', [[5461, 10922]], 'b'),
    node('c1', 7006, 'replica', [[10923, 16383]], 'c'),
  ],
};
export const standalone: Topology = { mode: 'standalone', nodes: [node('p', 6000, 'primary', [], 'p'), node('r', 6001, 'replica', [], 'p')] };

export const config = (over: Partial<BenchConfig> = {}): BenchConfig => ({ ...DEFAULT_BENCH, subscribe: 'channel', replicas: false, ...over });

/** A deterministic PRNG (mulberry32), so a failing property case can be replayed. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
