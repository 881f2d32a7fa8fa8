// tail on a real 3+3 cluster: one copy of each message, shard channels on their owners, a slot that moves.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { RunningCli } from '../helpers/cli.js';
import { findChannel, watchOnce } from '../helpers/watch.js';

interface TailJson { node: string; kind: string; pattern: string | null; channel: string; payload: string }

let sb: Sandbox;
const clients = new Clients();

beforeAll(async () => {
  sb = await startSandbox({ cluster: 3, replicas: 1 });
});
afterAll(async () => {
  await sb?.stop();
});
afterEach(() => clients.closeAll());

const parse = (out: string) => out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as TailJson).filter((l) => l.kind.endsWith('message'));

/** Sum of `sub` (NUMSUB/SHARDNUMSUB/NUMPAT) over every node: tail's subscriptions may sit on any. */
async function total(...args: string[]): Promise<number> {
  let sum = 0;
  for (const n of sb.nodes) {
    const c = await clients.open(n, 'test:probe');
    const r = await c.call('PUBSUB', ...args);
    sum += Array.isArray(r) ? Number(r[1]) : Number(r);
  }
  return sum;
}
/** expect.poll options for waiting on tail's subscriptions to show on the cluster; `what` names the wait if it fails. */
const settle = (what: string) => ({ timeout: 15_000, interval: 100, message: what });

