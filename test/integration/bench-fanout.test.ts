// bench at fan-out scale on real servers: 10,000 subscribers, channels per subscriber and their placement
// checked against what every node says by hand, reconnecting subscribers, and the limits that stop a run.
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { Clients } from '../helpers/redis.js';
import { BIN, RunningCli, runCli, stackTraceLines } from '../helpers/cli.js';
import { startTerminal, type Terminal } from '../helpers/tmux.js';

interface BenchJson {
  published: number;
  received: number;
  expected: number;
  lost: number;
  duplicates: number;
  verified: { asked: number; found: number; detail: string };
  fanout: { min: number; max: number };
  connections: number;
  reconnects: { count: number; missed_while_away: number; resubscribe_us: { p50: number; max: number } | null } | null;
  client: { bytes_per_connection: number | null; subscriber_cpu_us_per_delivery: number | null; publisher_cpu_us_per_message: number | null; rss_bytes: number | null };
  config: { subscribers: number; channels: number };
  incomplete: string[];
}

const clients = new Clients();
afterEach(() => clients.closeAll());

async function bench(url: string, ...args: string[]): Promise<{ code: number | null; doc: BenchJson; stderr: string }> {
  const r = await runCli(['bench', '-u', url, '--json', ...args], { timeoutMs: 120_000 });
  expect(stackTraceLines(r.stderr)).toEqual([]);
  if (!r.stdout.trim()) throw new Error(`bench printed nothing; stderr: ${r.stderr}`);
  return { code: r.code, doc: JSON.parse(r.stdout) as BenchJson, stderr: r.stderr };
}

/** Every bench channel on every node and its subscribers there, summed: the count a careful person gets by hand. */
async function benchSubscriptionsByHand(sb: Sandbox): Promise<Map<string, number>> {
  const total = new Map<string, number>();
  for (const node of sb.nodes) {
    const c = await clients.open(node, 'test:hand');
    const names = (await c.call('PUBSUB', 'CHANNELS', 'pubsub-mon:bench:*')) as string[];
    if (names.length === 0) continue;
    const reply = (await c.call('PUBSUB', 'NUMSUB', ...names)) as Array<string | number>;
    for (let i = 0; i < reply.length; i += 2) total.set(String(reply[i]), (total.get(String(reply[i])) ?? 0) + Number(reply[i + 1]));
  }
  return total;
}

/** Polls until `test` passes or `ms` elapse; returns the last value either way. */
async function until<T>(read: () => Promise<T>, test: (v: T) => boolean, ms: number): Promise<T> {
  const deadline = Date.now() + ms;
  let v = await read();
  while (!test(v) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 200));
    v = await read();
  }
  return v;
}

