// RESP2 for the hot paths: encoding commands and an incremental reader of replies and pub/sub pushes.
// ioredis stays in charge of discovery and control; this exists because its per-message cost made a
// subscriber fall behind at 100k messages/s on the development machine (see REDIS-PUBSUB.md).

/** An error reply (`-ERR ...`), kept as a value so a reader never throws mid-stream; an Error so it can reject a promise as it is. */
export class RespError extends Error {
  override readonly name = 'RespError';
}

/** Bulk strings stay Buffers (payloads are bytes); simple strings become JS strings. */
export type RespValue = Buffer | string | number | null | RespError | RespValue[];

const CR = 13;

/** The wire form of one command: `*N\r\n$len\r\narg\r\n...`. */
export function encodeCommand(args: ReadonlyArray<string | Buffer>): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

const EMPTY = Buffer.alloc(0);
const MESSAGE = Buffer.from('message', 'latin1');
const SMESSAGE = Buffer.from('smessage', 'latin1');

/** Marker for "the frame is not complete yet". */
const INCOMPLETE = Symbol('incomplete');
type Parsed = RespValue | typeof INCOMPLETE;

/**
 * Feeds on socket chunks and calls `onValue` once per complete top-level value. Partial frames are
 * held as a list of chunks and joined only when enough bytes have arrived to finish the frame, so a
 * large payload arriving in many chunks is not re-parsed (or re-copied) chunk after chunk.
 */
export class RespReader {
  private buf: Buffer = EMPTY;
  private pos = 0;
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Total bytes needed before parsing is worth trying again. */
  private wanted = 0;

  /**
   * When set, a complete `message` or `smessage` push goes here instead of onValue, as where its
   * channel and payload lie in `buf` (valid only during the call): no array or Buffer is made for
   * it. Anything else, and a push split over chunks, takes the general path.
   */
  onPush: ((buf: Buffer, channelStart: number, channelEnd: number, payloadStart: number, payloadEnd: number) => void) | undefined;

  constructor(private readonly onValue: (value: RespValue) => void) {}

  feed(chunk: Buffer): void {
    if (this.pending.length > 0 || this.pos < this.buf.length) {
      this.pending.push(chunk);
      this.pendingBytes += chunk.length;
      const held = this.buf.length - this.pos + this.pendingBytes;
      if (held < this.wanted) return;
      this.buf = Buffer.concat([this.buf.subarray(this.pos), ...this.pending]);
      this.pending = [];
      this.pendingBytes = 0;
    } else {
      this.buf = chunk;
    }
    this.pos = 0;
    this.wanted = 0;
    const buf = this.buf;
    while (this.pos < buf.length) {
      const start = this.pos;
      if (this.onPush !== undefined && buf[start] === 42 && this.push(buf, start)) continue;
      const value = this.parse();
      if (value === INCOMPLETE) {
        this.pos = start;
        this.wanted = Math.max(this.wanted - start, 0);
        // Keep only the unread tail, so the chunk it came in can be collected.
        this.buf = buf.subarray(start);
        this.pos = 0;
        return;
      }
      this.onValue(value);
    }
    this.buf = EMPTY;
    this.pos = 0;
  }

  /**
   * feed() for a chunk whose memory is reused once this returns (a socket reading into one shared
   * buffer): whatever must outlive the call, held data and an unfinished frame, is copied.
   */
  feedBorrowed(chunk: Buffer): void {
    if (this.pending.length > 0 || this.pos < this.buf.length) return this.feed(Buffer.from(chunk));
    this.feed(chunk);
    if (this.buf.length > 0) this.buf = Buffer.from(this.buf);
  }

