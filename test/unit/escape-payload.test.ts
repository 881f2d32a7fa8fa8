// Unit tests for payload rendering: byte escaping, JSON compaction and truncation.
import { describe, it, expect } from 'vitest';
import { escapeBytes, terminalSafeJson } from '../../src/render/escape.js';
import { compactJson } from '../../src/render/payload-json.js';
import { codePointLength, truncateText } from '../../src/render/truncate.js';

const hex = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');
const utf8 = (s: string): Buffer => Buffer.from(s, 'utf8');

/** Anything a terminal would act on: C0, DEL, C1 and the bidi overrides. */
const TERMINAL_UNSAFE = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('escapeBytes', () => {
  it('returns plain printable text unchanged', () => {
    expect(escapeBytes(utf8('hello, world {"a":1} ~'))).toBe('hello, world {"a":1} ~');
    expect(escapeBytes(Buffer.alloc(0))).toBe('');
  });

  it('keeps valid multi-byte characters', () => {
    expect(escapeBytes(utf8('café 日本 😀 — €'))).toBe('café 日本 😀 — €');
  });

  it('neutralises ANSI clear-screen and title-setting sequences', () => {
    const out = escapeBytes(utf8('\u001b[2J\u001b]0;pwned\u0007'));
    expect(out).toBe('\\x1b[2J\\x1b]0;pwned\\x07');
    expect(out).not.toMatch(TERMINAL_UNSAFE);
  });

  it('shows CR, LF and TAB as two-character escapes so nothing is overwritten', () => {
    expect(escapeBytes(utf8('innocent\rEVIL'))).toBe('innocent\\rEVIL');
    expect(escapeBytes(utf8('a\nb\tc'))).toBe('a\\nb\\tc');
  });

  it('escapes NUL and DEL as \\xNN', () => {
    expect(escapeBytes(hex('00 41 7f'))).toBe('\\x00A\\x7f');
  });

  it('escapes C1 controls (CSI as U+009B) as \\u00NN', () => {
    expect(escapeBytes(hex('c29b 32 4a'))).toBe('\\u009b2J');
    expect(escapeBytes(hex('c280 c29f c2a0'))).toBe('\\u0080\\u009f\u00a0');
  });

  it('escapes bidi overrides and isolates (Trojan Source)', () => {
    expect(escapeBytes(utf8('abc\u202edef'))).toBe('abc\\u202edef');
    const all = '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069';
    expect(escapeBytes(utf8(all))).toBe('\\u202a\\u202b\\u202c\\u202d\\u202e\\u2066\\u2067\\u2068\\u2069');
    // Neighbours of those ranges are ordinary punctuation and stay as they are.
    expect(escapeBytes(utf8('\u2030\u202f\u2065\u206a…'))).toBe('\u2030\u202f\u2065\u206a…');
  });

  it('escapes what is invisible or breaks lines unseen: soft hyphen, zero-width, marks, separators, BOM', () => {
    const all = '\u00ad\u200b\u200c\u200d\u200e\u200f\u2028\u2029\ufeff';
    expect(escapeBytes(utf8(`a${all}b`))).toBe('a\\u00ad\\u200b\\u200c\\u200d\\u200e\\u200f\\u2028\\u2029\\ufeffb');
    expect(terminalSafeJson(JSON.stringify(all))).toBe('"\\u00ad\\u200b\\u200c\\u200d\\u200e\\u200f\\u2028\\u2029\\ufeff"');
    expect(JSON.parse(terminalSafeJson(JSON.stringify(all)))).toBe(all);
    // Their neighbours are ordinary characters.
    expect(escapeBytes(utf8('\u00ac\u00ae\u200a\u2010\u2027\ufefe'))).toBe('\u00ac\u00ae\u200a\u2010\u2027\ufefe');
  });

  it('escapes the Arabic letter mark (a bidi control) and the word joiner family, in text and in JSON', () => {
    expect(escapeBytes(utf8('\u061cALM\u2060wj\u2064'))).toBe('\\u061cALM\\u2060wj\\u2064');
    // Arabic letters around them stay as they are: only the marks are escaped.
    expect(escapeBytes(utf8('\u0627\u061c\u0628'))).toBe('\u0627\\u061c\u0628');
    expect(escapeBytes(utf8('\u2065\u2066'))).toBe('\u2065\\u2066');
    const safe = terminalSafeJson(JSON.stringify('a\u061cb\u2060c'));
    expect(safe).toBe('"a\\u061cb\\u2060c"');
    expect(JSON.parse(safe)).toBe('a\u061cb\u2060c');
  });

  it('escapes every byte that is not part of valid UTF-8', () => {
    expect(escapeBytes(hex('fffe'))).toBe('\\xff\\xfe');
    expect(escapeBytes(hex('41 80 42'))).toBe('A\\x80B');
    expect(escapeBytes(hex('e282'))).toBe('\\xe2\\x82');
    expect(escapeBytes(hex('e282 41'))).toBe('\\xe2\\x82A');
    expect(escapeBytes(hex('c0af'))).toBe('\\xc0\\xaf');
    expect(escapeBytes(hex('e08080'))).toBe('\\xe0\\x80\\x80');
    expect(escapeBytes(hex('eda080'))).toBe('\\xed\\xa0\\x80');
    expect(escapeBytes(hex('f4908080'))).toBe('\\xf4\\x90\\x80\\x80');
    // Valid text around invalid bytes is kept as text.
    expect(escapeBytes(Buffer.concat([utf8('é'), hex('ff'), utf8('日本')]))).toBe('é\\xff日本');
  });

  it('doubles backslashes so escapes in the payload stay distinguishable', () => {
    expect(escapeBytes(utf8('C:\\temp'))).toBe('C:\\\\temp');
    // The literal text `\x1b` and the byte ESC must not print the same.
    expect(escapeBytes(utf8('\\x1b'))).not.toBe(escapeBytes(hex('1b')));
  });

  it('leaves nothing a terminal would act on, for every byte and every C1 / bidi code point', () => {
    const all = Buffer.alloc(256);
    for (let b = 0; b < 256; b++) all[b] = b;
    expect(escapeBytes(all)).not.toMatch(TERMINAL_UNSAFE);
    let cps = '';
    for (let c = 0x80; c <= 0x9f; c++) cps += String.fromCharCode(c);
    cps += '\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069';
    expect(escapeBytes(utf8(cps))).not.toMatch(TERMINAL_UNSAFE);
  });
});

