// Pre-encoded RESP publish frames, the growable batch they are copied into, and a scanner for the replies.

import { checkPayloadSize, HEADER_BYTES, PAYLOAD_PAD } from './payload-header.js';
import { encodeName } from '../stats/channel-name.js';

export type PublishCommand = 'PUBLISH' | 'SPUBLISH';

export interface PublishFrame {
  /** `*3\r\n$7\r\nPUBLISH\r\n$<n>\r\n<channel>\r\n$<size>\r\n<payload>\r\n`, header area zeroed. */
  frame: Buffer;
  /** Where the payload (and so the header) starts inside `frame`. */
  payloadOffset: number;
}

/**
 * The start of a publish frame up to the payload's length line: `*3\r\n$7\r\nPUBLISH\r\n$<n>\r\n<channel>\r\n`.
 * A frame is a head (one per channel) followed by a tail (one per payload size), so a run with many
 * channels and several sizes keeps channels + sizes templates, not their product.
 */
export function publishHead(command: PublishCommand, channel: string): Buffer {
  // The name's exact bytes (a recorded channel may not be UTF-8).
  const channelBytes = encodeName(channel);
  return Buffer.concat([Buffer.from(`*3\r\n$${command.length}\r\n${command}\r\n$${channelBytes.length}\r\n`, 'latin1'), channelBytes, Buffer.from('\r\n', 'latin1')]);
}

/** The rest of a frame: `$<size>\r\n<payload>\r\n`, the header area zeroed, and where the payload starts in it. */
export function payloadTail(size: number): { tail: Buffer; payloadOffset: number } {
  checkPayloadSize(size);
  const sizeLine = Buffer.from(`$${size}\r\n`, 'latin1');
  const payloadOffset = sizeLine.length;
  const tail = Buffer.alloc(payloadOffset + size + 2);
  sizeLine.copy(tail, 0);
  // Buffer.alloc zeroed everything, so the header area stays 0 until writeHeader stamps it.
  tail.fill(PAYLOAD_PAD, payloadOffset + HEADER_BYTES, payloadOffset + size);
  tail[payloadOffset + size] = 13;
  tail[payloadOffset + size + 1] = 10;
  return { tail, payloadOffset };
}

/**
 * The wire form of one whole publish: the same bytes `encodeCommand([command, channel, payload])`
 * would produce, header area zeroed.
 */
export function publishFrame(command: PublishCommand, channel: string, size: number): PublishFrame {
  const { tail, payloadOffset } = payloadTail(size);
  const head = publishHead(command, channel);
  return { frame: Buffer.concat([head, tail]), payloadOffset: head.length + payloadOffset };
}

/** A slab and the number of handed-off batches that socket writes still hold. */
interface Slab {
  buf: Buffer;
  inFlight: number;
}

/** Slabs kept for reuse; a publisher needs two or three at a steady rate. */
const MAX_POOLED_SLABS = 4;

/**
 * Frames for one socket write, appended back to back in a slab. A buffer passed to socket.write()
 * must not change until the socket has flushed it, so `take()` hands off a view of what was appended
 * and the next batch continues after it in the same slab; when the slab is full the batch moves to
 * another one, reused from a small pool once every write that held it has completed.
 * (A fresh buffer per batch made V8 collect garbage hundreds of times a second for "external memory
 * pressure" at 100k messages/s, and those pauses showed up as latency; slabs left to the garbage
 * collector instead made memory grow by tens of MiB over a 30 s run.)
 */
export class FrameBatch {
  private slab: Slab;
  private readonly pool: Slab[] = [];
  /** Where the current (not yet taken) batch begins in the slab. */
  private start = 0;
  private used = 0;
  private readonly slabBytes: number;

  constructor(slabBytes = 4 << 20) {
    this.slabBytes = Math.max(1, slabBytes);
    this.slab = { buf: Buffer.allocUnsafe(this.slabBytes), inFlight: 0 };
  }

  /** Bytes appended since the last take() or reset(). */
  get length(): number {
    return this.used - this.start;
  }

  /**
   * The slab, for stamping headers at offsets append() returned. Valid until the next append()
   * (which may move the batch to another slab), take() or reset().
   */
  get buffer(): Buffer {
    return this.slab.buf;
  }

  /** Copies `template` to the end and returns the offset in `buffer` it starts at. */
  append(template: Buffer): number {
    const end = this.used + template.length;
    if (end > this.slab.buf.length) this.moveToAnotherSlab(template.length);
    const at = this.used;
    // TypedArray#set rather than Buffer#copy: the latter validates its arguments in JS on each call
    // and measured about twice as slow for frames of a few hundred bytes on Node 20.
    this.slab.buf.set(template, at);
    this.used = at + template.length;
    return at;
  }

