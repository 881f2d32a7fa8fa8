// Throwaway local Redis deployments (standalone, with replicas, or a cluster) for demos and tests.
import { setTimeout as sleep } from 'node:timers/promises';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { EnvironmentError, UsageError } from '../errors.js';
import { findFreePorts } from './ports.js';
import { RedisProcess } from './redis-process.js';
import { startWatchdog } from './watchdog.js';

export interface SandboxOptions {
  /** Number of cluster primaries; 0 starts a standalone server. @default 0 */
  cluster?: number;
  /** Replicas per primary (standalone too). @default 0 */
  replicas?: number;
  /** Password for the default user (requirepass), if any. */
  password?: string;
  /** Extra redis-server arguments for every node, e.g. ['--notify-keyspace-events', 'KEA']. */
  serverArgs?: string[];
  /** Cluster node timeout in ms: how soon a dead node is marked failed. @default 2000 */
  nodeTimeoutMs?: number;
  /** How long the cluster may take to agree. @default 30000 */
  readyTimeoutMs?: number;
  /**
   * The address every node binds to and announces. Off the loopback, nodes run with protected mode
   * off (as a password-less Redis refuses non-loopback clients otherwise). @default '127.0.0.1'
   */
  host?: string;
}

const DEFAULT_SANDBOX_OPTIONS = {
  cluster: 0,
  replicas: 0,
  nodeTimeoutMs: 2000,
  readyTimeoutMs: 30000,
  host: '127.0.0.1',
} as const;

const SLOTS = 16384;

export interface SandboxNode {
  process: RedisProcess;
  host: string;
  port: number;
  address: string;
  /** Role at start; a failover may change it later. */
  role: 'primary' | 'replica';
  /** Index of this node's primary in `nodes`, for replicas. */
  primaryIndex?: number;
}

export interface Sandbox {
  mode: 'standalone' | 'cluster';
  dir: string;
  nodes: SandboxNode[];
  password?: string;
  /** redis:// URL of the first node (a primary). */
  url: string;
  /** Every node's URL. */
  urls: string[];
  /** Stops every server and removes the directory. Safe to call twice. */
  stop(): Promise<void>;
}

/** Ranges of slots for `n` primaries, as even as possible. */
export function splitSlots(n: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (let i = 0; i < n; i++) {
    const start = Math.floor((i * SLOTS) / n);
    const end = Math.floor(((i + 1) * SLOTS) / n) - 1;
    ranges.push([start, end]);
  }
  return ranges;
}

/** Redis's protected mode (no password) lets only loopback clients in, whatever the node binds to. */
function isLoopback(host: string): boolean {
  return /^127\./.test(host) || host === '::1' || host === 'localhost';
}

function nodeUrl(host: string, port: number, password?: string): string {
  const auth = password ? `:${encodeURIComponent(password)}@` : '';
  // An IPv6 address needs brackets in a URL.
  const hostPart = host.includes(':') ? `[${host}]` : host;
  return `redis://${auth}${hostPart}:${port}`;
}

/** Starts a deployment and resolves once every node is ready (a cluster: every node agrees). */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const primaries = options.cluster ?? DEFAULT_SANDBOX_OPTIONS.cluster;
  const replicas = options.replicas ?? DEFAULT_SANDBOX_OPTIONS.replicas;
  const host = options.host ?? DEFAULT_SANDBOX_OPTIONS.host;
  if (!Number.isInteger(primaries) || primaries < 0 || primaries > 100) {
    throw new UsageError(`--cluster must be a whole number of primaries from 0 to 100, got ${primaries}`);
  }
  if (!Number.isInteger(replicas) || replicas < 0 || replicas > 10) {
    throw new UsageError(`--replicas must be a whole number from 0 to 10, got ${replicas}`);
  }
  if (typeof host !== 'string' || host.trim() === '') {
    throw new UsageError(`the sandbox host must be an address to bind to, got ${JSON.stringify(host)}`);
  }
  const isCluster = primaries > 0;
  const primaryCount = isCluster ? primaries : 1;
  const total = primaryCount * (1 + replicas);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-sandbox-'));
  // From here on nothing may outlive us: stop() cleans up when we end normally, the exit handler
  // when we exit with JS still running, and the watchdog when we die with none (SIGKILL, SIGHUP).
  const watchdog = startWatchdog(dir);
  const nodes: SandboxNode[] = [];
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killAll);
    try {
      await Promise.all(nodes.map((n) => n.process.stop()));
      fs.rmSync(dir, { recursive: true, force: true });
    } finally {
      // Normally it now holds nothing; if stopping failed half-way, it finishes the job.
      watchdog.close();
    }
  };
  // An exit() call or an uncaught error: no await runs any more, but this does, before we are gone.
  const killAll = () => {
    for (const n of nodes) n.process.killNow();
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // nothing more can be done while exiting; the watchdog tries again
    }
  };
  process.once('exit', killAll);

  let ports: number[];
  try {
    ports = await findFreePorts(total, { host, busOffset: isCluster ? 10000 : 0 });
  } catch (err) {
    await stop();
    throw err;
  }
  for (let i = 0; i < total; i++) {
    const port = ports[i]!;
    const isPrimary = i < primaryCount;
    const primaryIndex = isPrimary ? undefined : (i - primaryCount) % primaryCount;
    // Replicas would otherwise wait 5 s (the default delay) before their first sync.
    const args = ['--repl-diskless-sync-delay', '0'];
    // Off the loopback, protected mode would refuse every client without a password, the nodes
    // themselves too (a replica syncing, the admin connections below); serverArgs may still turn it on.
    if (!isLoopback(host)) args.push('--protected-mode', 'no');
    args.push(...(options.serverArgs ?? []));
    if (options.password) args.push('--requirepass', options.password, '--masterauth', options.password);
    if (isCluster) {
      args.push(
        '--cluster-enabled', 'yes',
        '--cluster-config-file', 'nodes.conf',
        '--cluster-node-timeout', String(options.nodeTimeoutMs ?? DEFAULT_SANDBOX_OPTIONS.nodeTimeoutMs),
      );
    } else if (!isPrimary) {
      args.push('--replicaof', host, String(ports[primaryIndex!]!));
    }
    const proc = new RedisProcess({ host, port, dir: path.join(dir, String(port)), args, keeper: watchdog });
    nodes.push({
      process: proc,
      host,
      port,
      address: proc.address,
      role: isPrimary ? 'primary' : 'replica',
      ...(primaryIndex === undefined ? {} : { primaryIndex }),
    });
  }

  try {
    await Promise.all(nodes.map((n) => n.process.start()));
    const readyTimeout = options.readyTimeoutMs ?? DEFAULT_SANDBOX_OPTIONS.readyTimeoutMs;
    if (isCluster) await formCluster(nodes, primaryCount, options.password, readyTimeout);
    else if (replicas > 0) await waitForReplication(nodes, options.password, readyTimeout);
  } catch (err) {
    await stop();
    throw err;
  }

  return {
    mode: isCluster ? 'cluster' : 'standalone',
    dir,
    nodes,
    ...(options.password ? { password: options.password } : {}),
    url: nodeUrl(host, nodes[0]!.port, options.password),
    urls: nodes.map((n) => nodeUrl(n.host, n.port, options.password)),
    stop,
  };
}

