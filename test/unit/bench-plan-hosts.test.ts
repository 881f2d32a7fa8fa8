// How a bench plan is dealt over the hosts of a run over agents (splitOverHosts), and how each host
// lays its share out over its threads (layWorkers). Pure: plans are built with makePlan as bench does.
import { describe, it, expect } from 'vitest';
import { layWorkers, makePlan, splitOverHosts, type BenchPlan, type HostPlan, type HostShape, type PublisherPlan, type SubscriberPlan, type WorkerPlan } from '../../src/bench/plan.js';
import { cluster, config, standalone } from '../helpers/bench-fixtures.js';

const shape = (threads: number, asProcesses = false): HostShape => ({ threads, asProcesses });

const publishersOf = (workers: readonly WorkerPlan[]): PublisherPlan[] => workers.flatMap((w) => w.publishers);
const subscribersOf = (workers: readonly WorkerPlan[]): SubscriberPlan[] => workers.flatMap((w) => w.subscribers);
const ids = (xs: readonly { id: number }[]): number[] => xs.map((x) => x.id).sort((a, b) => a - b);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** Every property a split must have, whatever the plan and the hosts. */
function checkSplit(plan: BenchPlan, shapes: readonly HostShape[], split: readonly HostPlan[]): void {
  const n = shapes.length;
  expect(split).toHaveLength(n);
  const allPubs = ids(publishersOf(plan.workers));
  const allSubs = ids(subscribersOf(plan.workers));
  const seenPubs = new Map<number, number>();
  const seenSubs = new Map<number, number>();
  split.forEach((h, host) => {
    const pubs = publishersOf(h.workers);
    const subs = subscribersOf(h.workers);
    for (const p of pubs) {
      expect(p.id % n, `publisher ${p.id} on host ${host} of ${n}`).toBe(host);
      seenPubs.set(p.id, (seenPubs.get(p.id) ?? 0) + 1);
    }
    for (const s of subs) {
      expect(s.id % n, `subscriber ${s.id} on host ${host} of ${n}`).toBe(host);
      seenSubs.set(s.id, (seenSubs.get(s.id) ?? 0) + 1);
    }
    // The publishers that are not on this host, exactly, ascending.
    expect(h.remotePublishers).toEqual(allPubs.filter((id) => id % n !== host));
    expect(new Set([...h.remotePublishers, ...ids(pubs)]).size).toBe(allPubs.length);
    // Its own threads: never an empty worker; with two or more, never a publisher beside a subscriber.
    const threads = Math.max(1, shapes[host]!.threads);
    for (const w of h.workers) expect(w.publishers.length + w.subscribers.length).toBeGreaterThan(0);
    expect(h.workers.length).toBeLessThanOrEqual(threads);
    if (threads >= 2) for (const w of h.workers) expect(w.publishers.length === 0 || w.subscribers.length === 0).toBe(true);
    if (threads === 1) expect(h.workers.length).toBeLessThanOrEqual(1);
  });
  // Exactly once each, nobody lost, nobody invented.
  expect([...seenPubs.keys()].sort((a, b) => a - b)).toEqual(allPubs);
  expect([...seenSubs.keys()].sort((a, b) => a - b)).toEqual(allSubs);
  for (const c of [...seenPubs.values(), ...seenSubs.values()]) expect(c).toBe(1);
}