  /** What has been appended, without copying; the same warning as `buffer` applies. */
  view(): Buffer {
    return this.slab.buf.subarray(this.start, this.used);
  }

  /**
   * Hands off what has been appended (no copy); appending goes on after it. The slab is not reused
   * while a view is out, so a caller that never says it is done simply lets it go to the collector.
   */
  take(): Buffer {
    const out = this.slab.buf.subarray(this.start, this.used);
    this.start = this.used;
    return out;
  }

  /**
   * take() for socket.write(data, done): the slab returns to the pool for reuse once every write
   * that held it has called `done`.
   */
  takeForWrite(): { data: Buffer; done: () => void } {
    const slab = this.slab;
    slab.inFlight++;
    return {
      data: this.take(),
      done: () => {
        slab.inFlight--;
      },
    };
  }

  /** Forgets what was appended and reuses the slab: only once nothing else holds a view of it. */
  reset(): void {
    this.start = 0;
    this.used = 0;
  }

  /** The current batch moves to a free pooled slab or a fresh one; the old slab waits in the pool. */
  private moveToAnotherSlab(adding: number): void {
    const pending = this.used - this.start;
    const needed = pending + adding;
    const old = this.slab;
    const index = this.pool.findIndex((s) => s.inFlight === 0 && s.buf.length >= needed);
    const next = index >= 0 ? this.pool.splice(index, 1)[0]! : { buf: Buffer.allocUnsafe(Math.max(this.slabBytes, needed * 2)), inFlight: 0 };
    old.buf.copy(next.buf, 0, this.start, this.used);
    if (this.pool.length < MAX_POOLED_SLABS) this.pool.push(old);
    this.slab = next;
    this.start = 0;
    this.used = pending;
  }
}

/** Distinct error lines kept as samples; more would only repeat themselves in the report. */
const MAX_ERROR_SAMPLES = 5;
/** A longer error line is cut: the start says what went wrong. */
const MAX_ERROR_TEXT = 512;

export interface ReplyScanState {
  /** Integer replies (`:N`, the receiver count): publishes the server accepted. */
  ok: number;
  /** Error replies (`-ERR ...`, `-MOVED ...`). */
  errors: number;
  /** The next byte starts a reply. */
  atLineStart: boolean;
  /** The reply being read started with `-`. */
  currentIsError: boolean;
  /** The error line read so far, as latin1 so a UTF-8 character split across chunks survives. */
  errorText: string;
  /** The first distinct error lines, without the leading `-`. */
  errorSamples: string[];
  /** Called once per reply, in order: the publisher uses it to tell which in-flight frame failed. */
  onReply?: (ok: boolean) => void;
}

export function newReplyScanState(): ReplyScanState {
  return { ok: 0, errors: 0, atLineStart: true, currentIsError: false, errorText: '', errorSamples: [] };
}

function finishError(state: ReplyScanState): void {
  let text = Buffer.from(state.errorText, 'latin1').toString('utf8');
  state.errorText = '';
  if (text.endsWith('\r')) text = text.slice(0, -1);
  if (text.startsWith('-')) text = text.slice(1);
  if (state.errorSamples.length < MAX_ERROR_SAMPLES && !state.errorSamples.includes(text)) {
    state.errorSamples.push(text);
  }
}

/**
 * Counts the replies in one chunk read from a publisher connection; chunks may split a reply anywhere.
 * Only for connections whose replies are all single lines (PUBLISH/SPUBLISH integers, simple strings,
 * errors): a bulk or array reply would be miscounted. Jumps from newline to newline with indexOf, so
 * an ok reply costs one native call and no allocation.
 */
export function countReplies(chunk: Buffer, state: ReplyScanState): void {
  const n = chunk.length;
  let i = 0;
  while (i < n) {
    if (state.atLineStart) {
      state.currentIsError = chunk[i] === 45; // '-'
      state.atLineStart = false;
    }
    const nl = chunk.indexOf(10, i);
    const end = nl < 0 ? n : nl;
    if (state.currentIsError && state.errorText.length < MAX_ERROR_TEXT) {
      const room = MAX_ERROR_TEXT - state.errorText.length;
      state.errorText += chunk.toString('latin1', i, Math.min(end, i + room));
    }
    if (nl < 0) return;
    state.atLineStart = true;
    i = nl + 1;
    if (state.currentIsError) {
      state.errors++;
      finishError(state);
      state.onReply?.(false);
    } else {
      state.ok++;
      state.onReply?.(true);
    }
  }
}