describe('bench with 10,000 subscribers on a standalone server', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ serverArgs: ['--maxclients', '19000'] });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('subscribes all of them, verifies them, delivers every message to each, in kilobytes per connection', async () => {
    const { code, doc } = await bench(sb.url, '--rate', '10', '-S', '10000', '--duration', '3s', '--warmup', '500ms');
    expect(doc.incomplete).toEqual([]);
    expect(code).toBe(0);
    expect(doc.verified).toMatchObject({ asked: 10_000, found: 10_000 });
    expect(doc.connections).toBe(10_000);
    expect(doc.fanout).toEqual({ min: 10_000, max: 10_000 });
    expect(doc.published).toBeGreaterThanOrEqual(29);
    expect(doc.expected).toBe(doc.published * 10_000);
    expect(doc.received).toBe(doc.expected);
    expect(doc.lost).toBe(0);
    expect(doc.duplicates).toBe(0);
    // Kilobytes, not the hundreds of kilobytes two histograms per subscriber used to cost.
    expect(doc.client.bytes_per_connection).toBeGreaterThan(0);
    expect(doc.client.bytes_per_connection!).toBeLessThan(64 * 1024);
    expect(doc.client.subscriber_cpu_us_per_delivery).toBeGreaterThan(0);
  });

  it('refuses, in one line, a run that needs more clients than the server accepts', async () => {
    const admin = await clients.open(sb.nodes[0]!, 'test:admin');
    await admin.call('CONFIG', 'SET', 'maxclients', '100');
    try {
      const r = await runCli(['bench', '-u', sb.url, '-S', '200', '--rate', '10', '-d', '1s'], { timeoutMs: 30_000 });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/accepts 100 clients .* would open 201 more there: raise maxclients/);
    } finally {
      await admin.call('CONFIG', 'SET', 'maxclients', '19000');
    }
  });

  /** The CLI under an open-file limit set for this child only (prlimit), as a user's `ulimit -n` would. */
  async function underFileLimit(limit: number, args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
    const child = spawn('prlimit', [`--nofile=${limit}:${limit}`, process.execPath, BIN, ...args], { env: { ...process.env, NO_COLOR: '1' } });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stackTraceLines(stderr)).toEqual([]);
    return { code, stdout, stderr };
  }

  it('spreads subscribers over child processes when one process may not open enough files, and counts them all', async () => {
    const r = await underFileLimit(256, ['bench', '-u', sb.url, '--json', '-S', '1000', '--rate', '20', '-d', '1500ms', '--warmup', '300ms']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as BenchJson & { config: { processes: number } };
    // 1,000 connections at 128 per process: 8 child processes.
    expect(doc.config.processes).toBe(8);
    // The children's memory is counted too: nine node processes take far more than the main one alone
    // (each node process holds tens of MiB before it opens a connection).
    expect(doc.client.rss_bytes).toBeGreaterThan(9 * 25 * 1024 * 1024);
    expect(doc.verified).toMatchObject({ asked: 1000, found: 1000 });
    expect(doc.expected).toBe(doc.published * 1000);
    expect(doc.received).toBe(doc.expected);
    expect(doc.client.bytes_per_connection).toBeGreaterThan(0);
  });

  it('says which limit to raise when even child processes would not do, before connecting anything', async () => {
    const r = await underFileLimit(100, ['bench', '-u', sb.url, '-S', '5000', '--rate', '10', '-d', '1s']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/5000 subscriber connections need more open files than 32 processes of 100 each give: raise the limit \(`ulimit -n \d+`/);
  });

  it('stops on Ctrl-C typed in a terminal, while connecting thousands of subscribers, and leaves no connection behind', async () => {
    let term: Terminal | undefined;
    try {
      term = await startTerminal({ width: 80, height: 24, args: ['bench', '-u', sb.url, '--rate', '10', '-S', '5000', '-d', '30s'] });
      const t = term;
      // Starting (loading, discovery, the client-room check) can take a while when other test files
      // load both cores: the wait is long, the keys are sent once the run is past it.
      await t.waitFor((screen) => screen.rows.some((r) => /connecting|verifying|warming|sent/.test(r)), 'the spinner past "starting"', 45_000);
      await t.sendKeys('C-c');
      expect(await t.waitForExit(20_000)).toEqual({ status: 130, signal: null });
      const admin = await clients.open(sb.nodes[0]!, 'test:admin');
      const left = await until(async () => String(await admin.call('CLIENT', 'LIST')).split('\n').filter((l) => l.includes('name=pubsub-mon:bench')).length, (n) => n === 0, 10_000);
      expect(left).toBe(0);
    } finally {
      await term?.kill();
    }
  }, 120_000);

  it('tells its phases and progress in lines on a terminal where CI is set, as no spinner is drawn there', async () => {
    let term: Terminal | undefined;
    try {
      term = await startTerminal({ width: 80, height: 24, env: { CI: 'true' }, args: ['bench', '-u', sb.url, '--rate', '20', '-S', '2', '-d', '2s', '--warmup', '300ms'] });
      const t = term;
      // ora alone would leave "- starting" on the screen for the whole run and say nothing more.
      const screen = await t.waitFor((s) => s.rows.some((r) => /^bench: \d+\.\d s · sent/.test(r)), 'a progress line', 45_000);
      const text = screen.rows.join('\n');
      expect(text).toMatch(/^bench: connecting 1 publisher and 2 subscribers/m);
      expect(text).toMatch(/^bench: warming up$/m);
      expect(text).not.toContain('- starting');
      expect(await t.waitForExit(30_000)).toEqual({ status: 0, signal: null });
    } finally {
      await term?.kill();
    }
  }, 90_000);

  it('counts as lost what a subscriber the server cut off misses, even when it would have reconnected on its own', async () => {
    const run = new RunningCli(['bench', '-u', sb.url, '--json', '--rate', '1000', '-S', '3', '--duration', '3s', '--warmup', '300ms', '--reconnect-interval', '2s:3s']);
    try {
      const admin = await clients.open(sb.nodes[0]!, 'test:admin');
      // Once measuring has begun, the server closes one bench subscriber (as it would for its output buffer).
      const victim = await until(
        async () => String(await admin.call('CLIENT', 'LIST')).split('\n').find((l) => l.includes('name=pubsub-mon:bench-sub')),
        (line) => line !== undefined,
        20_000,
      );
      await new Promise((r) => setTimeout(r, 1200));
      await admin.call('CLIENT', 'KILL', 'ID', /id=(\d+)/.exec(victim!)![1]!);
      const code = await run.finished(60_000);
      const doc = JSON.parse(run.stdout) as BenchJson & { incomplete_reasons: Array<{ kind: string }> };
      expect(code).toBe(1);
      expect(doc.lost).toBeGreaterThan(0);
      expect(doc.incomplete_reasons.map((r) => r.kind)).toContain('disconnected');
      expect(doc.received + doc.lost + doc.reconnects!.missed_while_away).toBe(doc.expected);
    } finally {
      await run.interrupt();
    }
  });

  it('reconnects subscribers on --reconnect-interval: nothing published meanwhile counts as lost, and the server saw every reconnect', async () => {
    const admin = await clients.open(sb.nodes[0]!, 'test:admin');
    const connectionsBefore = Number(/total_connections_received:(\d+)/.exec(String(await admin.info('stats')))![1]);
    const { code, doc } = await bench(sb.url, '--rate', '2000', '-S', '20', '-C', '4', '--duration', '3s', '--warmup', '300ms', '--reconnect-interval', '200ms:500ms');
    const connectionsAfter = Number(/total_connections_received:(\d+)/.exec(String(await admin.info('stats')))![1]);
    expect(doc.incomplete).toEqual([]);
    expect(code).toBe(0);
    expect(doc.reconnects).not.toBeNull();
    // 20 connections reopened every 200-500 ms over about 3 s: dozens of reconnects.
    expect(doc.reconnects!.count).toBeGreaterThanOrEqual(60);
    expect(doc.reconnects!.missed_while_away).toBeGreaterThan(0);
    expect(doc.reconnects!.resubscribe_us!.max).toBeGreaterThan(0);
    // The server accepted a new connection for every reconnect the report claims.
    expect(connectionsAfter - connectionsBefore).toBeGreaterThanOrEqual(20 + doc.reconnects!.count);
    expect(doc.lost).toBe(0);
    expect(doc.received + doc.reconnects!.missed_while_away).toBe(doc.expected);
  });
});