describe('splitOverHosts', () => {
  it('deals publisher p and subscriber s to host p mod n and s mod n, each exactly once', () => {
    const plan = makePlan(config({ publishers: 7, subscribers: 11, channels: 5 }), standalone, 'r1');
    const shapes = [shape(2), shape(4), shape(3)];
    const split = splitOverHosts(plan, shapes);
    checkSplit(plan, shapes, split);
    expect(split.map((h) => ids(publishersOf(h.workers)))).toEqual([[0, 3, 6], [1, 4], [2, 5]]);
    expect(split.map((h) => ids(subscribersOf(h.workers)))).toEqual([[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8]]);
    expect(split.map((h) => h.remotePublishers)).toEqual([[1, 2, 4, 5], [0, 2, 3, 5, 6], [0, 1, 3, 4, 6]]);
  });

  it('hands each host the very publisher and subscriber plans of the run, lanes and connections untouched', () => {
    const plan = makePlan(config({ mode: 'spublish', subscribe: 'shard', publishers: 4, subscribers: 3, channels: 30 }), cluster, 'r1');
    const byId = <T extends { id: number }>(xs: readonly T[]) => new Map(xs.map((x) => [x.id, x]));
    const pubs = byId(publishersOf(plan.workers));
    const subs = byId(subscribersOf(plan.workers));
    const split = splitOverHosts(plan, [shape(2), shape(2)]);
    for (const h of split) {
      for (const p of publishersOf(h.workers)) expect(p).toEqual(pubs.get(p.id));
      for (const s of subscribersOf(h.workers)) expect(s).toEqual(subs.get(s.id));
    }
    // And the plan itself is left as it was.
    expect(ids(publishersOf(plan.workers))).toEqual([0, 1, 2, 3]);
  });

  it('follows each host\'s own threads: publishers and subscribers apart from two threads up, together on one', () => {
    const plan = makePlan(config({ publishers: 6, subscribers: 6 }), standalone, 'r1');
    const shapes = [shape(1), shape(2), shape(5)];
    const split = splitOverHosts(plan, shapes);
    checkSplit(plan, shapes, split);
    // One thread: its two publishers and two subscribers share it.
    expect(split[0]!.workers).toHaveLength(1);
    expect(ids(split[0]!.workers[0]!.publishers)).toEqual([0, 3]);
    expect(ids(split[0]!.workers[0]!.subscribers)).toEqual([0, 3]);
    // Two: one publishing, one subscribing.
    expect(split[1]!.workers.map((w) => [ids(w.publishers), ids(w.subscribers)])).toEqual([[[1, 4], []], [[], [1, 4]]]);
    // Five: three for publishing (two used), two for subscribing.
    expect(split[2]!.workers.map((w) => [ids(w.publishers), ids(w.subscribers)])).toEqual([[[2], []], [[5], []], [[], [2]], [[], [5]]]);
  });

  it('lays out a host\'s share the same way however the coordinator laid out the whole plan', () => {
    // The plan was laid out for one thread (everything on one worker) or for eight: the split is the same.
    const one = makePlan(config({ publishers: 5, subscribers: 4, threads: 1 }), standalone, 'r1');
    const eight = makePlan(config({ publishers: 5, subscribers: 4, threads: 8 }), standalone, 'r1');
    expect(one.workers).toHaveLength(1);
    const shapes = [shape(2), shape(3)];
    const a = splitOverHosts(one, shapes);
    const b = splitOverHosts(eight, shapes);
    checkSplit(one, shapes, a);
    expect(a).toEqual(b);
  });

  it('leaves some hosts without publishers when there are more hosts than publishers, and they are still valid', () => {
    const plan = makePlan(config({ publishers: 2, subscribers: 5 }), standalone, 'r1');
    const shapes = [shape(2), shape(2), shape(2), shape(1)];
    const split = splitOverHosts(plan, shapes);
    checkSplit(plan, shapes, split);
    expect(split.map((h) => ids(publishersOf(h.workers)))).toEqual([[0], [1], [], []]);
    expect(split.map((h) => ids(subscribersOf(h.workers)))).toEqual([[0, 4], [1], [2], [3]]);
    // Hosts 2 and 3 only subscribe: every publisher is remote to them.
    expect(split[2]!.remotePublishers).toEqual([0, 1]);
    expect(split[3]!.remotePublishers).toEqual([0, 1]);
    expect(split[2]!.workers.every((w) => w.publishers.length === 0)).toBe(true);
    expect(split[3]!.workers).toHaveLength(1);
  });

  it('gives a host with neither publishers nor subscribers no workers at all (not an empty one)', () => {
    const plan = makePlan(config({ publishers: 1, subscribers: 1 }), standalone, 'r1');
    const shapes = [shape(2), shape(2), shape(4)];
    const split = splitOverHosts(plan, shapes);
    checkSplit(plan, shapes, split);
    expect(split[0]!.workers.map((w) => [ids(w.publishers), ids(w.subscribers)])).toEqual([[[0], []], [[], [0]]]);
    expect(split[1]!.workers).toEqual([]);
    expect(split[2]!.workers).toEqual([]);
    expect(split[1]!.remotePublishers).toEqual([0]);
  });

  it('gives a single host everything, with no remote publishers', () => {
    const plan = makePlan(config({ publishers: 5, subscribers: 7, threads: 4 }), standalone, 'r1');
    const split = splitOverHosts(plan, [shape(4)]);
    checkSplit(plan, [shape(4)], split);
    expect(split).toHaveLength(1);
    expect(split[0]!.remotePublishers).toEqual([]);
    expect(ids(publishersOf(split[0]!.workers))).toEqual(range(5));
    expect(ids(subscribersOf(split[0]!.workers))).toEqual(range(7));
    // The same layout as the plan's own for the same threads.
    const norm = (ws: readonly WorkerPlan[]) => ws.map((w) => [ids(w.publishers), ids(w.subscribers)]);
    expect(norm(split[0]!.workers)).toEqual(norm(plan.workers));
  });

  it('handles a run with no subscribers: every thread of a host publishes', () => {
    const noSubs = makePlan(config({ publishers: 6, subscribers: 0 }), standalone, 'r1');
    const shapes = [shape(2), shape(3)];
    const a = splitOverHosts(noSubs, shapes);
    checkSplit(noSubs, shapes, a);
    // No subscribers: every thread publishes.
    expect(a[0]!.workers.map((w) => ids(w.publishers))).toEqual([[0, 4], [2]]);
    expect(a[1]!.workers.map((w) => ids(w.publishers))).toEqual([[1], [3], [5]]);
  });

  it('reads a host of zero threads as one', () => {
    const plan = makePlan(config({ publishers: 2, subscribers: 2 }), standalone, 'r1');
    const split = splitOverHosts(plan, [shape(0), shape(0)]);
    checkSplit(plan, [shape(0), shape(0)], split);
    expect(split.map((h) => h.workers.length)).toEqual([1, 1]);
  });

  it('deals a replayed mix (publishers with many lanes, subscribers with classic and shard connections) the same way', () => {
    const sizes = [{ bytes: 100, weight: 1 }];
    const mix = {
      channels: [
        { name: 'a', kind: 'channel' as const, rate: 200, subscribers: 3, sizes, group: 'g1' },
        { name: 'b', kind: 'channel' as const, rate: 50, subscribers: 1, sizes, group: 'g1' },
        { name: 'c', kind: 'shard' as const, rate: 100, subscribers: 2, sizes, group: 'c' },
        { name: 'd', kind: 'shard' as const, rate: 10, subscribers: 5, sizes, group: 'c' },
      ],
    };
    const plan = makePlan(config({ mix, publishers: 3 }), cluster, 'r1');
    const shapes = [shape(2), shape(1)];
    const split = splitOverHosts(plan, shapes);
    checkSplit(plan, shapes, split);
    const lanes = (hs: readonly HostPlan[]) => hs.flatMap((h) => publishersOf(h.workers)).flatMap((p) => p.lanes.map((l) => l.channels[0]!)).sort();
    expect(lanes(split)).toEqual([0, 1, 2, 3]);
    // Connections: the split keeps every subscription the plan asked for.
    const connections = (ws: readonly WorkerPlan[]) => subscribersOf(ws).reduce((s, x) => s + x.connections.length, 0);
    expect(split.reduce((s, h) => s + connections(h.workers), 0)).toBe(plan.connections);
  });

  it('holds for many plans and host shapes (property)', () => {
    let seed = 42;
    const next = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed % n;
    };
    for (let i = 0; i < 150; i++) {
      const plan = makePlan(config({ publishers: 1 + next(12), subscribers: next(15), channels: 1 + next(6), threads: 1 + next(6) }), i % 2 ? cluster : standalone, `r${i}`);
      const shapes = range(1 + next(6)).map(() => shape(next(7), next(2) === 1));
      checkSplit(plan, shapes, splitOverHosts(plan, shapes));
    }
  });
});

