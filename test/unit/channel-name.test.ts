// Unit tests for channel names as bytes: an exact round trip for any bytes, text names unchanged.
import { describe, it, expect } from 'vitest';
import { byteString, decodeName, encodeName, globFromArgument, hasRawBytes, nameFromArgument } from '../../src/stats/channel-name.js';
import { globMatch } from '../../src/stats/glob.js';
import { escapeText } from '../../src/render/escape.js';
import { hashSlot } from '../../src/stats/hash-slot.js';

const hex = (h: string) => Buffer.from(h.replace(/\s+/g, ''), 'hex');

describe('decodeName / encodeName', () => {
  it('leaves valid UTF-8 as the text it is', () => {
    for (const text of ['orders', '{user:1}:events', 'café', '日本', '😀', '']) {
      expect(decodeName(Buffer.from(text, 'utf8'))).toBe(text);
      expect(encodeName(text)).toEqual(Buffer.from(text, 'utf8'));
      expect(hasRawBytes(text)).toBe(false);
    }
  });

  it('keeps every byte of invalid UTF-8, and gives the same bytes back', () => {
    for (const h of ['ff', '66 ff 6f', 'c3', 'e2 82', 'c0 af', 'ed a0 80', 'f8 88 80 80 80', '80 81 fe', 'c3 a9 ff c3 a9']) {
      const bytes = hex(h);
      const name = decodeName(bytes);
      expect(hasRawBytes(name)).toBe(true);
      expect(encodeName(name)).toEqual(bytes);
      expect(name).not.toContain('\ufffd');
    }
  });

  it('round-trips every byte value alone and random buffers', () => {
    for (let b = 0; b < 256; b++) expect(encodeName(decodeName(Buffer.of(b)))).toEqual(Buffer.of(b));
    let seed = 7;
    for (let n = 0; n < 300; n++) {
      const bytes = Buffer.alloc(n % 17);
      for (let i = 0; i < bytes.length; i++) {
        seed = (seed * 1103515245 + 12345) >>> 0;
        bytes[i] = seed >>> 24;
      }
      expect(encodeName(decodeName(bytes))).toEqual(bytes);
    }
  });

  it('tells two names apart whenever their bytes differ: no two decode alike', () => {
    expect(decodeName(hex('ff'))).not.toBe(decodeName(hex('fe')));
    expect(decodeName(hex('ff'))).not.toBe(decodeName(Buffer.from('\ufffd', 'utf8')));
  });

  it('shows kept bytes as \\xNN, and hashes them as bytes', () => {
    expect(escapeText(decodeName(hex('66 ff 6f')))).toBe('f\\xffo');
    expect(hashSlot(decodeName(hex('7b ff 7d 78')))).toBe(hashSlot(hex('7b ff 7d 78')));
    expect(hashSlot(decodeName(hex('7b ff 7d 78')))).toBe(hashSlot(hex('ff')));
  });

  it('compares byte by byte for globs', () => {
    expect(byteString('é')).toBe('\u00c3\u00a9');
    expect(byteString(decodeName(hex('ff')))).toBe('\u00ff');
  });
});

describe('nameFromArgument', () => {
  it('reads the escapes names are shown with, so a shown name can be typed back', () => {
    expect(nameFromArgument('f\\xffo')).toBe(decodeName(hex('66 ff 6f')));
    expect(nameFromArgument('caf\\xc3\\xa9')).toBe('café');
    expect(nameFromArgument('a\\u202eb')).toBe('a\u202eb');
    expect(nameFromArgument('tab\\tnl\\ncr\\r')).toBe('tab\tnl\ncr\r');
    expect(nameFromArgument('back\\\\slash')).toBe('back\\slash');
    for (const shown of ['f\\xffo', 'x\\x1b[2J', 'a\\u200bb', 'p\\\\q']) expect(escapeText(nameFromArgument(shown))).toBe(shown);
  });

  it('takes anything else literally', () => {
    expect(nameFromArgument('orders')).toBe('orders');
    expect(nameFromArgument('a\\qb')).toBe('a\\qb');
    expect(nameFromArgument('\\x4')).toBe('\\x4');
  });
});

describe('globFromArgument', () => {
  it('turns the byte and character escapes names are shown with into those bytes, and leaves glob escapes alone', () => {
    expect(globFromArgument('news:*')).toBe('news:*');
    expect(encodeName(globFromArgument('f\\xff*'))).toEqual(Buffer.from([0x66, 0xff, 0x2a]));
    expect(globFromArgument('multi\\nline*')).toBe('multi\nline*');
    expect(globFromArgument('caf\\u00e9')).toBe('caf\u00e9');
    // Glob escapes stay escapes: \\ is a literal backslash for the glob, \* a literal star.
    expect(globFromArgument('a\\\\b')).toBe('a\\\\b');
    expect(globFromArgument('a\\*b')).toBe('a\\*b');
    // An escaped backslash before x41 is not a byte escape.
    expect(globFromArgument('\\\\x41')).toBe('\\\\x41');
    expect(globFromArgument('\\xZZ')).toBe('\\xZZ');
  });

  it('matches what watch shows: a name with a raw byte or an escape character, typed back', () => {
    const shown = (name: string) => escapeText(name);
    const names = ['f\xffo', 'evil\x1bZ', 'a\\b', 'tab\there'].map((n) => decodeName(Buffer.from(n, 'latin1')));
    for (const name of names) {
      const glob = globFromArgument(shown(name).replace(/\*/g, '\\*'));
      expect(globMatch(byteString(glob), byteString(name)), `${shown(name)}`).toBe(true);
    }
  });
});
