// The borderless cli-table3 table every report uses: cells measured plain and painted after.
import Table from 'cli-table3';
import type { Paint, Palette } from './color.js';

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
