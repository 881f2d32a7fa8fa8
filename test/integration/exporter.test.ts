// pubsub-mon exporter against a real 3+3 cluster: counts equal to ground truth, a second pubsub-mon beside it, a consumer and a node lost, SIGTERM, bad input.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { RunningCli, runCli, stackTraceLines } from '../helpers/cli.js';
import { ExporterProcess, series } from '../helpers/exporter.js';

const run = promisify(execFile);

let sb: Sandbox;
const clients = new Clients();
const running: ExporterProcess[] = [];
let dir: string;

beforeAll(async () => {
  sb = await startSandbox({ cluster: 3, replicas: 1 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-exporter-test-'));
});
afterAll(async () => {
  await sb?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(async () => {
  clients.closeAll();
  for (const e of running.splice(0)) await e.terminate();
});

async function exporter(args: string[]): Promise<ExporterProcess> {
  const e = await ExporterProcess.start(['-u', sb.url, '--interval', '300ms', ...args]);
  running.push(e);
  return e;
}

function contractFile(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

const subs = (channel: string, kind = 'channel') => series('pubsub_mon_channel_subscribers', { channel, kind });

describe('exporter on a 3+3 cluster', () => {
  it('exports what asking every node by hand gives, with a second pubsub-mon watching beside it, and passes promtool check metrics', async () => {
    const primaries = sb.nodes.filter((n) => n.role === 'primary');
    const replicas = sb.nodes.filter((n) => n.role === 'replica');
    // Ground truth: orders has 3 subscribers (a primary and two replicas), news 1; the shard channel 2 on its owning shard.
    await clients.subscribe(primaries[0]!, 'orders');
    await clients.subscribe(replicas[1]!, 'orders', 'news');
    await clients.subscribe(replicas[2]!, 'orders');
    const shard = '{user:7}:events';
    const owner = await ownerOfSlot(sb, clients, hashSlot(shard));
    await clients.ssubscribe(owner.primary, shard);
    await clients.ssubscribe(owner.replicas[0]!, shard);
    // Another pubsub-mon, sampling rates (PSUBSCRIBE and SSUBSCRIBE of its own): it must change no number.
    const other = new RunningCli(['watch', '-u', sb.urls[2]!, '--rates', '--json', '--interval', '300ms']);
    try {
      await other.waitForLine((l) => l.includes('"orders"'));
      const contract = contractFile('truth.yaml', `channels:\n  - name: orders\n    min_subscribers: 3\n  - name: "${shard}"\n    kind: shard\n    min_subscribers: 2\n  - name: nobody\n`);
      const e = await exporter(['--rates', '--contract', contract]);
      const s = await e.until('every subscriber counted', (m) => m.get(subs('orders')) === 3 && m.get(subs(shard, 'shard')) === 2);
      expect(s.get(subs('news'))).toBe(1);
      // Declared but unsubscribed: exported at 0 and CRITICAL, though PUBSUB CHANNELS cannot list it.
      expect(s.get(subs('nobody'))).toBe(0);
      expect(s.get(series('pubsub_mon_contract_status', { channel: 'nobody', kind: 'channel' }))).toBe(2);
      expect(s.get(series('pubsub_mon_contract_status', { channel: 'orders', kind: 'channel' }))).toBe(0);
      expect(s.get(series('pubsub_mon_contract_status', { channel: shard, kind: 'shard' }))).toBe(0);
      for (const n of sb.nodes) expect(s.get(series('pubsub_mon_node_up', { node: n.address, role: n.role }))).toBe(1);
      // Only the test's own subscriber connections: none of either pubsub-mon's.
      const pubsubClients = sb.nodes.reduce((sum, n) => sum + (s.get(series('pubsub_mon_node_pubsub_clients', { node: n.address, role: n.role })) ?? NaN), 0);
      expect(pubsubClients).toBe(5);
      const patterns = sb.nodes.reduce((sum, n) => sum + (s.get(series('pubsub_mon_node_patterns', { node: n.address, role: n.role })) ?? NaN), 0);
      expect(patterns).toBe(0);
      expect(s.get('pubsub_mon_channels_omitted')).toBe(0);

      const raw = await e.get('/metrics');
      expect(raw.type).toContain('text/plain');
      const file = path.join(dir, 'scrape.prom');
      fs.writeFileSync(file, raw.body);
      // promtool reads the exposition on stdin; lint warnings would be printed and fail the check.
      const checked = await run('sh', ['-c', `promtool check metrics < "${file}"`]).catch((err: { stdout?: string; stderr?: string; code?: number }) => err);
      expect(checked.stderr ?? '').toBe('');
      expect(checked.stdout ?? '').toBe('');
    } finally {
      await other.interrupt();
    }
  });

  it('counts messages as a counter with --rates, and serves scrapes from its cache', async () => {
    const primaries = sb.nodes.filter((n) => n.role === 'primary');
    await clients.subscribe(primaries[1]!, 'ticks');
    const e = await exporter(['--rates']);
    await e.until('ticks exported', (m) => m.has(series('pubsub_mon_channel_messages_total', { channel: 'ticks', kind: 'channel' })));
    const publisher = await clients.open(primaries[2]!);
    for (let i = 0; i < 25; i++) await publisher.publish('ticks', String(i));
    const s = await e.until('25 messages counted', (m) => (m.get(series('pubsub_mon_channel_messages_total', { channel: 'ticks', kind: 'channel' })) ?? 0) >= 25);
    expect(s.get(series('pubsub_mon_channel_messages_total', { channel: 'ticks', kind: 'channel' }))).toBe(25);
    // A burst of scrapes sends nothing to the servers: commands processed stay where the polls put them.
    const admin = await clients.open(primaries[0]!, 'test:admin');
    const calls = async () => Number(/total_commands_processed:(\d+)/.exec(await admin.info('stats'))?.[1]);
    const polls = (m: Map<string, number>) => m.get('pubsub_mon_exporter_poll_duration_seconds_count') ?? 0;
    const before = await calls();
    const pollsBefore = polls(await e.scrape());
    for (let i = 0; i < 100; i++) await e.scrape();
    const after = await calls();
    const pollsAfter = polls(await e.scrape());
    // Each poll sends a handful of commands to the node; 100 scrapes with no poll between them would send none.
    expect(after - before).toBeLessThanOrEqual((pollsAfter - pollsBefore + 1) * 12 + 1);
    expect(after - before).toBeLessThan(100);
  });

  it('a consumer cut off turns its contract channel CRITICAL; /healthz is up while polls succeed', async () => {
    const replicas = sb.nodes.filter((n) => n.role === 'replica');
    const consumer = await clients.subscribe(replicas[0]!, 'billing');
    const e = await exporter(['--contract', contractFile('billing.yaml', 'channels:\n  - name: billing\n')]);
    await e.until('billing OK', (m) => m.get(series('pubsub_mon_contract_status', { channel: 'billing', kind: 'channel' })) === 0);
    expect((await e.get('/healthz')).status).toBe(200);
    consumer.disconnect();
    const s = await e.until('billing CRITICAL', (m) => m.get(series('pubsub_mon_contract_status', { channel: 'billing', kind: 'channel' })) === 2);
    expect(s.get(subs('billing'))).toBe(0);
    expect((await e.get('/nope')).status).toBe(404);
  });

  it('ends cleanly on SIGTERM: exit 0, port closed, no stack trace', async () => {
    const e = await exporter([]);
    await e.until('a first poll', (m) => (m.get('pubsub_mon_exporter_poll_duration_seconds_count') ?? 0) >= 1);
    const port = Number(new URL(e.url).port);
    expect(await e.terminate()).toBe(0);
    expect(stackTraceLines(e.cli.stderr)).toEqual([]);
    const refused = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(false);
      });
      s.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });

  it('refuses bad input in one line with exit 2', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--listen', 'nowhere'], /--listen takes HOST:PORT/],
      [['--contract', contractFile('bad.yaml', 'channels:\n  - name: a\n    min_subscriber: 2\n')], /bad\.yaml:3: unknown key "min_subscriber"/],
      [['--contract', contractFile('rate.yaml', 'channels:\n  - name: a\n    min_rate: 1\n')], /rate\.yaml:2 sets min_rate: measuring message rates needs --rates/],
      [['--contract', path.join(dir, 'missing.yaml')], /cannot read contract .*missing\.yaml: no such file/],
      [['--max-channels', '-1'], /--max-channels/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['exporter', '-u', sb.url, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });

  it('says in one line when its address is taken', async () => {
    const first = await exporter([]);
    const r = await runCli(['exporter', '-u', sb.url, '--listen', new URL(first.url).host]);
    expect(r.code).not.toBe(0);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/cannot listen on 127\.0\.0\.1:\d+: the address is already in use/);
  });
});

describe('exporter when a node goes down (standalone with a replica)', () => {
  it('gives the node up 0 and no other series, never 0 counts, and counts a poll error for it', async () => {
    const own = await startSandbox({ replicas: 1 });
    const local = new Clients();
    let e: ExporterProcess | undefined;
    try {
      const replica = own.nodes.find((n) => n.role === 'replica')!;
      await local.subscribe(replica, 'orders');
      e = await ExporterProcess.start(['-u', own.url, '--interval', '300ms', '--timeout', '1s']);
      const labels = { node: replica.address, role: 'replica' };
      await e.until('the replica read', (m) => m.get(series('pubsub_mon_node_pubsub_clients', labels)) === 1);
      local.closeAll();
      await replica.process.kill();
      const s = await e.until('the replica down', (m) => m.get(series('pubsub_mon_node_up', labels)) === 0);
      const about = [...s.keys()].filter((k) => k.includes(`node="${replica.address}"`) && !k.startsWith('pubsub_mon_exporter_'));
      expect(about).toEqual([series('pubsub_mon_node_up', labels)]);
      expect(s.get(series('pubsub_mon_exporter_poll_errors_total', { node: replica.address }))).toBeGreaterThanOrEqual(1);
      const primary = own.nodes.find((n) => n.role === 'primary')!;
      expect(s.get(series('pubsub_mon_node_up', { node: primary.address, role: 'primary' }))).toBe(1);
    } finally {
      local.closeAll();
      await e?.terminate();
      await own.stop();
    }
  });
});
