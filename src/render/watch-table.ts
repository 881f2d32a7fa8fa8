// The tables of `watch`: channels and nodes laid out to the terminal's width, with the title line and warnings every view shares.
import type { ChannelRow, NodeRow, Snapshot } from '../stats/snapshot.js';
import type { OutputBufferLimit } from '../stats/output-buffer-limit.js';
import type { Cell } from './table.js';
import type { Palette } from './color.js';
import { escapeText } from './escape.js';
import { formatBytes, formatCount, formatLocalTime, formatRate, UNKNOWN } from './format.js';
import { layoutGrid, type Grid, type GridColumn } from './grid.js';
import { joinFitting } from './width.js';
import { plural } from '../stats/plural.js';

/**
 * `title · mode · N nodes · time · publish rate`, then what a view adds. Given a width, the least
 * important parts go first (the date, the mode, the publish rate) so the line never wraps.
 */
export function headerLine(s: Snapshot, title: string, p: Palette, extra: readonly string[] = [], width?: number): string {
  const down = s.nodes.filter((n) => !n.up).length;
  const nodes = plural(s.nodes.length, 'node') + (down > 0 ? `, ${p.red(`${down} down`)}` : '');
  const date = width === undefined || width >= 120;
  return joinFitting(
    [
      { text: p.bold(escapeText(title)), priority: 0 },
      { text: s.mode, priority: 5 },
      { text: nodes, priority: 1 },
      { text: formatLocalTime(s.time, { date }), priority: 3 },
      { text: `publish ${formatRate(s.publishPerSec)}`, priority: 4 },
      ...extra.map((text) => ({ text, priority: 1 })),
    ],
    ' · ',
    width,
  );
}

/**
 * Channel columns, and the order they give way on a narrow terminal: SLOT first, then SHARD, then
 * KIND. CHANNEL, SUBSCRIBERS and MSG/S always stay.
 */
const CHANNEL_COLUMNS: GridColumn[] = [
  { head: 'CHANNEL', align: 'left', flex: true },
  { head: 'KIND', align: 'left', drop: 3 },
  { head: 'SUBSCRIBERS', short: 'SUBS', align: 'right' },
  { head: 'SLOT', align: 'right', drop: 1 },
  { head: 'SHARD', align: 'left', drop: 2 },
];
const RATE_COLUMN: GridColumn = { head: 'MSG/S', align: 'right' };
/** Shown under a contract only; it never gives way, since a breach is what the contract is watched for. */
const CONTRACT_COLUMN: GridColumn = { head: 'CONTRACT', short: 'CTR', align: 'left' };

const CONTRACT_TEXT = { OK: 'ok', WARNING: 'WARN', CRITICAL: 'CRIT', UNKNOWN: '?' } as const;

function contractCell(row: ChannelRow, p: Palette): Cell {
  const c = row.contract;
  if (!c) return { text: '' };
  const paint = c.status === 'CRITICAL' ? p.red : c.status === 'WARNING' ? p.yellow : c.status === 'UNKNOWN' ? p.cyan : p.green;
  return { text: CONTRACT_TEXT[c.status], paint };
}

function channelCells(row: ChannelRow, showRates: boolean, p: Palette): Cell[] {
  const isShard = row.kind === 'shard';
  const cells: Cell[] = [
    { text: escapeText(row.name) },
    // A bench run's channels are real traffic, but pubsub-mon's own: said where the kind is.
    { text: row.pubsubMon ? `${row.kind}, ${row.pubsubMon === 'bench' ? 'bench' : 'bench control'}` : row.kind },
    // Zero is worth the eye: nobody but a possible pattern subscriber hears this channel.
    { text: formatCount(row.subscribers), ...(row.subscribers === 0 ? { paint: p.yellow } : {}) },
    { text: isShard && row.slot !== undefined ? String(row.slot) : UNKNOWN },
    { text: isShard && row.shard !== undefined ? escapeText(row.shard) : UNKNOWN },
  ];
  if (showRates) cells.push({ text: formatRate(row.rate) });
  return cells;
}

/** The channel table; `rows` are already sorted and cut to what is shown. */
export function channelGrid(rows: readonly ChannelRow[], showRates: boolean, width: number | undefined, p: Palette, window?: readonly [number, number]): Grid {
  const contract = rows.some((r) => r.contract !== undefined);
  const columns = [...CHANNEL_COLUMNS, ...(showRates ? [RATE_COLUMN] : []), ...(contract ? [CONTRACT_COLUMN] : [])];
  const cells = (c: ChannelRow) => [...channelCells(c, showRates, p), ...(contract ? [contractCell(c, p)] : [])];
  return layoutGrid(columns, rows.map(cells), { ...(width !== undefined ? { width } : {}), palette: p, ...(window ? { window } : {}) });
}

