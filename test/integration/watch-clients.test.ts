// watch --view clients --json against real servers: the stalled subscriber on top, counts that match CLIENT LIST on a cluster, flapping clients.
import net from 'node:net';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { startSandbox, type Sandbox, type SandboxNode } from '../../src/sandbox/sandbox.js';
import { parseClientList, type ClientInfo } from '../../src/stats/client-list.js';
import { versionAtLeast } from '../../src/stats/topology.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import type { ClientJson, SnapshotJson } from '../../src/render/json/watch.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { RunningCli, runCli } from '../helpers/cli.js';

const clients = new Clients();
const sockets: net.Socket[] = [];
const running: RunningCli[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.interrupt()));
  for (const s of sockets.splice(0)) s.destroy();
  clients.closeAll();
});

/** `watch --view clients --once --json`; it must succeed quietly. */
async function clientsOnce(url: string): Promise<SnapshotJson & { clients: ClientJson[]; clients_unknown_nodes: string[]; flapping: number }> {
  const r = await runCli(['watch', '-u', url, '--view', 'clients', '--once', '--json', '--interval', '300ms']);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return JSON.parse(r.stdout);
}

/** A raw connection that names itself and subscribes, as any client library would, and resolves once the server confirmed. */
async function rawSubscriber(node: SandboxNode, name: string, channel: string): Promise<net.Socket> {
  const socket = net.connect(node.port, node.host);
  sockets.push(socket);
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  let seen = '';
  const confirmed = new Promise<void>((resolve) => {
    socket.on('data', (d: Buffer) => {
      seen += d.toString('latin1');
      if (seen.includes('subscribe')) resolve();
    });
  });
  socket.write(`CLIENT SETNAME ${name}\r\nSUBSCRIBE ${channel}\r\n`);
  await confirmed;
  return socket;
}

async function clientList(admin: Redis): Promise<ClientInfo[]> {
  return parseClientList(String(await admin.call('CLIENT', 'LIST')));
}

describe('watch --view clients on a standalone server with a replica', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ replicas: 1 });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('shows a stalled subscriber first, by its name, with the output buffer CLIENT LIST gives it', async () => {
    const primary = sb.nodes[0]!;
    await clients.subscribe(primary, 'news');
    await clients.subscribe(sb.nodes[1]!, 'news');
    await clients.psubscribe(primary, 'firehose*');
    const slow = await rawSubscriber(primary, 'slow-consumer', 'firehose');
    // It stops reading: the kernel's buffers fill, then the server queues for it.
    slow.pause();
    const admin = await clients.open(primary, 'test:admin');
    const payload = Buffer.alloc(256 * 1024, 'x');
    const pattern = (await clientList(admin)).find((c) => c.psub === 1)!;
    const omemOf = async () => (await clientList(admin)).find((c) => c.name === 'slow-consumer')?.omem ?? 0;
    // Well under the soft limit (8 MB by default), so the server does not cut it off during the test.
    for (let i = 0; i < 400 && (await omemOf()) < 2 * 1024 * 1024; i++) await admin.publish('firehose', payload);
    const before = await omemOf();
    expect(before).toBeGreaterThanOrEqual(2 * 1024 * 1024);
    // The pattern subscriber reads: its buffer drains, so it is not the slow one.
    await expect.poll(async () => (await clientList(admin)).find((c) => c.id === pattern.id)?.omem, { timeout: 10_000 }).toBe(0);

    const w = await clientsOnce(sb.url);
    const after = await omemOf();
    const top = w.clients[0]!;
    expect(top).toMatchObject({ name: 'slow-consumer', node: primary.address, node_role: 'primary', sub: 1, psub: 0, ssub: 0 });
    expect(top.omem).toBeGreaterThanOrEqual(Math.min(before, after) * 0.9);
    expect(top.omem).toBeLessThanOrEqual(Math.max(before, after) * 1.1);
    expect(w.clients.slice(1).every((c) => (c.omem ?? 0) < top.omem!)).toBe(true);
    // The others are there too, replicas' included, and nothing of pubsub-mon's own.
    expect(w.clients.map((c) => `${c.node_role} ${c.name} ${c.sub} ${c.psub}`).sort()).toEqual(
      ['primary slow-consumer 1 0', 'primary test:psubscriber 0 1', 'primary test:subscriber 1 0', 'replica test:subscriber 1 0'],
    );
    expect(w.clients_unknown_nodes).toEqual([]);
    for (const c of w.clients) {
      expect(c.addr).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(c.age).toEqual(expect.any(Number));
      expect(c.idle).toEqual(expect.any(Number));
      expect(c).toMatchObject({ flapping: false, reconnects: 0 });
    }
    const version = /redis_version:(\S+)/.exec(String(await admin.info('server')))?.[1];
    // lib-name and lib-ver arrived with Redis 7.2: before it they are unknown, never ''.
    if (!versionAtLeast(version, 7, 2)) expect(w.clients.every((c) => c.lib_name === null && c.lib_ver === null)).toBe(true);
    // In text the same: the first row under the header is the slow subscriber, its buffer beside it.
    const text = (await runCli(['watch', '-u', sb.url, '--view', 'clients', '--once', '--interval', '100ms'])).stdout.split('\n');
    const header = text.findIndex((l) => /^NAME\s+ADDR\s+NODE/.test(l));
    expect(header).toBeGreaterThan(0);
    expect(text[header + 1]).toMatch(/^slow-consumer\s+127\.0\.0\.1:\d+\s+/);
    expect(text[header + 1]).toMatch(/\s[\d.]+ MiB \/ [\d.]+ MiB\s/);
    // The channels view's JSON is unchanged: no clients in it.
    const channels = JSON.parse((await runCli(['watch', '-u', sb.url, '--once', '--json', '--interval', '100ms'])).stdout) as Record<string, unknown>;
    expect(channels).not.toHaveProperty('clients');
  });

  it('marks a client that keeps reconnecting as flapping, and a stable one not', async () => {
    const primary = sb.nodes[0]!;
    const steady = await clients.open(primary, 'steady');
    await steady.subscribe('orders');
    let stop = false;
    const flapping = (async () => {
      while (!stop) {
        const s = await rawSubscriber(primary, 'flappy', 'orders');
        await sleep(200);
        s.destroy();
      }
    })();
    try {
      const watch = new RunningCli(['watch', '-u', sb.url, '--view', 'clients', '--json', '--interval', '300ms']);
      running.push(watch);
      const line = await watch.waitForLine((l) => (JSON.parse(l) as { clients: ClientJson[] }).clients.some((c) => c.name === 'flappy' && c.flapping), 30_000);
      const doc = JSON.parse(line) as { clients: ClientJson[]; flapping: number };
      expect(doc.clients.find((c) => c.name === 'flappy')!.reconnects).toBeGreaterThanOrEqual(2);
      expect(doc.clients.find((c) => c.name === 'steady')).toMatchObject({ flapping: false, reconnects: 0 });
      expect(doc.flapping).toBe(1);
      // Every line is a clients-view document.
      expect(watch.lines().every((l) => Array.isArray((JSON.parse(l) as { clients?: unknown }).clients))).toBe(true);
    } finally {
      stop = true;
      await flapping;
    }
  });
});

