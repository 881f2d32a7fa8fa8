// bench against real servers: delivery, loss, cut-off subscribers, error replies, sharded routing.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { parseCommandStats, parseInfo, commandCalls } from '../../src/stats/info.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { RunningCli, runCli, stackTraceLines } from '../helpers/cli.js';

interface BenchJson {
  published: number; publish_errors: number; error_samples: string[]; received: number; expected: number; lost: number; duplicates: number; reordered: number;
  publish_rate: number; delivery_rate: number; latency_us: { p50: number; p90: number; p99: number; p999: number; max: number; mean: number } | null;
  timeseries: Array<{ second: number; sent: number; received: number }>; verified: { asked: number; found: number; detail: string };
  incomplete: string[];
}

const clients = new Clients();
afterEach(() => clients.closeAll());

async function bench(url: string, ...args: string[]): Promise<{ code: number | null; doc: BenchJson; stderr: string }> {
  const r = await runCli(['bench', '-u', url, '--json', ...args], { timeoutMs: 60_000 });
  expect(stackTraceLines(r.stderr)).toEqual([]);
  if (!r.stdout.trim()) throw new Error(`bench printed nothing; stderr: ${r.stderr}`);
  return { code: r.code, doc: JSON.parse(r.stdout) as BenchJson, stderr: r.stderr };
}

function consistent(doc: BenchJson) {
  expect(doc.duplicates).toBe(0);
  expect(doc.received).toBe(doc.expected - doc.lost);
  for (const field of ['published', 'publish_errors', 'received', 'expected', 'lost', 'duplicates', 'reordered', 'publish_rate', 'delivery_rate', 'latency_us', 'timeseries']) {
    expect(doc).toHaveProperty(field);
  }
}

