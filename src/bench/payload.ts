// The 24-byte binary header that starts every bench payload, and its allocation-free readers and writer.

import { UsageError } from '../errors.js';

/**
 * Layout, little-endian:
 *   0  u16 magic 0x4d50 (the bytes read "PM")
 *   2  u16 publisher id
 *   4  u32 channel index
 *   8  u32 sequence, low 32 bits
 *  12  u32 sequence, high bits (seq = high * 2^32 + low)
 *  16  u32 intended send time in ns, low 32 bits
 *  20  u32 intended send time in ns, high bits
 *
 * Times come from process.hrtime.bigint() but travel as a Number split in two u32 words: a Number is
 * exact up to 2^53 ns, about 104 days of host uptime (hrtime counts from an arbitrary point, on Linux
 * the boot). Staying with Numbers keeps BigInt off the hot path, where it would allocate per message.
 */
export const HEADER_BYTES = 24;
export const PAYLOAD_MAGIC = 0x4d50;
/** Padding after the header: printable ASCII, so a payload tailed by someone else is mostly harmless. */
export const PAYLOAD_PAD = 0x78; // 'x'
/** Redis refuses bulk strings above proto-max-bulk-len, 512 MiB unless reconfigured. */
export const MAX_PAYLOAD_BYTES = 512 * 1024 * 1024;

const TWO_32 = 4294967296;

/** Rejects a `--size` the header does not fit in, or one Redis would refuse by default. */
export function checkPayloadSize(size: number): void {
  if (!Number.isInteger(size)) {
    throw new UsageError(`--size must be a whole number of bytes, got ${size}`);
  }
  if (size < HEADER_BYTES) {
    throw new UsageError(
      `--size must be at least ${HEADER_BYTES} bytes: the payload carries a ${HEADER_BYTES}-byte header (publisher, channel, sequence, send time)`,
    );
  }
  if (size > MAX_PAYLOAD_BYTES) {
    throw new UsageError(
      `--size must be at most 512 MiB (${MAX_PAYLOAD_BYTES} bytes): Redis refuses larger bulk strings (proto-max-bulk-len)`,
    );
  }
}

/**
 * Writes the header at `buf[offset]`. `seq` and `intendedNs` must be non-negative integers below 2^53;
 * nothing is checked here beyond what writeUInt* does, because this runs once per message.
 */
export function writeHeader(
  buf: Buffer,
  offset: number,
  publisher: number,
  channel: number,
  seq: number,
  intendedNs: number,
): void {
  buf.writeUInt16LE(PAYLOAD_MAGIC, offset);
  buf.writeUInt16LE(publisher, offset + 2);
  buf.writeUInt32LE(channel, offset + 4);
  // Division instead of >>> 32 because bitwise operators truncate to 32 bits.
  const seqHigh = Math.floor(seq / TWO_32);
  buf.writeUInt32LE(seq - seqHigh * TWO_32, offset + 8);
  buf.writeUInt32LE(seqHigh, offset + 12);
  const nsHigh = Math.floor(intendedNs / TWO_32);
  buf.writeUInt32LE(intendedNs - nsHigh * TWO_32, offset + 16);
  buf.writeUInt32LE(nsHigh, offset + 20);
}

/** True when `buf` (from `at`) is long enough for a header and starts with the magic. */
export function isBenchPayload(buf: Buffer, at = 0): boolean {
  return buf.length - at >= HEADER_BYTES && buf[at] === 0x50 && buf[at + 1] === 0x4d;
}

// The readers below assume isBenchPayload() was checked: they do no bounds checks of their own.

export function readPublisher(buf: Buffer, at = 0): number {
  return buf.readUInt16LE(at + 2);
}

export function readChannel(buf: Buffer, at = 0): number {
  return buf.readUInt32LE(at + 4);
}

export function readSeq(buf: Buffer, at = 0): number {
  return buf.readUInt32LE(at + 12) * TWO_32 + buf.readUInt32LE(at + 8);
}

export function readIntendedNs(buf: Buffer, at = 0): number {
  return buf.readUInt32LE(at + 20) * TWO_32 + buf.readUInt32LE(at + 16);
}

export interface PayloadHeader {
  publisher: number;
  channel: number;
  seq: number;
  intendedNs: number;
}

/**
 * The header as an object (allocates: for tests and diagnostics, not the receive loop). Undefined for
 * a message that is too short or lacks the magic: someone else publishing on the channel.
 */
export function readHeader(buf: Buffer): PayloadHeader | undefined {
  if (!isBenchPayload(buf)) return undefined;
  return {
    publisher: readPublisher(buf),
    channel: readChannel(buf),
    seq: readSeq(buf),
    intendedNs: readIntendedNs(buf),
  };
}
