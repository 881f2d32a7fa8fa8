// Opens named ioredis connections to single nodes; every PUBSUB answer is per node, so never a Cluster client.
import net from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import type { ConnectionTarget } from './target.js';
import { describeRedisError } from './errors.js';
import { ConnectionError, TimeoutError } from '../errors.js';
import { clientName } from '../stats/own-subscriptions.js';

export interface NodeAddress {
  host: string;
  port: number;
  /** The local address to connect from (bench spreads loopback connections over 127.0.0.x). */
  localAddress?: string;
}

export interface OpenOptions {
  /** Keep reconnecting after a drop (watch, tail) instead of failing at once. @default false */
  reconnect?: boolean;
  /** Gives up an attempt still under way (the caller is closing): its connection is dropped at once. */
  signal?: AbortSignal;
}

/** ioredis options for one node of the target (same credentials and TLS for every node). */
function nodeOptions(target: ConnectionTarget, node: NodeAddress, role: string, opts: OpenOptions = {}): RedisOptions {
  const options: RedisOptions = {
    host: node.host,
    port: node.port,
    connectionName: clientName(role),
    connectTimeout: target.timeoutMs,
    commandTimeout: target.timeoutMs,
    lazyConnect: true,
    // The ready check runs INFO, which a restricted ACL user may lack; we check what we need ourselves.
    enableReadyCheck: false,
    // Fail fast while a node is away: a monitoring read must say "down", not wait in a queue.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    autoResubscribe: true,
    // ioredis arms this timer on disconnect even when the socket is already closed: keep exits prompt.
    disconnectTimeout: 200,
    retryStrategy: opts.reconnect ? (times: number) => Math.min(100 * times, 2000) : () => null,
  };
  if (target.username !== undefined) options.username = target.username;
  if (target.password !== undefined) options.password = target.password;
  if (target.db !== undefined) options.db = target.db;
  if (target.tls) {
    options.tls = {
      rejectUnauthorized: target.tls.rejectUnauthorized,
      // SNI takes host names only; Node warns (and later refuses) when given an IP address.
      ...(net.isIP(node.host) === 0 ? { servername: node.host } : {}),
      ...(target.tls.ca ? { ca: target.tls.ca } : {}),
      ...(target.tls.cert ? { cert: target.tls.cert } : {}),
      ...(target.tls.key ? { key: target.tls.key } : {}),
    };
  }
  return options;
}

/**
 * Connects to one node and resolves once it answers PING. Rejects with a typed, password-free
 * error. The returned client always has an 'error' listener, so ioredis never prints on its own.
 */
export async function openNode(target: ConnectionTarget, node: NodeAddress, role: string, opts: OpenOptions = {}): Promise<Redis> {
  const client = new Redis(nodeOptions(target, node, role, opts));
  let lastError: unknown;
  client.on('error', (err: unknown) => {
    lastError = err;
  });
  const address = `${node.host}:${node.port}`;
  // One deadline for connecting and the first answer: a node that accepts and never answers
  // (stopped, hung) must cost --timeout once, not a connect timeout and then a command timeout.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`no answer from ${address} within ${target.timeoutMs} ms (timed out)`)), target.timeoutMs);
    opts.signal?.addEventListener('abort', () => reject(new ConnectionError(`connecting to ${address} was given up`)), { once: true });
  });
  const attempt = client.connect().then(() => client.ping());
  // Past the deadline the attempt is abandoned: its late failure is expected, not unhandled.
  attempt.catch(() => undefined);
  try {
    await Promise.race([attempt, deadline]);
  } catch (err) {
    client.disconnect();
    throw describeRedisError(pickCause(err, lastError), address, target.username, { connecting: true, tls: Boolean(target.tls) });
  } finally {
    clearTimeout(timer);
  }
  return client;
}

/** ioredis rejects connect() with a bare "Connection is closed"; the error event before it says why. */
function pickCause(rejection: unknown, lastEvent: unknown): unknown {
  return lastEvent ?? rejection;
}
