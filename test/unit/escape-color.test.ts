// Unit tests for terminal safety of text (escapeText, the same escapes as escapeBytes) and the colour helpers.
import { describe, it, expect } from 'vitest';
import { escapeText } from '../../src/render/escape.js';
import { makePalette, stableColor } from '../../src/render/color.js';

describe('escapeText', () => {
  it('escapes C0 controls and DEL as \\xNN (\\n \\t \\r by name), C1 controls as \\uNNNN', () => {
    expect(escapeText('a\u001b[2Jb')).toBe('a\\x1b[2Jb');
    expect(escapeText('\u0000\n\t\r')).toBe('\\x00\\n\\t\\r');
    expect(escapeText('x\u007fy')).toBe('x\\x7fy');
    expect(escapeText('\u0080\u009b\u009f')).toBe('\\u0080\\u009b\\u009f');
  });
  it('keeps printable text, including non-ASCII, unchanged', () => {
    const text = 'orders:{eu}/ü-日本-😀 ~!';
    expect(escapeText(text)).toBe(text);
    expect(escapeText('\u00a0\u00ff')).toBe('\u00a0\u00ff');
  });
  it('leaves no control character behind in any input', () => {
    let all = '';
    for (let c = 0; c < 0x100; c++) all += String.fromCharCode(c);
    expect(escapeText(all)).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
  });
});

describe('makePalette', () => {
  it('is the identity when colour is off', () => {
    const p = makePalette(false);
    for (const paint of [p.red, p.yellow, p.green, p.dim, p.bold, p.cyan]) expect(paint('x')).toBe('x');
  });
  it('wraps text in SGR codes when colour is on', () => {
    const p = makePalette(true);
    expect(p.red('x')).toBe('\u001b[31mx\u001b[39m');
    expect(p.bold('x')).toBe('\u001b[1mx\u001b[22m');
    expect(p.dim('x')).toBe('\u001b[2mx\u001b[22m');
  });
});

describe('stableColor', () => {
  it('returns the name untouched when colour is off', () => {
    expect(stableColor('orders', false)).toBe('orders');
  });
  it('gives one name the same colour every time', () => {
    expect(stableColor('orders', true)).toBe(stableColor('orders', true));
    expect(stableColor('orders', true)).toMatch(/^\u001b\[\d+morders\u001b\[39m$/);
  });
  it('spreads names over several colours and never uses red', () => {
    const codes = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const m = /^\u001b\[(\d+)m/.exec(stableColor(`channel-${i}`, true));
      expect(m).not.toBeNull();
      codes.add(m?.[1] ?? '');
    }
    expect(codes.size).toBeGreaterThanOrEqual(5);
    expect(codes.has('31')).toBe(false);
  });
});