describe('layWorkers', () => {
  const pubs = (n: number): PublisherPlan[] => range(n).map((id) => ({ id, lanes: [] }));
  const subs = (n: number): SubscriberPlan[] => range(n).map((id) => ({ id, connections: [] }));
  const layout = (ws: readonly WorkerPlan[]) => ws.map((w) => [ids(w.publishers), ids(w.subscribers)]);

  it('puts everything on one worker with one thread', () => {
    expect(layout(layWorkers(pubs(3), subs(2), 1))).toEqual([[[0, 1, 2], [0, 1]]]);
  });

  it('gives publishers the first half of the threads (rounded up) and subscribers the rest', () => {
    expect(layout(layWorkers(pubs(4), subs(4), 2))).toEqual([[[0, 1, 2, 3], []], [[], [0, 1, 2, 3]]]);
    expect(layout(layWorkers(pubs(4), subs(4), 3))).toEqual([[[0, 2], []], [[1, 3], []], [[], [0, 1, 2, 3]]]);
    expect(layout(layWorkers(pubs(4), subs(4), 4))).toEqual([[[0, 2], []], [[1, 3], []], [[], [0, 2]], [[], [1, 3]]]);
  });

  it('gives every thread to publishers when there are no subscribers', () => {
    expect(layout(layWorkers(pubs(5), [], 3))).toEqual([[[0, 3], []], [[1, 4], []], [[2], []]]);
    expect(layout(layWorkers(pubs(2), [], 1))).toEqual([[[0, 1], []]]);
  });

  it('drops the workers nothing was dealt to', () => {
    expect(layout(layWorkers(pubs(1), subs(1), 8))).toEqual([[[0], []], [[], [0]]]);
    expect(layWorkers([], [], 4)).toEqual([]);
    expect(layWorkers([], [], 1)).toEqual([]);
  });

  it('spreads subscribers over at least subscriberWorkers workers, on one thread too', () => {
    const ws = layWorkers(pubs(2), subs(6), 1, 3);
    expect(layout(ws)).toEqual([[[0, 1], []], [[], [0, 3]], [[], [1, 4]], [[], [2, 5]]]);
  });

  it('does not reorder or copy the plans it is given', () => {
    const p = pubs(3);
    const s = subs(3);
    const ws = layWorkers(p, s, 1);
    expect(ws[0]!.publishers[1]).toBe(p[1]);
    expect(ws[0]!.subscribers[2]).toBe(s[2]);
    // A new array, so the caller's list is not the worker's.
    expect(ws[0]!.publishers).not.toBe(p);
  });
});