function adminClient(node: SandboxNode, password?: string): Redis {
  return new Redis({
    host: node.host,
    port: node.port,
    ...(password ? { password } : {}),
    connectionName: 'pubsub-mon:sandbox',
    lazyConnect: false,
    maxRetriesPerRequest: 2,
    retryStrategy: () => null,
  });
}

async function waitFor(what: string, timeoutMs: number, test: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await test())) {
    if (Date.now() > deadline) throw new EnvironmentError(`sandbox: timed out waiting for ${what}`);
    await sleep(100);
  }
}

async function waitForReplication(nodes: SandboxNode[], password: string | undefined, timeoutMs: number) {
  const clients = nodes.filter((n) => n.role === 'replica').map((n) => adminClient(n, password));
  try {
    await waitFor('replicas to sync', timeoutMs, async () => {
      const infos = await Promise.all(clients.map((c) => c.info('replication')));
      return infos.every((i) => /master_link_status:up/.test(i));
    });
  } finally {
    clients.forEach((c) => c.disconnect());
  }
}

/** Assigns slots, introduces the nodes, attaches replicas, and waits for one agreed view. */
async function formCluster(nodes: SandboxNode[], primaryCount: number, password: string | undefined, timeoutMs: number) {
  const clients = nodes.map((n) => adminClient(n, password));
  try {
    const ids = await Promise.all(clients.map((c) => c.call('CLUSTER', 'MYID') as Promise<string>));
    const ranges = splitSlots(primaryCount);
    for (let i = 0; i < primaryCount; i++) {
      const [start, end] = ranges[i]!;
      const c = clients[i]!;
      // Distinct epochs keep the nodes from fighting over the same configuration at first contact.
      await c.call('CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1));
      const slots: string[] = [];
      for (let s = start; s <= end; s++) slots.push(String(s));
      await c.call('CLUSTER', 'ADDSLOTS', ...slots);
    }
    const first = clients[0]!;
    for (const n of nodes.slice(1)) await first.call('CLUSTER', 'MEET', n.host, String(n.port));
    await waitFor('cluster nodes to meet', timeoutMs, async () => {
      const views = await Promise.all(clients.map((c) => c.call('CLUSTER', 'NODES') as Promise<string>));
      return views.every((v) => {
        const lines = v.trim().split('\n');
        return lines.length === nodes.length && !/handshake|noaddr/.test(v);
      });
    });
    for (let i = primaryCount; i < nodes.length; i++) {
      const primaryId = ids[nodes[i]!.primaryIndex!]!;
      await clients[i]!.call('CLUSTER', 'REPLICATE', primaryId);
    }
    await waitFor('the cluster to agree on slots and replicas', timeoutMs, async () => {
      const [infos, views, repl] = await Promise.all([
        Promise.all(clients.map((c) => c.call('CLUSTER', 'INFO') as Promise<string>)),
        Promise.all(clients.map((c) => c.call('CLUSTER', 'NODES') as Promise<string>)),
        Promise.all(clients.slice(primaryCount).map((c) => c.info('replication'))),
      ]);
      if (!infos.every((i) => i.includes('cluster_state:ok'))) return false;
      if (!repl.every((i) => i.includes('master_link_status:up'))) return false;
      const canonical = views.map(clusterViewKey);
      return canonical.every((v) => v === canonical[0]) && (canonical[0]?.split('|').length ?? 0) === nodes.length;
    });
  } finally {
    clients.forEach((c) => c.disconnect());
  }
}

/** A node's view of the cluster reduced to what must agree: each node's role, primary and slots. */
function clusterViewKey(nodesText: string): string {
  return nodesText
    .trim()
    .split('\n')
    .map((line) => {
      const f = line.split(' ');
      const role = f[2]?.includes('master') ? 'M' : 'S';
      return `${f[0]} ${role} ${f[3]} ${f.slice(8).join(',')}`;
    })
    .sort()
    .join('|');
}
