// The network-namespace harness (test/helpers/netns.ts): real namespaces, veths and a bridge, with real
// sandbox servers bound to the bridge address and redis-cli (and the built CLI) run from inside the namespaces.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Redis } from 'ioredis';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { BIN } from '../helpers/cli.js';
import { createNetHosts, type NetHosts } from '../helpers/netns.js';
import { commandLine, isAlive } from '../helpers/processes.js';
import type { WatchJson } from '../helpers/watch.js';

const run = promisify(execFile);

interface Ran {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs `argv` inside namespace `host` to completion (killed after `timeoutMs`). */
function runIn(net: NetHosts, host: string, argv: string[], { env, timeoutMs = 15_000 }: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = net.exec(host, argv, { stdio: ['ignore', 'pipe', 'pipe'], ...(env ? { env } : {}) });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Interface names in the root namespace. */
async function links(): Promise<string[]> {
  const { stdout } = await run('ip', ['-j', 'link', 'show']);
  return (JSON.parse(stdout) as Array<{ ifname: string }>).map((l) => l.ifname);
}

async function namespaces(): Promise<string[]> {
  const { stdout } = await run('ip', ['netns', 'list']);
  return stdout.split('\n').map((l) => l.split(' ')[0]!).filter(Boolean);
}

/** The interface in the root namespace that holds `address`, and the interfaces enslaved to it, found from the system itself. */
async function bridgeAndPorts(address: string): Promise<{ bridge: string; ports: string[] }> {
  const { stdout } = await run('ip', ['-j', '-4', 'addr', 'show']);
  const entries = JSON.parse(stdout) as Array<{ ifname: string; addr_info: Array<{ local: string }> }>;
  const bridge = entries.find((e) => e.addr_info.some((a) => a.local === address))?.ifname;
  if (!bridge) throw new Error(`no interface holds ${address}`);
  const ports = JSON.parse((await run('ip', ['-j', 'link', 'show', 'master', bridge])).stdout) as Array<{ ifname: string }>;
  return { bridge, ports: ports.map((p) => p.ifname) };
}

/** `host:port@cport` addresses of CLUSTER NODES lines, without the bus port. */
function nodeAddresses(nodesText: string): string[] {
  return nodesText
    .trim()
    .split('\n')
    .map((line) => line.split(' ')[1]!.split('@')[0]!);
}

describe('network namespace harness', () => {
  let net: NetHosts;
  const sandboxes: Sandbox[] = [];
  const strays: ChildProcess[] = [];

  beforeAll(async () => {
    net = await createNetHosts(2);
  });

  afterAll(async () => {
    for (const c of strays) if (c.pid !== undefined && isAlive(c.pid)) c.kill('SIGKILL');
    await Promise.all(sandboxes.map((s) => s.stop()));
    await net?.remove();
  });

  it('gives each namespace an address on the bridge and no route beyond it', async () => {
    const base = net.hostAddress.replace(/\.1$/, '');
    expect(net.hostAddress).toMatch(/^10\.\d+\.\d+\.1$/);
    expect(net.hosts.map((h) => h.address)).toEqual([`${base}.10`, `${base}.11`]);
    expect(new Set(net.hosts.map((h) => h.name)).size).toBe(2);
    for (const h of net.hosts) {
      const routes = await runIn(net, h.name, ['ip', '-4', 'route', 'show', 'table', 'all']);
      expect(routes.code).toBe(0);
      const lines = routes.stdout.trim().split('\n');
      // Only the bridge's /24, and the kernel's local and broadcast entries for the namespace's own addresses.
      expect(lines.filter((l) => !/^(local|broadcast) /.test(l))).toEqual([expect.stringMatching(new RegExp(`^${base.replace(/\./g, '\\.')}\\.0/24 dev \\S+ proto kernel scope link src ${h.address.replace(/\./g, '\\.')}`))]);
      expect(routes.stdout).not.toMatch(/default/);
      const addrs = await runIn(net, h.name, ['ip', '-4', '-o', 'addr', 'show']);
      expect(addrs.stdout).toContain(`inet ${h.address}/24`);
      expect(addrs.stdout).toContain('inet 127.0.0.1/8');
    }
  });

  it('reaches a standalone sandbox bound to the bridge address from every namespace', async () => {
    const sb = await startSandbox({ host: net.hostAddress });
    sandboxes.push(sb);
    expect(sb.nodes[0]!.host).toBe(net.hostAddress);
    expect(sb.url).toBe(`redis://${net.hostAddress}:${sb.nodes[0]!.port}`);
    for (const h of net.hosts) {
      const r = await runIn(net, h.name, ['redis-cli', '-h', net.hostAddress, '-p', String(sb.nodes[0]!.port), 'PING']);
      expect({ code: r.code, out: r.stdout.trim(), err: r.stderr }).toEqual({ code: 0, out: 'PONG', err: '' });
    }
  });

  it('forms a 3+3 cluster on the bridge address whose nodes announce that address', async () => {
    const sb = await startSandbox({ cluster: 3, replicas: 1, host: net.hostAddress });
    sandboxes.push(sb);
    expect(sb.nodes.map((n) => n.host)).toEqual(Array(6).fill(net.hostAddress));
    const expected = sb.nodes.map((n) => `${net.hostAddress}:${n.port}`).sort();
    for (const h of net.hosts) {
      for (const n of sb.nodes) {
        const r = await runIn(net, h.name, ['redis-cli', '-h', net.hostAddress, '-p', String(n.port), 'PING']);
        expect({ node: n.port, code: r.code, out: r.stdout.trim() }).toEqual({ node: n.port, code: 0, out: 'PONG' });
      }
      const r = await runIn(net, h.name, ['redis-cli', '-c', '-h', net.hostAddress, '-p', String(sb.nodes[0]!.port), 'CLUSTER', 'NODES']);
      expect(r.code).toBe(0);
      expect(nodeAddresses(r.stdout).sort()).toEqual(expected);
    }
    // Each node's own view, and the announced ip and endpoint of CLUSTER SHARDS.
    for (const n of sb.nodes) {
      const c = new Redis({ host: n.host, port: n.port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
      try {
        await c.connect();
        expect(nodeAddresses((await c.call('CLUSTER', 'NODES')) as string).sort()).toEqual(expected);
        const shards = (await c.call('CLUSTER', 'SHARDS')) as unknown[][];
        const announced = shards.flatMap((shard) =>
          (shard[3] as unknown[][]).map((flat) => {
            const m = new Map<string, unknown>();
            for (let i = 0; i + 1 < flat.length; i += 2) m.set(String(flat[i]), flat[i + 1]);
            return `${String(m.get('ip'))} ${String(m.get('endpoint'))}`;
          }),
        );
        expect(announced).toEqual(Array(6).fill(`${net.hostAddress} ${net.hostAddress}`));
      } finally {
        c.disconnect();
      }
    }
    // The built CLI, run inside a namespace, sees the whole cluster through the announced addresses.
    const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
    delete env.REDIS_URL;
    delete env.REDISCLI_AUTH;
    const w = await runIn(net, net.hosts[1]!.name, [process.execPath, BIN, 'watch', '-u', sb.url, '--once', '--json', '--interval', '300ms'], { env, timeoutMs: 30_000 });
    expect({ code: w.code, stderr: w.stderr }).toEqual({ code: 0, stderr: '' });
    const doc = JSON.parse(w.stdout) as WatchJson;
    expect(doc.mode).toBe('cluster');
    expect(doc.nodes.map((n) => n.address).sort()).toEqual(expected);
    expect(doc.nodes.every((n) => n.up)).toBe(true);
  });

  it('cannot reach a server bound only to 127.0.0.1 in the root namespace', async () => {
    const sb = await startSandbox();
    sandboxes.push(sb);
    const port = String(sb.nodes[0]!.port);
    const root = await run('redis-cli', ['-h', '127.0.0.1', '-p', port, 'PING']);
    expect(root.stdout.trim()).toBe('PONG');
    for (const h of net.hosts) {
      // 127.0.0.1 in a namespace is its own lo; the bridge address does not lead to a loopback-only server.
      for (const target of ['127.0.0.1', net.hostAddress]) {
        const r = await runIn(net, h.name, ['redis-cli', '-h', target, '-p', port, 'PING']);
        expect(r.code, `${h.name} -> ${target}:${port}`).not.toBe(0);
        expect(r.stdout + r.stderr).toMatch(/Could not connect to Redis.*Connection refused/);
        expect(r.stdout).not.toContain('PONG');
      }
    }
  });

  it('remove() deletes the namespaces, veths and bridge, kills what exec() started and nothing else, and may be called twice', async () => {
    // Servers bound to the bridge address go first, as a test file would stop them before removing the hosts.
    await Promise.all(sandboxes.splice(0).map((s) => s.stop()));
    const names = net.hosts.map((h) => h.name);
    const { bridge, ports } = await bridgeAndPorts(net.hostAddress);
    expect(ports).toHaveLength(2);
    expect(await namespaces()).toEqual(expect.arrayContaining(names));
    expect(await links()).toEqual(expect.arrayContaining([bridge, ...ports]));

    // One process started through exec(), one started by us in the other namespace with `ip netns exec` directly.
    const ours = net.exec(names[0]!, ['sleep', '300'], { stdio: 'ignore' });
    const theirs = spawn('ip', ['netns', 'exec', names[1]!, 'sleep', '300'], { stdio: 'ignore' });
    strays.push(theirs);
    await expect.poll(() => [commandLine(ours.pid!), commandLine(theirs.pid!)], { timeout: 10_000 }).toEqual(['sleep 300', 'sleep 300']);
    const oursExit = new Promise<NodeJS.Signals | null>((resolve) => ours.once('exit', (_code, signal) => resolve(signal)));

    await net.remove();
    expect(await oursExit).toBe('SIGKILL');
    expect(isAlive(theirs.pid!)).toBe(true);

    // Gone even though `theirs` still holds its namespace open (nameless now).
    const left = await namespaces();
    const linksLeft = await links();
    for (const name of names) expect(left).not.toContain(name);
    for (const name of [bridge, ...ports]) expect(linksLeft).not.toContain(name);
    const { stdout: addrs } = await run('ip', ['-4', '-o', 'addr', 'show']);
    expect(addrs).not.toContain(`inet ${net.hostAddress}/`);

    await expect(net.remove()).resolves.toBeUndefined();
    expect(() => net.exec(names[0]!, ['true'])).toThrow(/after remove/);
    theirs.kill('SIGKILL');
  });
});
