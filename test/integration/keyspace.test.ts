// Keyspace notifications: a channel named outright is never filtered, and rates are sampled where events are emitted.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { Clients } from '../helpers/redis.js';
import { runCli } from '../helpers/cli.js';
import { findChannel, watchOnce } from '../helpers/watch.js';

describe('keyspace notifications on a standalone server with a replica', () => {
  let sb: Sandbox;
  const clients = new Clients();
  beforeAll(async () => {
    sb = await startSandbox({ replicas: 1 });
    // Notifications are per node and not replicated: only the primary, where keys are written, emits them.
    await (await clients.open(sb.nodes[0]!, 'test:admin')).call('CONFIG', 'SET', 'notify-keyspace-events', 'KEA');
    clients.closeAll();
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await sb?.stop();
  });

  it('judges a keyspace channel named outright, and one a glob that asks for them matches', async () => {
    await clients.subscribe(sb.nodes[1]!, '__keyspace@0__:foo');
    const named = await runCli(['check', '-u', sb.url, '-c', '__keyspace@0__:foo', '--format', 'json']);
    expect(named.code).toBe(0);
    expect(JSON.parse(named.stdout).channels[0]).toMatchObject({ name: '__keyspace@0__:foo', subscribers: 1, status: 'OK' });
    const globbed = await runCli(['check', '-u', sb.url, '--pattern', '__key*', '--format', 'json']);
    expect(globbed.code).toBe(0);
    expect(JSON.parse(globbed.stdout).channels.map((c: { name: string }) => c.name)).toEqual(['__keyspace@0__:foo']);
    // A broad glob still leaves notifications out, as watch does by default.
    await clients.subscribe(sb.nodes[0]!, 'app:orders');
    const broad = await runCli(['check', '-u', sb.url, '--pattern', '*', '--format', 'json']);
    expect(JSON.parse(broad.stdout).channels.map((c: { name: string }) => c.name)).toEqual(['app:orders']);
  });

  it('measures keyspace rates where they are emitted, not on the replica the sampler prefers', async () => {
    const writer = await clients.open(sb.nodes[0]!, 'test:writer');
    let writing = true;
    const written = (async () => {
      let n = 0;
      while (writing) {
        await writer.set(`k${n++ % 10}`, 'v');
        await new Promise((r) => setTimeout(r, 10));
      }
      return n;
    })();
    const started = Date.now();
    try {
      const w = await watchOnce(sb.url, '--rates', '--include-keyspace', '--interval', '1500ms');
      const rate = findChannel(w, '__keyevent@0__:set')?.rate;
      writing = false;
      const perSecond = (await written) / ((Date.now() - started) / 1000);
      expect(rate).toBeGreaterThan(perSecond * 0.5);
      expect(rate).toBeLessThan(perSecond * 1.5);
      // The sampler's own keyspace pattern is never counted as anyone's.
      expect(w.nodes.every((n) => n.numpat === 0)).toBe(true);
    } finally {
      writing = false;
      await written;
    }
  });
});