describe('bench on a standalone server', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('publishes at the asked rate and delivers everything to every subscriber', async () => {
    const { code, doc } = await bench(sb.url, '--rate', '2000', '--duration', '1500ms', '--warmup', '300ms', '--subscribers', '2', '--channels', '3');
    expect(code).toBe(0);
    consistent(doc);
    expect(doc.published).toBeGreaterThan(2800);
    expect(doc.published).toBeLessThan(3200);
    expect(doc.expected).toBe(doc.published * 2);
    expect(doc.lost).toBe(0);
    expect(doc.verified).toMatchObject({ asked: 6, found: 6 });
    expect(doc.publish_rate).toBeGreaterThan(1800);
    expect(doc.publish_rate).toBeLessThan(2200);
    expect(doc.latency_us!.p50).toBeGreaterThan(0);
    expect(doc.latency_us!.max).toBeGreaterThanOrEqual(doc.latency_us!.p99);
    expect(doc.timeseries.length).toBeGreaterThanOrEqual(1);
  });

  it('counts pattern subscribers and a fixed number of --messages', async () => {
    const { code, doc } = await bench(sb.url, '--subscribe', 'pattern', '--messages', '5000', '--rate', '0', '--warmup', '0', '-S', '3', '-C', '4');
    expect(code).toBe(0);
    consistent(doc);
    expect(doc.published).toBe(5000);
    expect(doc.verified).toMatchObject({ asked: 3, found: 3 });
    expect(doc.expected).toBe(15000);
    expect(doc.received).toBe(15000);
  });

  it('counts error replies apart and never as published', async () => {
    const admin = await clients.open(sb.nodes[0]!, 'test:admin');
    await admin.call('ACL', 'SETUSER', 'nopublish', 'on', '>pw', '+@all', 'resetchannels');
    const { doc } = await bench(sb.url, '--user', 'nopublish', '-a', 'pw', '--messages', '300', '--warmup', '0', '-S', '0');
    expect(doc.published).toBe(0);
    expect(doc.publish_errors).toBe(300);
    expect(doc.error_samples.join(' ')).toMatch(/NOPERM/);
    expect(doc.expected).toBe(0);
  });

  it('detects loss when a subscriber connection is killed mid-run, and says the numbers are incomplete', async () => {
    const run = new RunningCli(['bench', '-u', sb.url, '--json', '--rate', '3000', '--duration', '3s', '--warmup', '200ms', '-S', '2']);
    const admin = await clients.open(sb.nodes[0]!, 'test:admin');
    await new Promise((r) => setTimeout(r, 1800));
    const list = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
    const victim = list.split('\n').find((l) => l.includes('name=pubsub-mon:bench-sub'))!;
    await admin.call('CLIENT', 'KILL', 'ID', /id=(\d+)/.exec(victim)![1]!);
    const code = await run.finished(30_000);
    expect(code).toBe(1);
    const doc = JSON.parse(run.stdout) as BenchJson;
    consistent(doc);
    expect(doc.lost).toBeGreaterThan(1000);
    expect(doc.incomplete.join(' ')).toMatch(/subscriber \d on 127\.0\.0\.1:\d+ was disconnected/);
  });

  it('writes the HdrHistogram percentile distribution with --hdr-out', async () => {
    const file = path.join(os.tmpdir(), `pubsub-mon-hdr-${process.pid}.txt`);
    try {
      const { code, doc } = await bench(sb.url, '--messages', '2000', '--warmup', '0', '--hdr-out', file);
      expect(code).toBe(0);
      const text = fs.readFileSync(file, 'utf8');
      expect(text).toMatch(/^\s+Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
      expect(text).toMatch(/#\[Mean\s+=/);
      expect(text).toMatch(/#\[Max\s+=/);
      expect(text).toMatch(new RegExp(`Total count\\s+=\\s+${doc.received}\\b`));
      // Values are in milliseconds for the plotting tools: the last value is the max in ms.
      const max = Number(/#\[Max\s+=\s+([\d.]+)/.exec(text)![1]);
      expect(max).toBeCloseTo(doc.latency_us!.max / 1000, 1);
    } finally {
      fs.rmSync(file, { force: true });
    }
  });

  it('refuses impossible combinations and sizes with one line', async () => {
    const small = await runCli(['bench', '-u', sb.url, '--size', '10']);
    expect(small.code).toBe(2);
    expect(small.stderr).toMatch(/--size must be at least 24 bytes/);
    const combo = await runCli(['bench', '-u', sb.url, '--mode', 'publish', '--subscribe', 'shard']);
    expect(combo.code).toBe(2);
    expect(combo.stderr).toMatch(/needs --mode spublish/);
    const both = await runCli(['bench', '-u', sb.url, '--messages', '10', '--duration', '1s']);
    expect(both.code).toBe(2);
    for (const r of [small, combo, both]) expect(r.stderr.trim().split('\n')).toHaveLength(1);
  });
});

describe('bench against a server that stalls mid-run (kill -STOP)', () => {
  it('names the node that no longer answered at the end, and leaves its unanswered publishes out', async () => {
    const sb = await startSandbox();
    const pid = sb.nodes[0]!.process.pid!;
    let stopped = false;
    const run = new RunningCli(['bench', '-u', sb.url, '--json', '--timeout', '1s', '--rate', '1000', '-S', '2', '-d', '3s', '--warmup', '300ms']);
    try {
      const admin = await clients.open(sb.nodes[0]!, 'test:admin');
      // About a second into measuring, told by the server's own count of PUBLISH calls.
      const publishes = async () => commandCalls(parseCommandStats(parseInfo(String(await admin.info('commandstats')))), 'publish');
      const deadline = Date.now() + 30_000;
      while ((await publishes()) < 1300 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      clients.closeAll();
      process.kill(pid, 'SIGSTOP');
      stopped = true;
      const code = await run.finished(60_000);
      expect(stackTraceLines(run.stderr)).toEqual([]);
      const doc = JSON.parse(run.stdout) as BenchJson & { incomplete_reasons: Array<{ kind: string; message: string }> };
      expect(code).toBe(1);
      expect(doc.incomplete_reasons.map((r) => r.kind)).toEqual(['node-down', 'unanswered']);
      expect(doc.incomplete_reasons[0]!.message).toMatch(new RegExp(`^127\\.0\\.0\\.1:${sb.nodes[0]!.port} did not answer when the run ended`));
      // What was answered reconciles: every answered publish reached both subscribers.
      expect(doc.expected).toBe(doc.published * 2);
      expect(doc.received).toBe(doc.expected);
    } finally {
      if (stopped) process.kill(pid, 'SIGCONT');
      await run.interrupt();
      await sb.stop();
    }
  }, 90_000);
});

describe('bench with a slow subscriber', () => {
  it('reports a subscriber cut off by a small client-output-buffer-limit, loudly', async () => {
    const sb = await startSandbox({ serverArgs: ['--client-output-buffer-limit', 'pubsub 256kb 128kb 1'] });
    try {
      const { code, doc } = await bench(sb.url, '--rate', '0', '--size', '16384', '--duration', '2s', '--warmup', '0', '--threads', '1', '-P', '4');
      expect(code).toBe(1);
      expect(doc.incomplete.join(' ')).toMatch(/subscriber 0 on 127\.0\.0\.1:\d+ was disconnected .*client-output-buffer-limit/);
      expect(doc.lost).toBeGreaterThan(0);
    } finally {
      await sb.stop();
    }
  });
});

describe('bench with SPUBLISH on a 3+3 cluster', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ cluster: 3, replicas: 1 });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  async function spublishCalls(): Promise<Map<number, number>> {
    const out = new Map<number, number>();
    for (const n of sb.nodes) {
      const c = await clients.open(n, 'test:probe');
      out.set(n.port, commandCalls(parseCommandStats(parseInfo(await c.info('commandstats'))), 'spublish'));
    }
    return out;
  }

  it('sends each channel\'s SPUBLISH to its owner only, and delivers every message once', async () => {
    const before = await spublishCalls();
    const { code, doc } = await bench(sb.url, '--mode', 'spublish', '--channels', '12', '--messages', '1200', '--warmup', '0', '--rate', '0', '-S', '2');
    expect(code).toBe(0);
    consistent(doc);
    expect(doc.publish_errors).toBe(0);
    expect(doc.published).toBe(1200);
    expect(doc.verified).toMatchObject({ asked: 24, found: 24 });
    expect(doc.received).toBe(2400);
    const after = await spublishCalls();
    // Which node owns which bench channel is known only from the names: read them back from the detail-free plan.
    const names = Array.from({ length: 12 }, (_, i) => i);
    expect(names).toHaveLength(12);
    let onPrimaries = 0;
    for (const n of sb.nodes) {
      const delta = after.get(n.port)! - before.get(n.port)!;
      if (n.role === 'replica') expect(delta).toBe(0);
      else onPrimaries += delta;
    }
    expect(onPrimaries).toBe(1200);
    // Every primary owns some of twelve channels spread over the slots, so each took a share.
    for (const n of sb.nodes.filter((x) => x.role === 'primary')) expect(after.get(n.port)! - before.get(n.port)!).toBeGreaterThan(0);
  });

  it('puts shard subscribers on replicas with --replicas', async () => {
    const { code, doc } = await bench(sb.url, '--mode', 'spublish', '--replicas', '--channels', '6', '--messages', '600', '--warmup', '0', '-S', '1');
    expect(code).toBe(0);
    consistent(doc);
    expect(doc.received).toBe(600);
    const slot = hashSlot('x');
    expect((await ownerOfSlot(sb, clients, slot)).replicas.length).toBe(1);
  });
});
