// bench over agents on separate "hosts": three network namespaces made by the test, joined to a 3+3
// cluster in the root namespace over veth links, one agent's clock skewed by the test-only variable.
import type { ChildProcess } from 'node:child_process';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import type { BenchJson } from '../../src/render/json/bench.js';
import { createNetHosts, type NetHosts } from '../helpers/netns.js';
import { Clients } from '../helpers/redis.js';
import { BIN, RunningCli, stackTraceLines } from '../helpers/cli.js';

const clients = new Clients();
afterEach(() => clients.closeAll());

interface NsAgent {
  child: ChildProcess;
  stderr: string;
  exited: Promise<number | null>;
}

/** What each namespace's clock is pushed by (ns): one far ahead, one behind, one true. */
const SKEWS_NS = [250_000_000, -40_000_000, 0];

describe('bench --agents 3 with the agents in network namespaces of their own', () => {
  let net: NetHosts;
  let sb: Sandbox;
  const agents: NsAgent[] = [];
  beforeAll(async () => {
    net = await createNetHosts(3);
    sb = await startSandbox({ cluster: 3, replicas: 1, host: net.hostAddress });
  });
  afterAll(async () => {
    for (const a of agents) a.child.kill('SIGINT');
    await Promise.all(agents.map((a) => a.exited));
    await sb?.stop();
    await net?.remove();
  });

  function startAgent(i: number): NsAgent {
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', PUBSUB_MON_TEST_CLOCK_SKEW_NS: String(SKEWS_NS[i]) };
    delete env.REDIS_URL;
    const child = net.exec(net.hosts[i]!.name, [process.execPath, BIN, 'agent', '-u', sb.url, '--name', `ns${i}`, '--once'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    const a: NsAgent = { child, stderr: '', exited: new Promise((resolve) => child.on('close', resolve)) };
    child.stderr!.on('data', (d: Buffer) => (a.stderr += d.toString()));
    agents.push(a);
    return a;
  }

  it('reaches Redis over the veth links, recovers each injected clock skew within its stated bound, and measures across hosts', async () => {
    const started = [0, 1, 2].map(startAgent);
    for (const a of started) {
      const deadline = Date.now() + 20_000;
      while (!a.stderr.includes('waiting for a coordinator')) {
        if (Date.now() > deadline) throw new Error(`agent did not start: ${a.stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    const run = new RunningCli(['bench', '-u', sb.url, '--json', '--agents', '3', '-P', '4', '-S', '8', '-C', '4', '--rate', '2000', '-d', '3s', '--warmup', '500ms']);
    try {
      // While it runs, the servers see bench connections from every namespace's own address.
      const seen = new Set<string>();
      const wanted = net.hosts.map((h) => h.address);
      const deadline = Date.now() + 30_000;
      while (!wanted.every((a) => seen.has(a)) && Date.now() < deadline) {
        for (const n of sb.nodes) {
          const c = await clients.open(n, 'test:probe');
          for (const line of String(await c.call('CLIENT', 'LIST')).split('\n')) {
            const m = /addr=([\d.]+):\d+ .*name=pubsub-mon:bench-(sub|pub)/.exec(line);
            if (m) seen.add(m[1]!);
          }
          c.disconnect();
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(wanted.filter((a) => !seen.has(a))).toEqual([]);

      const code = await run.finished(60_000);
      expect(stackTraceLines(run.stderr)).toEqual([]);
      const doc = JSON.parse(run.stdout) as BenchJson;
      expect(doc.incomplete).toEqual([]);
      expect(code).toBe(0);
      expect(doc.received).toBe(doc.expected);
      expect(doc.expected).toBe(doc.published * 8);

      // Each agent's shift onto the coordinator's clock undoes its skew, within the bound it states.
      for (let i = 0; i < 3; i++) {
        const a = doc.agents!.find((x) => x.name === `ns${i}`)!;
        const recovered = -a.clock.offset_us * 1000;
        expect(Math.abs(recovered - SKEWS_NS[i]!) / 1000).toBeLessThanOrEqual(a.clock.bound_us);
        expect(a.clock.bound_us).toBeLessThan(5000);
      }
      // Uncorrected, deliveries from the skewed host would read 250 ms late or clamp at 1 µs early.
      const cross = doc.host_latency!.cross_host_us!;
      expect(cross.p50).toBeLessThan(20_000);
      expect(cross.min).toBeGreaterThan(1);
      expect(doc.host_latency!.clock_bound_us).toBeLessThan(10_000);
      for (const a of started) expect(await a.exited).toBe(0);
    } finally {
      await run.interrupt();
    }
  });
});
