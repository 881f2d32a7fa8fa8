// Traffic profiles against real servers: watch --record on a known mix (standalone and a 3+3 cluster) gives its rates within 5%, its fan-out exactly, its sizes and kinds; refusals are one line.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Redis } from 'ioredis';
import { startSandbox, type Sandbox, type SandboxNode } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { RunningCli, runCli, stackTraceLines } from '../helpers/cli.js';
import { ExporterProcess } from '../helpers/exporter.js';

const clients = new Clients();
const running: RunningCli[] = [];
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-profile-test-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.interrupt()));
  clients.closeAll();
});

/** One channel of the mix the test publishes: its nominal rate, and the payload of its n-th message. */
interface MixChannel {
  name: string;
  kind: 'channel' | 'shard';
  rate: number;
  payload: (n: number) => string;
  publisher: Redis;
}

/** Every publish, timestamped in batches: what was really sent in any window can be counted afterwards. */
interface Sent {
  at: number;
  count: number;
}

/**
 * Publishes each channel at its rate, paced against the clock every 10 ms (a late tick catches up,
 * so the rate over any second stays close to nominal), until stopped.
 */
function publishMix(mix: readonly MixChannel[]): { sent: Map<string, Sent[]>; stop: () => void } {
  const started = Date.now();
  const counts = new Map(mix.map((c) => [c.name, 0]));
  const sent = new Map<string, Sent[]>(mix.map((c) => [c.name, []]));
  const timer = setInterval(() => {
    const now = Date.now();
    for (const c of mix) {
      const done = counts.get(c.name)!;
      const due = Math.floor(((now - started) * c.rate) / 1000) - done;
      if (due <= 0) continue;
      for (let i = 0; i < due; i++) {
        const payload = c.payload(done + i);
        void (c.kind === 'shard' ? c.publisher.spublish(c.name, payload) : c.publisher.publish(c.name, payload));
      }
      counts.set(c.name, done + due);
      sent.get(c.name)!.push({ at: now, count: due });
    }
  }, 10);
  return { sent, stop: () => clearInterval(timer) };
}

/** Messages sent to a channel from `from` to `to` (ms since the epoch), per second. */
function sentRate(sent: readonly Sent[], from: number, to: number): number {
  const n = sent.filter((s) => s.at > from && s.at <= to).reduce((sum, s) => sum + s.count, 0);
  return (n * 1000) / (to - from);
}

interface ProfileJson {
  pubsub_mon_profile: number;
  recorded_at: string;
  window_s: number;
  source: string;
  groups: Array<{ name: string; match?: string; kind: string; channels: Array<{ name: string; rate: number; subscribers: number }>; sizes: Array<{ bytes: number; weight: number }> }>;
}

const small = () => 'x'.repeat(100);
const large = () => 'y'.repeat(1000);
/** Seven in ten 64-byte messages, three in ten 2000-byte ones. */
const mixed = (n: number) => (n % 10 < 7 ? 's'.repeat(64) : 'L'.repeat(2000));

/**
 * Sets up the known mix on `sb`: orders:eu (200/s, 3 subscribers, 100 B) and orders:us (20/s, 2,
 * 100 B) grouped by `orders:*`, audit (50/s, 1, 1000 B), and the shard channel {user:1}:events
 * (100/s, 2 SSUBSCRIBE subscribers on its owner and the owner's replica, 64 B and 2000 B), then
 * records it with `watch --record` while a `watch --rates` runs beside it, and checks the file.
 */