describe('bench with 10,000 subscribers over a 3+3 cluster, three channels each', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ cluster: 3, replicas: 1, serverArgs: ['--maxclients', '19000'] });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('sparse placement: every channel gets its exact share, as every node counts it by hand during the run', async () => {
    const run = new RunningCli(['bench', '-u', sb.url, '--json', '--rate', '50', '-S', '10000', '-C', '50', '--channels-per-subscriber', '3', '--placement', 'sparse', '--duration', '6s', '--warmup', '500ms']);
    try {
      // 30,000 subscriptions over 50 channels: 600 on each, summed over the six nodes a classic subscriber may sit on.
      const byHand = await until(() => benchSubscriptionsByHand(sb), (m) => [...m.values()].reduce((a, b) => a + b, 0) === 30_000, 60_000);
      expect(byHand.size).toBe(50);
      expect([...byHand.values()].every((n) => n === 600)).toBe(true);
      const code = await run.finished(120_000);
      expect(stackTraceLines(run.stderr)).toEqual([]);
      const doc = JSON.parse(run.stdout) as BenchJson;
      expect(doc.incomplete).toEqual([]);
      expect(code).toBe(0);
      expect(doc.verified).toMatchObject({ asked: 30_000, found: 30_000 });
      expect(doc.fanout).toEqual({ min: 600, max: 600 });
      expect(doc.connections).toBe(10_000);
      expect(doc.expected).toBe(doc.published * 600);
      expect(doc.received).toBe(doc.expected);
    } finally {
      await run.interrupt();
    }
  });

  it('does not take another pubsub-mon\'s rate sampler on its shard channels for a bench subscriber', async () => {
    // watch --rates SSUBSCRIBEs every shard channel it sees; bench's appear while its 3,000 subscribers connect.
    const beside = new RunningCli(['watch', '-u', sb.url, '--rates', '--json', '--interval', '300ms']);
    try {
      await beside.waitForLine(() => true);
      const { code, doc } = await bench(sb.url, '--mode', 'spublish', '-C', '12', '-S', '3000', '--rate', '100', '--duration', '2s', '--warmup', '300ms');
      expect(doc.incomplete).toEqual([]);
      expect(code).toBe(0);
      expect(doc.verified).toMatchObject({ asked: 36_000, found: 36_000 });
      expect(doc.received).toBe(doc.expected);
      expect(doc.lost).toBe(0);
    } finally {
      await beside.interrupt();
    }
  });

  it('dense placement piles every subscriber on the first channels, and nobody hears the others', async () => {
    const { code, doc } = await bench(sb.url, '--rate', '500', '-S', '300', '-C', '10', '--channels-per-subscriber', '2', '--placement', 'dense', '--duration', '2s', '--warmup', '300ms');
    expect(code).toBe(0);
    expect(doc.fanout).toEqual({ min: 0, max: 300 });
    expect(doc.verified).toMatchObject({ asked: 600, found: 600 });
    // Round robin over 10 channels: a fifth of the messages go to the two subscribed ones, 300 deliveries each.
    expect(doc.expected).toBeGreaterThan(0);
    expect(doc.expected % 300).toBe(0);
    expect(doc.expected / 300).toBeLessThanOrEqual(Math.ceil(doc.published / 5) + 2);
    expect(doc.expected / 300).toBeGreaterThanOrEqual(Math.floor(doc.published / 5) - 2);
    expect(doc.lost).toBe(0);
  });
});
