// The sandbox starts real servers that agree with each other, and removes everything when stopped.
import fs from 'node:fs';
import { describe, it, expect } from 'vitest';
import { Redis } from 'ioredis';
import { startSandbox, splitSlots } from '../../src/sandbox/sandbox.js';
import { isPortFree } from '../../src/sandbox/ports.js';

describe('sandbox', () => {
  it('splits 16384 slots over primaries without gaps', () => {
    const r = splitSlots(3);
    expect(r).toEqual([[0, 5460], [5461, 10921], [10922, 16383]]);
  });

  it('starts a standalone server with a replica and cleans up', async () => {
    const sb = await startSandbox({ replicas: 1 });
    const replica = new Redis(sb.urls[1]!);
    try {
      expect(sb.mode).toBe('standalone');
      expect(sb.nodes).toHaveLength(2);
      const info = await replica.info('replication');
      expect(info).toContain('role:slave');
      expect(info).toContain('master_link_status:up');
    } finally {
      replica.disconnect();
      await sb.stop();
    }
    expect(fs.existsSync(sb.dir)).toBe(false);
    expect(await isPortFree(sb.nodes[0]!.port)).toBe(true);
  });

  it('starts a 3+3 cluster whose nodes all agree', async () => {
    const sb = await startSandbox({ cluster: 3, replicas: 1 });
    try {
      expect(sb.nodes).toHaveLength(6);
      for (const n of sb.nodes) {
        const c = new Redis({ host: n.host, port: n.port });
        const info = (await c.call('CLUSTER', 'INFO')) as string;
        c.disconnect();
        expect(info).toContain('cluster_state:ok');
        expect(info).toContain('cluster_known_nodes:6');
        expect(info).toContain('cluster_slots_assigned:16384');
      }
    } finally {
      await sb.stop();
    }
  });

  it('refuses nonsense sizes with a usage error', async () => {
    await expect(startSandbox({ cluster: -1 })).rejects.toThrow(/--cluster/);
  });
});
