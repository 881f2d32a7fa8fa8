// Real subscriber and publisher connections for tests, each remembered so afterEach can close them all.
import { Redis } from 'ioredis';
import type { Sandbox, SandboxNode } from '../../src/sandbox/sandbox.js';

export class Clients {
  private readonly all: Redis[] = [];

  /** A connection to one node, named like a real application's would be. */
  async open(node: Pick<SandboxNode, 'host' | 'port'>, name = 'test:app', password?: string): Promise<Redis> {
    const c = new Redis({ host: node.host, port: node.port, connectionName: name, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, ...(password ? { password } : {}) });
    c.on('error', () => undefined);
    await c.connect();
    this.all.push(c);
    return c;
  }

  async subscribe(node: SandboxNode, ...channels: string[]): Promise<Redis> {
    const c = await this.open(node, 'test:subscriber');
    await c.subscribe(...channels);
    return c;
  }

  async psubscribe(node: SandboxNode, ...patterns: string[]): Promise<Redis> {
    const c = await this.open(node, 'test:psubscriber');
    await c.psubscribe(...patterns);
    return c;
  }

  async ssubscribe(node: SandboxNode, channel: string): Promise<Redis> {
    const c = await this.open(node, 'test:ssubscriber');
    await c.ssubscribe(channel);
    return c;
  }

  closeAll(): void {
    for (const c of this.all.splice(0)) c.disconnect();
  }
}

/** The node of a sandbox cluster that serves `slot` as primary, asked of the cluster itself. */
export async function ownerOfSlot(sb: Sandbox, clients: Clients, slot: number): Promise<{ primary: SandboxNode; replicas: SandboxNode[] }> {
  const c = await clients.open(sb.nodes[0]!, 'test:admin');
  const shards = (await c.call('CLUSTER', 'SHARDS')) as unknown[];
  for (const shard of shards as unknown[][]) {
    const slots = shard[1] as number[];
    let owns = false;
    for (let i = 0; i + 1 < slots.length; i += 2) if (slot >= slots[i]! && slot <= slots[i + 1]!) owns = true;
    if (!owns) continue;
    const nodes = (shard[3] as unknown[][]).map((flat) => {
      const m = new Map<string, unknown>();
      for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), flat[i + 1]);
      return { port: Number(m.get('port')), role: String(m.get('role')) };
    });
    const byPort = (port: number) => sb.nodes.find((n) => n.port === port)!;
    return {
      primary: byPort(nodes.find((n) => n.role === 'master')!.port),
      replicas: nodes.filter((n) => n.role !== 'master').map((n) => byPort(n.port)),
    };
  }
  throw new Error(`no owner for slot ${slot}`);
}
