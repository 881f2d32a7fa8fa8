// Renders one `watch` snapshot: as tables for people, or as the stable JSON shape for machines.

import type { ChannelRow, NodeRow, Snapshot } from '../stats/snapshot.js';
import type { OutputBufferLimit } from '../stats/output-buffer-limit.js';
import { renderTable, type Align, type Cell } from './table.js';
import { makePalette, type Palette } from './color.js';
import { escapeText } from './escape.js';
import { ellipsize } from './truncate.js';
import { formatBytes, formatCount, formatLocalTime, formatRate, UNKNOWN } from './format.js';
import { plural } from '../stats/plural.js';

export interface RenderSnapshotOptions {
  /** Paint with ANSI colours. */
  color: boolean;
  /** Terminal columns: channel names are cut to fit. Absent (not a terminal): nothing is cut. */
  width?: number;
  /** Add the MSG/S column (per-channel rates from the sampler). */
  showRates: boolean;
  /** Replaces `pubsub-mon` at the start of the header line. */
  title?: string;
}

/** Below this a cut name stops being recognisable, so the table overflows instead. */
const MIN_NAME_WIDTH = 16;
const COLUMN_GAP = '  ';

interface Column {
  head: string;
  align: Align;
}


function width(s: string): number {
  return Array.from(s).length;
}

/** Natural width of every column, from the header and the cells that cover one column only. */
function columnWidths(columns: Column[], rows: Cell[][]): number[] {
  const widths = columns.map((c) => width(c.head));
  for (const row of rows) {
    let col = 0;
    for (const cell of row) {
      const span = cell.span ?? 1;
      if (span === 1) widths[col] = Math.max(widths[col] ?? 0, width(cell.text));
      col += span;
    }
  }
  return widths;
}

/** Room for a cell spanning columns; `gap` is what the layout puts between two of them. */
function spannedWidth(widths: number[], from: number, span: number, gap = COLUMN_GAP.length): number {
  let total = gap * (span - 1);
  for (let i = from; i < from + span; i++) total += widths[i] ?? 0;
  return total;
}

function renderColumns(columns: Column[], rows: Cell[][], p: Palette): string {
  return renderTable(columns.map((c) => c.head), columns.map((c) => c.align), rows, p);
}

function headerLine(s: Snapshot, opts: RenderSnapshotOptions, p: Palette): string {
  const down = s.nodes.filter((n) => !n.up).length;
  const nodes = plural(s.nodes.length, 'node') + (down > 0 ? `, ${p.red(`${down} down`)}` : '');
  return [
    p.bold(escapeText(opts.title ?? 'pubsub-mon')),
    s.mode,
    nodes,
    formatLocalTime(s.time, { date: true }),
    `publish ${formatRate(s.publishPerSec)}`,
  ].join(' · ');
}

const CHANNEL_COLUMNS: Column[] = [
  { head: 'CHANNEL', align: 'left' },
  { head: 'KIND', align: 'left' },
  { head: 'SUBSCRIBERS', align: 'right' },
  { head: 'SLOT', align: 'right' },
  { head: 'SHARD', align: 'left' },
];
const RATE_COLUMN: Column = { head: 'MSG/S', align: 'right' };

function channelCells(row: ChannelRow, showRates: boolean, p: Palette): Cell[] {
  const isShard = row.kind === 'shard';
  const cells: Cell[] = [
    { text: escapeText(row.name) },
    // A bench run's channels are real traffic, but pubsub-mon's own: said where the kind is.
    { text: row.pubsubMon === 'bench' ? `${row.kind}, bench` : row.kind },
    // Zero is worth the eye: nobody but a possible pattern subscriber hears this channel.
    { text: formatCount(row.subscribers), ...(row.subscribers === 0 ? { paint: p.yellow } : {}) },
    { text: isShard && row.slot !== undefined ? String(row.slot) : UNKNOWN },
    { text: isShard && row.shard !== undefined ? escapeText(row.shard) : UNKNOWN },
  ];
  if (showRates) cells.push({ text: formatRate(row.rate) });
  return cells;
}

function channelSection(s: Snapshot, opts: RenderSnapshotOptions, p: Palette): string {
  const lines: string[] = [];
  if (s.channels.length === 0) {
    lines.push('no channels with subscribers');
  } else {
    const columns = opts.showRates ? [...CHANNEL_COLUMNS, RATE_COLUMN] : CHANNEL_COLUMNS;
    const rows = s.channels.map((c) => channelCells(c, opts.showRates, p));
    if (opts.width !== undefined) {
      const widths = columnWidths(columns, rows);
      const others = spannedWidth(widths, 1, columns.length - 1) + COLUMN_GAP.length;
      const nameMax = Math.max(MIN_NAME_WIDTH, opts.width - others);
      for (const row of rows) {
        const name = row[0];
        if (name) name.text = ellipsize(name.text, nameMax);
      }
    }
    lines.push(renderColumns(columns, rows, p));
  }
  if (s.patternsPresent) {
    // NUMSUB leaves pattern subscribers out, so SUBSCRIBERS alone can understate who hears a channel.
    lines.push(
      p.yellow('pattern subscriptions exist: PSUBSCRIBE clients are not counted in SUBSCRIBERS'),
    );
  }
  return lines.join('\n');
}

