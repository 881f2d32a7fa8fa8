// Batched, bounded writing to stdout: never blocks reading from Redis; drops (and counts) past its bound.
import type { Writable } from 'node:stream';

export interface OutputQueueOptions {
  /** Text held while the stream cannot keep up, before messages are dropped. @default 64 MiB */
  maxBufferedBytes?: number;
  /** Called once each time dropping starts, so the user hears about it at once. */
  onDropStart?: () => void;
}

export const DEFAULT_MAX_BUFFERED_BYTES = 64 * 1024 * 1024;
/** Text joined into one write() at most. */
const BATCH_CHARS = 256 * 1024;

/**
 * Holds lines and writes them in batches after the current burst of socket data has been parsed.
 * While the stream reports back-pressure (write() false) nothing more is written until 'drain';
 * lines keep queueing up to the bound and are dropped beyond it, counted in `dropped`.
 */
export class OutputQueue {
  dropped = 0;
  private parts: string[] = [];
  private queuedChars = 0;
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
    if (this.blocked && this.queuedChars + this.stream.writableLength >= this.maxBuffered) {
      this.dropped++;
      if (!this.dropping) {
        this.dropping = true;
        this.options.onDropStart?.();
      }
      return false;
    }
    this.dropping = false;
    this.parts.push(text);
    this.queuedChars += text.length;
    if (!this.scheduled && !this.blocked) {
      this.scheduled = true;
      setImmediate(() => this.flush());
    }
    return true;
  }

  private flush(): void {
    this.scheduled = false;
    while (!this.blocked && this.parts.length > 0) {
      let take = 0;
      let chars = 0;
      while (take < this.parts.length && (chars < BATCH_CHARS || take === 0)) chars += this.parts[take++]!.length;
      const text = take === this.parts.length ? this.parts.join('') : this.parts.slice(0, take).join('');
      this.parts = take === this.parts.length ? [] : this.parts.slice(take);
      this.queuedChars -= chars;
      if (!this.stream.write(text)) this.blocked = true;
    }
  }

  /** Writes everything still queued and resolves once the stream has taken it. */
  async end(): Promise<void> {
    this.flush();
    while (this.parts.length > 0 || this.stream.writableLength > 0) {
      if (this.stream.destroyed || this.stream.writableEnded) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(done, 50);
        this.stream.once('drain', done);
      });
      this.flush();
    }
  }
}
