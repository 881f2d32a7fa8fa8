// The exporter's HTTP side: GET /metrics from the cached exposition, GET /healthz, nothing else.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Exporter } from './exporter.js';
import { ConnectionError } from '../errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

const INDEX = '<html><head><title>pubsub-mon exporter</title></head><body><h1>pubsub-mon exporter</h1><p><a href="/metrics">/metrics</a> <a href="/healthz">/healthz</a></p></body></html>\n';

/** Serves `exporter` until the returned close() is called; resolves once listening, with the address really bound. */
export async function serve(exporter: Exporter, at: ListenAddress): Promise<{ address: ListenAddress; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain; charset=utf-8' }).end('only GET and HEAD\n');
      return;
    }
    if (path === '/metrics') {
      exporter.scrape().then(
        (body) => res.writeHead(200, { 'content-type': exporter.contentType }).end(req.method === 'HEAD' ? undefined : body),
        (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(`${(err as Error).message}\n`),
      );
      return;
    }
    if (path === '/healthz') {
      const h = exporter.health();
      res.writeHead(h.healthy ? 200 : 503, { 'content-type': 'text/plain; charset=utf-8' }).end(`${h.message}\n`);
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(INDEX);
      return;
    }
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('not found: try /metrics or /healthz\n');
  });
  // A scraper that keeps its connection open must not hold the process at shutdown.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'EADDRINUSE' ? 'the address is already in use' : err.code === 'EACCES' ? 'permission denied' : err.code === 'EADDRNOTAVAIL' ? 'no such address on this machine' : err.message;
      reject(new ConnectionError(`cannot listen on ${at.host.includes(':') ? `[${at.host}]` : at.host}:${at.port}: ${why}`));
    });
    server.listen(at.port, at.host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  return {
    address: { host: bound.address, port: bound.port },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