  /**
   * The fast path for `*3 $7 message $n channel $m payload` (or `$8 smessage`) starting at `at`:
   * true when it was whole and handed to onPush (pos moved past it), false to leave it to parse().
   */
  private push(b: Buffer, at: number): boolean {
    const n = b.length;
    // `*3\r\n$7\r\n` or `*3\r\n$8\r\n`
    if (at + 8 > n || b[at + 1] !== 51 || b[at + 2] !== 13 || b[at + 4] !== 36 || b[at + 6] !== 13) return false;
    const wordLen = b[at + 5]! - 48;
    let p = at + 8;
    if (p + wordLen + 2 > n) return false;
    const word = wordLen === 7 ? MESSAGE : wordLen === 8 ? SMESSAGE : undefined;
    if (word === undefined) return false;
    for (let k = 0; k < wordLen; k++) if (b[p + k] !== word[k]) return false;
    p += wordLen + 2;
    const channel = this.bulkAt(b, p);
    if (channel < 0) return false;
    const channelStart = this.spanStart;
    const channelEnd = channelStart + this.spanLength;
    const payload = this.bulkAt(b, channel);
    if (payload < 0) return false;
    this.pos = payload;
    this.onPush!(b, channelStart, channelEnd, this.spanStart, this.spanStart + this.spanLength);
    return true;
  }

  /** Where the last bulkAt() found its data, and how long it is. */
  private spanStart = 0;
  private spanLength = 0;

  /** A whole bulk string `$len\r\n<data>\r\n` at `at`: the index after it, or -1 (not one, or not all there). */
  private bulkAt(b: Buffer, at: number): number {
    if (b[at] !== 36) return -1;
    let len = 0;
    let i = at + 1;
    for (; i < b.length && b[i] !== 13; i++) {
      const d = b[i]! - 48;
      if (d < 0 || d > 9) return -1;
      len = len * 10 + d;
    }
    const dataStart = i + 2;
    if (i === at + 1 || dataStart + len + 2 > b.length) return -1;
    this.spanStart = dataStart;
    this.spanLength = len;
    return dataStart + len + 2;
  }

  /** Index of the CR of the line starting at `from`, or -1. */
  private lineEnd(from: number): number {
    const i = this.buf.indexOf(CR, from);
    if (i < 0 || i + 1 >= this.buf.length) {
      this.wanted = this.buf.length + 1;
      return -1;
    }
    return i;
  }

  /** A signed integer from ASCII digits in [from, to). */
  private int(from: number, to: number): number {
    const b = this.buf;
    let i = from;
    let neg = false;
    if (b[i] === 45) {
      neg = true;
      i++;
    }
    let n = 0;
    for (; i < to; i++) n = n * 10 + (b[i]! - 48);
    return neg ? -n : n;
  }

  private parse(): Parsed {
    const b = this.buf;
    const type = b[this.pos];
    const end = this.lineEnd(this.pos + 1);
    if (end < 0) return INCOMPLETE;
    switch (type) {
      case 36 /* $ */: {
        const len = this.int(this.pos + 1, end);
        if (len < 0) {
          this.pos = end + 2;
          return null;
        }
        const dataStart = end + 2;
        if (dataStart + len + 2 > b.length) {
          this.wanted = dataStart + len + 2;
          return INCOMPLETE;
        }
        this.pos = dataStart + len + 2;
        return b.subarray(dataStart, dataStart + len);
      }
      case 42 /* * */: {
        const count = this.int(this.pos + 1, end);
        this.pos = end + 2;
        if (count < 0) return null;
        const items: RespValue[] = new Array<RespValue>(count);
        for (let k = 0; k < count; k++) {
          if (this.pos >= b.length) {
            this.wanted = b.length + 1;
            return INCOMPLETE;
          }
          const item = this.parse();
          if (item === INCOMPLETE) return INCOMPLETE;
          items[k] = item;
        }
        return items;
      }
      case 58 /* : */: {
        const n = this.int(this.pos + 1, end);
        this.pos = end + 2;
        return n;
      }
      case 43 /* + */: {
        const s = b.toString('latin1', this.pos + 1, end);
        this.pos = end + 2;
        return s;
      }
      case 45 /* - */: {
        const s = b.toString('utf8', this.pos + 1, end);
        this.pos = end + 2;
        return new RespError(s);
      }
      default:
        // EPROTO, as the OS names a protocol error: the bytes came from the network, not from our code.
        throw Object.assign(new Error(`protocol error: unexpected byte ${type} in a reply`), { code: 'EPROTO' });
    }
  }
}

/** True when `buf` holds exactly the ASCII `word` (compares bytes, no string made). */
export function bufferIs(buf: RespValue | undefined, word: string): boolean {
  if (!Buffer.isBuffer(buf) || buf.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (buf[i] !== word.charCodeAt(i)) return false;
  return true;
}

