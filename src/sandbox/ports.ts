// Finds free loopback TCP ports for throwaway servers.
import net from 'node:net';
import { EnvironmentError } from '../errors.js';

/** True when nothing listens on host:port right now (we can bind it ourselves). */
export function isPortFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.unref();
    server.once('error', () => resolve(false));
    server.listen({ port, host, exclusive: true }, () => {
      server.close(() => resolve(true));
    });
  });
}

/**
 * Picks `count` distinct free ports. With `busOffset`, port+offset must be free too: a cluster
 * node also listens on its cluster-bus port, which redis puts at port+10000 by default.
 */
export async function findFreePorts(
  count: number,
  { host = '127.0.0.1', busOffset = 0, low = 20000, high = 50000 } = {},
): Promise<number[]> {
  const chosen: number[] = [];
  const taken = new Set<number>();
  for (let attempts = 0; chosen.length < count; attempts++) {
    if (attempts > 2000) throw new EnvironmentError('could not find free loopback ports');
    const port = low + Math.floor(Math.random() * (high - low));
    if (taken.has(port) || (busOffset && taken.has(port + busOffset))) continue;
    if (!(await isPortFree(port, host))) continue;
    if (busOffset && !(await isPortFree(port + busOffset, host))) continue;
    chosen.push(port);
    taken.add(port);
    if (busOffset) taken.add(port + busOffset);
  }
  return chosen;
}
