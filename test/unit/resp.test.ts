// RESP2 encoding and the incremental reader, checked against the wire format in the RESP spec.
import { describe, it, expect } from 'vitest';
import { bufferIs, encodeCommand, RespError, RespReader, type RespValue } from '../../src/redis/resp.js';

function readAll(chunks: Buffer[]): RespValue[] {
  const out: RespValue[] = [];
  const r = new RespReader((v) => out.push(v));
  for (const c of chunks) r.feed(c);
  return out;
}

const frames = Buffer.from(
  '*3\r\n$7\r\nmessage\r\n$6\r\norders\r\n$5\r\nhello\r\n' +
    '*4\r\n$8\r\npmessage\r\n$6\r\nnews:*\r\n$10\r\nnews:sport\r\n$0\r\n\r\n' +
    '*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n' +
    '+OK\r\n-NOPERM no permissions\r\n$-1\r\n*-1\r\n:-42\r\n' +
    '*2\r\n*1\r\n:7\r\n$4\r\na\r\nb\r\n',
);

function expected(): RespValue[] {
  return [
    [Buffer.from('message'), Buffer.from('orders'), Buffer.from('hello')],
    [Buffer.from('pmessage'), Buffer.from('news:*'), Buffer.from('news:sport'), Buffer.from('')],
    [Buffer.from('subscribe'), Buffer.from('a'), 1],
    'OK',
    new RespError('NOPERM no permissions'),
    null,
    null,
    -42,
    [[7], Buffer.from('a\r\nb')],
  ];
}

describe('encodeCommand', () => {
  it('writes arrays of bulk strings, binary-safe', () => {
    expect(encodeCommand(['PUBLISH', 'ch', Buffer.from([0, 13, 10, 255])]).toString('latin1')).toBe('*3\r\n$7\r\nPUBLISH\r\n$2\r\nch\r\n$4\r\n\x00\r\n\xff\r\n');
    expect(encodeCommand(['PING']).toString()).toBe('*1\r\n$4\r\nPING\r\n');
    expect(encodeCommand(['SET', 'k', 'é']).toString('latin1')).toContain('$2\r\n\xc3\xa9\r\n');
  });
});

describe('RespReader', () => {
  it('reads every reply type from one chunk', () => {
    expect(readAll([frames])).toEqual(expected());
  });

  it('gives the same values wherever the stream is split', () => {
    for (let cut = 1; cut < frames.length; cut++) {
      expect(readAll([frames.subarray(0, cut), frames.subarray(cut)])).toEqual(expected());
    }
  });

  it('survives one byte at a time', () => {
    const chunks = [...frames].map((b) => Buffer.from([b]));
    expect(readAll(chunks)).toEqual(expected());
  });

  it('assembles a large payload from many chunks without losing bytes', () => {
    const payload = Buffer.alloc(1_000_000);
    for (let i = 0; i < payload.length; i++) payload[i] = (i * 31) & 0xff;
    const frame = Buffer.concat([Buffer.from(`*3\r\n$7\r\nmessage\r\n$3\r\nbig\r\n$${payload.length}\r\n`), payload, Buffer.from('\r\n')]);
    const chunks: Buffer[] = [];
    for (let i = 0; i < frame.length; i += 1000) chunks.push(frame.subarray(i, i + 1000));
    const out = readAll(chunks) as Buffer[][];
    expect(out).toHaveLength(1);
    expect(out[0]![2]!.equals(payload)).toBe(true);
  });

  it('reports a protocol error for a byte no reply starts with', () => {
    const r = new RespReader(() => undefined);
    expect(() => r.feed(Buffer.from('?oops\r\n'))).toThrow(/protocol error/);
  });
});

describe('bufferIs', () => {
  it('compares bytes to an ASCII word', () => {
    expect(bufferIs(Buffer.from('message'), 'message')).toBe(true);
    expect(bufferIs(Buffer.from('messagE'), 'message')).toBe(false);
    expect(bufferIs(Buffer.from('pmessage'), 'message')).toBe(false);
    expect(bufferIs(7, 'message')).toBe(false);
  });
});
