// A table laid out to a terminal's width: short headers first, then whole columns dropped in a fixed order, then the one flexible column cut.
import type { Palette } from './color.js';
import type { Align, Cell } from './table.js';
import { clipLine, displayWidth, fitMiddle, fitWidth } from './width.js';

export interface GridColumn {
  head: string;
  /** A shorter header, used once the full ones no longer fit. */
  short?: string;
  align: Align;
  /** Columns go in ascending order of `drop` when the table is too wide; absent: never dropped. */
  drop?: number;
  /** The column that gives way (channel or client name): cut with `…` to what the others leave. */
  flex?: boolean;
}

export interface GridOptions {
  /** Terminal columns; absent (not a terminal): natural widths, nothing dropped or cut. */
  width?: number;
  /** Bold headers and painted cells. */
  palette: Palette;
  /** Only rows `[from, to)` are formatted (a scrolled page); widths still come from every row. */
  window?: readonly [number, number];
}

export interface Grid {
  /** Header line first; no line is wider than `width`. */
  lines: string[];
  /** Headers of the columns dropped for width, in the order they went. */
  hidden: string[];
}

const GAP = '  ';
/** The flexible column is cut no further than this while a column can still be dropped. */
const PREFERRED_FLEX_SHARE = 0.4;
const MIN_FLEX = 16;

/** Natural width of each column from the header and the cells that cover one column only. */
function naturalWidths(heads: readonly string[], rows: readonly Cell[][]): number[] {
  const widths = heads.map(displayWidth);
  for (const row of rows) {
    let col = 0;
    for (const cell of row) {
      const span = cell.span ?? 1;
      if (span === 1) widths[col] = Math.max(widths[col] ?? 0, displayWidth(cell.text));
      col += span;
    }
  }
  return widths;
}

function total(widths: readonly number[], keep: readonly number[]): number {
  return keep.reduce((sum, i) => sum + (widths[i] ?? 0), 0) + GAP.length * Math.max(0, keep.length - 1);
}

/** Lays the table out to `width`: which columns stay, how wide each is. */
function plan(columns: readonly GridColumn[], rows: readonly Cell[][], width: number | undefined) {
  let heads = columns.map((c) => c.head);
  let widths = naturalWidths(heads, rows);
  let keep = columns.map((_, i) => i);
  const flex = columns.findIndex((c) => c.flex);
  const hidden: string[] = [];
  if (width === undefined) return { heads, widths, keep, hidden };
  if (total(widths, keep) > width && columns.some((c) => c.short)) {
    heads = columns.map((c) => c.short ?? c.head);
    widths = naturalWidths(heads, rows);
  }
  const natural = flex >= 0 ? (widths[flex] ?? 0) : 0;
  // The name is what the table is about: columns go before it is cut below a readable share.
  const wanted = Math.min(natural, Math.max(MIN_FLEX, Math.floor(width * PREFERRED_FLEX_SHARE)));
  const droppable = columns
    .map((c, i) => ({ i, drop: c.drop }))
    .filter((c): c is { i: number; drop: number } => c.drop !== undefined)
    .sort((a, b) => a.drop - b.drop);
  const tooWide = () => total(widths, keep) - natural + wanted > width;
  while (tooWide() && droppable.length > 0) {
    const { i } = droppable.shift()!;
    keep = keep.filter((k) => k !== i);
    hidden.push(columns[i]!.head);
  }
  if (flex >= 0) {
    const others = total(widths, keep) - natural;
    widths[flex] = Math.max(Math.min(natural, 1), Math.min(natural, width - others));
  }
  return { heads, widths, keep, hidden };
}

/** A cell with its place decided: the width it gets, and whether it is cut in the middle (a name) or at the end. */
interface PlacedCell {
  text: string;
  paint?: (s: string) => string;
  width: number;
  align: Align;
  middle?: boolean;
}

/** Renders the header and the rows of `window` (all rows without one); every line fits `width` when one is given. */
export function layoutGrid(columns: readonly GridColumn[], rows: readonly Cell[][], opts: GridOptions): Grid {
  // Widths come from every row, so columns hold still while the list scrolls; only the rows shown are formatted.
  const { heads, widths, keep, hidden } = plan(columns, rows, opts.width);
  const kept = new Set(keep);
  const line = (cells: PlacedCell[]) => {
    let planned = 0;
    const text = cells
      .map((c, n) => {
        const fitted = c.middle ? fitMiddle(c.text, c.width) : fitWidth(c.text, c.width);
        const room = c.width - displayWidth(fitted);
        const painted = c.paint ? c.paint(fitted) : fitted;
        planned += c.width + (n > 0 ? GAP.length : 0);
        // The last cell is not padded: no line ends in spaces.
        if (room <= 0 || (n === cells.length - 1 && c.align === 'left')) return painted;
        return c.align === 'left' ? painted + ' '.repeat(room) : ' '.repeat(room) + painted;
      })
      .join(GAP)
      .trimEnd();
    // Only columns that cannot give way any further (a terminal a few columns wide) overrun the width.
    return opts.width === undefined || planned <= opts.width ? text : clipLine(text, opts.width);
  };
  const lines = [
    line(keep.map((i) => ({ text: heads[i]!, paint: opts.palette.bold, width: widths[i]!, align: columns[i]!.align }))),
  ];
  const [from, to] = opts.window ?? [0, rows.length];
  for (const row of rows.slice(from, to)) {
    const cells: PlacedCell[] = [];
    let col = 0;
    for (const cell of row) {
      const span = cell.span ?? 1;
      const covered = Array.from({ length: span }, (_, k) => col + k).filter((i) => kept.has(i));
      col += span;
      if (covered.length === 0) continue;
      const w = covered.reduce((sum, i) => sum + widths[i]!, 0) + GAP.length * (covered.length - 1);
      const align = span > 1 ? 'left' : columns[covered[0]!]!.align;
      cells.push({ text: cell.text, ...(cell.paint ? { paint: cell.paint } : {}), width: w, align, middle: span === 1 && columns[covered[0]!]!.flex === true });
    }
    lines.push(line(cells));
  }
  return { lines, hidden };
}
