// Unit tests for the cluster hash slot, against values a Redis 7.0.15 cluster gave for CLUSTER KEYSLOT.
import { describe, it, expect } from 'vitest';
import { Buffer } from 'node:buffer';
import { crc16, hashSlot, SLOT_COUNT } from '../../src/stats/hash-slot.js';

/** Independent reference: bit-at-a-time CRC16-XMODEM straight from its definition, no table. */
function referenceCrc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    crc ^= byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? (crc << 1) ^ 0x1021 : crc << 1;
      crc &= 0xffff;
    }
  }
  return crc;
}

describe('crc16', () => {
  it('gives the XMODEM check value for "123456789"', () => {
    expect(crc16(Buffer.from('123456789'))).toBe(0x31c3);
  });

  it('is 0 for no bytes', () => {
    expect(crc16(new Uint8Array(0))).toBe(0);
  });

  it('agrees with the bitwise reference on every single byte and on random buffers', () => {
    for (let byte = 0; byte < 256; byte++) {
      expect(crc16(Uint8Array.of(byte))).toBe(referenceCrc16(Uint8Array.of(byte)));
    }
    // A fixed linear congruential sequence keeps the test deterministic.
    let seed = 12345;
    for (let n = 0; n < 200; n++) {
      const bytes = new Uint8Array(n);
      for (let i = 0; i < n; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        bytes[i] = seed >>> 24;
      }
      expect(crc16(bytes)).toBe(referenceCrc16(bytes));
    }
  });
});

describe('hashSlot', () => {
  // Every expected number below was returned by CLUSTER KEYSLOT on a Redis 7.0.15 cluster.
  it('matches the server for plain keys', () => {
    expect(hashSlot('foo')).toBe(12182);
    expect(hashSlot('bar')).toBe(5061);
    expect(hashSlot('hello')).toBe(866);
    expect(hashSlot('123456789')).toBe(12739);
    expect(hashSlot('')).toBe(0);
  });

  it('hashes only a non-empty hash tag', () => {
    expect(hashSlot('{user1000}.following')).toBe(3443);
    expect(hashSlot('{user1000}.followers')).toBe(3443);
    expect(hashSlot('{user1000}.following')).toBe(hashSlot('user1000'));
    expect(hashSlot('foo{bar}{zap}')).toBe(5061);
    expect(hashSlot('foo{bar}{zap}')).toBe(hashSlot('bar'));
  });

  it('hashes the whole key when the first tag is empty or unclosed', () => {
    expect(hashSlot('foo{}{bar}')).toBe(8363);
    expect(hashSlot('foo{}{bar}')).toBe(referenceCrc16(Buffer.from('foo{}{bar}')) % SLOT_COUNT);
    expect(hashSlot('foo{bar')).toBe(referenceCrc16(Buffer.from('foo{bar')) % SLOT_COUNT);
    expect(hashSlot('foo}bar{')).toBe(referenceCrc16(Buffer.from('foo}bar{')) % SLOT_COUNT);
  });

  it('takes the tag from the first { to the next }', () => {
    expect(hashSlot('foo{{bar}}zap')).toBe(4015);
    expect(hashSlot('foo{{bar}}zap')).toBe(hashSlot('{bar'));
  });

  it('works on UTF-8 bytes, for strings and Buffers alike', () => {
    expect(hashSlot('héllo')).toBe(11061);
    expect(hashSlot('{é}x')).toBe(10180);
    expect(hashSlot(Buffer.from('héllo', 'utf8'))).toBe(11061);
    expect(hashSlot(Buffer.from('{user1000}.following'))).toBe(3443);
  });

  it('stays within 0..16383', () => {
    for (let i = 0; i < 1000; i++) {
      const slot = hashSlot(`channel:${i}`);
      expect(slot).toBeGreaterThanOrEqual(0);
      expect(slot).toBeLessThan(SLOT_COUNT);
    }
  });
});