async function recordAndCheck(sb: Sandbox, nodes: { classic: SandboxNode[]; shardOwner: SandboxNode[] }): Promise<void> {
  const [n0, n1, n2] = [nodes.classic[0]!, nodes.classic[1] ?? nodes.classic[0]!, nodes.classic[2] ?? nodes.classic[0]!];
  const real = [await clients.subscribe(n0, 'orders:eu'), await clients.subscribe(n1, 'orders:eu', 'orders:us'), await clients.subscribe(n2, 'orders:eu', 'orders:us', 'audit')];
  const shard = '{user:1}:events';
  for (const node of nodes.shardOwner) real.push(await clients.ssubscribe(node, shard));
  // What the real subscribers hear from bench's replay: nothing, bench publishes to renamed copies.
  // Bench payloads start with its header's magic, "PM"; the test's own ones never do.
  let heardFromBench = 0;
  const fromBench = (_channel: string, message: string) => (heardFromBench += message.startsWith('PM') ? 1 : 0);
  for (const c of real) {
    c.on('message', fromBench);
    c.on('smessage', fromBench);
  }
  const classicPub = await clients.open(n0, 'test:publisher');
  const shardPub = await clients.open(nodes.shardOwner[0]!, 'test:shard-publisher');
  const mix: MixChannel[] = [
    { name: 'orders:eu', kind: 'channel', rate: 200, payload: small, publisher: classicPub },
    { name: 'orders:us', kind: 'channel', rate: 20, payload: small, publisher: classicPub },
    { name: 'audit', kind: 'channel', rate: 50, payload: large, publisher: classicPub },
    { name: shard, kind: 'shard', rate: 100, payload: mixed, publisher: shardPub },
  ];
  const publishing = publishMix(mix);
  try {
    // Another pubsub-mon sampling the same channels (a pattern, and SSUBSCRIBE on the shard channel) must change nothing.
    const beside = new RunningCli(['watch', '-u', sb.url, '--rates', '--json', '--interval', '500ms']);
    running.push(beside);
    await beside.waitForLine(() => beside.lines().length >= 2);

    const file = path.join(dir, `${sb.mode}.json`);
    const recorder = new RunningCli(['watch', '-u', sb.url, '--record', file, '--record-window', '5s', '--record-group', 'orders:*', '--json']);
    running.push(recorder);
    expect(await recorder.finished(30_000), recorder.stderr).toBe(0);
    expect(recorder.stderr).toMatch(new RegExp(`^pubsub-mon watch: wrote ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} \\(\\d+ bytes\\): 4 channels in 3 groups over 5\\.\\d s\n$`));
    expect(stackTraceLines(recorder.stderr)).toEqual([]);
    // Whatever comes in after the window cannot be in it.
    await new Promise((resolve) => setTimeout(resolve, 100));
    publishing.stop();

    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as ProfileJson;
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    expect(profile.pubsub_mon_profile).toBe(1);
    expect(profile.source).toContain(`(${sb.mode})`);
    expect(profile.window_s).toBeGreaterThanOrEqual(5);
    expect(profile.window_s).toBeLessThan(7);
    const from = Date.parse(profile.recorded_at);
    const to = from + profile.window_s * 1000;

    expect(profile.groups.map((g) => [g.name, g.match, g.kind])).toEqual([
      ['orders:*', 'orders:*', 'channel'],
      [shard, undefined, 'shard'],
      ['audit', undefined, 'channel'],
    ]);
    const channel = (name: string) => profile.groups.flatMap((g) => g.channels).find((c) => c.name === name)!;
    expect(profile.groups[0]!.channels.map((c) => c.name)).toEqual(['orders:eu', 'orders:us']);
    const subscribers: Record<string, number> = { 'orders:eu': 3, 'orders:us': 2, audit: 1, [shard]: 2 };
    for (const c of mix) {
      const recorded = channel(c.name);
      const actual = sentRate(publishing.sent.get(c.name)!, from, to);
      expect(Math.abs(recorded.rate - actual) / actual, `${c.name}: recorded ${recorded.rate}/s, published ${actual.toFixed(2)}/s in the window`).toBeLessThan(0.05);
      expect(recorded.subscribers, c.name).toBe(subscribers[c.name]);
    }
    expect(profile.groups[0]!.sizes).toEqual([{ bytes: 100, weight: 1 }]);
    expect(profile.groups[2]!.sizes).toEqual([{ bytes: 1000, weight: 1 }]);
    const [smallClass, largeClass] = profile.groups[1]!.sizes;
    expect(profile.groups[1]!.sizes).toHaveLength(2);
    expect(smallClass!.bytes).toBe(64);
    expect(largeClass!.bytes).toBe(2000);
    expect(Math.abs(smallClass!.weight - 0.7)).toBeLessThan(0.02);
    expect(Math.abs(largeClass!.weight - 0.3)).toBeLessThan(0.02);

    // The round trip: bench replays the profile; each group publishes at the rate the test really
    // published in the window (within 5%), and delivers it to as many subscribers as it had.
    const replay = await runCli(['bench', '-u', sb.url, '--profile', file, '--duration', '4s', '--warmup', '500ms', '--json'], { timeoutMs: 60_000 });
    expect(stackTraceLines(replay.stderr)).toEqual([]);
    expect(replay.code, replay.stderr).toBe(0);
    const bench = JSON.parse(replay.stdout) as BenchReplayJson;
    expect(bench.incomplete).toEqual([]);
    expect(bench.groups.map((g) => g.group)).toEqual(['orders:*', shard, 'audit']);
    const groupOf: Record<string, string> = { 'orders:eu': 'orders:*', 'orders:us': 'orders:*', audit: 'audit', [shard]: shard };
    for (const g of bench.groups) {
      const members = mix.filter((c) => groupOf[c.name] === g.group);
      const recorded = members.reduce((sum, c) => sum + channel(c.name).rate, 0);
      const published = members.reduce((sum, c) => sum + sentRate(publishing.sent.get(c.name)!, from, to), 0);
      const fanout = members.reduce((sum, c) => sum + sentRate(publishing.sent.get(c.name)!, from, to) * subscribers[c.name]!, 0);
      expect(g.asked_rate).toBeCloseTo(recorded, 1);
      expect(Math.abs(g.publish_rate - published) / published, `${g.group}: replayed ${g.publish_rate}/s, the test published ${published.toFixed(2)}/s`).toBeLessThan(0.05);
      expect(Math.abs(g.delivery_rate - fanout) / fanout, `${g.group}: delivered ${g.delivery_rate}/s, the mix fans out ${fanout.toFixed(2)}/s`).toBeLessThan(0.05);
      expect(g.lost, g.group).toBe(0);
      expect(g.received, g.group).toBe(g.expected);
    }
    expect(bench.config.profile).toEqual({ file, scale: 1, same_names: false });
    // Classic and shard channels both: the config says so rather than the flags' default.
    expect([bench.config.mode, bench.config.subscribe]).toEqual(['mixed', 'mixed']);
    expect(heardFromBench).toBe(0);
  } finally {
    publishing.stop();
  }
}

