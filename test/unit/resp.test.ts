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

describe('RespReader.onPush, the allocation-free path for message pushes', () => {
  /** What a reader with onPush hands out: pushes as [channel, payload] text, everything else as values. */
  function readPushes(chunks: Buffer[], borrowed = false): { pushes: string[][]; values: RespValue[] } {
    const pushes: string[][] = [];
    const values: RespValue[] = [];
    const r = new RespReader((v) => values.push(v));
    r.onPush = (buf, cs, ce, ps, pe) => pushes.push([buf.toString('latin1', cs, ce), buf.toString('latin1', ps, pe)]);
    for (const c of chunks) {
      if (!borrowed) {
        r.feed(c);
        continue;
      }
      // The chunk's memory is reused as soon as the call returns, as a socket's onread buffer is.
      const shared = Buffer.from(c);
      r.feedBorrowed(shared);
      shared.fill(0x23);
    }
    return { pushes, values };
  }

  const smessage = Buffer.from('*3\r\n$8\r\nsmessage\r\n$3\r\n{a}\r\n$2\r\nhi\r\n');
  const binary = Buffer.concat([Buffer.from('*3\r\n$7\r\nmessage\r\n$2\r\n\xff\r\r\n$4\r\n', 'latin1'), Buffer.from([0, 13, 10, 36]), Buffer.from('\r\n')]);

  it('hands whole message and smessage pushes over as positions, anything else as values', () => {
    const { pushes, values } = readPushes([Buffer.concat([frames, smessage, binary])]);
    expect(pushes).toEqual([
      ['orders', 'hello'],
      ['{a}', 'hi'],
      ['\xff\r', '\x00\r\n$'],
    ]);
    // The same values as without onPush, less the message pushes.
    expect(values).toEqual(expected().slice(1));
  });

  it('reads a push split anywhere the general way, and the same pushes come out, borrowed chunks included', () => {
    const all = Buffer.concat([frames, smessage, binary]);
    for (let cut = 1; cut < all.length; cut += 3) {
      for (const borrowed of [false, true]) {
        const { pushes, values } = readPushes([all.subarray(0, cut), all.subarray(cut)], borrowed);
        // A push split by the cut arrives through onValue: count both ways together.
        const asValues = values.filter((v) => Array.isArray(v) && (bufferIs(v[0], 'message') || bufferIs(v[0], 'smessage')));
        expect(pushes.length + asValues.length, `cut at ${cut}, borrowed ${borrowed}`).toBe(3);
        expect(values.length - asValues.length).toBe(expected().length - 1);
      }
    }
  });

  it('leaves to the general path what only looks like a push: other words, other lengths, a bad length', () => {
    const lookalikes = Buffer.from('*3\r\n$7\r\nmassage\r\n$1\r\na\r\n$1\r\nb\r\n*3\r\n$9\r\nsubscribe\r\n$1\r\na\r\n:1\r\n*3\r\n$7\r\nmessage\r\n$1\r\na\r\n:5\r\n');
    const { pushes, values } = readPushes([lookalikes]);
    expect(pushes).toEqual([]);
    expect(values).toEqual([
      [Buffer.from('massage'), Buffer.from('a'), Buffer.from('b')],
      [Buffer.from('subscribe'), Buffer.from('a'), 1],
      [Buffer.from('message'), Buffer.from('a'), 5],
    ]);
  });
});
