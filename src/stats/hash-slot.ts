// The Redis Cluster hash slot of a key or shard channel: CRC16-XMODEM of its hash tag or whole name.
//
// Written here rather than taken from cluster-key-slot (which ioredis uses): that package hashes
// `foo{}{bar}` to 4015, where Redis hashes the whole key (8363, CLUSTER KEYSLOT on 7.0.15) because
// the first tag is empty. A channel named like that would be looked for on the wrong shard.
import { Buffer } from 'node:buffer';
import { encodeName } from './channel-name.js';

/** Number of hash slots in a Redis Cluster. */
export const SLOT_COUNT = 16384;

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** One CRC step per possible high byte, so hashing costs a lookup per byte instead of eight shifts. */
const CRC16_TABLE: Uint16Array = (() => {
  const table = new Uint16Array(256);
  for (let byte = 0; byte < 256; byte++) {
    let crc = byte << 8;
    for (let bit = 0; bit < 8; bit++) {
      crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
    }
    table[byte] = crc;
  }
  return table;
})();

/** CRC16-XMODEM (polynomial 0x1021, initial value 0, no reflection), as Redis Cluster uses it. */
export function crc16(bytes: Uint8Array): number {
  let crc = 0;
  for (const byte of bytes) {
    // Both indexes are in 0..255 by construction; the table always has the entry.
    crc = ((crc << 8) & 0xffff) ^ (CRC16_TABLE[((crc >> 8) ^ byte) & 0xff] ?? 0);
  }
  return crc;
}

/**
 * The bytes that decide the slot: between the first '{' and the first '}' after it when that is
 * non-empty, else the whole key. Scanning bytes is safe for UTF-8: no multi-byte sequence contains
 * a byte below 0x80, so a brace byte is always a real brace.
 */
function hashedPart(bytes: Uint8Array): Uint8Array {
  const open = bytes.indexOf(OPEN_BRACE);
  if (open === -1) return bytes;
  const close = bytes.indexOf(CLOSE_BRACE, open + 1);
  if (close === -1 || close === open + 1) return bytes;
  return bytes.subarray(open + 1, close);
}

/** The hash slot (0..16383) of a key or shard channel, computed over its exact bytes (see channel-name.ts). */
export function hashSlot(key: string | Buffer): number {
  const bytes = typeof key === 'string' ? encodeName(key) : key;
  return crc16(hashedPart(bytes)) & (SLOT_COUNT - 1);
}
