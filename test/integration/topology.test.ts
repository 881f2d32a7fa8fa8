// The deployment seen from whichever node the user names: a replica, a cluster after a failover, a node that hangs.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { Clients } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';
import { findChannel, watchOnce } from '../helpers/watch.js';

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
    expect(w.nodes.map((n) => `${n.role} ${n.address}`)).toEqual([
      `primary 127.0.0.1:${sb.nodes[0]!.port}`,
      `replica 127.0.0.1:${sb.nodes[1]!.port}`,
      `replica 127.0.0.1:${sb.nodes[2]!.port}`,
    ]);
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
