// tail, bench and watch through failovers on a real 3+3 cluster with a short node timeout: a fresh cluster per test.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox, type SandboxNode } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { RunningCli, runCli, stackTraceLines } from '../helpers/cli.js';
import type { WatchJson } from '../helpers/watch.js';

interface Line { kind: string; node: string; channel?: string; payload?: string; reason?: string; down_ms?: number }
interface BenchJson { incomplete_reasons: Array<{ kind: string; message: string }>; lost: number }

let sb: Sandbox;
const clients = new Clients();

beforeEach(async () => {
  // A dead primary is marked failed after about twice the node timeout; its replica takes over soon after.
  sb = await startSandbox({ cluster: 3, replicas: 1, nodeTimeoutMs: 500 });
});
afterEach(async () => {
  clients.closeAll();
  await sb?.stop();
});

const settle = (what: string, timeout = 15_000) => ({ timeout, interval: 100, message: what });

function replicaOf(primary: SandboxNode): SandboxNode {
  return sb.nodes.find((n) => n.primaryIndex === sb.nodes.indexOf(primary))!;
}

async function shardSubscribers(node: SandboxNode, channel: string): Promise<number> {
  const c = await clients.open(node, 'test:probe');
  return Number(((await c.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1]);
}

/** Until the replica reports itself a primary. */
async function promoted(replica: SandboxNode): Promise<void> {
  const c = await clients.open(replica, 'test:probe');
  await expect.poll(async () => ((await c.call('ROLE')) as [string])[0], settle(`${replica.address} to be promoted`)).toBe('master');
}

/** The primary whose subscriber bench placed: the node listing a bench shard channel. */
async function benchSubscriberNode(): Promise<SandboxNode> {
  const primaries = sb.nodes.filter((n) => n.role === 'primary');
  let found: SandboxNode | undefined;
  await expect.poll(async () => {
    for (const n of primaries) {
      const c = await clients.open(n, 'test:probe');
      if (((await c.call('PUBSUB', 'SHARDCHANNELS', 'pubsub-mon:bench:*')) as string[]).length > 0) found = n;
    }
    return found !== undefined;
  }, settle('the bench subscriber')).toBe(true);
  return found!;
}

async function benchThrough(fault: (owner: SandboxNode) => Promise<void>): Promise<{ code: number | null; doc: BenchJson }> {
  const run = runCli(['bench', '-u', sb.url, '--mode', 'spublish', '--rate', '500', '--duration', '3s', '--warmup', '300ms', '--json'], { timeoutMs: 60_000 });
  const owner = await benchSubscriberNode();
  // Into the measured phase: verification, the start delay and the warm-up are behind.
  await new Promise((r) => setTimeout(r, 1500));
  await fault(owner);
  const r = await run;
  expect(stackTraceLines(r.stderr)).toEqual([]);
  return { code: r.code, doc: JSON.parse(r.stdout) as BenchJson };
}

describe('through a failover (3+3 cluster, 500 ms node timeout)', () => {
  it('tail follows shard channels to the promoted replica when the node it was started against dies, and says where and after how long', async () => {
    const primary = sb.nodes[1]!;
    const replica = replicaOf(primary);
    const names: string[] = [];
    for (let i = 0; names.length < 2; i++) {
      const name = `{fo-${i}}jobs`;
      if ((await ownerOfSlot(sb, clients, hashSlot(name))).primary === primary) names.push(name);
    }
    const tail = new RunningCli(['tail', '-u', sb.urls[1]!, ...names.flatMap((n) => ['--shard', n]), '--channel', 'news', '--json', '--timeout', '40s']);
    try {
      for (const n of names) await expect.poll(() => shardSubscribers(primary, n), settle(`SSUBSCRIBE ${n}`)).toBe(1);
      await (await clients.open(primary, 'test:publisher')).call('SPUBLISH', names[0]!, 'before');
      await tail.waitForLine((l) => l.includes('"before"'));

      await primary.process.kill();
      const gap = JSON.parse(await tail.waitForLine((l) => l.includes('"kind":"gap"'))) as Line;
      expect(gap.node).toBe(primary.address);
      await promoted(replica);
      const resumed = JSON.parse(await tail.waitForLine((l) => l.includes('"kind":"resumed"') && l.includes(replica.address), 20_000)) as Line;
      expect(resumed.down_ms).toBeGreaterThan(0);
      for (const n of names) expect(await shardSubscribers(replica, n)).toBe(1);

      const pub = await clients.open(replica, 'test:publisher');
      for (const n of names) await pub.call('SPUBLISH', n, `after-${n}`);
      // Classic traffic moved to a live node too.
      const live = sb.nodes.filter((n) => n !== primary);
      // tail hears an exact channel through a pattern of its own (never counted in NUMSUB): count its classic connection.
      const newsSubscribers = async () => {
        let sum = 0;
        for (const n of live) {
          const list = String(await (await clients.open(n, 'test:probe')).call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
          sum += list.split('\n').filter((l) => / name=pubsub-mon:tail /.test(l) && / psub=[1-9]/.test(l)).length;
        }
        return sum;
      };
      await expect.poll(newsSubscribers, settle('tail listening to news on a live node')).toBe(1);
      await pub.publish('news', 'classic-after');
      await tail.waitForLine((l) => l.includes('classic-after'));
      await tail.waitForLine((l) => l.includes(`after-${names[1]!}`));
      await new Promise((r) => setTimeout(r, 300));
      const lines = tail.lines().map((l) => JSON.parse(l) as Line);
      const messages = lines.filter((l) => l.kind.endsWith('message'));
      expect(messages.map((l) => l.payload).sort()).toEqual(['before', 'classic-after', ...names.map((n) => `after-${n}`)].sort());
      for (const m of messages.filter((l) => l.kind === 'smessage' && l.payload !== 'before')) expect(m.node).toBe(replica.address);
      // Markers carry node addresses only.
      const addresses = new Set(sb.nodes.map((n) => n.address));
      for (const m of lines.filter((l) => !l.kind.endsWith('message'))) expect(addresses.has(m.node)).toBe(true);
      expect(await tail.interrupt()).toBe(0);
    } finally {
      await tail.interrupt();
    }
  });

  it('bench --mode spublish: a failover that ends the shard subscriptions is an incomplete run (exit 1) that says so', async () => {
    let failedOver = '';
    const { code, doc } = await benchThrough(async (owner) => {
      failedOver = owner.address;
      // A manual failover: the old primary, now a replica, ends its shard subscribers' subscriptions.
      await (await clients.open(replicaOf(owner), 'test:admin')).call('CLUSTER', 'FAILOVER');
    });
    expect(code).toBe(1);
    const ended = doc.incomplete_reasons.find((r) => r.kind === 'subscription-ended');
    expect(ended?.message).toContain(`${failedOver} ended its subscription to 1 shard channel`);
    expect(doc.lost).toBeGreaterThan(0);
  });

  it('bench --mode spublish: a node that dies is "node-down" (exit 1), not blamed on the output-buffer limit', async () => {
    let died = '';
    const { code, doc } = await benchThrough(async (owner) => {
      died = owner.address;
      await owner.process.kill();
    });
    expect(code).toBe(1);
    expect(doc.incomplete_reasons.length).toBeGreaterThan(0);
    expect(doc.incomplete_reasons.map((r) => r.kind)).toEqual(doc.incomplete_reasons.map(() => 'node-down'));
    for (const r of doc.incomplete_reasons) {
      expect(r.message).toContain(`${died} went down`);
      expect(r.message).not.toMatch(/output.buffer/);
    }
  });

  it('watch: a node that goes down reads "reconnecting (...)" once, however many refreshes it stays down', async () => {
    const victim = sb.nodes.find((n) => n.role === 'replica')!;
    const watch = new RunningCli(['watch', '-u', sb.url, '--json', '--interval', '200ms']);
    try {
      await watch.waitForLine(() => true);
      await victim.process.kill();
      const errors = () =>
        watch
          .lines()
          .map((l) => (JSON.parse(l) as WatchJson).nodes.find((n) => n.address === victim.address)!)
          .filter((n) => !n.up)
          .map((n) => n.error ?? '');
      await expect.poll(() => errors().length, settle('several refreshes with the node down')).toBeGreaterThanOrEqual(8);
      for (const e of errors()) expect(e).not.toMatch(/reconnecting \(reconnecting/);
      expect(errors().at(-1)).toMatch(/^reconnecting \(cannot connect to .*connection refused/);
    } finally {
      await watch.interrupt();
    }
  });
});