interface BenchReplayJson {
  groups: Array<{ group: string; channels: number; asked_rate: number; publish_rate: number; delivery_rate: number; expected: number; received: number; lost: number }>;
  config: { profile: { file: string; scale: number; same_names: boolean } | null; mode: string; subscribe: string };
  incomplete: string[];
}

describe('watch --record on a standalone server with a replica', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ replicas: 1 });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('records the mix: rates within 5% of what was published in the window, subscribers exact, sizes and kinds right', async () => {
    const primary = sb.nodes.find((n) => n.role === 'primary')!;
    const replica = sb.nodes.find((n) => n.role === 'replica')!;
    // Subscribers on the replica hear replicated publishes: they are part of the fan-out.
    await recordAndCheck(sb, { classic: [primary, replica, primary], shardOwner: [primary, replica] });
  });

  it('replays a hand-written profile on the live names with --same-names at --scale 2, counting only its own subscribers', async () => {
    const file = path.join(dir, 'hand.json');
    fs.writeFileSync(file, JSON.stringify({ pubsub_mon_profile: 1, groups: [{ name: 'live', channels: [{ name: 'live:feed', rate: 50, subscribers: 2 }], sizes: [{ bytes: 200, weight: 1 }] }] }));
    const consumer = await clients.subscribe(sb.nodes[0]!, 'live:feed');
    let heard = 0;
    consumer.on('message', () => heard++);
    const r = await runCli(['bench', '-u', sb.url, '--profile', file, '--same-names', '--scale', '2', '--duration', '2s', '--warmup', '300ms', '--json'], { timeoutMs: 60_000 });
    expect(stackTraceLines(r.stderr)).toEqual([]);
    expect(r.code, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as BenchReplayJson & { published: number; expected: number; received: number; lost: number; verified: { asked: number; found: number; detail: string } };
    expect(doc.groups[0]!.asked_rate).toBe(100);
    expect(Math.abs(doc.groups[0]!.publish_rate - 100) / 100).toBeLessThan(0.05);
    // The consumer that was there first is not bench's: two found of two asked, and it is said.
    expect(doc.verified).toMatchObject({ asked: 2, found: 2 });
    expect(doc.verified.detail).toContain('1 other subscription on the same channels');
    expect(doc.expected).toBe(doc.published * 2);
    expect(doc.received).toBe(doc.expected);
    expect(doc.lost).toBe(0);
    // And it did get bench's payloads (warm-up included): that is what --same-names means.
    expect(heard).toBeGreaterThanOrEqual(doc.published);
    expect(doc.config.profile).toEqual({ file, scale: 2, same_names: true });
  });

  it('refuses flags that make no sense together in one line, exit 2', async () => {
    const f = path.join(dir, 'never.json');
    const cases: Array<[string[], string]> = [
      [['--record', f, '--once'], '--record measures traffic over --record-window and then exits: leave out --once'],
      [['--record-window', '5s'], '--record-window is how long a recording lasts: add --record FILE'],
      [['--record-group', 'a*'], '--record-group groups the channels of a recording: add --record FILE'],
      [['--record', f, '--record-window', '2s', '--interval', '3s'], '--record-window (2 s) must be at least one --interval (3 s)'],
      [['--record', path.join(dir, 'missing', 'p.json')], `cannot write profile ${path.join(dir, 'missing', 'p.json')}: no such directory`],
    ];
    const e = await runCli(['exporter', '-u', sb.url, '--listen', '127.0.0.1:0', '--record', f, '--record-window', '5s', '--interval', '10s']);
    expect(e.code).toBe(2);
    expect(e.stderr).toBe('pubsub-mon: --record-window (5 s) must be at least one --interval (10 s): rates are measured between refreshes\n');
    for (const [args, message] of cases) {
      const r = await runCli(['watch', '-u', sb.url, ...args]);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(r.stderr).toContain(message);
      expect(stackTraceLines(r.stderr)).toEqual([]);
    }
    expect(fs.existsSync(f)).toBe(false);
  });

  it('writes nothing, and says so with exit 1, when no channel carried a message in the window', async () => {
    await clients.subscribe(sb.nodes[0]!, 'silent');
    const f = path.join(dir, 'silent.json');
    const r = await runCli(['watch', '-u', sb.url, '--record', f, '--record-window', '1s', '--interval', '500ms', '--json']);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^pubsub-mon: no traffic recorded in 1\.\d s \(1 channel seen, none carried a message\): .*silent\.json not written\n$/);
    expect(fs.existsSync(f)).toBe(false);
  });

  it('writes nothing when interrupted before the window is over', async () => {
    const f = path.join(dir, 'interrupted.json');
    const w = new RunningCli(['watch', '-u', sb.url, '--record', f, '--record-window', '30s', '--json']);
    running.push(w);
    await w.waitForLine(() => w.lines().length >= 2);
    expect(await w.interrupt()).toBe(130);
    expect(w.stderr).toMatch(/recording stopped after \d+\.\d s of 30 s: .*interrupted\.json not written/);
    expect(fs.existsSync(f)).toBe(false);
    expect(fs.existsSync(`${f}.tmp`)).toBe(false);
  });
});

