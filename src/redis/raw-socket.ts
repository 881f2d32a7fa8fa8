// Opens a plain or TLS socket to one node and authenticates it with RESP, for the hand-written hot paths.
import net from 'node:net';
import tls from 'node:tls';
import type { ConnectionTarget } from './target.js';
import type { NodeAddress } from './connect.js';
import { clientName } from '../stats/own-subscriptions.js';
import { describeRedisError } from './errors.js';
import { ConnectionError } from '../errors.js';
import { encodeCommand, RespError, RespReader, type RespValue } from './resp.js';

/**
 * Connects (TLS when the target says so) within the target's timeout; errors are typed and
 * password-free. With `readInto` (plain TCP only), every read lands in that buffer and is emitted
 * as a 'data' chunk that is only valid during the listeners' call: no allocation per read.
 */
function connectSocket(target: ConnectionTarget, node: NodeAddress, readInto?: Buffer): Promise<net.Socket> {
  const address = `${node.host}:${node.port}`;
  return new Promise<net.Socket>((resolve, reject) => {
    const opts = { host: node.host, port: node.port, ...(node.localAddress !== undefined ? { localAddress: node.localAddress } : {}) };
    const onread = readInto ? { onread: { buffer: readInto, callback: (n: number, buf: Uint8Array) => s.emit('data', (buf as Buffer).subarray(0, n)) || true } } : {};
    const s: net.Socket = target.tls
      ? tls.connect({
          ...opts,
          rejectUnauthorized: target.tls.rejectUnauthorized,
          // SNI takes host names only.
          ...(net.isIP(node.host) === 0 ? { servername: node.host } : {}),
          ...(target.tls.ca ? { ca: target.tls.ca } : {}),
          ...(target.tls.cert ? { cert: target.tls.cert } : {}),
          ...(target.tls.key ? { key: target.tls.key } : {}),
        })
      : net.connect({ ...opts, ...onread });
    const timer = setTimeout(() => s.destroy(Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' })), target.timeoutMs);
    s.once(target.tls ? 'secureConnect' : 'connect', () => {
      clearTimeout(timer);
      s.removeAllListeners('error');
      s.setNoDelay(true);
      resolve(s);
    });
    s.once('error', (err) => {
      clearTimeout(timer);
      reject(describeRedisError(err, address, target.username, { connecting: true, tls: Boolean(target.tls) }));
    });
  });
}

/**
 * Sends AUTH (when there is a password) and CLIENT SETNAME, reading the replies itself, then hands
 * the socket over with no listeners left, ready for whoever reads it next.
 */
async function handshake(socket: net.Socket, target: ConnectionTarget, node: NodeAddress, role: string): Promise<void> {
  const address = `${node.host}:${node.port}`;
  const commands: string[][] = [];
  if (target.password !== undefined) commands.push(target.username !== undefined ? ['AUTH', target.username, target.password] : ['AUTH', target.password]);
  commands.push(['CLIENT', 'SETNAME', clientName(role)]);
  const replies: RespValue[] = [];
  await new Promise<void>((resolve, reject) => {
    const reader = new RespReader((v) => {
      replies.push(v);
      if (replies.length === commands.length) finish();
    });
    // The chunk may be borrowed (see connectSocket): a reply split across reads is copied.
    const onData = (chunk: Buffer) => reader.feedBorrowed(chunk);
    const onClose = () => finish(new ConnectionError(`${address} closed the connection during the handshake`));
    const timer = setTimeout(() => finish(new ConnectionError(`no answer from ${address} during the handshake (timed out)`)), target.timeoutMs);
    const onError = (err: Error) => finish(err);
    function finish(err?: Error) {
      clearTimeout(timer);
      socket.removeListener('data', onData);
      socket.removeListener('close', onClose);
      socket.removeListener('error', onError);
      if (err) reject(err);
      else resolve();
    }
    socket.on('data', onData);
    socket.on('close', onClose);
    socket.on('error', onError);
    socket.write(Buffer.concat(commands.map((c) => encodeCommand(c))));
  }).catch((err: unknown) => {
    socket.destroy();
    throw describeRedisError(err, address, target.username, { connecting: true, tls: Boolean(target.tls) });
  });
  // AUTH must have worked; a refused CLIENT SETNAME (restricted ACL user) is only a courtesy lost.
  if (target.password !== undefined && replies[0] instanceof RespError) {
    socket.destroy();
    throw describeRedisError(replies[0], address, target.username);
  }
}

/**
 * connectSocket + handshake. With `readInto`, the socket's 'data' chunks are borrowed views of that
 * buffer (see connectSocket); over TLS they stay ordinary chunks.
 */
export async function openRawSocket(target: ConnectionTarget, node: NodeAddress, role: string, readInto?: Buffer): Promise<net.Socket> {
  const socket = await connectSocket(target, node, target.tls ? undefined : readInto);
  await handshake(socket, target, node, role);
  return socket;
}

let threadReadBuffer: Buffer | undefined;

/**
 * One read buffer per thread, for sockets whose readers are done with each chunk before returning
 * (bench's subscribers and publishers): socket reads are delivered one at a time on a thread.
 */
export function sharedReadBuffer(): Buffer {
  return (threadReadBuffer ??= Buffer.allocUnsafe(64 * 1024));
}
