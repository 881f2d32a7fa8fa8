// The bench payload header: byte layout, round trips up to 2^53, foreign messages, and --size limits.
import { describe, it, expect } from 'vitest';
import { UsageError } from '../../src/errors.js';
import {
  checkPayloadSize,
  HEADER_BYTES,
  isBenchPayload,
  MAX_PAYLOAD_BYTES,
  PAYLOAD_MAGIC,
  readChannel,
  readHeader,
  readIntendedNs,
  readPublisher,
  readSeq,
  writeHeader,
} from '../../src/bench/payload-header.js';

describe('writeHeader', () => {
  it('lays the fields out little-endian at the documented offsets', () => {
    const buf = Buffer.alloc(HEADER_BYTES);
    writeHeader(buf, 0, 0x0102, 0x03040506, 2 ** 32 + 7, 5 * 2 ** 32 + 9);
    expect(HEADER_BYTES).toBe(24);
    expect(PAYLOAD_MAGIC).toBe(0x4d50);
    expect([...buf]).toEqual([
      0x50, 0x4d, // magic: the bytes read "PM"
      0x02, 0x01, // publisher
      0x06, 0x05, 0x04, 0x03, // channel
      7, 0, 0, 0, 1, 0, 0, 0, // seq low, high
      9, 0, 0, 0, 5, 0, 0, 0, // ns low, high
    ]);
  });

  it('writes at an offset and leaves the bytes around it alone', () => {
    const buf = Buffer.alloc(40, 0x78);
    writeHeader(buf, 8, 1, 2, 3, 4);
    expect(buf.subarray(0, 8).toString()).toBe('xxxxxxxx');
    expect(buf.subarray(32).toString()).toBe('xxxxxxxx');
    expect(readHeader(buf.subarray(8))).toEqual({ publisher: 1, channel: 2, seq: 3, intendedNs: 4 });
  });

  it('round-trips the extremes: u16 publisher, u32 channel, sequence and time up to 2^53 - 1', () => {
    const buf = Buffer.alloc(64);
    const cases = [
      [0, 0, 0, 0],
      [65535, 4294967295, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
      [7, 1, 2 ** 32 - 1, 2 ** 32],
      [300, 70000, 123_456_789_012, 9_000_000_000_000_000 - 1],
    ] as const;
    for (const [publisher, channel, seq, ns] of cases) {
      writeHeader(buf, 0, publisher, channel, seq, ns);
      expect(isBenchPayload(buf)).toBe(true);
      expect(readPublisher(buf)).toBe(publisher);
      expect(readChannel(buf)).toBe(channel);
      expect(readSeq(buf)).toBe(seq);
      expect(readIntendedNs(buf)).toBe(ns);
    }
  });

  it('carries a real hrtime reading exactly', () => {
    const ns = Number(process.hrtime.bigint());
    const buf = Buffer.alloc(HEADER_BYTES);
    writeHeader(buf, 0, 0, 0, 0, ns);
    expect(readIntendedNs(buf)).toBe(ns);
  });

  it('lets the hot-path readers start at an offset', () => {
    const buf = Buffer.alloc(100);
    writeHeader(buf, 30, 9, 8, 7, 6);
    expect(isBenchPayload(buf, 30)).toBe(true);
    expect(isBenchPayload(buf, 0)).toBe(false);
    expect(isBenchPayload(buf, 80)).toBe(false);
    expect([readPublisher(buf, 30), readChannel(buf, 30), readSeq(buf, 30), readIntendedNs(buf, 30)]).toEqual([
      9, 8, 7, 6,
    ]);
  });
});

describe('readHeader', () => {
  it('is undefined for a message shorter than the header', () => {
    const buf = Buffer.alloc(HEADER_BYTES);
    writeHeader(buf, 0, 1, 1, 1, 1);
    expect(readHeader(buf.subarray(0, HEADER_BYTES - 1))).toBeUndefined();
    expect(readHeader(Buffer.alloc(0))).toBeUndefined();
  });

  it('is undefined without the magic: someone else publishing on the channel', () => {
    expect(readHeader(Buffer.from('hello from another client, long enough'))).toBeUndefined();
    const buf = Buffer.alloc(HEADER_BYTES);
    writeHeader(buf, 0, 1, 1, 1, 1);
    buf[1] = 0;
    expect(readHeader(buf)).toBeUndefined();
  });
});

describe('checkPayloadSize', () => {
  it('accepts 24 bytes up to 512 MiB', () => {
    expect(() => checkPayloadSize(24)).not.toThrow();
    expect(() => checkPayloadSize(4096)).not.toThrow();
    expect(() => checkPayloadSize(MAX_PAYLOAD_BYTES)).not.toThrow();
  });

  it('refuses a size the header does not fit in, saying why', () => {
    expect(() => checkPayloadSize(23)).toThrow(UsageError);
    expect(() => checkPayloadSize(0)).toThrow(
      '--size must be at least 24 bytes: the payload carries a 24-byte header (publisher, channel, sequence, send time)',
    );
  });

  it('refuses more than 512 MiB and fractions', () => {
    expect(() => checkPayloadSize(MAX_PAYLOAD_BYTES + 1)).toThrow(/at most 512 MiB/);
    expect(() => checkPayloadSize(100.5)).toThrow(UsageError);
    expect(() => checkPayloadSize(Number.NaN)).toThrow(UsageError);
  });
});
