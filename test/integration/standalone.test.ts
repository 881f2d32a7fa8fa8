// watch and check against a real standalone server with one replica, started by the test.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { Clients } from '../helpers/redis.js';
import { runCli, stackTraceLines } from '../helpers/cli.js';
import { findChannel as channel, watchOnce as watchUrl } from '../helpers/watch.js';

let sb: Sandbox;
const clients = new Clients();
const watchOnce = (...extra: string[]) => watchUrl(sb.url, ...extra);

beforeAll(async () => {
  sb = await startSandbox({ replicas: 1 });
});
afterAll(async () => {
  await sb?.stop();
});
afterEach(() => clients.closeAll());

const primary = () => sb.nodes[0]!;
const replica = () => sb.nodes[1]!;



describe('watch on a standalone server with a replica', () => {
  it('counts subscribers on the primary and on the replica once each', async () => {
    await clients.subscribe(primary(), 'orders');
    await clients.subscribe(replica(), 'orders');
    await clients.subscribe(primary(), 'news');
    await clients.subscribe(primary(), 'news');
    const w = await watchOnce();
    expect(w.mode).toBe('standalone');
    expect(channel(w, 'orders')?.subscribers).toBe(2);
    expect(channel(w, 'news')?.subscribers).toBe(2);
    expect(w.nodes.map((n) => n.role)).toEqual(['primary', 'replica']);
    expect(w.nodes.every((n) => n.up && /^\d+\.\d+/.test(n.version ?? ''))).toBe(true);
    expect(w.nodes[0]!.pubsub_clients).toBe(3);
    expect(w.nodes[1]!.pubsub_clients).toBe(1);
    expect(w.patterns_present).toBe(false);
  });

  it('leaves its own rate sampler out of channels, patterns and pub/sub clients', async () => {
    await clients.subscribe(primary(), 'orders');
    await clients.ssubscribe(primary(), 'inventory');
    const w = await watchOnce('--rates');
    expect(channel(w, 'orders')?.subscribers).toBe(1);
    expect(channel(w, 'inventory', 'shard')?.subscribers).toBe(1);
    expect(w.nodes.map((n) => n.numpat)).toEqual([0, 0]);
    expect(w.nodes[0]!.pubsub_clients).toBe(2);
    expect(w.nodes[1]!.pubsub_clients).toBe(0);
    expect(w.patterns_present).toBe(false);
  });

  it('shows pattern subscriptions per node', async () => {
    await clients.psubscribe(replica(), 'news:*', 'orders:*');
    const w = await watchOnce();
    expect(w.nodes.map((n) => n.numpat)).toEqual([0, 2]);
    expect(w.patterns_present).toBe(true);
  });

  it('measures messages/s, shows channels that carry traffic to nobody, and counts each publish once', async () => {
    await clients.subscribe(primary(), 'orders');
    const pub = await clients.open(primary(), 'test:publisher');
    let running = true;
    const loop = (async () => {
      while (running) {
        await pub.publish('orders', 'x');
        await pub.publish('audit', 'y');
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    try {
      const w = await watchOnce('--rates', '--interval', '1s');
      expect(channel(w, 'orders')!.rate).toBeGreaterThan(10);
      const audit = channel(w, 'audit');
      expect(audit?.subscribers).toBe(0);
      expect(audit!.rate).toBeGreaterThan(10);
      const [p, r] = w.nodes;
      expect(p!.publish_per_sec).toBeGreaterThan(20);
      // The replica re-executes every replicated PUBLISH: shown, marked, and not added to the total.
      expect(r!.publish_replicated).toBe(true);
      expect(w.publish_per_sec).toBe(p!.publish_per_sec);
    } finally {
      running = false;
      await loop;
    }
  });

  it('leaves keyspace-notification channels out unless asked', async () => {
    await clients.subscribe(primary(), '__keyspace@0__:user:1', 'plain');
    const without = await watchOnce();
    expect(without.channels.map((c) => c.name)).toEqual(['plain']);
    const withKs = await watchOnce('--include-keyspace');
    expect(withKs.channels.map((c) => c.name).sort()).toEqual(['__keyspace@0__:user:1', 'plain']);
  });

  it('filters with --pattern, sorts with --sort and cuts with --limit', async () => {
    await clients.subscribe(primary(), 'a:1', 'a:2', 'b:1');
    await clients.subscribe(primary(), 'a:2');
    const w = await watchOnce('--pattern', 'a:*', '--sort', 'name');
    expect(w.channels.map((c) => c.name)).toEqual(['a:1', 'a:2']);
    const top = await watchOnce('--limit', '1');
    expect(top.channels.map((c) => c.name)).toEqual(['a:2']);
    expect(top.warnings.some((x) => /2 more channels not shown/.test(x))).toBe(true);
  });

  it('prints a plain table, without cursor movement, when stdout is not a terminal', async () => {
    await clients.subscribe(primary(), 'orders');
    const r = await runCli(['watch', '-u', sb.url, '--once', '--interval', '200ms']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/CHANNEL\s+KIND\s+SUBSCRIBERS/);
    expect(r.stdout).toMatch(/orders\s+channel\s+1/);
    expect(r.stdout).toMatch(/ADDRESS\s+ROLE/);
    expect(r.stdout).not.toContain('\x1b[');
  });
});

describe('check on a standalone server', () => {
  it('passes when every channel has enough subscribers (exit 0)', async () => {
    await clients.subscribe(primary(), 'orders');
    await clients.subscribe(replica(), 'payments');
    const r = await runCli(['check', '-u', sb.url, '-c', 'orders', '-c', 'payments']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^OK - 2 channels have at least 1 subscriber/);
  });

  it('is CRITICAL (exit 2) and names each channel with nobody listening', async () => {
    await clients.subscribe(primary(), 'orders');
    const r = await runCli(['check', '-u', sb.url, '-c', 'orders', '-c', 'refunds', '-c', 'invoices']);
    expect(r.code).toBe(2);
    expect(r.stdout).toContain('refunds (0)');
    expect(r.stdout).toContain('invoices (0)');
    expect(r.stdout.split('\n')[0]).not.toContain('orders');
  });

  it('warns (exit 1) instead of failing when only a pattern subscription may hear the channel', async () => {
    await clients.psubscribe(replica(), 'orders*');
    const r = await runCli(['check', '-u', sb.url, '-c', 'orders']);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/WARNING/);
    expect(r.stdout).toMatch(/pattern subscription/);
  });

  it('keeps a shard channel CRITICAL even with pattern subscribers, since they never hear SPUBLISH', async () => {
    await clients.psubscribe(primary(), '*');
    const r = await runCli(['check', '-u', sb.url, '--shard-channel', 'stock', '--format', 'json']);
    expect(r.code).toBe(2);
    const doc = JSON.parse(r.stdout);
    expect(doc.status).toBe('CRITICAL');
    expect(doc.channels[0]).toMatchObject({ name: 'stock', kind: 'shard', subscribers: 0, status: 'CRITICAL' });
  });

  it('applies --warn between the thresholds and checks every channel a --pattern matches', async () => {
    await clients.subscribe(primary(), 'jobs:a', 'jobs:b');
    await clients.subscribe(replica(), 'jobs:a');
    const r = await runCli(['check', '-u', sb.url, '--pattern', 'jobs:*', '-m', '1', '-w', '2', '--format', 'json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.stdout);
    const byName = Object.fromEntries(doc.channels.map((c: { name: string; status: string }) => [c.name, c.status]));
    expect(byName).toEqual({ 'jobs:a': 'OK', 'jobs:b': 'WARNING' });
    const none = await runCli(['check', '-u', sb.url, '--pattern', 'nothing:*']);
    expect(none.code).toBe(3);
    expect(none.stdout).toMatch(/matched no channel/);
  });

  it('speaks Nagios and Prometheus', async () => {
    await clients.subscribe(primary(), 'orders');
    const nagios = await runCli(['check', '-u', sb.url, '-c', 'orders', '-c', 'gone', '--format', 'nagios']);
    expect(nagios.code).toBe(2);
    expect(nagios.stdout).toMatch(/^PUBSUB CRITICAL - .*\| 'orders'=1;;1:;0; 'gone'=0;;1:;0;/);
    const prom = await runCli(['check', '-u', sb.url, '-c', 'orders', '--format', 'prometheus']);
    expect(prom.code).toBe(0);
    expect(prom.stdout).toContain('pubsub_mon_channel_subscribers{channel="orders",kind="channel"} 1');
    expect(prom.stdout).toContain('pubsub_mon_check_status 0');
  });

  it('refuses to run without anything to check, as UNKNOWN (exit 3) in one line', async () => {
    const r = await runCli(['check', '-u', sb.url]);
    expect(r.code).toBe(3);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/--channel/);
    expect(stackTraceLines(r.stderr)).toEqual([]);
  });
});
