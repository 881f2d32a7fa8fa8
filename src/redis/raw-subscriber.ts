// A subscriber connection that reads pushes with RespReader: fast enough for 200k+ messages/s in one process.
import type net from 'node:net';
import type { ConnectionTarget } from './target.js';
import type { NodeAddress } from './connect.js';
import { describeRedisError, rethrowIfBug } from './errors.js';
import { openRawSocket } from './raw-socket.js';
import { decodeName, encodeName } from '../stats/channel-name.js';
import { logCommand } from './queries.js';
import { ConnectionError } from '../errors.js';
import { bufferIs, encodeCommand, RespError, RespReader, type RespValue } from './resp.js';

export type SubscribeKind = 'subscribe' | 'psubscribe' | 'ssubscribe';
export type PushKind = 'message' | 'pmessage' | 'smessage';

const UNSUBSCRIBE: Record<SubscribeKind, string> = { subscribe: 'unsubscribe', psubscribe: 'punsubscribe', ssubscribe: 'sunsubscribe' };

/** Called for every message; the buffers are only valid during the call unless copied. */
export type MessageHandler = (kind: PushKind, pattern: Buffer | undefined, channel: Buffer, payload: Buffer, receivedAt: number) => void;

/**
 * The allocation-free form for `message` and `smessage` pushes (bench's receive loop): where the
 * payload lies in `buf`, valid only during the call. Pattern messages still go to onMessage.
 */
export type PayloadHandler = (buf: Buffer, payloadStart: number, payloadEnd: number, receivedAt: number) => void;

interface Waiter {
  /** The first word of the replies expected (`ssubscribe`, `sunsubscribe`...). */
  reply: string;
  /** The names the command carried: a reply for any other name is not this command's. */
  names: ReadonlySet<string>;
  /** Replies still expected: one per channel for (un)subscribe, else one. */
  remaining: number;
  resolve: () => void;
  reject: (err: Error) => void;
}

export class RawSubscriber {
  readonly address: string;
  onMessage: MessageHandler = () => undefined;
  /** The server dropped a subscription by itself (a shard channel's slot moved). */
  onServerUnsubscribe: (kind: SubscribeKind, channel: string) => void = () => undefined;
  /** The connection ended without close() being called. */
  onClose: (reason: string) => void = () => undefined;

  private socket: net.Socket | undefined;
  private readonly reader: RespReader;
  private readonly waiters: Waiter[] = [];
  private receivedAt = 0;
  private closing = false;
  private lastError: Error | undefined;

  /**
   * @param clock what `receivedAt` is read from, once per socket chunk: Date.now for tail's
   *   timestamps, the monotonic nanosecond clock for bench's latencies.
   */
  /**
   * @param readInto a buffer every read of this connection lands in (openRawSocket): chunks are then
   *   borrowed, and so are the buffers handed to onMessage, valid only during the call.
   */
  constructor(
    private readonly target: ConnectionTarget,
    readonly node: NodeAddress,
    private readonly role: string,
    private readonly clock: () => number = Date.now,
    private readonly readInto?: Buffer,
  ) {
    this.address = `${node.host}:${node.port}`;
    this.reader = new RespReader((v) => this.dispatch(v));
  }

  /** Set it to take `message` and `smessage` pushes as positions in the read buffer instead of onMessage. */
  set onPayload(handler: PayloadHandler) {
    this.reader.onPush = (buf, _cs, _ce, start, end) => handler(buf, start, end, this.receivedAt);
  }

  get connected(): boolean {
    return this.socket !== undefined && !this.socket.destroyed && !this.closing;
  }

