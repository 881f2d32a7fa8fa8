// Unit tests for `tail` line formatting: text lines, NDJSON lines and kcat-style templates.
import { afterAll, beforeAll, describe, it, expect } from 'vitest';
import { stableColor } from '../../src/render/color.js';
import { codePointLength } from '../../src/render/truncate.js';
import {
  FORMAT_TOKENS,
  compileFormat,
  makeTextFormatter,
  TemplateError,
  type TextLineOptions,
} from '../../src/render/tail-line.js';
import { makeJsonFormatter } from '../../src/render/json/tail.js';
import type { TailMessage } from '../../src/stats/tail-message.js';

// A fixed zone without daylight saving, so local times are known: UTC+05:30.
const savedTz = process.env.TZ;
beforeAll(() => {
  process.env.TZ = 'Asia/Kolkata';
});
afterAll(() => {
  if (savedTz === undefined) delete process.env.TZ;
  else process.env.TZ = savedTz;
});

const T1 = Date.UTC(2024, 0, 2, 3, 4, 5, 6); // 08:34:05.006 in Kolkata
const T2 = Date.UTC(2024, 0, 2, 18, 29, 59, 999); // 23:59:59.999 in Kolkata

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

function msg(over: Partial<TailMessage> = {}): TailMessage {
  return {
    receivedAt: T1,
    node: '127.0.0.1:6379',
    kind: 'message',
    channel: Buffer.from('news'),
    payload: Buffer.from('hello'),
    ...over,
  };
}

