// Pre-encoded publish frames, the hand-off batch buffer, and the PUBLISH reply scanner across chunk splits.
import { describe, it, expect } from 'vitest';
import { countReplies, FrameBatch, newReplyScanState, publishFrame } from '../../src/bench/frames.js';
import { HEADER_BYTES, readHeader, writeHeader } from '../../src/bench/payload-header.js';
import { encodeCommand, RespReader, type RespValue } from '../../src/redis/resp.js';
import { UsageError } from '../../src/errors.js';

function expectedPayload(size: number): Buffer {
  return Buffer.concat([Buffer.alloc(HEADER_BYTES), Buffer.alloc(size - HEADER_BYTES, 'x')]);
}

describe('publishFrame', () => {
  it('equals encodeCommand byte for byte, for both commands and several sizes', () => {
    for (const command of ['PUBLISH', 'SPUBLISH'] as const) {
      for (const size of [24, 25, 128, 4096]) {
        const { frame, payloadOffset } = publishFrame(command, 'bench:{0}:7', size);
        const payload = expectedPayload(size);
        expect(frame.equals(encodeCommand([command, 'bench:{0}:7', payload]))).toBe(true);
        expect(frame.subarray(payloadOffset, payloadOffset + size).equals(payload)).toBe(true);
      }
    }
  });

  it('counts a non-ASCII channel name in bytes', () => {
    const { frame, payloadOffset } = publishFrame('PUBLISH', 'prix-€', 32);
    expect(frame.equals(encodeCommand(['PUBLISH', 'prix-€', expectedPayload(32)]))).toBe(true);
    expect(frame.toString('latin1', 0, payloadOffset)).toContain('$8\r\n');
  });

  it('puts payloadOffset exactly where a stamped header is read back by a RESP reader', () => {
    const { frame, payloadOffset } = publishFrame('PUBLISH', 'c', 40);
    writeHeader(frame, payloadOffset, 3, 4, 5, 6);
    const values: RespValue[] = [];
    new RespReader((v) => values.push(v)).feed(frame);
    const [cmd] = values as [Buffer[]];
    expect(cmd.map((b, i) => (i < 2 ? b.toString() : b.length))).toEqual(['PUBLISH', 'c', 40]);
    expect(readHeader(cmd[2]!)).toEqual({ publisher: 3, channel: 4, seq: 5, intendedNs: 6 });
  });

  it('refuses a size too small for the header', () => {
    expect(() => publishFrame('PUBLISH', 'c', 10)).toThrow(UsageError);
  });
});

describe('FrameBatch', () => {
  it('appends templates back to back and returns their offsets', () => {
    const batch = new FrameBatch(64);
    const a = Buffer.from('aaaa');
    const b = Buffer.from('bbbbbb');
    expect(batch.append(a)).toBe(0);
    expect(batch.append(b)).toBe(4);
    expect(batch.append(a)).toBe(10);
    expect(batch.length).toBe(14);
    expect(batch.view().toString()).toBe('aaaabbbbbbaaaa');
  });

  it('moves to a bigger slab when full and keeps what was already appended', () => {
    const batch = new FrameBatch(8);
    for (let i = 0; i < 10; i++) batch.append(Buffer.from(String(i).repeat(5)));
    expect(batch.length).toBe(50);
    expect(batch.buffer.length).toBeGreaterThanOrEqual(50);
    expect(batch.view().toString()).toBe('00000111112222233333444445555566666777778888899999');
  });

  it('carves successive batches from one slab, and never changes a batch already taken', () => {
    const batch = new FrameBatch(64);
    batch.append(Buffer.from('aaaa'));
    const first = batch.take();
    batch.append(Buffer.from('bbbb'));
    const second = batch.take();
    // One allocation serves many batches: both views share the slab's memory.
    expect(second.buffer).toBe(first.buffer);
    expect(batch.length).toBe(0);
    for (let i = 0; i < 40; i++) batch.append(Buffer.from('cc'));
    const third = batch.take();
    expect(first.toString()).toBe('aaaa');
    expect(second.toString()).toBe('bbbb');
    expect(third.toString()).toBe('cc'.repeat(40));
  });

  it('lets headers be stamped through buffer at the offsets append returned', () => {
    const { frame, payloadOffset } = publishFrame('PUBLISH', 'ch', 24);
    const batch = new FrameBatch(16);
    const offsets = [0, 1, 2].map(() => batch.append(frame));
    offsets.forEach((at, i) => writeHeader(batch.buffer, at + payloadOffset, 0, 0, i, 1000 + i));
    const seen: RespValue[] = [];
    new RespReader((v) => seen.push(v)).feed(batch.view());
    expect(seen.map((v) => readHeader((v as Buffer[])[2]!)?.seq)).toEqual([0, 1, 2]);
  });

  it('take() hands the bytes off and later appends never touch them', () => {
    const batch = new FrameBatch(16);
    batch.append(Buffer.from('first-batch'));
    const taken = batch.take();
    expect(batch.length).toBe(0);
    batch.append(Buffer.from('SECOND-BATCH-IS-LONGER'));
    expect(taken.toString()).toBe('first-batch');
    expect(batch.view().toString()).toBe('SECOND-BATCH-IS-LONGER');
  });

  it('reset() forgets what was appended and reuses the same buffer', () => {
    const batch = new FrameBatch(16);
    batch.append(Buffer.from('abc'));
    const before = batch.buffer;
    batch.reset();
    expect(batch.length).toBe(0);
    expect(batch.append(Buffer.from('xy'))).toBe(0);
    expect(batch.buffer).toBe(before);
    expect(batch.view().toString()).toBe('xy');
  });
});

