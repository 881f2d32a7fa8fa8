// How a bench run is laid out on a deployment, and which flag combinations are refused.
import { describe, it, expect } from 'vitest';
import { makePlan, channelNames } from '../../src/bench/plan.js';
import { combinationProblem, DEFAULT_BENCH, type BenchConfig } from '../../src/stats/bench-config.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import type { Topology, TopologyNode } from '../../src/stats/topology.js';

const node = (id: string, port: number, role: 'primary' | 'replica', slots: Array<[number, number]>, shardId: string): TopologyNode => ({
  id, host: '127.0.0.1', port, address: `127.0.0.1:${port}`, role, slots, shardId, ...(role === 'replica' ? { primaryId: shardId } : {}),
});

const cluster: Topology = {
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
const standalone: Topology = { mode: 'standalone', nodes: [node('p', 6000, 'primary', [], 'p'), node('r', 6001, 'replica', [], 'p')] };

const config = (over: Partial<BenchConfig> = {}): BenchConfig => ({ ...DEFAULT_BENCH, subscribe: 'channel', replicas: false, ...over });

function ownerPort(name: string): number {
  const slot = hashSlot(name);
  return slot <= 5460 ? 7001 : slot <= 10922 ? 7002 : 7003;
}

describe('makePlan', () => {
  it('routes every SPUBLISH to the primary that owns its channel', () => {
    const plan = makePlan(config({ mode: 'spublish', subscribe: 'shard', channels: 30, publishers: 2 }), cluster, 'r1');
    const pubs = plan.workers.flatMap((w) => w.publishers);
    expect(pubs).toHaveLength(2);
    for (const p of pubs) plan.channels.forEach((name, i) => expect(p.routes[i]!.port).toBe(ownerPort(name)));
    expect(new Set(plan.channels.map(ownerPort)).size).toBe(3);
  });

  it('subscribes shard channels on their owners, or on the owners\' replicas with --replicas', () => {
    const onPrimaries = makePlan(config({ mode: 'spublish', subscribe: 'shard', channels: 30 }), cluster, 'r1');
    const sub = onPrimaries.workers.flatMap((w) => w.subscribers)[0]!;
    for (const c of sub.connections) {
      expect(c.kind).toBe('ssubscribe');
      for (const name of c.names) expect(c.node.port).toBe(ownerPort(name));
    }
    const onReplicas = makePlan(config({ mode: 'spublish', subscribe: 'shard', channels: 30, replicas: true }), cluster, 'r1');
    for (const c of onReplicas.workers.flatMap((w) => w.subscribers)[0]!.connections) {
      for (const name of c.names) expect(c.node.port).toBe(ownerPort(name) + 3);
    }
  });

  it('spreads classic publishers and subscribers over the nodes of a cluster, and publishes on the primary when standalone', () => {
    const plan = makePlan(config({ publishers: 6, subscribers: 6 }), cluster, 'r1');
    expect(new Set(plan.workers.flatMap((w) => w.publishers).map((p) => p.routes[0]!.port)).size).toBe(6);
    expect(new Set(plan.workers.flatMap((w) => w.subscribers).map((s) => s.connections[0]!.node.port)).size).toBe(6);
    const single = makePlan(config({ publishers: 3, subscribers: 2 }), standalone, 'r1');
    expect(single.workers.flatMap((w) => w.publishers).every((p) => p.routes.every((r) => r.port === 6000))).toBe(true);
    expect(single.workers.flatMap((w) => w.subscribers).map((s) => s.connections[0]!.node.port).sort()).toEqual([6000, 6001]);
  });

  it('splits the rate and the message count exactly, and staggers equal publishers', () => {
    const plan = makePlan(config({ rate: 100_001, publishers: 4, messages: 10 }), standalone, 'r1');
    const pubs = plan.workers.flatMap((w) => w.publishers);
    expect(pubs.reduce((s, p) => s + p.rate, 0)).toBe(100_001);
    expect(pubs.reduce((s, p) => s + (p.messages ?? 0), 0)).toBe(10);
    expect(new Set(pubs.map((p) => p.offsetNs)).size).toBe(4);
  });

  it('puts publishers and subscribers on separate threads when there are two or more', () => {
    const plan = makePlan(config({ publishers: 2, subscribers: 3, threads: 4 }), standalone, 'r1');
    expect(plan.workers).toHaveLength(4);
    for (const w of plan.workers) expect(w.publishers.length === 0 || w.subscribers.length === 0).toBe(true);
    const one = makePlan(config({ publishers: 2, subscribers: 3, threads: 1 }), standalone, 'r1');
    expect(one.workers).toHaveLength(1);
    const noSubs = makePlan(config({ publishers: 4, subscribers: 0, threads: 2 }), standalone, 'r1');
    expect(noSubs.workers.map((w) => w.publishers.length)).toEqual([2, 2]);
  });

  it('uses channel names unique to the run, and a pattern that matches exactly them', () => {
    expect(channelNames('abc', 2)).toEqual(['pubsub-mon:bench:abc:0', 'pubsub-mon:bench:abc:1']);
    expect(makePlan(config({ subscribe: 'pattern' }), standalone, 'abc').pattern).toBe('pubsub-mon:bench:abc:*');
  });
});

describe('combinationProblem', () => {
  const facts = { cluster: false, sharded: true, version: '7.0.15', hasReplicas: false };
  it('accepts the defaults', () => {
    expect(combinationProblem(config(), facts)).toBeUndefined();
  });
  it.each([
    [{ mode: 'publish', subscribe: 'shard' }, /needs --mode spublish/],
    [{ mode: 'spublish', subscribe: 'channel' }, /needs --mode publish/],
    [{ replicas: true }, /goes with --subscribe shard/],
    [{ subscribe: 'pattern', subscribers: 0 }, /needs at least one --subscribers/],
  ] as const)('refuses %j', (over, message) => {
    expect(combinationProblem(config(over as Partial<BenchConfig>), facts)).toMatch(message);
  });
  it('refuses SPUBLISH on a server older than 7.0 and --replicas without replicas', () => {
    expect(combinationProblem(config({ mode: 'spublish', subscribe: 'shard' }), { ...facts, sharded: false, version: '6.2.14' })).toMatch(/Redis 7\.0\+.*6\.2\.14/);
    expect(combinationProblem(config({ mode: 'spublish', subscribe: 'shard', replicas: true }), facts)).toMatch(/no primary has a replica/);
  });
});
