// The deployment seen from whichever node the user names: a replica, a cluster after a failover, a node that hangs.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { Clients } from '../helpers/redis.js';
import { RunningCli, runCli } from '../helpers/cli.js';
import { findChannel, watchOnce, type WatchJson } from '../helpers/watch.js';

describe('standalone, started from a replica', () => {
  let sb: Sandbox;
  let chained: Sandbox;
  const clients = new Clients();
  beforeAll(async () => {
    [sb, chained] = await Promise.all([startSandbox({ replicas: 2 }), startSandbox()]);
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await Promise.all([sb?.stop(), chained?.stop()]);
  });

  const url = (i: number) => `redis://127.0.0.1:${sb.nodes[i]!.port}`;

  it('finds the primary and every sibling replica, so a subscriber on another replica counts', async () => {
    // The only subscriber sits on the second replica; the user names the first.
    await clients.subscribe(sb.nodes[2]!, 'orders');
    const check = await runCli(['check', '-u', url(1), '-c', 'orders']);
    expect(check.stdout).toMatch(/^OK - /);
    expect(check.code).toBe(0);
    const w = await watchOnce(url(1));
    // The primary first, then its replicas in address order (the order the primary lists them in varies).
    const replicas = [sb.nodes[1]!.port, sb.nodes[2]!.port].sort((a, b) => a - b);
    expect(w.nodes.map((n) => `${n.role} ${n.address}`)).toEqual([`primary 127.0.0.1:${sb.nodes[0]!.port}`, ...replicas.map((p) => `replica 127.0.0.1:${p}`)]);
    expect(findChannel(w, 'orders')?.subscribers).toBe(1);
  });

  it('follows a replica of a replica, which only its own primary lists', async () => {
    const extra = chained.nodes[0]!;
    const admin = await clients.open(extra, 'test:admin');
    await admin.call('REPLICAOF', '127.0.0.1', String(sb.nodes[1]!.port));
    await expect.poll(async () => /master_link_status:up/.test(await admin.info('replication')), { timeout: 15_000 }).toBe(true);
    try {
      await clients.subscribe(extra, 'audit');
      const check = await runCli(['check', '-u', url(2), '-c', 'audit']);
      expect(check.code).toBe(0);
      const w = await watchOnce(url(0));
      expect(w.nodes.map((n) => n.address)).toContain(`127.0.0.1:${extra.port}`);
      expect(findChannel(w, 'audit')?.subscribers).toBe(1);
    } finally {
      await admin.call('REPLICAOF', 'NO', 'ONE');
    }
  });
});

describe('a cluster after a failover', () => {
  let sb: Sandbox;
  const clients = new Clients();
  beforeAll(async () => {
    sb = await startSandbox({ cluster: 3, replicas: 1, nodeTimeoutMs: 500 });
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await sb?.stop();
  });

  it('counts the new topology as the truth, and names the failed node without making check UNKNOWN', async () => {
    const survivor = sb.nodes[1]!;
    const url = `redis://127.0.0.1:${survivor.port}`;
    await clients.subscribe(survivor, 'orders');
    const dead = sb.nodes[0]!;
    await dead.process.kill();
    // Wait until the cluster itself has marked it failed and a replica serves its slots.
    const admin = await clients.open(survivor, 'test:admin');
    await expect
      .poll(async () => {
        const nodes = String(await admin.call('CLUSTER', 'NODES'));
        const state = String(await admin.call('CLUSTER', 'INFO'));
        return nodes.split('\n').some((l) => l.includes(`:${dead.port}@`) && /\bmaster,fail\b/.test(l) && !/\d+-\d+/.test(l)) && /cluster_state:ok/.test(state);
      }, { timeout: 20_000, interval: 200 })
      .toBe(true);
    const ok = await runCli(['check', '-u', url, '-c', 'orders']);
    expect(ok.code).toBe(0);
    const gone = await runCli(['check', '-u', url, '-c', 'nobody', '--format', 'json']);
    expect(gone.code).toBe(2);
    const doc = JSON.parse(gone.stdout) as { status: string; notes: string[] };
    expect(doc.status).toBe('CRITICAL');
    expect(doc.notes.join('\n')).toContain(`node 127.0.0.1:${dead.port} is marked failed by the cluster and a replica took over its slots`);
    const w = await watchOnce(url);
    expect(w.nodes.find((n) => n.address === `127.0.0.1:${dead.port}`)).toMatchObject({ up: false, replaced: true });
    expect(findChannel(w, 'orders')?.subscribers).toBe(1);
  });
});

