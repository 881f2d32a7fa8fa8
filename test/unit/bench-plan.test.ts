// How a bench run is laid out on a deployment, and which flag combinations are refused.
import { describe, it, expect } from 'vitest';
import { makePlan, channelNames } from '../../src/bench/plan.js';
import { combinationProblem, type BenchConfig } from '../../src/stats/bench-config.js';
import { mixTotals } from '../../src/stats/traffic-mix.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { cluster, config, standalone } from '../helpers/bench-fixtures.js';

function ownerPort(name: string): number {
  const slot = hashSlot(name);
  return slot <= 5460 ? 7001 : slot <= 10922 ? 7002 : 7003;
}

describe('makePlan', () => {
  it('routes every SPUBLISH to the primary that owns its channel', () => {
    const plan = makePlan(config({ mode: 'spublish', subscribe: 'shard', channels: 30, publishers: 2 }), cluster, 'r1');
    const pubs = plan.workers.flatMap((w) => w.publishers);
    expect(pubs).toHaveLength(2);
    for (const p of pubs) {
      expect(p.lanes).toHaveLength(1);
      const lane = p.lanes[0]!;
      lane.channels.forEach((c, k) => expect(lane.routes[k]!.port).toBe(ownerPort(plan.channels[c]!.name)));
    }
    expect(new Set(plan.channels.map((c) => ownerPort(c.name))).size).toBe(3);
  });

  it('subscribes shard channels on their owners, or on the owners\' replicas with --replicas', () => {
    const onPrimaries = makePlan(config({ mode: 'spublish', subscribe: 'shard', channels: 30 }), cluster, 'r1');
    const sub = onPrimaries.workers.flatMap((w) => w.subscribers)[0]!;
    for (const c of sub.connections) {
      expect(c.kind).toBe('ssubscribe');
      for (const i of c.channels) expect(c.node.port).toBe(ownerPort(onPrimaries.channels[i]!.name));
    }
    const onReplicas = makePlan(config({ mode: 'spublish', subscribe: 'shard', channels: 30, replicas: true }), cluster, 'r1');
    for (const c of onReplicas.workers.flatMap((w) => w.subscribers)[0]!.connections) {
      for (const i of c.channels) expect(c.node.port).toBe(ownerPort(onReplicas.channels[i]!.name) + 3);
    }
  });

  it('spreads classic publishers and subscribers over the nodes of a cluster, and publishes on the primary when standalone', () => {
    const plan = makePlan(config({ publishers: 6, subscribers: 6 }), cluster, 'r1');
    expect(new Set(plan.workers.flatMap((w) => w.publishers).map((p) => p.lanes[0]!.routes[0]!.port)).size).toBe(6);
    expect(new Set(plan.workers.flatMap((w) => w.subscribers).map((s) => s.connections[0]!.node.port)).size).toBe(6);
    const single = makePlan(config({ publishers: 3, subscribers: 2 }), standalone, 'r1');
    expect(single.workers.flatMap((w) => w.publishers).every((p) => p.lanes[0]!.routes.every((r) => r.port === 6000))).toBe(true);
    expect(single.workers.flatMap((w) => w.subscribers).map((s) => s.connections[0]!.node.port).sort()).toEqual([6000, 6001]);
  });

  it('splits the rate and the message count exactly, and staggers equal publishers', () => {
    const plan = makePlan(config({ rate: 100_001, publishers: 4, messages: 10 }), standalone, 'r1');
    const pubs = plan.workers.flatMap((w) => w.publishers);
    expect(pubs.reduce((s, p) => s + p.lanes[0]!.rate, 0)).toBe(100_001);
    expect(pubs.reduce((s, p) => s + (p.messages ?? 0), 0)).toBe(10);
    expect(new Set(pubs.map((p) => p.lanes[0]!.offsetNs)).size).toBe(4);
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

  it('lays out --channels-per-subscriber: sparse spreads the subscriptions evenly, dense piles them on the first channels', () => {
    const subsOf = (plan: ReturnType<typeof makePlan>) => plan.workers.flatMap((w) => w.subscribers).sort((a, b) => a.id - b.id);
    const sparse = makePlan(config({ channels: 10, subscribers: 7, channelsPerSubscriber: 3, placement: 'sparse' }), standalone, 'r1');
    // 21 subscriptions over 10 channels: every channel has 2 or 3, and the fan-out matches the connections.
    expect(sparse.fanout.reduce((a, b) => a + b, 0)).toBe(21);
    expect(Math.min(...sparse.fanout)).toBe(2);
    expect(Math.max(...sparse.fanout)).toBe(3);
    const counted = new Array<number>(10).fill(0);
    for (const s of subsOf(sparse)) for (const c of s.connections[0]!.channels) counted[c]!++;
    expect(counted).toEqual(sparse.fanout);
    // Subscriber 3 starts where subscriber 2 ended (9) and wraps: channels 0, 1 and 9, ascending.
    expect(subsOf(sparse)[3]!.connections[0]!.channels).toEqual([0, 1, 9]);
    const dense = makePlan(config({ channels: 10, subscribers: 7, channelsPerSubscriber: 3, placement: 'dense' }), standalone, 'r1');
    expect(dense.fanout).toEqual([7, 7, 7, 0, 0, 0, 0, 0, 0, 0]);
    expect(dense.connections).toBe(7);
  });

  it('subscriber connections per shard: a shard subscriber on a cluster holds one per owner of its channels', () => {
    const plan = makePlan(config({ mode: 'spublish', subscribe: 'shard', channels: 30, subscribers: 2 }), cluster, 'r1');
    expect(plan.connections).toBe(6);
    expect(plan.fanout.every((n) => n === 2)).toBe(true);
  });

  it('lays out a traffic mix: a lane per channel at its rate, fan-out per channel, classic and shard channels apart', () => {
    const sizes = [{ bytes: 100, weight: 1 }];
    const mix = {
      channels: [
        { name: 'a', kind: 'channel' as const, rate: 200, subscribers: 3, sizes, group: 'g1' },
        { name: 'b', kind: 'channel' as const, rate: 50, subscribers: 1, sizes, group: 'g1' },
        { name: 'c', kind: 'shard' as const, rate: 100, subscribers: 2, sizes, group: 'c' },
      ],
    };
    const plan = makePlan(config({ mix, publishers: 2 }), cluster, 'r1');
    expect(plan.groups).toEqual(['g1', 'c']);
    expect(plan.channels.map((c) => c.group)).toEqual([0, 0, 1]);
    expect(plan.fanout).toEqual([3, 1, 2]);
    const lanes = plan.workers.flatMap((w) => w.publishers).flatMap((p) => p.lanes);
    expect(lanes.map((l) => [l.channels, l.rate]).sort()).toEqual([[[0], 200], [[1], 50], [[2], 100]].sort());
    // The busiest channel alone on one publisher, the other two on the other.
    expect(plan.workers.flatMap((w) => w.publishers).map((p) => p.lanes.reduce((s, l) => s + l.rate, 0)).sort()).toEqual([150, 200]);
    expect(lanes.find((l) => l.channels[0] === 2)!.routes[0]!.port).toBe(ownerPort('c'));
    const subs = plan.workers.flatMap((w) => w.subscribers).sort((a, b) => a.id - b.id);
    expect(subs).toHaveLength(3);
    expect(subs[0]!.connections.map((c) => [c.kind, c.channels])).toEqual([['subscribe', [0, 1]], ['ssubscribe', [2]]]);
    expect(subs[2]!.connections.map((c) => [c.kind, c.channels])).toEqual([['subscribe', [0]]]);
  });

  it('spreads more than 20,000 subscriber connections to one loopback node over source addresses, and leaves fewer alone', () => {
    const many = makePlan(config({ subscribers: 50_000 }), { mode: 'standalone', nodes: [standalone.nodes[0]!] }, 'r1');
    const sources = many.workers.flatMap((w) => w.subscribers).map((s) => s.connections[0]!.node.localAddress);
    const perSource = new Map<string | undefined, number>();
    for (const a of sources) perSource.set(a, (perSource.get(a) ?? 0) + 1);
    // The first 20,000 let connect() choose (undefined), the rest come from 127.0.0.2 and 127.0.0.3.
    expect([...perSource.keys()].map(String).sort()).toEqual(['127.0.0.2', '127.0.0.3', 'undefined']);
    for (const n of perSource.values()) expect(n).toBeLessThanOrEqual(20_000);
    const few = makePlan(config({ subscribers: 100 }), standalone, 'r1');
    expect(few.workers.flatMap((w) => w.subscribers).every((s) => s.connections[0]!.node.localAddress === undefined)).toBe(true);
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
    [{ subscribe: 'pattern', channelsPerSubscriber: 1 }, /does not go with --subscribe pattern/],
    [{ channels: 2, channelsPerSubscriber: 3 }, /more than the 2 --channels/],
    [{ reconnect: { minMs: 500, maxMs: 100 } }, /MIN <= MAX/],
    [{ local: false }, /--no-local needs --agents N/],
  ] as const)('refuses %j', (over, message) => {
    expect(combinationProblem(config(over as Partial<BenchConfig>), facts)).toMatch(message);
  });
  it('accepts SPUBLISH with no subscriber (publish only), and --no-local with agents', () => {
    expect(combinationProblem(config({ mode: 'spublish', subscribe: 'shard', subscribers: 0 }), facts)).toBeUndefined();
    expect(combinationProblem(config({ local: false, agents: 2 }), facts)).toBeUndefined();
  });
  it('refuses SPUBLISH on a server older than 7.0 and --replicas without replicas', () => {
    expect(combinationProblem(config({ mode: 'spublish', subscribe: 'shard' }), { ...facts, sharded: false, version: '6.2.14' })).toMatch(/Redis 7\.0\+.*6\.2\.14/);
    expect(combinationProblem(config({ mode: 'spublish', subscribe: 'shard', replicas: true }), facts)).toMatch(/no primary has a replica/);
  });
});

describe('a replayed mix', () => {
  const mix = (rate: number, bytes: number) => ({ channels: [{ name: 'a', kind: 'channel' as const, rate, subscribers: 1, sizes: [{ bytes, weight: 3 }, { bytes: bytes * 2, weight: 1 }], group: 'a' }] });
  it('adds up messages and payload bytes a second, sizes by weight', () => {
    expect(mixTotals(mix(100, 1000))).toEqual({ rate: 100, bytesPerSecond: 125_000 });
  });
  it('is refused past 100 million messages or 4 GiB of payloads a second, naming --scale when it was given', () => {
    expect(combinationProblem(config({ mix: mix(2e8, 100), profile: { file: 'p.json', scale: 1000 } }))).toMatch(/asks for 200000000 messages\/s in all \(with --scale 1000\); bench publishes at most 100000000/);
    expect(combinationProblem(config({ mix: mix(1e6, 8000) }))).toMatch(/GiB\/s of payloads in all; bench publishes at most 4 GiB\/s/);
    expect(combinationProblem(config({ mix: mix(1000, 100) }))).toBeUndefined();
  });
});