  /** Opens the socket (TLS if asked), authenticates and names the connection. */
  async connect(): Promise<void> {
    const socket = await openRawSocket(this.target, this.node, this.role, this.readInto);
    if (this.closing) {
      // close() came while connecting: the caller no longer wants this connection.
      socket.destroy();
      throw new ConnectionError(`connection to ${this.address} was closed while connecting`);
    }
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.receivedAt = this.clock();
      try {
        if (this.readInto) this.reader.feedBorrowed(chunk);
        else this.reader.feed(chunk);
      } catch (err) {
        socket.destroy(err as Error);
      }
    });
    socket.on('error', (err) => {
      this.lastError = err;
    });
    socket.on('close', () => this.closed());
    if (socket.destroyed) this.closed();
  }

  private withTimeout<T>(p: Promise<T>, what: string): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new ConnectionError(`no answer from ${this.address} during ${what} (timed out)`)), this.target.timeoutMs);
      p.then(
        (v) => {
          clearTimeout(timer);
          resolve(v);
        },
        (e: unknown) => {
          clearTimeout(timer);
          reject(e);
        },
      );
    });
  }

  private send(args: [string, ...string[]]): Promise<void> {
    logCommand(this.address, args);
    const socket = this.socket;
    if (!socket || socket.destroyed) return Promise.reject(new ConnectionError(`connection to ${this.address} was lost`));
    const [command, ...names] = args;
    return new Promise<void>((resolve, reject) => {
      this.waiters.push({ reply: command.toLowerCase(), names: new Set(names), remaining: names.length, resolve, reject });
      // Names go as their exact bytes (channel-name.ts), never re-encoded as text.
      socket.write(encodeCommand([command, ...names.map(encodeName)]));
    });
  }

  /** Subscribes and resolves once the server confirmed every name; rejects on an error reply (NOPERM, CROSSSLOT, MOVED). */
  async subscribe(kind: SubscribeKind, names: string[]): Promise<void> {
    if (names.length === 0) return;
    try {
      await this.withTimeout(this.send([kind.toUpperCase(), ...names]), kind.toUpperCase());
    } catch (err) {
      throw describeRedisError(err, this.address, this.target.username);
    }
  }

  async unsubscribe(kind: SubscribeKind, names: string[]): Promise<void> {
    if (names.length === 0) return;
    await this.send([UNSUBSCRIBE[kind].toUpperCase(), ...names]).catch(rethrowIfBug);
  }

  private dispatch(v: RespValue): void {
    if (Array.isArray(v)) {
      const head = v[0];
      // Messages first: they are nearly all of the traffic.
      if (Buffer.isBuffer(head)) {
        if (head.length === 7 && bufferIs(head, 'message')) {
          this.onMessage('message', undefined, v[1] as Buffer, v[2] as Buffer, this.receivedAt);
          return;
        }
        if (head.length === 8 && bufferIs(head, 'pmessage')) {
          this.onMessage('pmessage', v[1] as Buffer, v[2] as Buffer, v[3] as Buffer, this.receivedAt);
          return;
        }
        if (head.length === 8 && bufferIs(head, 'smessage')) {
          this.onMessage('smessage', undefined, v[1] as Buffer, v[2] as Buffer, this.receivedAt);
          return;
        }
        const word = head.toString('latin1');
        const name = Buffer.isBuffer(v[1]) ? decodeName(v[1]) : '';
        if (word === 'unsubscribe' || word === 'punsubscribe' || word === 'sunsubscribe') {
          // Not the answer to an unsubscribe of ours: the server dropped the subscription by itself
          // (a shard channel's slot moved), possibly while another command of ours was waiting.
          if (!this.answers(word, name)) {
            const kind = (word === 'unsubscribe' ? 'subscribe' : word === 'punsubscribe' ? 'psubscribe' : 'ssubscribe') as SubscribeKind;
            this.onServerUnsubscribe(kind, name);
            return;
          }
          return this.confirm();
        }
        // Servers never send these unasked: each answers the oldest waiting command of its kind.
        if (word === 'subscribe' || word === 'psubscribe' || word === 'ssubscribe') {
          if (this.waiters[0]?.reply === word) this.confirm();
          return;
        }
      }
      return this.confirm();
    }
    if (v instanceof RespError) {
      const w = this.waiters.shift();
      w?.reject(v);
      return;
    }
    this.confirm();
  }

  /** Whether an unsubscribe-kind `word` reply for `name` answers the oldest waiting command. */
  private answers(word: string, name: string): boolean {
    const w = this.waiters[0];
    return w !== undefined && w.reply === word && w.names.has(name);
  }

  private confirm(): void {
    const w = this.waiters[0];
    if (!w) return;
    if (--w.remaining <= 0) {
      this.waiters.shift();
      w.resolve();
    }
  }

  private closed(): void {
    const reason = this.lastError ? describeRedisError(this.lastError, this.address).message : `connection to ${this.address} was closed by the server`;
    for (const w of this.waiters.splice(0)) w.reject(new ConnectionError(reason));
    if (!this.closing) this.onClose(reason);
    this.closing = true;
  }

  close(): void {
    this.closing = true;
    this.socket?.destroy();
  }
}