const STREAM = Buffer.from(
  ':1\r\n:0\r\n-MOVED 3999 127.0.0.1:7002\r\n:12\r\n-ERR wrong number of arguments\r\n' +
    '-MOVED 3999 127.0.0.1:7002\r\n+OK\r\n-ERR café fermé\r\n:3\r\n',
);
const EXPECTED_OUTCOMES = [true, true, false, true, false, false, true, false, true];
const EXPECTED_SAMPLES = ['MOVED 3999 127.0.0.1:7002', 'ERR wrong number of arguments', 'ERR café fermé'];

function scan(chunks: Buffer[]) {
  const state = newReplyScanState();
  const outcomes: boolean[] = [];
  state.onReply = (ok) => outcomes.push(ok);
  for (const c of chunks) countReplies(c, state);
  return { state, outcomes };
}

describe('countReplies', () => {
  it('counts integer replies as ok and error lines as errors, in order', () => {
    const { state, outcomes } = scan([STREAM]);
    expect(state.ok).toBe(5);
    expect(state.errors).toBe(4);
    expect(outcomes).toEqual(EXPECTED_OUTCOMES);
    expect(state.errorSamples).toEqual(EXPECTED_SAMPLES);
    expect(state.atLineStart).toBe(true);
  });

  it('gives the same answer whatever position the stream is split at', () => {
    for (let cut = 0; cut <= STREAM.length; cut++) {
      const { state, outcomes } = scan([STREAM.subarray(0, cut), STREAM.subarray(cut)]);
      expect({ cut, ok: state.ok, errors: state.errors }).toEqual({ cut, ok: 5, errors: 4 });
      expect(outcomes).toEqual(EXPECTED_OUTCOMES);
      expect(state.errorSamples).toEqual(EXPECTED_SAMPLES);
    }
  });

  it('copes with one byte per chunk, including a UTF-8 character split in two', () => {
    const chunks = [...STREAM].map((b) => Buffer.from([b]));
    const { state, outcomes } = scan(chunks);
    expect(outcomes).toEqual(EXPECTED_OUTCOMES);
    expect(state.errorSamples).toEqual(EXPECTED_SAMPLES);
  });

  it('keeps at most five distinct error samples', () => {
    const errors = Array.from({ length: 8 }, (_, i) => `-ERR number ${i % 7}\r\n`).join('');
    const { state } = scan([Buffer.from(errors)]);
    expect(state.errors).toBe(8);
    expect(state.errorSamples).toEqual(['ERR number 0', 'ERR number 1', 'ERR number 2', 'ERR number 3', 'ERR number 4']);
  });

  it('works without an onReply callback and leaves a partial reply pending', () => {
    const state = newReplyScanState();
    countReplies(Buffer.from(':1\r\n:2\r\n-ERR half'), state);
    expect([state.ok, state.errors, state.atLineStart]).toEqual([2, 0, false]);
    countReplies(Buffer.from(' done\r\n'), state);
    expect([state.ok, state.errors]).toEqual([2, 1]);
    expect(state.errorSamples).toEqual(['ERR half done']);
  });
});

describe('FrameBatch slab reuse', () => {
  // Slabs of 8 KiB or more: smaller ones come from Node's shared buffer pool and share memory anyway.
  const chunk = (c: string) => Buffer.alloc(5000, c);
  it('reuses a slab once every write that held it is done, and not before', () => {
    const batch = new FrameBatch(8192);
    batch.append(chunk('a'));
    const first = batch.takeForWrite();
    const firstSlab = first.data.buffer;
    batch.append(chunk('b')); // does not fit: moves to a second slab
    const second = batch.takeForWrite();
    expect(second.data.buffer).not.toBe(firstSlab);
    batch.append(chunk('c')); // the first slab is still being written: a third slab
    const third = batch.takeForWrite();
    expect(third.data.buffer).not.toBe(firstSlab);
    expect(first.data.equals(chunk('a'))).toBe(true);
    first.done();
    batch.append(chunk('d')); // now the first slab is free again
    expect(batch.view().buffer).toBe(firstSlab);
    expect(batch.view().equals(chunk('d'))).toBe(true);
    expect(second.data.equals(chunk('b'))).toBe(true);
    expect(third.data.equals(chunk('c'))).toBe(true);
  });
});