describe('terminalSafeJson', () => {
  it('escapes DEL, C1 and bidi as JSON \\u escapes that parse back to the same string', () => {
    const s = 'a\u007fb\u009bc\u202ed\\e"';
    const safe = terminalSafeJson(JSON.stringify(s));
    expect(safe).toBe('"a\\u007fb\\u009bc\\u202ed\\\\e\\""');
    expect(JSON.parse(safe)).toBe(s);
  });
});

describe('compactJson', () => {
  it('compacts objects and arrays', () => {
    expect(compactJson('{ "a" : 1,\n  "b": [1, 2, {"c": null}] }')).toBe('{"a":1,"b":[1,2,{"c":null}]}');
    expect(compactJson('  [ true , false ]  ')).toBe('[true,false]');
  });

  it('indents like JSON.stringify when asked', () => {
    const text = '{"a":1,"b":[1,{"c":"x y"}],"e":{},"f":[]}';
    expect(compactJson(text, 2)).toBe(JSON.stringify(JSON.parse(text), null, 2));
    expect(compactJson(text, 4)).toBe(JSON.stringify(JSON.parse(text), null, 4));
    expect(compactJson('[ {  } , [ ] ]', 2)).toBe('[\n  {},\n  []\n]');
  });

  it('keeps numbers exactly as published, where JSON.parse would round them', () => {
    expect(compactJson('{"id": 12345678901234567890, "price": 1.50}')).toBe(
      '{"id":12345678901234567890,"price":1.50}',
    );
  });

  it('leaves whitespace and structural characters inside strings alone', () => {
    expect(compactJson('{"k": "a , b : [ ] { }  \\" x"}')).toBe('{"k":"a , b : [ ] { }  \\" x"}');
  });

  it('returns undefined for anything that is not a JSON object or array', () => {
    expect(compactJson('hello')).toBeUndefined();
    expect(compactJson('42')).toBeUndefined();
    expect(compactJson('"a string"')).toBeUndefined();
    expect(compactJson('{not json')).toBeUndefined();
    expect(compactJson('[1,]')).toBeUndefined();
    expect(compactJson('')).toBeUndefined();
    expect(compactJson('{"a":1} trailing')).toBeUndefined();
  });

  it('makes the output terminal-safe while keeping its meaning', () => {
    const text = '{"name":"abc\u202edef","c1":"\u009b2J","del":"\u007f"}';
    const out = compactJson(text);
    expect(out).toBeDefined();
    expect(out).not.toMatch(TERMINAL_UNSAFE);
    expect(JSON.parse(out ?? '')).toEqual(JSON.parse(text));
  });

  it('never throws, whatever it is given', () => {
    for (const t of ['{', '[[[[', '{"a":}', '\u0000{}', '[\u001b]', '{"a":"\u0000"}']) {
      expect(() => compactJson(t)).not.toThrow();
      expect(compactJson(t)).toBeUndefined();
    }
  });
});

