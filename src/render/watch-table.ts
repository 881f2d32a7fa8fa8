// Renders one `watch` snapshot: as tables for people, or as the stable JSON shape for machines.

import type { ChannelRow, NodeRow, Snapshot } from '../stats/snapshot.js';
import type { OutputBufferLimit } from '../stats/output-buffer-limit.js';
import { renderTable, type Align, type Cell } from './table.js';
import { makePalette, type Palette } from './color.js';
import { escapeControl } from './escape.js';
import { formatBytes, formatCount, formatRate, UNKNOWN } from './format.js';

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
const ELLIPSIS = '…';

interface Column {
  head: string;
  align: Align;
}


/** Cuts `s` to at most `max` code points, marking the cut; never splits a surrogate pair. */
export function truncate(s: string, max: number): string {
  const points = Array.from(s);
  if (points.length <= max) return s;
  return points.slice(0, Math.max(0, max - 1)).join('') + ELLIPSIS;
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

function pad2(n: number): string {
  return String(n).padStart(2, '0');
}

/** Local wall-clock time, because that is what the person watching compares it with. */
function localTime(ms: number): string {
  const d = new Date(ms);
  return (
    `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ` +
    `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`
  );
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function headerLine(s: Snapshot, opts: RenderSnapshotOptions, p: Palette): string {
  const down = s.nodes.filter((n) => !n.up).length;
  const nodes = plural(s.nodes.length, 'node') + (down > 0 ? `, ${p.red(`${down} down`)}` : '');
  return [
    p.bold(escapeControl(opts.title ?? 'pubsub-mon')),
    s.mode,
    nodes,
    localTime(s.time),
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
    { text: escapeControl(row.name) },
    { text: row.kind },
    // Zero is worth the eye: nobody but a possible pattern subscriber hears this channel.
    { text: formatCount(row.subscribers), ...(row.subscribers === 0 ? { paint: p.yellow } : {}) },
    { text: isShard && row.slot !== undefined ? String(row.slot) : UNKNOWN },
    { text: isShard && row.shard !== undefined ? escapeControl(row.shard) : UNKNOWN },
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
        if (name) name.text = truncate(name.text, nameMax);
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
  const head: Cell[] = [{ text: escapeControl(n.address) }, { text: n.role }];
  if (!n.up) {
    return [
      ...head,
      { text: 'DOWN', paint: p.red },
      { text: escapeControl(n.error ?? 'unreachable'), span: DOWN_ERROR_SPAN, paint: p.red },
    ];
  }
  const disconnections = n.obufDisconnections;
  return [
    ...head,
    { text: n.version !== undefined ? escapeControl(n.version) : UNKNOWN },
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
    if (error?.span !== undefined) error.text = truncate(error.text, room);
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
  const warnings = s.warnings.map((w) => p.yellow(`! ${escapeControl(w)}`));
  if (warnings.length > 0) sections.push(warnings.join('\n'));
  return `${sections.join('\n\n')}\n`;
}

/** `client-output-buffer-limit pubsub` as JSON. */
export interface OutputBufferLimitJson {
  hard_bytes: number;
  soft_bytes: number;
  soft_seconds: number;
}

/**
 * One channel. `slot`/`shard` appear only where they apply (shard channels of a cluster) and are
 * null there when unknown; `rate` is null when rates are off or not measured yet.
 */
export interface ChannelJson {
  name: string;
  kind: 'channel' | 'shard';
  subscribers: number;
  slot?: number | null;
  shard?: string | null;
  rate: number | null;
}

/** One node. Every metric key is always present; null means the server did not report it (or the node is down). */
export interface NodeJson {
  address: string;
  role: 'primary' | 'replica';
  up: boolean;
  error?: string;
  version: string | null;
  clients: number | null;
  pubsub_clients: number | null;
  numpat: number | null;
  ops_per_sec: number | null;
  publish_per_sec: number | null;
  publish_replicated: boolean;
  max_subscriber_omem: number | null;
  pubsub_limit: OutputBufferLimitJson | null;
  obuf_disconnections: number | null;
}

/** The stable `watch --json` document. */
export interface SnapshotJson {
  time: string;
  mode: 'standalone' | 'cluster';
  publish_per_sec: number | null;
  patterns_present: boolean;
  channels: ChannelJson[];
  nodes: NodeJson[];
  warnings: string[];
}

/**
 * Unknown numbers become an explicit null rather than a missing key, so a consumer can tell "the
 * server did not say" (null) from "does not apply here" (key absent) — and neither reads as 0.
 */
function known(n: number | undefined): number | null {
  return n !== undefined && Number.isFinite(n) ? n : null;
}

/** Rates are measured over about a second: more than two decimals would only be noise. */
function knownRate(n: number | undefined): number | null {
  const v = known(n);
  return v === null ? null : Math.round(v * 100) / 100;
}

function channelJson(c: ChannelRow, mode: Snapshot['mode']): ChannelJson {
  const out: ChannelJson = { name: c.name, kind: c.kind, subscribers: c.subscribers, rate: knownRate(c.rate) };
  if (c.kind === 'shard' && mode === 'cluster') {
    out.slot = known(c.slot);
    out.shard = c.shard ?? null;
  }
  return out;
}

function nodeJson(n: NodeRow): NodeJson {
  const limit = n.pubsubLimit;
  return {
    address: n.address,
    role: n.role,
    up: n.up,
    ...(n.error !== undefined ? { error: n.error } : {}),
    version: n.version ?? null,
    clients: known(n.clients),
    pubsub_clients: known(n.pubsubClients),
    numpat: known(n.numpat),
    ops_per_sec: known(n.opsPerSec),
    publish_per_sec: knownRate(n.publishPerSec),
    publish_replicated: n.publishReplicated === true,
    max_subscriber_omem: known(n.maxSubscriberOmem),
    pubsub_limit: limit
      ? { hard_bytes: limit.hardBytes, soft_bytes: limit.softBytes, soft_seconds: limit.softSeconds }
      : null,
    obuf_disconnections: known(n.obufDisconnections),
  };
}

/** The snapshot as the stable JSON shape; strings are raw (JSON escapes control characters itself). */
export function snapshotToJson(s: Snapshot): SnapshotJson {
  return {
    time: new Date(s.time).toISOString(),
    mode: s.mode,
    publish_per_sec: knownRate(s.publishPerSec),
    patterns_present: s.patternsPresent,
    channels: s.channels.map((c) => channelJson(c, s.mode)),
    nodes: s.nodes.map(nodeJson),
    warnings: [...s.warnings],
  };
}
