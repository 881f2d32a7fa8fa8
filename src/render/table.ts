// The borderless cli-table3 table every report uses: cells measured plain and painted after.
import Table from 'cli-table3';
import type { Paint, Palette } from './color.js';
import { displayWidth } from './width.js';

export type Align = 'left' | 'right';

/** A cell is measured by its plain text and painted afterwards, so ANSI codes never count as width. */
export interface Cell {
  text: string;
  paint?: Paint;
  /** Columns this cell covers (the error of a node that is down). */
  span?: number;
}

const NO_BORDER = {
  top: '',
  'top-mid': '',
  'top-left': '',
  'top-right': '',
  bottom: '',
  'bottom-mid': '',
  'bottom-left': '',
  'bottom-right': '',
  left: '',
  'left-mid': '',
  mid: '',
  'mid-mid': '',
  right: '',
  'right-mid': '',
  middle: '  ',
};

/** Columns two spaces apart, a bold head (when given), no trailing spaces. */
export function renderTable(head: string[] | undefined, aligns: Align[], rows: Cell[][], p: Palette): string {
  return plainGrid(head, aligns, rows, p) ?? cliTable(head, aligns, rows, p);
}

/**
 * The same layout for the common table (one line per cell, no spans, every row as wide as the
 * others), laid out here in linear time: cli-table3 takes time quadratic in the rows (8,000 rows,
 * a `check` of 8,000 channels, took 8 s). Undefined for a table only cli-table3 lays out.
 */
function plainGrid(head: string[] | undefined, aligns: Align[], rows: Cell[][], p: Palette): string | undefined {
  const columns = head?.length ?? rows[0]?.length ?? 0;
  if (columns === 0) return undefined;
  const lines: Cell[][] = head ? [head.map((text) => ({ text, paint: p.bold })), ...rows] : rows;
  for (const row of lines) {
    if (row.length !== columns) return undefined;
    for (const cell of row) if ((cell.span !== undefined && cell.span > 1) || cell.text.includes('\n')) return undefined;
  }
  // cli-table3 gives even an all-empty column one cell.
  const widths = new Array<number>(columns).fill(1);
  for (const row of lines) row.forEach((cell, i) => (widths[i] = Math.max(widths[i]!, displayWidth(cell.text))));
  return lines
    .map((row) =>
      row
        .map((cell, i) => {
          const pad = ' '.repeat(widths[i]! - displayWidth(cell.text));
          const text = cell.paint ? cell.paint(cell.text) : cell.text;
          return aligns[i] === 'right' ? pad + text : text + pad;
        })
        .join(NO_BORDER.middle)
        .trimEnd(),
    )
    .join('\n');
}

/** cli-table3's layout: for spans and multi-line cells, and the reference the layout above is tested against. */
export function cliTable(head: string[] | undefined, aligns: Align[], rows: Cell[][], p: Palette): string {
  const table = new Table({
    head: head ? head.map((h) => p.bold(h)) : [],
    chars: NO_BORDER,
    // Empty style lists keep cli-table3 from adding colours of its own, even when ours are off.
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 0 },
    colAligns: aligns,
  });
  for (const row of rows) {
    table.push(
      row.map((cell) => {
        const content = cell.paint ? cell.paint(cell.text) : cell.text;
        return cell.span && cell.span > 1 ? { content, colSpan: cell.span, hAlign: 'left' as const } : content;
      }),
    );
  }
  return table
    .toString()
    .split('\n')
    .map((line) => line.trimEnd())
    .join('\n');
}
