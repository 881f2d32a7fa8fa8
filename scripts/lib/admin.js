// The script's own connection to a sandbox server, for what it reads beside the tools it measures (INFO, CLIENT LIST, CONFIG).
// @ts-check
import { Redis } from 'ioredis';

/** Sandbox servers listen on loopback only. */
export const HOST = '127.0.0.1';

/**
 * A connection that fails fast rather than retrying: a server gone in the middle of a benchmark
 * is an error in the run. Disconnected at cleanup.
 * @param {import('./cleanup.js').Cleanup} cleanup
 * @param {number} port
 * @param {string} name  the connection name CLIENT LIST shows, to tell it from the tools' connections
 */
export async function connectAdmin(cleanup, port, name) {
  const admin = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null, connectionName: name });
  // A lost connection rejects the command that needed it; without a listener ioredis would also print it.
  admin.on('error', () => {});
  cleanup.add(() => admin.disconnect());
  await admin.connect();
  return admin;
}

/**
 * `7.0.15`, from INFO server.
 * @param {Redis} admin
 */
export async function serverVersion(admin) {
  return /redis_version:(\S+)/.exec(await admin.info('server'))?.[1] ?? 'unknown';
}
