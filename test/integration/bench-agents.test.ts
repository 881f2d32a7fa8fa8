// bench over agents: a coordinator and three `pubsub-mon agent` processes on loopback, against a 3+3
// cluster, with the control channel on the cluster itself or on a server of its own (--control-url).
import fs from 'node:fs';
import net from 'node:net';
import v8 from 'node:v8';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { decodeHistogram, createLatencyHistogram } from '../../src/stats/histogram.js';
import { commandCalls, parseCommandStats, parseInfo } from '../../src/stats/info.js';
import type { BenchJson } from '../../src/render/json/bench.js';
import { Clients } from '../helpers/redis.js';
import { RunningCli, runCli, stackTraceLines } from '../helpers/cli.js';

const clients = new Clients();
afterEach(() => clients.closeAll());

/** Agents started by a test, stopped after it whatever happened. */
const started: RunningCli[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((a) => a.interrupt()));
});

async function until<T>(read: () => T | Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** An agent process, once it says it waits for a coordinator. */
async function agent(url: string, name: string, extra: string[] = [], env: Record<string, string> = {}): Promise<RunningCli> {
  const a = new RunningCli(['agent', '-u', url, '--name', name, '--once', ...extra], env);
  started.push(a);
  await until(() => a.stderr, (s) => s.includes('waiting for a coordinator'), 20_000, `agent ${name} to start`);
  return a;
}

async function bench(url: string, args: string[]): Promise<{ code: number | null; doc: BenchJson; stderr: string }> {
  const r = await runCli(['bench', '-u', url, '--json', ...args], { timeoutMs: 90_000 });
  expect(stackTraceLines(r.stderr)).toEqual([]);
  if (!r.stdout.trim()) throw new Error(`bench printed nothing; stderr: ${r.stderr}`);
  return { code: r.code, doc: JSON.parse(r.stdout) as BenchJson, stderr: r.stderr };
}

/** Over the hosts that are not lost, published, expected, received and lost add up to the totals. */
function sumsMatch(doc: BenchJson): void {
  const ok = doc.agents!.filter((a) => a.status === 'ok');
  const sum = (k: 'published' | 'expected' | 'received' | 'lost') => ok.reduce((s, a) => s + a[k]!, 0);
  expect(sum('published')).toBe(doc.published);
  expect(sum('expected')).toBe(doc.expected);
  expect(sum('received')).toBe(doc.received);
  expect(sum('lost')).toBe(doc.lost);
}

/** The run's histogram is the sum of every host's: bucket by bucket, and as many as were received. */
function histogramsMerge(doc: BenchJson): void {
  const merged = decodeHistogram(doc.histogram!);
  const summed = createLatencyHistogram();
  for (const a of doc.agents!) if (a.histogram) summed.add(decodeHistogram(a.histogram));
  expect(merged.totalCount).toBe(doc.received);
  expect(summed.totalCount).toBe(merged.totalCount);
  for (const p of [1, 10, 50, 90, 99, 99.9, 100]) expect(merged.getValueAtPercentile(p)).toBe(summed.getValueAtPercentile(p));
  expect(merged.minNonZeroValue).toBe(summed.minNonZeroValue);
  expect(merged.maxValue).toBe(summed.maxValue);
}

async function calls(sb: Sandbox, command: string): Promise<number> {
  let total = 0;
  for (const n of sb.nodes) {
    const c = await clients.open(n, 'test:probe');
    total += commandCalls(parseCommandStats(parseInfo(await c.info('commandstats'))), command);
  }
  return total;
}

async function controlKeys(sb: Sandbox): Promise<string[]> {
  const keys: string[] = [];
  for (const n of sb.nodes) {
    const c = await clients.open(n, 'test:probe');
    keys.push(...((await c.keys('pubsub-mon:ctl:*')) as string[]));
  }
  return keys;
}

describe('bench --agents 3 on a 3+3 cluster', () => {
  let sb: Sandbox;
  let control: Sandbox;
  let other: Sandbox;
  beforeAll(async () => {
    [sb, control, other] = await Promise.all([startSandbox({ cluster: 3, replicas: 1 }), startSandbox(), startSandbox()]);
  });
  afterAll(async () => {
    await Promise.all([sb?.stop(), control?.stop(), other?.stop()]);
  });

  it('classic: merges four hosts into one report whose counts add up and match the servers\' own PUBLISH count', async () => {
    const names = ['east', 'west', 'north'];
    // One of them spreads its share over child processes (--processes), as a many-core host would.
    await Promise.all(names.map((n) => agent(sb.url, n, ['--control-url', control.url, ...(n === 'north' ? ['--processes', '2'] : [])])));
    const before = await calls(sb, 'publish');
    const { code, doc } = await bench(sb.url, ['--agents', '3', '--control-url', control.url, '-P', '4', '-S', '8', '-C', '4', '--rate', '0', '--messages', '8000', '--warmup', '0']);
    expect(doc.incomplete).toEqual([]);
    expect(code).toBe(0);
    // Every PUBLISH the cluster counted is one bench counted: the control traffic went to the other server.
    expect((await calls(sb, 'publish')) - before).toBe(doc.published);
    expect(doc.published).toBe(8000);
    expect(doc.verified).toMatchObject({ asked: 32, found: 32 });
    expect(doc.expected).toBe(8000 * 8);
    expect(doc.received).toBe(doc.expected);
    expect(doc.agents!.map((a) => a.name).sort()).toEqual(['coordinator', ...names].sort());
    for (const a of doc.agents!) {
      expect(a).toMatchObject({ status: 'ok', publishers: 1, subscribers: 2 });
      expect(a.published).toBe(2000);
      expect(Math.abs(a.clock.offset_us)).toBeLessThanOrEqual(a.clock.bound_us + 1);
    }
    sumsMatch(doc);
    histogramsMerge(doc);
    // Deliveries within one host and across hosts are both there, and the bound is stated.
    expect(doc.host_latency!.same_host_us).not.toBeNull();
    expect(doc.host_latency!.cross_host_us).not.toBeNull();
    expect(doc.host_latency!.clock_bound_us).toBeGreaterThan(0);
    expect(await controlKeys(control)).toEqual([]);
  });

  it('sharded, control on the cluster itself, agents only (--no-local): SPUBLISH counts match, the control keys are gone at the end', async () => {
    const names = ['a1', 'a2', 'a3'];
    const agents = await Promise.all(names.map((n) => agent(sb.url, n)));
    // An idle agent listens with PSUBSCRIBE: no channel count anywhere includes it.
    for (const n of sb.nodes) {
      const c = await clients.open(n, 'test:probe');
      expect(await c.call('PUBSUB', 'CHANNELS', 'pubsub-mon:ctl:*')).toEqual([]);
    }
    const before = await calls(sb, 'spublish');
    const { code, doc } = await bench(sb.url, ['--agents', '3', '--no-local', '--mode', 'spublish', '-P', '3', '-S', '6', '-C', '12', '--rate', '0', '--messages', '6000', '--warmup', '0']);
    expect(doc.incomplete).toEqual([]);
    expect(code).toBe(0);
    expect((await calls(sb, 'spublish')) - before).toBe(6000);
    expect(doc.published).toBe(6000);
    expect(doc.received).toBe(6000 * 6);
    expect(doc.agents!.map((a) => a.role)).toEqual(['agent', 'agent', 'agent']);
    sumsMatch(doc);
    histogramsMerge(doc);
    expect(await controlKeys(sb)).toEqual([]);
    // --once: each agent leaves after the run, exit 0.
    for (const a of agents) expect(await a.finished(10_000)).toBe(0);
  });

  it('reports an agent killed mid-run by name, leaves its share out, and the rest still reconciles', async () => {
    const names = ['keep1', 'keep2', 'doomed'];
    const agents = await Promise.all(names.map((n) => agent(sb.url, n, ['--control-url', control.url])));
    const before = await calls(sb, 'publish');
    const run = new RunningCli(['bench', '-u', sb.url, '--json', '--agents', '3', '--control-url', control.url, '-P', '4', '-S', '4', '--rate', '2000', '-d', '4s', '--warmup', '300ms']);
    try {
      await until(() => agents[2]!.stderr, (s) => s.includes('running'), 30_000, 'the doomed agent to get its work');
      // Killed about 1.5 s into the measured run, told by the server's count of publishes (300 ms of
      // warm-up at 2000/s, then 3000 more), not by a sleep: connecting can take seconds on a loaded machine.
      await until(async () => (await calls(sb, 'publish')) - before, (n) => n >= 600 + 3000, 40_000, 'the run to be 1.5 s into measuring');
      agents[2]!.child.kill('SIGKILL');
      const code = await run.finished(60_000);
      expect(stackTraceLines(run.stderr)).toEqual([]);
      const doc = JSON.parse(run.stdout) as BenchJson;
      expect(code).toBe(1);
      const reason = doc.incomplete_reasons.find((r) => r.kind === 'agent-lost');
      expect(reason?.message).toMatch(/agent doomed .*stopped answering/);
      const doomed = doc.agents!.find((a) => a.name === 'doomed')!;
      expect(doomed).toMatchObject({ status: 'lost', published: null, received: null, lost: null });
      expect(doomed.last_heard!.sent).toBeGreaterThan(0);
      // What is left is the three live hosts' traffic among themselves: nothing of it went missing.
      expect(doc.lost).toBe(0);
      expect(doc.received).toBe(doc.expected);
      expect(doc.expected).toBe(doc.published * 3);
      sumsMatch(doc);
    } finally {
      await run.interrupt();
    }
  });

  it('a coordinator killed mid-run: its agents notice its key expire, stop their workers and leave no connection', async () => {
    const a = await agent(sb.url, 'orphan');
    const run = new RunningCli(['bench', '-u', sb.url, '--json', '--agents', '1', '--no-local', '-P', '1', '-S', '2', '--rate', '500', '-d', '60s', '--warmup', '200ms']);
    try {
      await until(() => a.stderr, (s) => s.includes('running'), 30_000, 'the agent to get its work');
      await new Promise((r) => setTimeout(r, 1000));
      run.child.kill('SIGKILL');
      await until(() => a.stderr, (s) => /coordinator \S+ is gone \(its key .*alive expired\): stopped this run's workers/.test(s), 20_000, 'the agent to notice');
      const left = await until(async () => {
        let n = 0;
        for (const node of sb.nodes) {
          const c = await clients.open(node, 'test:probe');
          n += String(await c.call('CLIENT', 'LIST')).split('\n').filter((l) => /name=pubsub-mon:bench-(sub|pub)/.test(l)).length;
        }
        clients.closeAll();
        return n;
      }, (n) => n === 0, 10_000, 'the bench connections to close');
      expect(left).toBe(0);
      // --once: a run that ended without its coordinator still ends the agent.
      expect(await a.finished(10_000)).toBe(0);
      expect(stackTraceLines(a.stderr)).toEqual([]);
    } finally {
      await run.interrupt();
    }
  });

  it('Ctrl-C while waiting for agents: exit 130, the agent that joined is let go, the keys are gone', async () => {
    const a = await agent(sb.url, 'lonely');
    const run = new RunningCli(['bench', '-u', sb.url, '--agents', '2', '-d', '1s']);
    await until(() => a.stderr, (s) => s.includes('joined coordinator'), 20_000, 'the agent to join');
    expect(await run.interrupt()).toBe(130);
    expect(stackTraceLines(run.stderr)).toEqual([]);
    expect(await a.finished(10_000)).toBe(0);
    expect(await controlKeys(sb)).toEqual([]);
  });

  it('an agent never follows a call to a server outside its own cluster (its credentials stay home), and shrugs off malformed calls', async () => {
    const a = await agent(sb.url, 'careful');
    // Someone else's socket, where a forged call names the "control node".
    const touched: string[] = [];
    const trap = net.createServer((sock) => {
      touched.push(sock.remoteAddress ?? '?');
      sock.destroy();
    });
    await new Promise<void>((resolve) => trap.listen(0, '127.0.0.1', resolve));
    try {
      const port = (trap.address() as net.AddressInfo).port;
      const pub = await clients.open(sb.nodes[0]!, 'test:forger');
      const garbage = [
        '{"t":"call","run":"r2","version":"0.1.0","coordinator":"fake"}',
        '{"t":"call","run":"../..","version":"0.1.0","coordinator":"x","control":{"kind":"own"}}',
        '{"t":"call"}',
        'not json at all',
        '{"t":"call","run":"abc","version":"0.1.0","coordinator":"x","control":{"kind":"node","host":"","port":70000}}',
      ];
      for (const g of garbage) await pub.publish('pubsub-mon:ctl:lobby', g);
      await pub.publish('pubsub-mon:ctl:agents', v8.serialize({ t: 'to', w: '__proto__', m: {}, run: 'r2', to: 'careful', id: 'x' }));
      const forged = JSON.stringify({ t: 'call', run: 'e0e0e0', version: JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version, coordinator: 'evil', control: { kind: 'node', host: '127.0.0.1', port } });
      await pub.publish('pubsub-mon:ctl:lobby', forged);
      await until(() => a.stderr, (s) => s.includes(`its control node 127.0.0.1:${port} is not a node of`), 10_000, 'the refusal line');
      expect(touched).toEqual([]);
      expect(a.child.exitCode).toBeNull();
      expect(stackTraceLines(a.stderr)).toEqual([]);
      // Still waiting, and still able to join a real run.
      const { code, doc } = await bench(sb.url, ['--agents', '1', '--no-local', '-P', '1', '-S', '1', '--rate', '0', '--messages', '500', '--warmup', '0']);
      expect(code).toBe(0);
      expect(doc.received).toBe(500);
    } finally {
      trap.close();
    }
  });

  it('takes one of two agents of the same name, and tells the other why', async () => {
    const twins = [await agent(sb.url, 'twin'), await agent(sb.url, 'twin')];
    const { code, doc } = await bench(sb.url, ['--agents', '1', '-P', '2', '-S', '2', '--rate', '0', '--messages', '2000', '--warmup', '0']);
    expect(doc.incomplete).toEqual([]);
    expect(code).toBe(0);
    expect([doc.published, doc.received, doc.duplicates]).toEqual([2000, 4000, 0]);
    expect(doc.agents!.map((x) => x.name)).toEqual(['coordinator', 'twin']);
    const said = twins.map((t) => t.stderr);
    expect(said.filter((s) => s.includes('running')).length).toBe(1);
    expect(said.some((s) => /did not take this agent: another agent named twin .* give each agent its own --name/.test(s))).toBe(true);
  });

  it('an agent pointed at another server than the coordinator\'s refuses its work, and the run says so in one line', async () => {
    await agent(other.url, 'astray', ['--control-url', control.url]);
    const r = await runCli(['bench', '-u', control.url, '--agents', '1', '--control-url', control.url, '-P', '2', '-S', '2', '--rate', '1000', '-d', '1s', '--warmup', '0'], { timeoutMs: 60_000 });
    expect(stackTraceLines(r.stderr)).toEqual([]);
    expect(r.code).toBe(1);
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('pubsub-mon:'))).toEqual([
      expect.stringMatching(/^pubsub-mon: agent astray: redis:\/\/127\.0\.0\.1:\d+ is another server than the coordinator's \(run_id \w+, not \w+\): point the agent at the same server$/),
    ]);
  });

  it('a coordinator ignores forged worker messages from a joined agent\'s name, and finishes its run', async () => {
    const a = await agent(sb.url, 'honest', ['--control-url', control.url]);
    const run = new RunningCli(['bench', '-u', sb.url, '--json', '--agents', '1', '--control-url', control.url, '-P', '2', '-S', '2', '--rate', '1000', '-d', '2s', '--warmup', '200ms']);
    try {
      const line = await until(() => a.stderr, (s) => /\(run ([0-9a-f]+)\)/.test(s), 20_000, 'the run id');
      const runId = /\(run ([0-9a-f]+)\)/.exec(line)![1]!;
      const pub = await clients.open(control.nodes[0]!, 'test:forger');
      for (const m of [{ t: 'worker', w: 0, m: null }, { t: 'worker', w: 'x', m: { type: 'done' } }, { t: 'worker', w: 99, m: { type: 'loaded' } }, { t: 'clock', clock: { offsetNs: 'abc' } }, { t: 'hello', version: 'x' }]) {
        await pub.publish('pubsub-mon:ctl:coordinator', v8.serialize({ ...m, run: runId, name: 'honest' }));
      }
      expect(await run.finished(60_000)).toBe(0);
      expect(stackTraceLines(run.stderr)).toEqual([]);
      const doc = JSON.parse(run.stdout) as BenchJson;
      expect(doc.received).toBe(doc.expected);
      sumsMatch(doc);
    } finally {
      await run.interrupt();
    }
  });

  it('Ctrl-C ends a run whose agent joined and then never started its workers (its work lost on the way, say)', async () => {
    const version = (JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
    // A stand-in agent that answers calls and beats, and does nothing with its work.
    const listen = await clients.open(sb.nodes[0]!, 'pubsub-mon:agent');
    const talk = await clients.open(sb.nodes[0]!, 'pubsub-mon:agent');
    const heard: string[] = [];
    let beat: NodeJS.Timeout | undefined;
    listen.on('pmessageBuffer', (_p: Buffer, channel: Buffer, message: Buffer) => {
      if (channel.toString() !== 'pubsub-mon:ctl:lobby') {
        heard.push((message[0] === 0x7b ? (JSON.parse(message.toString()) as { t: string }) : (v8.deserialize(message) as { t: string })).t);
        return;
      }
      const call = JSON.parse(message.toString()) as { run: string };
      const clock = { offsetNs: String(BigInt(Date.now()) * 1_000_000n), boundNs: 1000, rttNs: 2000 };
      void talk.publish('pubsub-mon:ctl:coordinator', JSON.stringify({ t: 'hello', run: call.run, name: 'mute', id: 'm1', version, host: 'stand-in', pid: 1, threads: 1, processes: 0, clock }));
      clearInterval(beat);
      beat = setInterval(() => void talk.publish('pubsub-mon:ctl:coordinator', v8.serialize({ t: 'beat', run: call.run, name: 'mute' })), 500);
    });
    await listen.psubscribe('pubsub-mon:ctl:lobby', 'pubsub-mon:ctl:agents');
    const run = new RunningCli(['bench', '-u', sb.url, '--agents', '1', '--no-local', '-P', '1', '-S', '1', '-d', '5s']);
    try {
      await until(() => heard.filter((t) => t === 'work').length, (n) => n >= 2, 20_000, 'the work said again');
      const t0 = Date.now();
      expect(await run.interrupt()).toBe(130);
      expect(Date.now() - t0).toBeLessThan(5000);
      expect(stackTraceLines(run.stderr)).toEqual([]);
      expect(await controlKeys(sb)).toEqual([]);
    } finally {
      clearInterval(beat);
      await run.interrupt();
    }
  });

  it('an agent refuses a coordinator of another version with one line, and the coordinator names it when too few join', async () => {
    const a = await agent(sb.url, 'picky');
    // What a coordinator of another version says on the lobby (the call is JSON so that any version reads it).
    const node = await clients.open(sb.nodes[0]!, 'test:old-coordinator');
    const listen = await clients.open(sb.nodes[0]!, 'test:old-coordinator');
    const heard: string[] = [];
    listen.on('pmessage', (_p: string, _c: string, m: string) => heard.push(m));
    await listen.psubscribe('pubsub-mon:ctl:coordinator');
    const call = JSON.stringify({ t: 'call', run: 'a1d0', version: '0.0.1-old', coordinator: 'oldhost:1', control: { kind: 'own' } });
    await until(async () => {
      await node.publish('pubsub-mon:ctl:lobby', call);
      return heard.length;
    }, (n) => n > 0, 10_000, 'the refusal');
    expect(JSON.parse(heard[0]!)).toMatchObject({ t: 'refuse', run: 'a1d0', name: 'picky' });
    const line = await until(() => a.stderr, (s) => s.includes('0.0.1-old'), 5000, 'the agent\'s line');
    expect(line.trim().split('\n').filter((l) => l.includes('0.0.1-old'))).toEqual([
      expect.stringMatching(/^pubsub-mon: agent: not joining coordinator oldhost:1: it runs pubsub-mon 0\.0\.1-old, this agent \S+ \(run the same version on every host\)$/),
    ]);

    // The same agent still joins a coordinator of its own version; one agent of two is not enough.
    const r = await runCli(['bench', '-u', sb.url, '--agents', '2', '--agent-wait', '2s', '-d', '1s'], { timeoutMs: 30_000 });
    expect(r.code).toBe(1);
    expect(stackTraceLines(r.stderr)).toEqual([]);
    expect(r.stdout).toBe('');
    // Without a terminal, the wait is told in lines of its own (bench: waiting for agents: ...); the error is one line.
    expect(r.stderr).toContain('bench: waiting for agents: 1 of 2 joined (picky)');
    expect(r.stderr.trim().split('\n').filter((l) => l.startsWith('pubsub-mon:'))).toEqual([
      expect.stringMatching(/only 1 of 2 agents joined within 2 s \(picky\): start `pubsub-mon agent` on each load host/),
    ]);
    expect(await controlKeys(sb)).toEqual([]);
  });
});

describe('bench --agents with a restricted ACL user', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox();
    const admin = await clients.open(sb.nodes[0]!, 'test:admin');
    // The README's user, rule for rule.
    await admin.call(
      'ACL', 'SETUSER', 'loadgen', 'on', '>secret', '~pubsub-mon:ctl:*',
      '&pubsub-mon:ctl:lobby', '&pubsub-mon:ctl:coordinator', '&pubsub-mon:ctl:agents', '&pubsub-mon:bench:*',
      '+psubscribe', '+punsubscribe', '+subscribe', '+unsubscribe', '+ssubscribe', '+sunsubscribe', '+publish', '+spublish',
      '+get', '+set', '+del', '+exists', '+time', '+ping', '+info', '+client|setname', '+client|list', '+config|get', '+pubsub',
      '+cluster|shards', '+cluster|myid',
    );
    // The same, without the agents' channel.
    await admin.call('ACL', 'SETUSER', 'partial', 'on', '>secret', '~pubsub-mon:ctl:*', '&pubsub-mon:ctl:lobby', '&pubsub-mon:ctl:coordinator', '&pubsub-mon:bench:*', '+@all');
    clients.closeAll();
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('--processes spreads one host\'s publishers and subscribers over child processes, every delivery counted', async () => {
    const { code, doc } = await bench(sb.url, ['--processes', '3', '-P', '2', '-S', '4', '-C', '2', '--rate', '0', '--messages', '4000', '--warmup', '0']);
    expect(doc.incomplete).toEqual([]);
    expect(code).toBe(0);
    expect(doc.config).toMatchObject({ threads: 0, processes: 3 });
    expect([doc.published, doc.received]).toEqual([4000, 16_000]);
    expect(doc.client.publisher_cpu_seconds).toBeGreaterThan(0);
    const r = await runCli(['bench', '-u', sb.url, '--processes', '2', '-T', '4'], { timeoutMs: 20_000 });
    expect([r.code, r.stderr.trim()]).toEqual([2, 'pubsub-mon: --processes and --threads both say how to spread the work here: give one']);
  });

  it('runs with the rules the README gives, and an agent without one says which in one line', async () => {
    const url = `redis://loadgen:secret@127.0.0.1:${sb.nodes[0]!.port}`;
    await agent(url, 'restricted', ['--no-auth-warning']);
    const { code, doc } = await bench(url, ['--no-auth-warning', '--agents', '1', '-P', '2', '-S', '2', '--rate', '0', '--messages', '2000', '--warmup', '0']);
    expect(doc.incomplete).toEqual([]);
    expect(code).toBe(0);
    expect(doc.received).toBe(4000);
    sumsMatch(doc);

    const r = await runCli(['agent', '-u', `redis://partial:secret@127.0.0.1:${sb.nodes[0]!.port}`, '--no-auth-warning', '--once'], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(stackTraceLines(r.stderr)).toEqual([]);
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/ACL user 'partial' may not use these channels/)]);
  });
});