describe('watch --view clients on a cluster with replicas', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ cluster: 3, replicas: 1 });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('lists every subscriber on primaries and replicas, counts as CLIENT LIST has them, and never another pubsub-mon\'s connections', async () => {
    const shard = '{acct}:events';
    const owner = await ownerOfSlot(sb, clients, hashSlot(shard));
    const replicas = sb.nodes.filter((n) => n.role === 'replica');
    await clients.subscribe(replicas[0]!, 'orders', 'news');
    await clients.subscribe(sb.nodes[0]!, 'orders');
    await clients.psubscribe(replicas[1]!, 'audit:*', 'log:*');
    await clients.ssubscribe(owner.primary, shard);
    await clients.ssubscribe(owner.replicas[0]!, shard);
    // A wallboard elsewhere holds patterns and shard subscriptions of its own: none of it may show.
    const wallboard = new RunningCli(['watch', '-u', sb.url, '--rates', '--json', '--interval', '200ms']);
    running.push(wallboard);
    await wallboard.waitForLine(() => wallboard.lines().length >= 3);

    const w = await clientsOnce(sb.url);
    expect(w.clients.filter((c) => c.name.startsWith('pubsub-mon:'))).toEqual([]);
    expect(w.clients_unknown_nodes).toEqual([]);
    // Shard by shard, primary first.
    expect(w.nodes.map((n) => n.role)).toEqual(['primary', 'replica', 'primary', 'replica', 'primary', 'replica']);

    // What a person would add up from CLIENT LIST on each node, leaving out every pubsub-mon connection.
    const expected: string[] = [];
    for (const node of sb.nodes) {
      const admin = await clients.open(node, 'test:admin');
      const subscribers = (await clientList(admin)).filter((c) => !c.name.startsWith('pubsub-mon:') && (c.flags.includes('P') || (c.sub ?? 0) + (c.psub ?? 0) + (c.ssub ?? 0) > 0));
      const sum = (f: 'sub' | 'psub' | 'ssub') => subscribers.reduce((s, c) => s + (c[f] ?? 0), 0);
      expected.push(`${node.address} ${node.role} connections=${subscribers.length} sub=${sum('sub')} psub=${sum('psub')} ssub=${sum('ssub')}`);
    }
    const shown = sb.nodes.map((node) => {
      const mine = w.clients.filter((c) => c.node === node.address);
      const sum = (f: 'sub' | 'psub' | 'ssub') => mine.reduce((s, c) => s + (c[f] ?? 0), 0);
      return `${node.address} ${mine[0]?.node_role ?? node.role} connections=${mine.length} sub=${sum('sub')} psub=${sum('psub')} ssub=${sum('ssub')}`;
    });
    expect(shown).toEqual(expected);
    expect(w.clients).toHaveLength(5);
    expect(w.clients.filter((c) => c.node_role === 'replica')).toHaveLength(3);
  });
});