describe('codePointLength', () => {
  it('counts a surrogate pair once', () => {
    expect(codePointLength('a😀b')).toBe(3);
    expect(codePointLength('日本')).toBe(2);
    expect(codePointLength('')).toBe(0);
  });
});

describe('truncateText', () => {
  it('returns text that fits unchanged', () => {
    expect(truncateText('hello', 5)).toBe('hello');
    expect(truncateText('😀😀😀', 3)).toBe('😀😀😀');
  });

  it('cuts and appends a marker with the number of characters removed, within maxChars', () => {
    const out = truncateText('abcdefghijklmnopqrstuvwxyz', 10);
    expect(out).toBe('abcd…(+22)');
    expect(codePointLength(out)).toBeLessThanOrEqual(10);
    expect(codePointLength(out)).toBe(10);
  });

  it('keeps the total within maxChars when the count needs more digits', () => {
    const text = 'x'.repeat(1000);
    for (const max of [8, 9, 10, 50, 999]) {
      const out = truncateText(text, max);
      expect(codePointLength(out)).toBeLessThanOrEqual(max);
      const m = /^(x*)…\(\+(\d+)\)$/.exec(out);
      expect(m).not.toBeNull();
      expect((m?.[1]?.length ?? 0) + Number(m?.[2])).toBe(1000);
    }
  });

  it('never splits a surrogate pair', () => {
    const out = truncateText('😀'.repeat(20), 8);
    expect(out).toBe('😀😀…(+18)');
    expect(Buffer.from(out, 'utf8').toString('utf8')).toBe(out);
  });

  it('never splits an escape sequence', () => {
    const escaped = escapeBytes(utf8('ab\u001bcdefghijklmnopqrstuvwxyz'));
    expect(escaped.startsWith('ab\\x1b')).toBe(true);
    // Room for 5 kept characters: `ab`, then the 4-character `\x1b` does not fit, so it goes whole.
    expect(truncateText(escaped, 10)).toBe('ab…(+28)');
    expect(truncateText(escapeBytes(utf8('a\u202e' + 'z'.repeat(30))), 10)).toBe('a…(+36)');
    // An escaped backslash is two characters that go together.
    expect(truncateText('a\\\\' + 'z'.repeat(30), 7)).toBe('a…(+32)');
  });

  it('returns a lone ellipsis when even the marker does not fit', () => {
    expect(truncateText('abcdefghij', 3)).toBe('…');
    expect(truncateText('abcdefghij', 0)).toBe('');
    expect(truncateText('abcdefghij', 5)).toBe('…');
    expect(truncateText('abcdefghij', 6)).toBe('a…(+9)');
    // When the first unit (here an escape) does not fit beside the marker, the marker stands alone.
    expect(truncateText('\\x1b' + 'z'.repeat(10), 6)).toBe('…(+14)');
  });
});
