// A cluster of one node: it leaves its own address empty in CLUSTER SHARDS/NODES until a peer tells it,
// and every command must still see that node (where it was reached), not a cluster of none.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { runCli, stackTraceLines } from '../helpers/cli.js';

describe('a cluster of one primary', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ cluster: 1 });
  });
  afterAll(async () => {
    await sb?.stop();
  });

  it('watch shows its one node, up, and bench publishes SPUBLISH to it', async () => {
    const w = await runCli(['watch', '--once', '--json', '-u', sb.url]);
    expect(stackTraceLines(w.stderr)).toEqual([]);
    expect(w.code).toBe(0);
    const doc = JSON.parse(w.stdout) as { mode: string; nodes: Array<{ address: string; role: string; up: boolean }> };
    expect(doc.mode).toBe('cluster');
    expect(doc.nodes.map((n) => [n.address, n.role, n.up])).toEqual([[`127.0.0.1:${sb.nodes[0]!.port}`, 'primary', true]]);

    const b = await runCli(['bench', '-u', sb.url, '--json', '--mode', 'spublish', '-C', '8', '-S', '2', '--messages', '800', '--warmup', '0', '--rate', '0'], { timeoutMs: 60_000 });
    expect(stackTraceLines(b.stderr)).toEqual([]);
    const bench = JSON.parse(b.stdout) as { published: number; received: number; incomplete: string[] };
    expect(bench.incomplete).toEqual([]);
    expect(b.code).toBe(0);
    expect([bench.published, bench.received]).toEqual([800, 1600]);
  });
});
