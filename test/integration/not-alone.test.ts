// Other pubsub-mon processes never count: wallboards left running must not mask an outage, on a cluster.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { RunningCli, runCli } from '../helpers/cli.js';
import { findChannel, watchOnce, type WatchJson } from '../helpers/watch.js';

let sb: Sandbox;
const clients = new Clients();
const running: RunningCli[] = [];

beforeAll(async () => {
  sb = await startSandbox({ cluster: 3, replicas: 1 });
});
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.interrupt()));
  clients.closeAll();
  admins.clear();
  owners.clear();
});
afterAll(async () => {
  await sb?.stop();
});

/** A `watch --rates` left running, as a wallboard would be; resolves once it has refreshed twice. */
async function wallboard(url = sb.url): Promise<RunningCli> {
  const w = new RunningCli(['watch', '-u', url, '--rates', '--json', '--interval', '200ms']);
  running.push(w);
  await w.waitForLine(() => w.lines().length >= 2);
  return w;
}

/** One admin connection per node, opened once: polling must not add clients of its own. */
const admins = new Map<number, Awaited<ReturnType<Clients['open']>>>();
async function admin(node: Sandbox['nodes'][number]) {
  let c = admins.get(node.port);
  if (!c) admins.set(node.port, (c = await clients.open(node, 'test:admin')));
  return c;
}

/** SHARDNUMSUB of `channel` summed over its shard, as a person would ask each node. */
const owners = new Map<string, Awaited<ReturnType<typeof ownerOfSlot>>>();
async function shardNumsub(channel: string): Promise<number> {
  let owner = owners.get(channel);
  if (!owner) owners.set(channel, (owner = await ownerOfSlot(sb, clients, hashSlot(channel))));
  const { primary, replicas } = owner;
  let total = 0;
  for (const node of [primary, ...replicas]) {
    const reply = (await (await admin(node)).call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number];
    total += Number(reply[1]);
  }
  return total;
}

