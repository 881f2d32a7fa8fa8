// watch and check against a real 3-primary/3-replica cluster, started by the test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { RunningCli, runCli } from '../helpers/cli.js';
import { findChannel as find, watchOnce, type WatchJson } from '../helpers/watch.js';


let sb: Sandbox;
const clients = new Clients();

beforeAll(async () => {
  sb = await startSandbox({ cluster: 3, replicas: 1 });
});
afterAll(async () => {
  await sb?.stop();
});
afterEach(() => clients.closeAll());


describe('watch on a 3+3 cluster', () => {
  it('discovers all six nodes from any one of them, replicas included', async () => {
    const w = await watchOnce(sb.urls[4]!);
    expect(w.mode).toBe('cluster');
    expect(w.nodes).toHaveLength(6);
    expect(w.nodes.filter((n) => n.role === 'primary')).toHaveLength(3);
    expect(w.nodes.filter((n) => n.role === 'replica')).toHaveLength(3);
    expect(new Set(w.nodes.map((n) => n.address))).toEqual(new Set(sb.nodes.map((n) => n.address)));
  });

  it('sums classic subscribers over primaries and replicas, each counted once', async () => {
    const primaries = sb.nodes.filter((n) => n.role === 'primary');
    const replicas = sb.nodes.filter((n) => n.role === 'replica');
    await clients.subscribe(primaries[0]!, 'orders');
    await clients.subscribe(replicas[1]!, 'orders');
    await clients.subscribe(replicas[2]!, 'orders', 'news');
    const w = await watchOnce(sb.url);
    expect(find(w, 'orders')?.subscribers).toBe(3);
    expect(find(w, 'news')?.subscribers).toBe(1);
    const check = await runCli(['check', '-u', sb.urls[3]!, '-c', 'orders', '-m', '3']);
    expect(check.code).toBe(0);
  });

  it('sums shard subscribers over the owning shard, primary and replica, and says which slot and shard', async () => {
    const name = '{user:1}:events';
    const slot = hashSlot(name);
    const owner = await ownerOfSlot(sb, clients, slot);
    await clients.ssubscribe(owner.primary, name);
    await clients.ssubscribe(owner.replicas[0]!, name);
    const w = await watchOnce(sb.url);
    const row = find(w, name, 'shard');
    expect(row).toMatchObject({ subscribers: 2, slot, shard: owner.primary.address });
    const check = await runCli(['check', '-u', sb.url, '-s', name, '-m', '2', '--format', 'json']);
    expect(check.code).toBe(0);
    expect(JSON.parse(check.stdout).channels[0]).toMatchObject({ name, kind: 'shard', subscribers: 2, status: 'OK' });
  });

  it('does not count its own sampler: --rates changes no count, and rates are measured', async () => {
    const name = 'inventory:{42}';
    const owner = await ownerOfSlot(sb, clients, hashSlot(name));
    await clients.ssubscribe(owner.replicas[0]!, name);
    await clients.subscribe(sb.nodes[1]!, 'orders');
    const pub = await clients.open(owner.primary, 'test:publisher');
    let running = true;
    const loop = (async () => {
      while (running) {
        await pub.call('SPUBLISH', name, 'x');
        await pub.publish('orders', 'y');
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const w = await watchOnce(sb.url, '--rates', '--interval', '1s');
      expect(find(w, name, 'shard')?.subscribers).toBe(1);
      expect(find(w, 'orders')?.subscribers).toBe(1);
      expect(w.nodes.every((n) => n.numpat === 0)).toBe(true);
      expect(w.patterns_present).toBe(false);
      expect(w.nodes.reduce((s, n) => s + (n.pubsub_clients ?? 0), 0)).toBe(2);
      expect(find(w, name, 'shard')!.rate).toBeGreaterThan(10);
      expect(find(w, 'orders')!.rate).toBeGreaterThan(10);
      // Each publish is counted on the one node that received it, so the total is theirs.
      const publishing = w.nodes.find((n) => n.address === owner.primary.address)!;
      expect(publishing.publish_per_sec).toBeGreaterThan(20);
      expect(w.publish_per_sec).toBeGreaterThanOrEqual(publishing.publish_per_sec!);
      expect(w.publish_per_sec! - publishing.publish_per_sec!).toBeLessThan(5);
    } finally {
      running = false;
      await loop;
    }
  });

  it('shows a shard channel on its new shard at the next refresh after its slot moves', async () => {
    const name = '{watch-moves}jobs';
    const slot = hashSlot(name);
    const from = (await ownerOfSlot(sb, clients, slot)).primary;
    const to = sb.nodes.find((n) => n.role === 'primary' && n !== from)!;
    await clients.ssubscribe(from, name);
    const watch = new RunningCli(['watch', '-u', sb.url, '--json', '--interval', '300ms']);
    const docs = () => watch.lines().map((l) => JSON.parse(l) as WatchJson);
    try {
      await watch.waitForLine((l) => find(JSON.parse(l) as WatchJson, name, 'shard')?.shard === from.address);
      const toId = (await (await clients.open(to, 'test:admin')).call('CLUSTER', 'MYID')) as string;
      for (const n of [to, from, ...sb.nodes.filter((x) => x.role === 'primary' && x !== to && x !== from)]) {
        await (await clients.open(n, 'test:admin')).call('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
      }
      // The application follows its channel to the new owner (the old one ended its subscription).
      await clients.ssubscribe(to, name);
      const seen = docs().length;
      // The refresh under way may have read the nodes before that; the one after it must show the move.
      await expect.poll(() => docs().length, { timeout: 10_000, interval: 50 }).toBeGreaterThanOrEqual(seen + 2);
      expect(find(docs()[seen + 1]!, name, 'shard')).toMatchObject({ subscribers: 1, slot, shard: to.address });
    } finally {
      await watch.interrupt();
    }
  });

  it('--cluster passes on a cluster node and fails clearly on a standalone server', async () => {
    const ok = await runCli(['check', '-u', sb.url, '--cluster', '-c', 'nobody', '-m', '0']);
    expect(ok.code).toBe(0);
    const single = await startSandbox();
    try {
      const r = await runCli(['watch', '-u', single.url, '--cluster', '--once']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/not a cluster node/);
    } finally {
      await single.stop();
    }
  });
});
