// tail against real servers: patterns, channels, keyspace, hostile payloads, exit codes, restarts, bursts.
import { spawn } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { Clients } from '../helpers/redis.js';
import { RunningCli, runCli, stackTraceLines } from '../helpers/cli.js';

interface TailJson { ts: string; node: string; kind: string; pattern: string | null; channel: string; payload: string; encoding: string; bytes: number; reason?: string }

let sb: Sandbox;
const clients = new Clients();

beforeAll(async () => {
  sb = await startSandbox({ serverArgs: ['--notify-keyspace-events', 'KEA'] });
});
afterAll(async () => {
  await sb?.stop();
});
afterEach(() => clients.closeAll());

const node = () => sb.nodes[0]!;
const parse = (out: string) => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TailJson);

/** Starts tail, waits until its subscriptions exist, runs `act`, and returns what tail printed. */
async function tailWhile(args: string[], act: () => Promise<void>, ready: () => Promise<boolean>) {
  const tail = new RunningCli(['tail', '-u', sb.url, ...args]);
  // Until subscribed, the poll reads tail's stderr instead, so a timeout shows why (a bad flag, a refused connection).
  await expect.poll(async () => (await ready()) || `not subscribed; tail stderr: ${tail.stderr}`, { timeout: 10_000, interval: 50 }).toBe(true);
  await act();
  return tail;
}

async function numpat(): Promise<number> {
  const c = await clients.open(node(), 'test:probe');
  return Number(await c.call('PUBSUB', 'NUMPAT'));
}
async function pubsubClients(): Promise<number> {
  const c = await clients.open(node(), 'test:probe');
  return ((await c.call('CLIENT', 'LIST', 'TYPE', 'pubsub')) as string).trim().split('\n').length;
}
async function numsub(channel: string): Promise<number> {
  const c = await clients.open(node(), 'test:probe');
  return Number(((await c.call('PUBSUB', 'NUMSUB', channel)) as [string, number])[1]);
}

