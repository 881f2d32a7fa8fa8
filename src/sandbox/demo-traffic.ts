// Gentle, varied pub/sub traffic for the demo: subscribers spread over nodes, patterns, shard channels, a publisher.
import { Redis } from 'ioredis';
import type { Sandbox } from './sandbox.js';
import { hashSlot } from '../stats/hash-slot.js';
import { splitSlots } from './sandbox.js';
import { rethrowIfBug } from '../redis/errors.js';

const DEMO_SHARD_CHANNELS = ['{user:1}:events', '{user:2}:events', 'inventory:updates'] as const;

/** How many subscribers each demo channel gets; audit:logins gets none, to show a channel nobody hears. */
const CLASSIC_SUBSCRIBERS: Record<string, number> = { orders: 3, 'news:sport': 1, 'news:weather': 0, 'chat:lobby': 2, 'audit:logins': 0 };
const SHARD_SUBSCRIBERS: Record<string, number> = { '{user:1}:events': 2, '{user:2}:events': 1, 'inventory:updates': 1 };

export interface DemoTraffic {
  stop(): Promise<void>;
}

/** Starts subscribers and a publisher of `messagesPerSecond` in total on the sandbox. */
export async function startDemoTraffic(sb: Sandbox, messagesPerSecond = 40): Promise<DemoTraffic> {
  const clients: Redis[] = [];
  const connect = async (index: number, name: string) => {
    const node = sb.nodes[index % sb.nodes.length]!;
    const c = new Redis({ host: node.host, port: node.port, connectionName: name, ...(sb.password ? { password: sb.password } : {}), lazyConnect: true });
    c.on('error', () => undefined);
    await c.connect();
    clients.push(c);
    return c;
  };
  const primaries = sb.nodes.map((n, i) => ({ n, i })).filter(({ n }) => n.role === 'primary');
  const ranges = splitSlots(primaries.length);
  /** Index of a node that may serve the channel's shard: its primary, or that primary's replica. */
  const shardNode = (channel: string, replica: boolean): number => {
    if (sb.mode !== 'cluster') return replica && sb.nodes.length > 1 ? 1 : 0;
    const slot = hashSlot(channel);
    const p = ranges.findIndex(([a, b]) => slot >= a && slot <= b);
    const primaryIndex = primaries[p]!.i;
    const replicaIndex = sb.nodes.findIndex((n) => n.primaryIndex === primaryIndex);
    return replica && replicaIndex >= 0 ? replicaIndex : primaryIndex;
  };

  let spread = 0;
  for (const [channel, count] of Object.entries(CLASSIC_SUBSCRIBERS)) {
    for (let k = 0; k < count; k++) await (await connect(spread++, 'demo:subscriber')).subscribe(channel);
  }
  await (await connect(spread++, 'demo:pattern-subscriber')).psubscribe('news:*');
  for (const [channel, count] of Object.entries(SHARD_SUBSCRIBERS)) {
    // Alternate primary and replica: SSUBSCRIBE works on a replica, and both must be counted.
    for (let k = 0; k < count; k++) await (await connect(shardNode(channel, k % 2 === 1), 'demo:shard-subscriber')).ssubscribe(channel);
  }
  const publishers = await Promise.all(primaries.map(({ i }) => connect(i, 'demo:publisher')));
  const shardPublisher = new Map<string, Redis>();
  for (const ch of DEMO_SHARD_CHANNELS) {
    const idx = shardNode(ch, false);
    shardPublisher.set(ch, publishers[primaries.findIndex(({ i }) => i === idx)] ?? publishers[0]!);
  }

  // Busier channels get more of the traffic, so the rates differ visibly.
  const weights: Array<[string, 'publish' | 'spublish', number]> = [
    ['orders', 'publish', 5], ['news:sport', 'publish', 3], ['news:weather', 'publish', 2], ['chat:lobby', 'publish', 4],
    ['audit:logins', 'publish', 1], ['{user:1}:events', 'spublish', 3], ['{user:2}:events', 'spublish', 2], ['inventory:updates', 'spublish', 1],
  ];
  const total = weights.reduce((s, [, , w]) => s + w, 0);
  let seq = 0;
  const tickMs = 50;
  const perTick = Math.max(1, Math.round((messagesPerSecond * tickMs) / 1000));
  const timer = setInterval(() => {
    for (let k = 0; k < perTick; k++) {
      let r = Math.random() * total;
      const pick = weights.find(([, , w]) => (r -= w) < 0) ?? weights[0]!;
      const [channel, how] = pick;
      const payload = JSON.stringify({ seq: seq++, at: new Date().toISOString() });
      if (how === 'spublish') void shardPublisher.get(channel)!.call('SPUBLISH', channel, payload).catch(rethrowIfBug);
      else void publishers[seq % publishers.length]!.publish(channel, payload).catch(rethrowIfBug);
    }
  }, tickMs);

  return {
    async stop() {
      clearInterval(timer);
      for (const c of clients) c.disconnect();
    },
  };
}
