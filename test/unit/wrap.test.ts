// wrapParts and wrapText: the line breaking of reports that must fit a terminal.
import { describe, expect, it } from 'vitest';
import { displayWidth, wrapParts, wrapText } from '../../src/render/width.js';

describe('wrapParts', () => {
  it('keeps everything on one line without a width', () => {
    expect(wrapParts(['a', 'b', 'c'], ' · ')).toEqual(['a · b · c']);
  });

  it('breaks between parts and drops the separator at the break', () => {
    expect(wrapParts(['alpha', 'beta', 'gamma'], ' · ', 12)).toEqual(['alpha · beta', 'gamma']);
  });

  it('breaks a part wider than the line between its words, sharing a line where it fits', () => {
    expect(wrapParts(['ab', 'one two three four'], ' ', 9)).toEqual(['ab one', 'two three', 'four']);
  });

  it('cuts a word wider than the line into pieces as wide as the line (a long host name, text without spaces)', () => {
    expect(wrapParts(['x', 'abcdefghijkl', 'y'], ' ', 5)).toEqual(['x', 'abcde', 'fghij', 'kl y']);
    // A wide character is never split: a piece stops short rather than straddle the edge.
    expect(wrapParts(['日本語日本語'], ' ', 5)).toEqual(['日本', '語日', '本語']);
  });

  it('keeps a number and its unit on one line', () => {
    expect(wrapParts(['after p50 125 µs, p99 1.20 ms'], ' ', 14)).toEqual(['after p50', '125 µs, p99', '1.20 ms']);
    expect(wrapText('RSS 213 MiB (this process)', 10, 2)).toBe('RSS\n  213 MiB\n  (this\n  process)');
    // Only after a number: a word that merely looks like a unit is a word.
    expect(wrapParts(['ab s'], ' ', 2)).toEqual(['ab', 's']);
  });

  it('counts terminal columns, not code points: wide characters take two', () => {
    expect(wrapParts(['日本', '語'], ' ', 5)).toEqual(['日本', '語']);
    expect(wrapParts(['ab', 'cd'], ' ', 5)).toEqual(['ab cd']);
  });

  it('never makes a line wider than the width when every word fits, over random texts', () => {
    let seed = 7;
    const rand = (n: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
    for (let round = 0; round < 300; round++) {
      const words = Array.from({ length: 1 + rand(30) }, () => 'w'.repeat(1 + rand(9)));
      const parts = [];
      for (let i = 0; i < words.length; ) {
        const n = 1 + rand(6);
        parts.push(words.slice(i, i + n).join(' '));
        i += n;
      }
      const width = 10 + rand(50);
      const lines = wrapParts(parts, ' ', width);
      expect(lines.every((l) => displayWidth(l) <= width)).toBe(true);
      expect(lines.join(' ').split(' ')).toEqual(words);
    }
  });
});

describe('wrapText', () => {
  it('indents the lines after the first and wraps them to the narrower room', () => {
    expect(wrapText('aaa bbb ccc ddd eee', 8, 2)).toBe('aaa bbb\n  ccc\n  ddd\n  eee');
    expect(wrapText('aaa bbb ccc ddd eee', undefined)).toBe('aaa bbb ccc ddd eee');
  });
});