const PLAIN: TextLineOptions = { color: false, full: false, pretty: false };
const ANSI = /\u001b\[[0-9;]*m/g;
/** Anything a terminal would act on, once our own colour codes are removed. */
const TERMINAL_UNSAFE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('makeTextFormatter', () => {
  it('prints local time, channel and payload on one line', () => {
    const f = makeTextFormatter(PLAIN);
    expect(f(msg())).toBe('08:34:05.006  news  hello\n');
  });

  it('shows the pattern for pmessage and (shard) for smessage', () => {
    const f = makeTextFormatter(PLAIN);
    expect(f(msg({ kind: 'pmessage', pattern: Buffer.from('news:*'), channel: Buffer.from('news:eu') }))).toBe(
      '08:34:05.006  news:eu  (news:*)  hello\n',
    );
    expect(f(msg({ kind: 'smessage' }))).toBe('08:34:05.006  news  (shard)  hello\n');
  });

  it('gives each distinct millisecond its own local time, and reuses it within one', () => {
    const f = makeTextFormatter(PLAIN);
    expect(f(msg({ receivedAt: T1 }))).toMatch(/^08:34:05\.006 /);
    expect(f(msg({ receivedAt: T1 }))).toMatch(/^08:34:05\.006 /);
    expect(f(msg({ receivedAt: T2 }))).toMatch(/^23:59:59\.999 /);
    expect(f(msg({ receivedAt: T1 + 1 }))).toMatch(/^08:34:05\.007 /);
    expect(f(msg({ receivedAt: Date.UTC(2024, 0, 1, 18, 30, 0, 0) }))).toMatch(/^00:00:00\.000 /);
  });

  it('escapes hostile payloads and channels', () => {
    const f = makeTextFormatter(PLAIN);
    const line = f(
      msg({
        channel: Buffer.from('ch\u001b[31m'),
        payload: Buffer.concat([Buffer.from('\u001b[2J\u001b]0;pwned\u0007\rX\u0000\u007f'), hex('c29b ff e282')]),
      }),
    );
    expect(line).toBe('08:34:05.006  ch\\x1b[31m  \\x1b[2J\\x1b]0;pwned\\x07\\rX\\x00\\x7f\\u009b\\xff\\xe2\\x82\n');
    expect(line.slice(0, -1)).not.toMatch(TERMINAL_UNSAFE);
  });

  it('paints the channel with its stable colour, and only our colour codes reach the line', () => {
    const f = makeTextFormatter({ ...PLAIN, color: true });
    const a = f(msg({ payload: Buffer.from('\u001b[2J') }));
    const b = f(msg({ receivedAt: T2 }));
    expect(a).toContain(stableColor('news', true));
    expect(b).toContain(stableColor('news', true));
    expect(a.replace(ANSI, '')).toBe('08:34:05.006  news  \\x1b[2J\n');
    expect(a.replace(ANSI, '')).not.toMatch(/\u001b/);
  });

  it('shows JSON payloads compact, or indented with pretty', () => {
    const payload = Buffer.from('{ "a" : 1, "b" : [ 1, 2 ] }');
    expect(makeTextFormatter(PLAIN)(msg({ payload }))).toBe('08:34:05.006  news  {"a":1,"b":[1,2]}\n');
    const pretty = makeTextFormatter({ ...PLAIN, pretty: true })(msg({ payload }));
    expect(pretty).toBe(`08:34:05.006  news  ${JSON.stringify({ a: 1, b: [1, 2] }, null, 2)}\n`);
    expect(pretty.split('\n').length).toBeGreaterThan(2);
  });

  it('shows invalid or non-JSON text escaped, not compacted', () => {
    const f = makeTextFormatter(PLAIN);
    expect(f(msg({ payload: Buffer.from('{ not json }') }))).toBe('08:34:05.006  news  { not json }\n');
    expect(f(msg({ payload: Buffer.concat([Buffer.from('{"a":"'), hex('ff'), Buffer.from('"}')]) }))).toBe(
      '08:34:05.006  news  {"a":"\\xff"}\n',
    );
  });

  it('cuts the payload so the whole line fits the width, with a marker', () => {
    const f = makeTextFormatter({ ...PLAIN, width: 40 });
    const line = f(msg({ payload: Buffer.from('x'.repeat(200)) }));
    const body = line.slice(0, -1);
    expect(codePointLength(body)).toBeLessThanOrEqual(40);
    expect(body).toMatch(/^08:34:05\.006 {2}news {2}x+…\(\+\d+\)$/);
    const kept = /x+/.exec(body)?.[0].length ?? 0;
    const cut = Number(/\(\+(\d+)\)/.exec(body)?.[1]);
    expect(kept + cut).toBe(200);
  });

  it('counts only visible characters when colour is on', () => {
    const plain = makeTextFormatter({ ...PLAIN, width: 50 });
    const coloured = makeTextFormatter({ ...PLAIN, width: 50, color: true });
    const m = msg({ kind: 'pmessage', pattern: Buffer.from('n*'), payload: Buffer.from('y'.repeat(300)) });
    const visible = coloured(m).replace(ANSI, '');
    expect(visible).toBe(plain(m));
    expect(codePointLength(visible.slice(0, -1))).toBe(50);
  });

  it('never cuts with full, without a width, or a payload that fits', () => {
    const long = msg({ payload: Buffer.from('z'.repeat(500)) });
    expect(makeTextFormatter({ ...PLAIN, width: 40, full: true })(long)).toContain('z'.repeat(500));
    expect(makeTextFormatter(PLAIN)(long)).toContain('z'.repeat(500));
    expect(makeTextFormatter({ ...PLAIN, width: 40 })(msg())).toBe('08:34:05.006  news  hello\n');
  });

  it('cuts to --max-payload bytes and says how many bytes went', () => {
    const f = makeTextFormatter({ ...PLAIN, maxPayload: 10 });
    expect(f(msg({ payload: Buffer.from('0123456789abcdef') }))).toBe('08:34:05.006  news  0123456789…(+6 bytes)\n');
    expect(f(msg({ payload: Buffer.from('0123456789') }))).toBe('08:34:05.006  news  0123456789\n');
    // A multi-byte character is not split: 'ééé' is 6 bytes; 3 would split the second é.
    const g = makeTextFormatter({ ...PLAIN, maxPayload: 3 });
    expect(g(msg({ payload: Buffer.from('ééé') }))).toBe('08:34:05.006  news  é…(+4 bytes)\n');
  });

  it('fits the width with both the width marker and the bytes marker', () => {
    const f = makeTextFormatter({ ...PLAIN, width: 60, maxPayload: 1000 });
    const line = f(msg({ payload: Buffer.from('q'.repeat(5000)) })).slice(0, -1);
    expect(codePointLength(line)).toBe(60);
    expect(line).toMatch(/q…\(\+\d+\)…\(\+4000 bytes\)$/);
  });

  it('still shows some payload when a long channel leaves no room', () => {
    const f = makeTextFormatter({ ...PLAIN, width: 40 });
    const line = f(msg({ channel: Buffer.from('c'.repeat(60)), payload: Buffer.from('p'.repeat(100)) }));
    expect(line).toBe(`08:34:05.006  ${'c'.repeat(60)}  pppppp…(+94)\n`);
  });
});

describe('makeJsonFormatter', () => {
  it('prints one parseable object per line with every field', () => {
    const f = makeJsonFormatter({});
    const line = f(msg());
    expect(line.endsWith('}\n')).toBe(true);
    expect(line.slice(0, -1)).not.toContain('\n');
    expect(JSON.parse(line)).toEqual({
      ts: '2024-01-02T03:04:05.006Z',
      node: '127.0.0.1:6379',
      kind: 'message',
      pattern: null,
      channel: 'news',
      payload: 'hello',
      encoding: 'utf8',
      bytes: 5,
    });
  });

  it('gives each millisecond its own ISO timestamp', () => {
    const f = makeJsonFormatter({});
    const ts = (m: TailMessage): unknown => (JSON.parse(f(m)) as { ts: unknown }).ts;
    expect(ts(msg({ receivedAt: T1 }))).toBe('2024-01-02T03:04:05.006Z');
    expect(ts(msg({ receivedAt: T2 }))).toBe('2024-01-02T18:29:59.999Z');
    expect(ts(msg({ receivedAt: T1 }))).toBe('2024-01-02T03:04:05.006Z');
  });

  it('carries text payloads exactly, hostile characters included, and keeps the line terminal-safe', () => {
    const text = 'é日本😀 \u001b[2J\r\u0000\u007f\u009b\u202e "q" \\';
    const line = makeJsonFormatter({})(msg({ payload: Buffer.from(text), kind: 'pmessage', pattern: Buffer.from('n*') }));
    expect(line.slice(0, -1)).not.toMatch(TERMINAL_UNSAFE);
    const obj = JSON.parse(line) as Record<string, unknown>;
    expect(obj.payload).toBe(text);
    expect(obj.encoding).toBe('utf8');
    expect(obj.pattern).toBe('n*');
    expect(obj.kind).toBe('pmessage');
    expect(obj.bytes).toBe(Buffer.byteLength(text));
    expect('pattern_encoding' in obj).toBe(false);
    expect('channel_encoding' in obj).toBe(false);
    expect('truncated' in obj).toBe(false);
  });

  it('base64-encodes binary payloads, channels and patterns so the bytes come back exactly', () => {
    const payload = hex('ff fe 00 80 e2 82 c0 af ed a0 80 41');
    const channel = hex('63 68 ff');
    const pattern = hex('2a c0');
    const line = makeJsonFormatter({})(msg({ kind: 'pmessage', payload, channel, pattern }));
    const obj = JSON.parse(line) as Record<string, string>;
    expect(obj.encoding).toBe('base64');
    expect(Buffer.from(obj.payload ?? '', 'base64').equals(payload)).toBe(true);
    expect(obj.channel_encoding).toBe('base64');
    expect(Buffer.from(obj.channel ?? '', 'base64').equals(channel)).toBe(true);
    expect(obj.pattern_encoding).toBe('base64');
    expect(Buffer.from(obj.pattern ?? '', 'base64').equals(pattern)).toBe(true);
  });

  it('cuts to --max-payload, marks it truncated and keeps the original size', () => {
    const f = makeJsonFormatter({ maxPayload: 4 });
    const cut = JSON.parse(f(msg({ payload: Buffer.from('abcdefgh') }))) as Record<string, unknown>;
    expect(cut).toMatchObject({ payload: 'abcd', encoding: 'utf8', bytes: 8, truncated: true });
    const whole = JSON.parse(f(msg({ payload: Buffer.from('abcd') }))) as Record<string, unknown>;
    expect(whole).toMatchObject({ payload: 'abcd', bytes: 4 });
    expect('truncated' in whole).toBe(false);
    const bin = hex('00 ff 01 02 03 04 05');
    const b = JSON.parse(f(msg({ payload: bin }))) as Record<string, string>;
    expect(b.encoding).toBe('base64');
    expect(Buffer.from(b.payload ?? '', 'base64').equals(bin.subarray(0, 4))).toBe(true);
  });
});

describe('compileFormat', () => {
  const m = msg({
    kind: 'pmessage',
    pattern: Buffer.from('n\u001b*'),
    channel: Buffer.from('news\u202e'),
    payload: Buffer.from('hi\n\\'),
  });

  it('expands every token', () => {
    expect(compileFormat('%t|%T|%c|%p|%k|%n|%s|%S|%e')(m)).toBe(
      '2024-01-02T03:04:05.006Z|08:34:05.006|news\\u202e|n\\x1b*|pmessage|127.0.0.1:6379|hi\\n\\\\|4|utf8',
    );
  });

  it('handles %%, backslash escapes and adds no newline of its own', () => {
    expect(compileFormat('100%% %k\\t[%S]\\\\\\n')(msg())).toBe('100% message\t[5]\\\n');
    expect(compileFormat('%s')(msg())).toBe('hello');
    expect(compileFormat('plain text')(msg())).toBe('plain text');
  });

  it('gives empty pattern for non-pattern messages and base64 encoding for binary payloads', () => {
    const f = compileFormat('[%p] %e %S');
    expect(f(msg())).toBe('[] utf8 5');
    expect(f(msg({ payload: hex('ff00') }))).toBe('[] base64 2');
  });

  it('cuts %s to --max-payload with a marker, keeping %S the original size', () => {
    const f = compileFormat('%s %S %e', { maxPayload: 3 });
    expect(f(msg({ payload: Buffer.from('abcdef') }))).toBe('abc…(+3 bytes) 6 utf8');
    expect(f(msg({ payload: Buffer.from('abc') }))).toBe('abc 3 utf8');
    // %e describes what --json --max-payload would print: here the cut keeps only valid UTF-8.
    expect(f(msg({ payload: Buffer.from('ab\u00e9') }))).toBe('ab…(+2 bytes) 4 utf8');
    expect(f(msg({ payload: hex('41 ff 42 43') }))).toBe('A\\xffB…(+1 byte) 4 base64');
  });

  it('keeps separate time caches per token', () => {
    const f = compileFormat('%T %t');
    expect(f(msg({ receivedAt: T1 }))).toBe('08:34:05.006 2024-01-02T03:04:05.006Z');
    expect(f(msg({ receivedAt: T2 }))).toBe('23:59:59.999 2024-01-02T18:29:59.999Z');
  });

  it('rejects unknown tokens with a TemplateError naming the token and the valid ones', () => {
    expect(() => compileFormat('%s %x')).toThrow(TemplateError);
    expect(() => compileFormat('%s %x')).toThrow(/'%x'.*%t %T %c %p %k %n %s %S %e %%/);
    expect(() => compileFormat('trailing %')).toThrow(/'%'/);
    expect(() => compileFormat('a\\qb')).toThrow(/'\\q'/);
    expect(() => compileFormat('%o')).toThrow(TemplateError);
  });

  it('lists every token with a description', () => {
    const tokens = FORMAT_TOKENS.map((t) => t.token);
    expect(tokens).toEqual(['%t', '%T', '%c', '%p', '%k', '%n', '%s', '%S', '%e', '%%', '\\n', '\\t', '\\\\']);
    for (const t of FORMAT_TOKENS) expect(t.description.length).toBeGreaterThan(3);
    // Every listed % token compiles.
    for (const t of tokens.filter((x) => x.startsWith('%'))) expect(() => compileFormat(t)).not.toThrow();
  });
});

describe('throughput guard', () => {
  // Not a benchmark: catches accidental per-message regex compilation or quadratic work.
  const N = 200_000;
  const payload = Buffer.from('a'.repeat(64) + ' lorem ipsum dolor sit amet, consectetur adipiscing elit 0123456'.slice(0, 64));
  const messages: TailMessage[] = [];
  for (let i = 0; i < N; i++) messages.push(msg({ receivedAt: T1 + Math.floor(i / 50), payload }));

  it.each([
    ['text', makeTextFormatter({ color: true, full: false, pretty: false, width: 120 })],
    ['json', makeJsonFormatter({})],
  ] as const)('%s formats 200,000 128-byte messages quickly', (_name, f) => {
    expect(payload.length).toBe(128);
    const start = performance.now();
    let bytes = 0;
    for (const m of messages) bytes += f(m).length;
    const elapsed = performance.now() - start;
    expect(bytes).toBeGreaterThan(N * 128);
    expect(elapsed).toBeLessThan(2000);
  });
});