describe('tail on a 3+3 cluster', () => {
  it('hears classic traffic published on any node exactly once', async () => {
    const tail = new RunningCli(['tail', '-u', sb.urls[2]!, 'orders', '--json', '--count', '6']);
    try {
      await expect.poll(() => total('NUMPAT'), settle('the pattern subscription')).toBe(1);
      for (const [i, n] of sb.nodes.entries()) await (await clients.open(n, 'test:publisher')).publish('orders', `from-${i}`);
      expect(await tail.finished()).toBe(0);
      const got = parse(tail.stdout).map((l) => l.payload).sort();
      expect(got).toEqual(['from-0', 'from-1', 'from-2', 'from-3', 'from-4', 'from-5']);
      await new Promise((r) => setTimeout(r, 300));
      expect(tail.stdout.trim().split('\n')).toHaveLength(6);
    } finally {
      await tail.interrupt();
    }
  });

  it('follows --shard channels on their owners, one copy of each message', async () => {
    const names = ['{a}orders', '{b}orders', '{c}orders', 'plain-shard'];
    const args = names.flatMap((n) => ['--shard', n]);
    const tail = new RunningCli(['tail', '-u', sb.url, ...args, '--json', '--count', String(names.length * 2)]);
    try {
      for (const n of names) await expect.poll(() => total('SHARDNUMSUB', n), settle(`SSUBSCRIBE ${n}`)).toBe(1);
      for (const name of names) {
        const owner = await ownerOfSlot(sb, clients, hashSlot(name));
        const pub = await clients.open(owner.primary, 'test:publisher');
        await pub.call('SPUBLISH', name, `${name}-1`);
        await pub.call('SPUBLISH', name, `${name}-2`);
      }
      expect(await tail.finished()).toBe(0);
      const got = parse(tail.stdout);
      expect(got.map((l) => l.payload).sort()).toEqual(names.flatMap((n) => [`${n}-1`, `${n}-2`]).sort());
      expect(got.every((l) => l.kind === 'smessage' && l.pattern === null)).toBe(true);
      for (const l of got) {
        const owner = await ownerOfSlot(sb, clients, hashSlot(l.channel));
        expect(l.node).toBe(owner.primary.address);
      }
    } finally {
      await tail.interrupt();
    }
  });

  it('tails *, points at --shards when shard channels exist, and --shards finds them', async () => {
    const name = '{user:7}:events';
    const owner = await ownerOfSlot(sb, clients, hashSlot(name));
    await clients.ssubscribe(owner.replicas[0]!, name);
    const plain = new RunningCli(['tail', '-u', sb.url, '--timeout', '2s']);
    const withShards = new RunningCli(['tail', '-u', sb.url, '--shards', '--json', '--count', '2']);
    try {
      await expect.poll(async () => ({ shardSubscribers: await total('SHARDNUMSUB', name), patterns: await total('NUMPAT') }), settle('both tails'))
        .toEqual({ shardSubscribers: 2, patterns: 1 });
      await expect.poll(() => plain.stderr, settle('the notice')).toMatch(/--shards/);
      expect(plain.stderr).toMatch(/pattern subscriptions never receive SPUBLISH messages; add --shards/);
      const pub = await clients.open(owner.primary, 'test:publisher');
      await pub.call('SPUBLISH', name, 'sharded');
      await pub.publish('classic', 'classic');
      expect(await withShards.finished()).toBe(0);
      expect(parse(withShards.stdout).map((l) => `${l.kind}:${l.payload}`).sort()).toEqual(['pmessage:classic', 'smessage:sharded']);
    } finally {
      await plain.interrupt();
      await withShards.interrupt();
    }
  });

  it('follows a shard channel to its new owner when its slot moves, with a gap marker', async () => {
    const name = '{move-me}jobs';
    const slot = hashSlot(name);
    const from = await ownerOfSlot(sb, clients, slot);
    const to = sb.nodes.find((n) => n.role === 'primary' && n.port !== from.primary.port)!;
    const tail = new RunningCli(['tail', '-u', sb.url, '--shard', name, '--json']);
    try {
      await expect.poll(() => total('SHARDNUMSUB', name), settle('SSUBSCRIBE')).toBe(1);
      const toId = (await (await clients.open(to, 'test:admin')).call('CLUSTER', 'MYID')) as string;
      // An empty slot can be reassigned directly (primaries only; replicas follow by gossip); the old
      // owner then pushes sunsubscribe to its shard subscribers.
      for (const n of [to, from.primary, ...sb.nodes.filter((x) => x.role === 'primary' && x !== to && x !== from.primary)]) {
        await (await clients.open(n, 'test:admin')).call('CLUSTER', 'SETSLOT', String(slot), 'NODE', toId);
      }
      // Markers name nodes, never channels: where the subscription was lost, and where it came back.
      const gap = JSON.parse(await tail.waitForLine((l) => l.includes('"kind":"gap"'))) as { node: string; reason: string };
      expect(gap.node).toBe(from.primary.address);
      expect(gap.reason).toContain(name);
      const resumed = JSON.parse(await tail.waitForLine((l) => l.includes('"kind":"resumed"'))) as { node: string; down_ms: number };
      expect(resumed.node).toBe(to.address);
      expect(resumed.down_ms).toBeGreaterThanOrEqual(0);
      await expect.poll(async () => {
        const c = await clients.open(to, 'test:probe');
        return Number(((await c.call('PUBSUB', 'SHARDNUMSUB', name)) as [string, number])[1]);
      }, settle('the subscription on the new owner')).toBe(1);
      await (await clients.open(to, 'test:publisher')).call('SPUBLISH', name, 'after-move');
      const line = JSON.parse(await tail.waitForLine((l) => l.includes('after-move'))) as TailJson;
      expect(line.node).toBe(to.address);
    } finally {
      await tail.interrupt();
    }
  });

  it('moves several shard channels at once to a node it had no connection to: one connection there, each message once, and --timeout ends it', async () => {
    // Three channels in three slots of one primary, and another primary to move all three to.
    const from = (await ownerOfSlot(sb, clients, hashSlot('{many-0}jobs'))).primary;
    const names: string[] = [];
    for (let i = 0; names.length < 3; i++) {
      const name = `{many-${i}}jobs`;
      if ((await ownerOfSlot(sb, clients, hashSlot(name))).primary === from) names.push(name);
    }
    const slots = names.map(hashSlot);
    const to = sb.nodes.find((n) => n.role === 'primary' && n !== from)!;
    const others = sb.nodes.filter((n) => n.role === 'primary' && n !== from && n !== to);
    const started = Date.now();
    const tail = new RunningCli(['tail', '-u', `redis://${from.address}`, ...names.flatMap((n) => ['--shard', n]), '--json', '--timeout', '4s']);
    try {
      for (const n of names) await expect.poll(() => total('SHARDNUMSUB', n), settle(`SSUBSCRIBE ${n}`)).toBe(1);
      const toId = (await (await clients.open(to, 'test:admin')).call('CLUSTER', 'MYID')) as string;
      // The new owner first, then the old one in one MULTI, so it ends all three subscriptions at once:
      // commands sent separately (even pipelined) may reach the old owner in two reads, and then it
      // ends them in two rounds, which tail rightly reports as two gaps.
      for (const node of [to, from, ...others]) {
        const admin = await clients.open(node, 'test:admin');
        const replies = await admin.multi(slots.map((slot) => ['cluster', 'setslot', String(slot), 'node', toId])).exec();
        expect(replies?.map(([err]) => err)).toEqual(slots.map(() => null));
      }
      const onTo = await clients.open(to, 'test:probe');
      for (const n of names) {
        await expect.poll(async () => Number(((await onTo.call('PUBSUB', 'SHARDNUMSUB', n)) as [string, number])[1]), settle(`${n} on the new owner`)).toBe(1);
      }
      const shardConnections = ((await onTo.call('CLIENT', 'LIST')) as string).split('\n').filter((l) => / name=pubsub-mon:tail-shard[: ]/.test(l));
      expect(shardConnections).toHaveLength(1);
      for (const n of names) await onTo.call('SPUBLISH', n, `after-${n}`);
      await tail.waitForLine((l) => l.includes(`after-${names[2]!}`));
      await new Promise((r) => setTimeout(r, 300));
      expect(parse(tail.stdout).map((l) => l.payload).sort()).toEqual(names.map((n) => `after-${n}`).sort());
      const markers = tail.lines().map((l) => JSON.parse(l) as { kind: string; node: string }).filter((l) => !l.kind.endsWith('message'));
      expect(markers).toEqual([expect.objectContaining({ kind: 'gap', node: from.address }), expect.objectContaining({ kind: 'resumed', node: to.address })]);
      // --timeout ends it; a leftover connection would keep the process alive.
      const ended = await Promise.race([tail.finished(20_000), new Promise<string>((r) => setTimeout(() => r('still running'), 8_000))]);
      expect(ended).toBe(0);
      expect(Date.now() - started).toBeLessThan(8_000);
    } finally {
      await tail.interrupt();
    }
  });
  it('moves shard channels one after another: a gap and a resume for each, each message once, and watch still counts none of tail\'s subscriptions', async () => {
    const from = (await ownerOfSlot(sb, clients, hashSlot('{apart-0}jobs'))).primary;
    const names: string[] = [];
    for (let i = 0; names.length < 2; i++) {
      const name = `{apart-${i}}jobs`;
      if ((await ownerOfSlot(sb, clients, hashSlot(name))).primary === from) names.push(name);
    }
    const to = sb.nodes.find((n) => n.role === 'primary' && n !== from)!;
    const others = sb.nodes.filter((n) => n.role === 'primary' && n !== from && n !== to);
    const tail = new RunningCli(['tail', '-u', `redis://${from.address}`, ...names.flatMap((n) => ['--shard', n]), '--json']);
    try {
      for (const n of names) await expect.poll(() => total('SHARDNUMSUB', n), settle(`SSUBSCRIBE ${n}`)).toBe(1);
      const toId = (await (await clients.open(to, 'test:admin')).call('CLUSTER', 'MYID')) as string;
      for (const [i, name] of names.entries()) {
        for (const node of [to, from, ...others]) await (await clients.open(node, 'test:admin')).call('CLUSTER', 'SETSLOT', String(hashSlot(name)), 'NODE', toId);
        // The next slot moves only once tail has followed this one.
        await tail.waitForLine((l) => l.includes('"kind":"resumed"') && tail.lines().filter((x) => x.includes('"kind":"resumed"')).length > i);
      }
      const onTo = await clients.open(to, 'test:probe');
      for (const n of names) {
        await expect.poll(async () => Number(((await onTo.call('PUBSUB', 'SHARDNUMSUB', n)) as [string, number])[1]), settle(`${n} on the new owner`)).toBe(1);
      }
      // Each round opens its own connection there, named for the channels it holds: a name cannot
      // change while subscribed, and watch reads it to leave tail's subscriptions out of the counts.
      const shardConnections = ((await onTo.call('CLIENT', 'LIST')) as string).split('\n').filter((l) => / name=pubsub-mon:tail-shard[: ]/.test(l));
      expect(shardConnections.map((l) => /ssub=(\d+)/.exec(l)![1])).toEqual(['1', '1']);
      const app = await clients.open(to, 'test:app');
      await app.ssubscribe(names[1]!);
      const w = await watchOnce(sb.url);
      expect(findChannel(w, names[0]!, 'shard')).toBeUndefined();
      expect(findChannel(w, names[1]!, 'shard')?.subscribers).toBe(1);
      app.disconnect();
      for (const n of names) await onTo.call('SPUBLISH', n, `after-${n}`);
      await tail.waitForLine((l) => l.includes(`after-${names[1]!}`));
      await new Promise((r) => setTimeout(r, 300));
      expect(parse(tail.stdout).map((l) => l.payload).sort()).toEqual(names.map((n) => `after-${n}`).sort());
      const markers = tail.lines().map((l) => JSON.parse(l) as { kind: string; node: string; reason?: string }).filter((l) => !l.kind.endsWith('message'));
      expect(markers).toEqual([
        expect.objectContaining({ kind: 'gap', node: from.address, reason: expect.stringContaining(names[0]!) }),
        expect.objectContaining({ kind: 'resumed', node: to.address }),
        expect.objectContaining({ kind: 'gap', node: from.address, reason: expect.stringContaining(names[1]!) }),
        expect.objectContaining({ kind: 'resumed', node: to.address }),
      ]);
    } finally {
      await tail.interrupt();
    }
  });
});
