// renderTable lays out plain tables itself (cli-table3 is quadratic in rows): it must print exactly
// what cli-table3 prints for them, and hand cli-table3 the tables only it lays out.
import { describe, expect, it } from 'vitest';
import { cliTable, renderTable, type Align, type Cell } from '../../src/render/table.js';
import { makePalette } from '../../src/render/color.js';
import { rng } from '../helpers/bench-fixtures.js';

const WORDS = ['', 'a', 'orders', 'news:eu', '12.3 k/s', '–', 'µs', '日本語', 'café', '\u001b[31m', 'a b  c', '  lead', 'trail  ', '😀'];

function randomTable(random: () => number): { head: string[] | undefined; aligns: Align[]; rows: Cell[][]; color: boolean } {
  const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
  const columns = 1 + Math.floor(random() * 6);
  const color = random() < 0.5;
  const p = makePalette(color);
  const aligns = Array.from({ length: columns }, () => pick(['left', 'right'] as const));
  const head = random() < 0.5 ? Array.from({ length: columns }, () => pick(['NAME', 'SUBS', 'P99.9', 'ADDRESS', ''])) : undefined;
  const rows = Array.from({ length: Math.floor(random() * 8) + 1 }, () =>
    Array.from({ length: columns }, (): Cell => {
      const text = pick(WORDS).replace('\u001b', '\\x1b');
      return random() < 0.3 ? { text, paint: pick([p.red, p.bold, p.dim]) } : { text };
    }),
  );
  return { head, aligns, rows, color };
}

describe('renderTable', () => {
  it('prints what cli-table3 prints, over random plain tables (widths, alignment, colour, wide characters)', () => {
    const random = rng(42);
    for (let round = 0; round < 500; round++) {
      const t = randomTable(random);
      const p = makePalette(t.color);
      expect(renderTable(t.head, t.aligns, t.rows, p), JSON.stringify(t)).toBe(cliTable(t.head, t.aligns, t.rows, p));
    }
  });

  it('leaves spans and multi-line cells to cli-table3, and gives the same there', () => {
    const p = makePalette(false);
    const spanned: Cell[][] = [
      [{ text: '127.0.0.1:7000' }, { text: 'up' }, { text: '3' }],
      [{ text: '127.0.0.1:7001' }, { text: 'down: connection refused', span: 2 }],
    ];
    expect(renderTable(['ADDRESS', 'STATE', 'SUBS'], ['left', 'left', 'right'], spanned, p)).toBe(cliTable(['ADDRESS', 'STATE', 'SUBS'], ['left', 'left', 'right'], spanned, p));
    expect(renderTable(undefined, ['left', 'left'], spanned, p)).toContain('down: connection refused');
    const multi: Cell[][] = [[{ text: 'a\nb' }, { text: 'c' }]];
    expect(renderTable(undefined, ['left', 'left'], multi, p)).toBe(cliTable(undefined, ['left', 'left'], multi, p));
  });

  it('lays out 20,000 rows in well under a second (cli-table3 took 8 s for 8,000)', () => {
    const rows = Array.from({ length: 20_000 }, (_, i): Cell[] => [{ text: 'OK' }, { text: `channel:${i}` }, { text: String(i) }]);
    const started = performance.now();
    const out = renderTable(undefined, ['left', 'left', 'right'], rows, makePalette(false));
    expect(out.split('\n')).toHaveLength(20_000);
    expect(out.split('\n')[19_999]).toBe('OK  channel:19999  19999');
    // Generous for a loaded 2-core machine: the linear layout takes tens of milliseconds.
    expect(performance.now() - started).toBeLessThan(1500);
  });
});
