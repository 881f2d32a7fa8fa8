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
    // Every subscriber of a pattern gone is the outage check exists for: CRITICAL, unless asked otherwise.
    const none = await runCli(['check', '-u', sb.url, '--pattern', 'nothing:*']);
    expect(none.code).toBe(2);
    expect(none.stdout).toMatch(/^CRITICAL - .*pattern 'nothing:\*' matched no channel/);
    for (const [status, code] of [['warning', 1], ['unknown', 3], ['ok', 0]] as const) {
      const r = await runCli(['check', '-u', sb.url, '--pattern', 'nothing:*', '--unmatched-pattern', status]);
      expect(r.code).toBe(code);
    }
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

describe('check, as alerting systems read it', () => {
  it('keeps a Nagios line within 8 KB with 300 channels: summary capped, the most severe perfdata kept, the rest counted', async () => {
    const names = Array.from({ length: 300 }, (_, i) => `service:${String(i).padStart(3, '0')}:events-of-a-rather-long-name`);
    await clients.subscribe(primary(), ...names);
    await expect.poll(async () => (await runCli(['check', '-u', sb.url, '--pattern', 'service:*', '--format', 'json'])).stdout, { timeout: 10_000 }).toMatch(/service:299/);
    // Two of them are below --warn, none below --min: the WARNING ones must keep their perfdata.
    const extra = await clients.open(primary(), 'test:subscriber');
    await extra.subscribe(...names.slice(2));
    await expect.poll(async () => (await runCli(['check', '-u', sb.url, '-c', names[299]!, '-m', '2'])).code, { timeout: 10_000 }).toBe(0);
    const r = await runCli(['check', '-u', sb.url, '--pattern', 'service:*', '-m', '1', '-w', '2', '--format', 'nagios']);
    expect(r.code).toBe(1);
    expect(r.stdout.split('\n')).toHaveLength(2);
    expect(Buffer.byteLength(r.stdout)).toBeLessThanOrEqual(8192);
    const [text, perf] = r.stdout.trimEnd().split(' | ');
    expect(text).toMatch(/^PUBSUB WARNING - 2 of 300 channels below the warning threshold of 2 subscribers: /);
    expect(text).toMatch(/\(perfdata for \d+ of 300 channels, the most severe first\)$/);
    const kept = perf!.split(' ');
    expect(kept[0]).toBe(`'${names[0]}'=1;2:;1:;0;`);
    expect(kept[1]).toBe(`'${names[1]}'=1;2:;1:;0;`);
    expect(kept[kept.length - 1]).toBe('pattern_subscriptions=0;;;0;');
    const told = Number(/perfdata for (\d+) of 300/.exec(text!)?.[1]);
    expect(kept).toHaveLength(told + 1);
  });

  it('names ten channels per group in the summary and counts the rest', async () => {
    const names = Array.from({ length: 25 }, (_, i) => `gone:${i}`);
    const r = await runCli(['check', '-u', sb.url, ...names.flatMap((n) => ['-c', n])]);
    expect(r.code).toBe(2);
    expect(r.stdout.split('\n')[0]).toMatch(/^CRITICAL - 25 of 25 channels below 1 subscriber: gone:0 \(0\), .*gone:9 \(0\) and 15 more$/);
  });

  it('answers a password with a bad %-escape with UNKNOWN in the chosen format, naming the problem, not the password', async () => {
    const r = await runCli(['check', '-u', `redis://:s3cr%zzt@127.0.0.1:${primary().port}`, '-c', 'x', '--format', 'nagios']);
    expect(r.code).toBe(3);
    expect(r.stdout).toMatch(/^PUBSUB UNKNOWN - --url has a password with a bad %-escape/);
    expect(r.stderr).not.toMatch(/URI malformed|unexpected/);
    expect(r.stdout + r.stderr).not.toContain('s3cr');
    expect(stackTraceLines(r.stderr)).toEqual([]);
  });
});