describe('other pubsub-mon processes never count', () => {
  it('a tail -c elsewhere does not count as a subscriber of the channel it listens to', async () => {
    const tail = new RunningCli(['tail', '-u', sb.url, '-c', 'payments', '--json']);
    running.push(tail);
    const publisher = await clients.open(sb.nodes[2]!, 'test:publisher');
    // tail hears it (it is subscribed), yet check finds nobody.
    await expect.poll(async () => {
      await publisher.publish('payments', 'p');
      return tail.lines().length;
    }, { timeout: 15_000, interval: 200 }).toBeGreaterThan(0);
    expect(JSON.parse(tail.lines()[0]!)).toMatchObject({ kind: 'message', pattern: null, channel: 'payments' });
    const r = await runCli(['check', '-u', sb.url, '-c', 'payments']);
    expect(r.stdout).toMatch(/^CRITICAL - /);
    expect(r.code).toBe(2);
  });

  it('a watch --rates elsewhere does not turn a channel nobody hears into a WARNING', async () => {
    await wallboard();
    const r = await runCli(['check', '-u', sb.url, '-c', 'nobody']);
    expect(r.stdout).toMatch(/^CRITICAL - /);
    expect(r.code).toBe(2);
    // A real pattern subscriber still is one.
    await clients.psubscribe(sb.nodes[3]!, 'nob*');
    const warned = await runCli(['check', '-u', sb.url, '-c', 'nobody']);
    expect(warned.code).toBe(1);
    expect(warned.stdout).toMatch(/1 pattern subscription exists/);
  });

  it('two wallboards sampling a shard channel do not keep it alive once its only subscriber is gone', async () => {
    const channel = '{inv}:stock';
    const { primary } = await ownerOfSlot(sb, clients, hashSlot(channel));
    const app = await clients.ssubscribe(primary, channel);
    await wallboard();
    await wallboard(`redis://127.0.0.1:${sb.nodes[4]!.port}`);
    // The server counts three subscriptions: the application's and one per wallboard.
    await expect.poll(() => shardNumsub(channel), { timeout: 15_000, interval: 200 }).toBe(3);
    const ok = await runCli(['check', '-u', sb.url, '-s', channel, '--format', 'json']);
    expect(JSON.parse(ok.stdout).channels[0]).toMatchObject({ name: channel, subscribers: 1, status: 'OK' });
    app.disconnect();
    await expect.poll(() => shardNumsub(channel), { timeout: 15_000, interval: 200 }).toBeLessThanOrEqual(2);
    const gone = await runCli(['check', '-u', sb.url, '-s', channel, '--format', 'json']);
    expect(gone.code).toBe(2);
    expect(JSON.parse(gone.stdout).channels[0]).toMatchObject({ name: channel, subscribers: 0, status: 'CRITICAL' });
  });

  it('SUBSCRIBERS, CLIENTS, PUBSUB CLIENTS and PATTERNS read the same with or without other pubsub-mon processes (watch, tail)', async () => {
    await clients.subscribe(sb.nodes[1]!, 'orders');
    await clients.psubscribe(sb.nodes[2]!, 'news:*');
    const shard = '{u1}:events';
    const owner = await ownerOfSlot(sb, clients, hashSlot(shard));
    owners.set(shard, owner);
    await clients.ssubscribe(owner.primary, shard);
    // Every connection this test polls through is open before the first reading, so CLIENTS compares.
    for (const node of [owner.primary, ...owner.replicas]) await admin(node);
    const view = (w: WatchJson) => ({
      channels: w.channels.map((c) => `${c.kind} ${c.name} ${c.subscribers}`).sort(),
      nodes: w.nodes.map((n) => `${n.address} clients=${(n as { clients?: number }).clients} pubsub=${n.pubsub_clients} patterns=${n.numpat}`),
    });
    const alone = view(await watchOnce(sb.url));
    await wallboard();
    await wallboard(`redis://127.0.0.1:${sb.nodes[5]!.port}`);
    const tail = new RunningCli(['tail', '-u', sb.url, '--shards', '-c', 'orders', '--json']);
    running.push(tail);
    await expect.poll(() => shardNumsub(shard), { timeout: 15_000, interval: 200 }).toBe(4);
    expect(view(await watchOnce(sb.url, '--rates'))).toEqual(alone);
  });

  it('shows a bench run\'s subscribers, which are real, on its own channels marked as pubsub-mon\'s', async () => {
    const bench = new RunningCli(['bench', '-u', sb.url, '--rate', '200', '--duration', '20s', '--warmup', '0', '--json']);
    running.push(bench);
    await expect
      .poll(async () => (await watchOnce(sb.url)).channels.find((c) => c.name.startsWith('pubsub-mon:bench:')), { timeout: 15_000, interval: 300 })
      .toMatchObject({ kind: 'channel', subscribers: 1, pubsub_mon: 'bench' });
    const w = await watchOnce(sb.url);
    expect(w.nodes.reduce((sum, n) => sum + (n.pubsub_clients ?? 0), 0)).toBeGreaterThanOrEqual(1);
    expect(findChannel(w, 'orders')).toBeUndefined();
  });

  it('says so, and counts patterns with NUMPAT, when CLIENT LIST is refused', async () => {
    for (const node of sb.nodes) {
      const admin = await clients.open(node, 'test:admin');
      await admin.call('ACL', 'SETUSER', 'nolist', 'on', '>pw', '+@all', '-client|list', '&*');
    }
    await clients.psubscribe(sb.nodes[0]!, 'app:*');
    const r = await runCli(['check', '-u', sb.url, '--user', 'nolist', '-a', 'pw', '--no-auth-warning', '-c', 'nobody', '--format', 'json']);
    const doc = JSON.parse(r.stdout) as { status: string; notes: string[] };
    expect(doc.status).toBe('WARNING');
    expect(doc.notes.join('\n')).toMatch(/counted with NUMPAT where CLIENT LIST was refused/);
  });
});