const NODE_COLUMNS: Column[] = [
  { head: 'ADDRESS', align: 'left' },
  { head: 'ROLE', align: 'left' },
  { head: 'VERSION', align: 'left' },
  { head: 'CLIENTS', align: 'right' },
  { head: 'PUBSUB CLIENTS', align: 'right' },
  { head: 'PATTERNS', align: 'right' },
  { head: 'OPS/S', align: 'right' },
  { head: 'PUBLISH/S', align: 'right' },
  { head: 'MAX SUB OBUF', align: 'right' },
  { head: 'OBUF DISCONN', align: 'right' },
];
/** ADDRESS, ROLE and the DOWN marker stay; the error covers the rest. */
const DOWN_ERROR_FROM = 3;
const DOWN_ERROR_SPAN = NODE_COLUMNS.length - DOWN_ERROR_FROM;

/** `used / hard limit`, painted by how close `used` is to the soft limit that starts the disconnect clock. */
function outputBufferCell(omem: number | undefined, limit: OutputBufferLimit | undefined, p: Palette): Cell {
  if (omem === undefined) return { text: UNKNOWN };
  if (limit === undefined) return { text: `${formatBytes(omem)} / ${UNKNOWN}` };
  // A hard limit of 0 disables it (Redis semantics), so there is nothing to be cut off by.
  const hard = limit.hardBytes > 0 ? formatBytes(limit.hardBytes) : 'no limit';
  const text = `${formatBytes(omem)} / ${hard}`;
  // With the soft limit disabled the hard one is the only threshold left.
  const threshold = limit.softBytes > 0 ? limit.softBytes : limit.hardBytes;
  if (threshold > 0 && omem > threshold) return { text, paint: p.red };
  if (threshold > 0 && omem > threshold / 2) return { text, paint: p.yellow };
  return { text };
}

function publishCell(n: NodeRow, p: Palette): Cell {
  const rate = formatRate(n.publishPerSec);
  if (n.publishReplicated !== true) return { text: rate };
  const suffix = ' (repl)';
  return { text: rate + suffix, paint: (t) => t.slice(0, -suffix.length) + p.dim(suffix) };
}

function nodeCells(n: NodeRow, p: Palette): Cell[] {
  const head: Cell[] = [{ text: escapeText(n.address) }, { text: n.role }];
  if (!n.up) {
    return [
      ...head,
      { text: 'DOWN', paint: p.red },
      { text: escapeText(n.error ?? 'unreachable'), span: DOWN_ERROR_SPAN, paint: p.red },
    ];
  }
  const disconnections = n.obufDisconnections;
  return [
    ...head,
    { text: n.version !== undefined ? escapeText(n.version) : UNKNOWN },
    { text: formatCount(n.clients) },
    { text: formatCount(n.pubsubClients) },
    { text: formatCount(n.numpat) },
    { text: formatRate(n.opsPerSec) },
    publishCell(n, p),
    outputBufferCell(n.maxSubscriberOmem, n.pubsubLimit, p),
    {
      text: formatCount(disconnections),
      ...(disconnections !== undefined && disconnections > 0 ? { paint: p.red } : {}),
    },
  ];
}

function nodeSection(s: Snapshot, p: Palette): string {
  const rows = s.nodes.map((n) => nodeCells(n, p));
  // A long error would widen every column it spans; cut it to the room the other rows leave.
  const widths = columnWidths(NODE_COLUMNS, rows);
  // cli-table3 counts one border column between spanned cells whatever `middle` holds, so an
  // error wider than that budget would still push the columns apart.
  const room = spannedWidth(widths, DOWN_ERROR_FROM, DOWN_ERROR_SPAN, 1);
  for (const row of rows) {
    const error = row[DOWN_ERROR_FROM];
    if (error?.span !== undefined) error.text = ellipsize(error.text, room);
  }
  return renderColumns(NODE_COLUMNS, rows, p);
}

/**
 * The whole `watch` screen: header line, channel table, node table, then one `! ` line per warning.
 * Ends with a newline.
 */
export function renderSnapshot(s: Snapshot, opts: RenderSnapshotOptions): string {
  const p = makePalette(opts.color);
  const sections = [headerLine(s, opts, p), channelSection(s, opts, p)];
  if (s.nodes.length > 0) sections.push(nodeSection(s, p));
  const warnings = s.warnings.map((w) => p.yellow(`! ${escapeText(w)}`));
  if (warnings.length > 0) sections.push(warnings.join('\n'));
  return `${sections.join('\n\n')}\n`;
}