describe('a node that hangs (accepts connections, never answers)', () => {
  let sb: Sandbox;
  const clients = new Clients();
  beforeAll(async () => {
    sb = await startSandbox({ replicas: 1 });
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await sb?.stop();
  });

  async function withReplicaStopped(body: () => Promise<void>): Promise<void> {
    const pid = sb.nodes[1]!.process.pid!;
    process.kill(pid, 'SIGSTOP');
    try {
      await body();
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  }

  it('check and watch --once finish within about --timeout, naming the node that timed out', async () => {
    await clients.subscribe(sb.nodes[0]!, 'orders');
    await withReplicaStopped(async () => {
      let started = Date.now();
      const check = await runCli(['check', '-u', sb.url, '-c', 'orders', '-c', 'nobody', '--timeout', '1s']);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(check.code).toBe(3);
      expect(check.stdout).toMatch(new RegExp(`127\\.0\\.0\\.1:${sb.nodes[1]!.port} \\(no answer (from \\S+ )?within 1000 ms`));
      started = Date.now();
      const once = await runCli(['watch', '-u', sb.url, '--once', '--json', '--interval', '200ms', '--timeout', '1s']);
      expect(Date.now() - started).toBeLessThan(3000);
      expect(once.code).toBe(0);
      const w = JSON.parse(once.stdout) as { nodes: { up: boolean; error?: string }[]; channels: { name: string; subscribers: number }[] };
      expect(w.nodes[0]!.up).toBe(true);
      expect(w.nodes[1]).toMatchObject({ up: false });
      expect(w.nodes[1]!.error).toMatch(/no answer/);
      expect(w.channels.find((c) => c.name === 'orders')?.subscribers).toBe(1);
    });
  });

  it('watch keeps refreshing the other nodes on time and says how stale the hung one is', async () => {
    const watch = new RunningCli(['watch', '-u', sb.url, '--json', '--interval', '250ms', '--timeout', '1500ms']);
    try {
      await watch.waitForLine((l) => (JSON.parse(l) as WatchJson).nodes.every((n) => n.up));
      await withReplicaStopped(async () => {
        const stoppedAt = watch.lines().length;
        await watch.waitForLine((l) => /no answer within 1500 ms \(timed out; last reading \d+\.\d s old\)/.test(l), 10_000);
        // Meanwhile every frame kept coming, about every 250 ms, the primary fresh in each.
        const frames = watch.lines().slice(stoppedAt).map((l) => JSON.parse(l) as WatchJson);
        expect(frames.length).toBeGreaterThanOrEqual(5);
        expect(frames.every((f) => f.nodes[0]!.up)).toBe(true);
      });
    } finally {
      await watch.interrupt();
    }
  });

  it('check gives up on a seed that accepts the connection and never answers, within about --timeout', async () => {
    const net = await import('node:net');
    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const port = String((silent.address() as { port: number }).port);
      const started = Date.now();
      const r = await runCli(['check', '-p', port, '-c', 'x', '--timeout', '1s', '--format', 'nagios']);
      expect(Date.now() - started).toBeLessThan(2500);
      expect(r.code).toBe(3);
      expect(r.stdout).toMatch(/^PUBSUB UNKNOWN - no answer from 127\.0\.0\.1:\d+ within 1000 ms/);
    } finally {
      silent.close();
    }
  });
});
