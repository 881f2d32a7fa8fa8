// Batched, bounded writing to stdout: never blocks reading from Redis; drops (and counts) past its bound.
import type { Writable } from 'node:stream';

export interface OutputQueueOptions {
  /** Bytes held while the stream cannot keep up, before messages are dropped. @default 64 MiB */
  maxBufferedBytes?: number;
  /** Called once each time dropping starts, so the user hears about it at once. */
  onDropStart?: () => void;
}

const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Lines are encoded straight into chunks of this size, and each chunk is one write(). */
const CHUNK_BYTES = 256 * 1024;

/**
 * Encodes lines into pooled chunks as they come (no joined strings, no second copy in write()),
 * and writes the chunks after the current burst of socket data has been parsed. While the stream
 * reports back-pressure (write() false) nothing more is written until 'drain'; lines keep queueing
 * up to the bound and are dropped beyond it, counted in `dropped`.
 */
export class OutputQueue {
  dropped = 0;
  private chunk = Buffer.allocUnsafe(CHUNK_BYTES);
  private used = 0;
  private readonly queue: Buffer[] = [];
  private queuedBytes = 0;
  private blocked = false;
  private scheduled = false;
  private dropping = false;
  private readonly maxBuffered: number;

  constructor(
    private readonly stream: Writable,
    private readonly options: OutputQueueOptions = {},
  ) {
    this.maxBuffered = options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
    stream.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
  }

  /** Queues one piece of text (a line with its newline); false if it was dropped. */
  push(text: string): boolean {
    if (this.blocked && this.queuedBytes + this.used + this.stream.writableLength >= this.maxBuffered) {
      this.dropped++;
      if (!this.dropping) {
        this.dropping = true;
        this.options.onDropStart?.();
      }
      return false;
    }
    this.dropping = false;
    // UTF-8 takes at most 3 bytes per UTF-16 unit: with that much room the write cannot be cut short.
    const room = text.length * 3;
    if (this.used + room > this.chunk.length) {
      this.seal();
      if (room > this.chunk.length) {
        const big = Buffer.from(text);
        this.queue.push(big);
        this.queuedBytes += big.length;
      }
    }
    if (room <= this.chunk.length) this.used += this.chunk.write(text, this.used);
    if (!this.scheduled && !this.blocked) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  /** Moves the chunk being filled to the queue and starts a new one. */
  private seal(): void {
    if (this.used === 0) return;
    this.queue.push(this.chunk.subarray(0, this.used));
    this.queuedBytes += this.used;
    this.chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    this.used = 0;
  }

  private flush(): void {
    this.scheduled = false;
    if (!this.blocked) this.seal();
    while (!this.blocked && this.queue.length > 0) {
      const b = this.queue.shift()!;
      this.queuedBytes -= b.length;
      if (!this.stream.write(b)) this.blocked = true;
    }
  }

  /** Writes everything still queued and resolves once the stream has taken it. */
  async end(): Promise<void> {
    this.flush();
    while (this.queue.length > 0 || this.used > 0 || this.stream.writableLength > 0) {
      if (this.stream.destroyed || this.stream.writableEnded) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(done, 50);
        this.stream.once('drain', done);
      });
      this.blocked = false;
      this.flush();
    }
  }
}