describe('exporter --record', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox();
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('rewrites the profile atomically at the end of every window while it serves', async () => {
    const node = sb.nodes[0]!;
    await clients.subscribe(node, 'jobs');
    await clients.subscribe(node, 'jobs');
    const publisher = await clients.open(node, 'test:publisher');
    const publishing = publishMix([{ name: 'jobs', kind: 'channel', rate: 100, payload: () => 'j'.repeat(300), publisher }]);
    const file = path.join(dir, 'exporter.json');
    const exporter = await ExporterProcess.start(['-u', sb.url, '--interval', '500ms', '--record', file, '--record-window', '2s']);
    running.push(exporter.cli);
    try {
      const deadline = Date.now() + 20_000;
      const windows = new Set<string>();
      while (windows.size < 2 && Date.now() < deadline) {
        // Read whenever it is there: a reader never sees a half-written file.
        if (fs.existsSync(file)) {
          const p = JSON.parse(fs.readFileSync(file, 'utf8')) as ProfileJson;
          windows.add(p.recorded_at);
          expect(p.groups).toHaveLength(1);
          expect(p.groups[0]).toMatchObject({ name: 'jobs', kind: 'channel', channels: [{ name: 'jobs', subscribers: 2 }], sizes: [{ bytes: 300, weight: 1 }] });
          expect(Math.abs(p.groups[0]!.channels[0]!.rate - 100)).toBeLessThan(10);
          expect(p.window_s).toBeGreaterThanOrEqual(1.5);
          expect(p.window_s).toBeLessThan(3);
        }
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      expect(windows.size).toBe(2);
      // The first file is said once on stderr, the later ones are not.
      expect(exporter.cli.stderr.match(/pubsub-mon exporter: wrote /g)).toHaveLength(1);
      expect(exporter.cli.stderr).toContain('(rewritten every 2 s)');
      expect((await exporter.scrape()).get('pubsub_mon_channel_subscribers{channel="jobs",kind="channel"}')).toBe(2);
    } finally {
      publishing.stop();
    }
    expect(await exporter.cli.interrupt()).toBe(0);
  });
});

describe('watch --record on a 3+3 cluster', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ cluster: 3, replicas: 1 });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('records the mix: classic subscribers summed over nodes, the shard channel over its shard', async () => {
    const { primary, replicas } = await ownerOfSlot(sb, clients, hashSlot('{user:1}:events'));
    const others = sb.nodes.filter((n) => n.port !== primary.port);
    await recordAndCheck(sb, { classic: [sb.nodes[0]!, others[1]!, others[3]!], shardOwner: [primary, replicas[0]!] });
  });
});