describe('tail on a standalone server', () => {
  it('prints what matches the patterns, and exits 0 after --count', async () => {
    const pub = await clients.open(node(), 'test:publisher');
    const tail = await tailWhile(['news:*', 'sport:*', '--json', '--count', '2'], async () => {
      await pub.publish('weather', 'no');
      await pub.publish('news:eu', 'one');
      await pub.publish('sport:f1', 'two');
    }, async () => (await numpat()) === 2);
    expect(await tail.finished()).toBe(0);
    const lines = parse(tail.stdout);
    expect(lines.map((l) => [l.kind, l.pattern, l.channel, l.payload])).toEqual([
      ['pmessage', 'news:*', 'news:eu', 'one'],
      ['pmessage', 'sport:*', 'sport:f1', 'two'],
    ]);
    expect(lines[0]!.ts).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(lines[0]!.node).toBe(node().address);
    expect(tail.stderr).toMatch(/2 printed of 2 received \(message 0, pmessage 2, smessage 0\), 0 dropped/);
  });

  it('subscribes exact channels with --channel', async () => {
    const pub = await clients.open(node(), 'test:publisher');
    const tail = await tailWhile(['-c', 'orders', '-c', 'payments', '--json', '--count', '2'], async () => {
      await pub.publish('orders:x', 'no');
      await pub.publish('orders', 'a');
      await pub.publish('payments', 'b');
      // Exact channels are heard through patterns that match only them: NUMSUB never counts tail.
    }, async () => (await numpat()) === 2 && (await numsub('payments')) === 0);
    expect(await tail.finished()).toBe(0);
    expect(parse(tail.stdout).map((l) => [l.kind, l.pattern, l.channel])).toEqual([
      ['message', null, 'orders'],
      ['message', null, 'payments'],
    ]);
  });

  it('leaves keyspace notifications out by default and brings them in with --include-keyspace', async () => {
    const pub = await clients.open(node(), 'test:publisher');
    const quiet = await tailWhile(['--json', '--count', '1'], async () => {
      await pub.set('user:1', 'x');
      await pub.publish('marker', 'm');
    }, async () => (await numpat()) === 1);
    expect(await quiet.finished()).toBe(0);
    expect(parse(quiet.stdout).map((l) => l.channel)).toEqual(['marker']);
    const loud = await tailWhile(['--json', '--count', '1', '--include-keyspace'], async () => {
      await pub.set('user:2', 'x');
    }, async () => (await numpat()) === 1);
    expect(await loud.finished()).toBe(0);
    expect(parse(loud.stdout)[0]!.channel).toMatch(/^__key(space|event)@0__:/);
  });

  it('never sends escape sequences or invalid UTF-8 to the terminal, and loses no byte in JSON', async () => {
    const pub = await clients.open(node(), 'test:publisher');
    const hostile = Buffer.from('evil\x1b[2J\x1b]0;pwned\x07\r\x9b end');
    const binary = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0x41]);
    const text = await tailWhile(['hostile', '--count', '3'], async () => {
      await pub.publish('hostile', hostile);
      await pub.publish('hostile', binary);
      await pub.publish('hostile', 'déjà vu ✓');
    }, async () => (await numpat()) === 1);
    expect(await text.finished()).toBe(0);
    expect(text.stdout).not.toMatch(/[\x00-\x08\x0b-\x1f\x7f]/);
    expect(text.stdout).toContain('evil\\x1b[2J\\x1b]0;pwned\\x07\\r');
    expect(text.stdout).toContain('\\xff\\xfe\\x00\\x80A');
    expect(text.stdout).toContain('déjà vu ✓');
    const json = await tailWhile(['hostile', '--json', '--count', '3'], async () => {
      await pub.publish('hostile', hostile);
      await pub.publish('hostile', binary);
      await pub.publish('hostile', 'déjà vu ✓');
    }, async () => (await numpat()) === 1);
    expect(await json.finished()).toBe(0);
    const [a, b, c] = parse(json.stdout);
    expect(Buffer.from(a!.payload, a!.encoding === 'base64' ? 'base64' : 'utf8').equals(hostile)).toBe(true);
    expect(b).toMatchObject({ encoding: 'base64', bytes: 5 });
    expect(Buffer.from(b!.payload, 'base64').equals(binary)).toBe(true);
    expect(c).toMatchObject({ encoding: 'utf8', payload: 'déjà vu ✓' });
  });

  it('exits 1 when --count is not reached before --timeout, 0 on --timeout or --idle alone', async () => {
    const short = await runCli(['tail', '-u', sb.url, 'nothing:*', '--count', '5', '--timeout', '500ms']);
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/0 printed of 0 received/);
    const timed = await runCli(['tail', '-u', sb.url, 'nothing:*', '--timeout', '300ms']);
    expect(timed.code).toBe(0);
    const idle = await runCli(['tail', '-u', sb.url, 'nothing:*', '--idle', '300ms']);
    expect(idle.code).toBe(0);
  });

  it('marks the gap when the server restarts, resubscribes, and carries on', async () => {
    const restartable = await startSandbox();
    const tail = new RunningCli(['tail', '-u', restartable.url, 'jobs:*', '--json']);
    const c = new Clients();
    try {
      const pub = await c.open(restartable.nodes[0]!, 'test:publisher');
      const probe = await c.open(restartable.nodes[0]!, 'test:probe');
      await expect.poll(async () => Number(await probe.call('PUBSUB', 'NUMPAT')), { timeout: 10_000, interval: 50 }).toBe(1);
      await pub.publish('jobs:1', 'before');
      await tail.waitForLine((l) => l.includes('"before"'));
      c.closeAll();
      await restartable.nodes[0]!.process.kill();
      const gap = JSON.parse(await tail.waitForLine((l) => l.includes('"kind":"gap"'))) as TailJson;
      expect(gap.reason).toMatch(/127\.0\.0\.1/);
      await restartable.nodes[0]!.process.start();
      await tail.waitForLine((l) => l.includes('"kind":"resumed"'));
      const pub2 = await c.open(restartable.nodes[0]!, 'test:publisher');
      await pub2.publish('jobs:2', 'after');
      await tail.waitForLine((l) => l.includes('"after"'));
      expect(await tail.interrupt()).toBe(0);
      expect(tail.stderr).toMatch(/1 gap where messages may be missing/);
      expect(stackTraceLines(tail.stderr)).toEqual([]);
    } finally {
      c.closeAll();
      await tail.interrupt();
      await restartable.stop();
    }
  });

  it('shows the gap marker in text output too', async () => {
    const restartable = await startSandbox();
    const tail = new RunningCli(['tail', '-u', restartable.url]);
    try {
      const c = new Clients();
      const probe = await c.open(restartable.nodes[0]!, 'test:probe');
      await expect.poll(async () => Number(await probe.call('PUBSUB', 'NUMPAT')), { timeout: 10_000, interval: 50 }).toBe(1);
      c.closeAll();
      await restartable.nodes[0]!.process.kill();
      const line = await tail.waitForLine((l) => l.includes('---'));
      expect(line).toMatch(/^\d\d:\d\d:\d\d\.\d{3} {2}--- .*messages published until it is back are missed ---$/);
    } finally {
      await tail.interrupt();
      await restartable.stop();
    }
  });

  it('loses nothing in a burst of 100,000 messages that redis-cli survives', async () => {
    const n = 100_000;
    const payload = 'p'.repeat(128);
    const ours = new RunningCli(['tail', '-u', sb.url, 'burst', '--json']);
    const cli = spawn('redis-cli', ['-p', String(node().port), '--csv', 'PSUBSCRIBE', 'burst'], { stdio: ['ignore', 'pipe', 'ignore'] });
    let cliLines = 0;
    let partial = '';
    cli.stdout.on('data', (d: Buffer) => {
      const text = partial + d.toString();
      const parts = text.split('\n');
      partial = parts.pop() ?? '';
      cliLines += parts.filter((l) => l.startsWith('"pmessage"')).length;
    });
    try {
      // NUMPAT is 1 as soon as either has subscribed; the second pub/sub client says both have.
      await expect.poll(numpat, { timeout: 10_000, interval: 50 }).toBe(1);
      await expect.poll(pubsubClients, { timeout: 10_000, interval: 50 }).toBeGreaterThanOrEqual(2);
      const bench = spawn('redis-benchmark', ['-p', String(node().port), '-n', String(n), '-c', '4', '-P', '32', '-q', 'PUBLISH', 'burst', payload], { stdio: 'ignore' });
      await new Promise((resolve) => bench.on('close', resolve));
      // One deadline for both readers, as they drain the same burst side by side.
      await expect.poll(() => ({ redisCli: cliLines, ours: ours.lines().length }), { timeout: 30_000, interval: 100 }).toEqual({ redisCli: n, ours: n });
      expect(await ours.interrupt()).toBe(0);
      expect(ours.stderr).toMatch(/100000 printed of 100000 received \(message 0, pmessage 100000, smessage 0\), 0 dropped/);
    } finally {
      cli.kill();
      await ours.interrupt();
    }
  });

  it('refuses bad flags with one line', async () => {
    const r = await runCli(['tail', '-u', sb.url, '--grep', '(']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--grep is not a valid regular expression/);
    const f = await runCli(['tail', '-u', sb.url, '--format', '%q']);
    expect(f.code).toBe(2);
    expect(f.stderr).toMatch(/%q/);
    const both = await runCli(['tail', '-u', sb.url, '--json', '--format', '%s']);
    expect(both.code).toBe(2);
  });

  it('names the missing channel rule for an ACL user without &*', async () => {
    const admin = await clients.open(node(), 'test:admin');
    await admin.call('ACL', 'SETUSER', 'tailer', 'on', '>pw', '+@all', 'resetchannels', '&news:*');
    const r = await runCli(['tail', '-u', sb.url, '--user', 'tailer', '-a', 'pw', '--no-auth-warning', '--timeout', '1s']);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/ACL user 'tailer' may not use these channels.*&\*/);
    const ok = await runCli(['tail', '-u', sb.url, '--user', 'tailer', '-a', 'pw', 'news:*', '--timeout', '300ms']);
    expect(ok.code).toBe(0);
  });
});
