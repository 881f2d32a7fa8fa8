// Channel names are bytes: names that are not UTF-8 are counted, shown escaped, given back exactly, and never mangled.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { RunningCli, runCli } from '../helpers/cli.js';

/** `f`, a byte that is never UTF-8, `o`: shown as f\xffo. */
const CLASSIC = Buffer.from([0x66, 0xff, 0x6f]);
/** A shard channel whose hash tag is that byte: its slot is computed from the byte, not from U+FFFD. */
const SHARD = Buffer.from([0x7b, 0xff, 0x7d, 0x3a, 0x78]);

interface NamedJson { name: string; name_encoding?: string; subscribers: number; slot?: number; shard?: string; kind: string }

describe('channel names that are not UTF-8, on a cluster', () => {
  let sb: Sandbox;
  const clients = new Clients();
  const running: RunningCli[] = [];
  beforeAll(async () => {
    sb = await startSandbox({ cluster: 3, replicas: 1 });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((r) => r.interrupt()));
    clients.closeAll();
  });
  afterAll(async () => {
    await sb?.stop();
  });

  async function subscribeBoth(): Promise<void> {
    const app = await clients.open(sb.nodes[3]!, 'test:app');
    await app.subscribe(CLASSIC);
    const { primary } = await ownerOfSlot(sb, clients, hashSlot(SHARD));
    await (await clients.open(primary, 'test:shard-app')).ssubscribe(SHARD);
  }

  /** Every shard channel name any node knows, as raw bytes in hex. */
  async function shardChannelsEverywhere(): Promise<string[]> {
    const all: string[] = [];
    for (const node of sb.nodes) {
      const c = await clients.open(node, 'test:admin');
      for (const n of (await c.callBuffer('PUBSUB', 'SHARDCHANNELS')) as Buffer[]) all.push(n.toString('hex'));
    }
    return all;
  }

  it('watch counts them, shows them escaped, and gives the exact bytes in JSON with their slot', async () => {
    await subscribeBoth();
    const json = await runCli(['watch', '-u', sb.url, '--once', '--json', '--interval', '100ms']);
    expect(json.code).toBe(0);
    const channels = (JSON.parse(json.stdout) as { channels: NamedJson[] }).channels;
    expect(channels.find((c) => c.kind === 'channel')).toMatchObject({ name: CLASSIC.toString('base64'), name_encoding: 'base64', subscribers: 1 });
    const { primary } = await ownerOfSlot(sb, clients, hashSlot(SHARD));
    expect(channels.find((c) => c.kind === 'shard')).toMatchObject({
      name: SHARD.toString('base64'),
      name_encoding: 'base64',
      subscribers: 1,
      slot: hashSlot(SHARD),
      shard: `127.0.0.1:${primary.port}`,
    });
    const text = await runCli(['watch', '-u', sb.url, '--once', '--interval', '100ms']);
    expect(text.stdout).toContain('f\\xffo');
    expect(text.stdout).toContain('{\\xff}:x');
  });

  it('check names them by their bytes and finds them with globs that match bytes', async () => {
    await subscribeBoth();
    const named = await runCli(['check', '-u', sb.url, '-c', 'f\\xffo', '-s', '{\\xff}:x', '--format', 'json']);
    expect(named.code).toBe(0);
    const doc = JSON.parse(named.stdout) as { channels: NamedJson[] };
    expect(doc.channels.map((c) => [c.name, c.name_encoding, c.subscribers])).toEqual([
      [CLASSIC.toString('base64'), 'base64', 1],
      [SHARD.toString('base64'), 'base64', 1],
    ]);
    // `?` is one byte in Redis globs.
    const globbed = await runCli(['check', '-u', sb.url, '--pattern', 'f?o']);
    expect(globbed.code).toBe(0);
    expect(globbed.stdout).toContain('f\\xffo');
  });

  it('tail --shards subscribes the exact bytes: no phantom U+FFFD channel appears anywhere', async () => {
    await subscribeBoth();
    const before = await shardChannelsEverywhere();
    expect(before.filter((h) => h === SHARD.toString('hex')).length).toBeGreaterThan(0);
    const tail = new RunningCli(['tail', '-u', sb.url, '--shards', '--json', 'nothing:*']);
    running.push(tail);
    const { primary } = await ownerOfSlot(sb, clients, hashSlot(SHARD));
    const owner = await clients.open(primary, 'test:admin');
    await expect.poll(async () => Number(((await owner.callBuffer('PUBSUB', 'SHARDNUMSUB', SHARD)) as [Buffer, number])[1]), { timeout: 15_000, interval: 200 }).toBe(2);
    const during = await shardChannelsEverywhere();
    expect(during.some((h) => h.includes('efbfbd'))).toBe(false);
    const publisher = await clients.open(primary, 'test:publisher');
    await publisher.call('SPUBLISH', SHARD, 'hello');
    const line = await tail.waitForLine((l) => l.includes('"smessage"'));
    expect(JSON.parse(line)).toMatchObject({ channel: SHARD.toString('base64'), channel_encoding: 'base64', payload: 'hello' });
  });

  it('tail -c takes a channel by its bytes and hears it', async () => {
    const tail = new RunningCli(['tail', '-u', sb.url, '-c', 'f\\xffo', '--json', '--count', '1']);
    running.push(tail);
    const publisher = await clients.open(sb.nodes[0]!, 'test:publisher');
    await expect.poll(async () => Number(await publisher.publish(CLASSIC, 'hi')), { timeout: 15_000, interval: 200 }).toBeGreaterThan(0);
    const line = await tail.waitForLine((l) => l.includes('"hi"'));
    expect(JSON.parse(line)).toMatchObject({ channel: CLASSIC.toString('base64'), channel_encoding: 'base64' });
  });
});