/** NUMSUB leaves pattern subscribers out, so SUBSCRIBERS alone can understate who hears a channel. */
export function patternNote(p: Palette): string {
  return p.yellow('pattern subscriptions exist: PSUBSCRIBE clients are not counted in SUBSCRIBERS');
}

/**
 * Node columns, and the order they give way: VERSION, OPS/S, CLIENTS, OBUF DISCONN, PATTERNS.
 * ADDRESS, ROLE, PUBSUB CLIENTS, PUBLISH/S and MAX SUB OBUF always stay.
 */
const NODE_COLUMNS: GridColumn[] = [
  { head: 'ADDRESS', align: 'left' },
  { head: 'ROLE', align: 'left' },
  { head: 'VERSION', align: 'left', drop: 1 },
  { head: 'CLIENTS', align: 'right', drop: 3 },
  { head: 'PUBSUB CLIENTS', short: 'PUBSUB', align: 'right' },
  { head: 'PATTERNS', short: 'PAT', align: 'right', drop: 5 },
  { head: 'OPS/S', align: 'right', drop: 2 },
  { head: 'PUBLISH/S', short: 'PUB/S', align: 'right' },
  { head: 'MAX SUB OBUF', short: 'SUB OBUF', align: 'right' },
  { head: 'OBUF DISCONN', short: 'DISC', align: 'right', drop: 4 },
];
/** ADDRESS and ROLE stay; `DOWN` and the error cover the rest, whichever of them are shown. */
const DOWN_SPAN = NODE_COLUMNS.length - 2;

/** `used / hard limit`, painted by how close `used` is to the soft limit that starts the disconnect clock. */
export function outputBufferCell(omem: number | undefined, limit: OutputBufferLimit | undefined, p: Palette): Cell {
  if (omem === undefined) return { text: UNKNOWN };
  if (limit === undefined) return { text: `${formatBytes(omem)} / ${UNKNOWN}` };
  // A hard limit of 0 disables it (Redis semantics), so there is nothing to be cut off by.
  const hard = limit.hardBytes > 0 ? formatBytes(limit.hardBytes) : 'no limit';
  const text = `${formatBytes(omem)} / ${hard}`;
  const level = outputBufferLevel(omem, limit);
  return level === 'over' ? { text, paint: p.red } : level === 'near' ? { text, paint: p.yellow } : { text };
}

/** `over` past the soft limit (the disconnect clock runs), `near` past half of it. */
export function outputBufferLevel(omem: number | undefined, limit: OutputBufferLimit | undefined): 'over' | 'near' | 'ok' {
  if (omem === undefined || limit === undefined) return 'ok';
  // With the soft limit disabled the hard one is the only threshold left.
  const threshold = limit.softBytes > 0 ? limit.softBytes : limit.hardBytes;
  if (threshold > 0 && omem > threshold) return 'over';
  if (threshold > 0 && omem > threshold / 2) return 'near';
  return 'ok';
}

function publishCell(n: NodeRow, p: Palette): Cell {
  const rate = formatRate(n.publishPerSec);
  if (n.publishReplicated !== true) return { text: rate };
  const suffix = ' (repl)';
  return { text: rate + suffix, paint: (t) => (t.endsWith(suffix) ? t.slice(0, -suffix.length) + p.dim(suffix) : t) };
}

function nodeCells(n: NodeRow, p: Palette): Cell[] {
  const head: Cell[] = [{ text: escapeText(n.address) }, { text: n.role }];
  if (!n.up) {
    return [...head, { text: `DOWN  ${escapeText(n.error ?? 'unreachable')}`, span: DOWN_SPAN, paint: p.red }];
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

/** The node health table; a node that is down shows its error across the metric columns. */
export function nodeGrid(nodes: readonly NodeRow[], width: number | undefined, p: Palette, window?: readonly [number, number]): Grid {
  const rows = nodes.map((n) => nodeCells(n, p));
  return layoutGrid(NODE_COLUMNS, rows, { ...(width !== undefined ? { width } : {}), palette: p, ...(window ? { window } : {}) });
}

/** One `! ` line per warning, escaped. */
export function warningLines(warnings: readonly string[], p: Palette): string[] {
  return warnings.map((w) => p.yellow(`! ${escapeText(w)}`));
}
