// The result of `pubsub-mon bench`, rendered as a report for people.

import {
  decodeHistogram,
  logBuckets,
  type LatencyBucket,
  type LatencySummary,
} from '../stats/histogram.js';
import { renderTable, type Align, type Cell } from './table.js';
import { makePalette, type Palette } from './color.js';
import { escapeText } from './escape.js';
import { displayWidth, fitMiddle, wrapParts, wrapText } from './width.js';
import { noun } from '../stats/plural.js';
import type { BenchResult, BenchServerStats, BenchTimePoint } from '../stats/bench-result.js';
import { formatBytes, formatCount, formatMicros, formatPercent, formatRate, UNKNOWN } from './format.js';

export interface RenderBenchOptions {
  color: boolean;
  /** Terminal columns: the header line breaks to fit and the distribution bars narrow. Absent: nothing is fitted. */
  width?: number;
}

/** A count in the header: `1 node`, `1.00 k channels`. */
function counted(n: number, one: string): string {
  return `${formatCount(n)} ${noun(n, one)}`;
}

const PUBLISH_COMMAND: Record<BenchResult['mode'], string> = { publish: 'PUBLISH', spublish: 'SPUBLISH', mixed: 'PUBLISH and SPUBLISH' };
const SUBSCRIBE_COMMAND: Record<BenchResult['subscribe'], string> = {
  channel: 'SUBSCRIBE',
  pattern: 'PSUBSCRIBE',
  mixed: 'SUBSCRIBE and SSUBSCRIBE',
  shard: 'SSUBSCRIBE',
};

function msText(ms: number): string {
  return formatMicros(ms * 1000);
}

const TITLE = 'pubsub-mon bench';
const SEPARATOR = ' · ';

/** Where the load came from: this process's threads and processes, and the agents. */
function hostsPart(r: BenchResult): string {
  const here = r.threads === 0 && r.processes > 0 ? `${formatCount(r.processes)} ${noun(r.processes, 'process', 'processes')}` : counted(r.threads, 'thread') + (r.processes > 0 ? ` + ${formatCount(r.processes)} ${noun(r.processes, 'process', 'processes')}` : '');
  if (!r.agents) return here;
  const agents = r.agents.filter((a) => a.role === 'agent').length;
  const local = r.agents.some((a) => a.role === 'coordinator');
  return `${counted(agents, 'agent')}${local ? ` + ${here} here` : ' (none here)'}`;
}

/**
 * Parts joined by ` · ` on one line, as wide as it gets (about 170 columns): kept whole when the
 * width is unknown (not a terminal, so nothing wraps it), broken between parts to fit a terminal.
 */
function headerLine(r: BenchResult, p: Palette, width: number | undefined): string {
  const topology = `${r.topology}, ${counted(r.nodes, 'node')}`;
  const flow = r.profile
    ? `profile ${escapeText(r.profile.file)}${r.profile.scale !== 1 ? ` × ${r.profile.scale}` : ''}${r.profile.sameNames ? ' (its own channel names)' : ''}`
    : `${PUBLISH_COMMAND[r.mode]} → ${SUBSCRIBE_COMMAND[r.subscribe]}` + (r.replicas ? ' (subscribers on replicas too)' : '');
  const length =
    r.messages !== undefined
      ? counted(r.messages, 'message')
      : r.durationMs > 0
        ? msText(r.durationMs)
        : UNKNOWN;
  const warmup = r.warmupMs > 0 ? ` + ${msText(r.warmupMs)} warm-up` : '';
  const parts = [
    TITLE,
    escapeText(r.target),
    topology,
    flow,
    r.profile ? `${formatBytes(r.size)} mean` : formatBytes(r.size),
    counted(r.channels, 'channel'),
    counted(r.publishers, 'publisher'),
    counted(r.subscribers, 'subscriber'),
    hostsPart(r),
    length + warmup,
  ];
  // The title is painted last so that measuring widths only ever sees plain text.
  return wrapParts(parts, SEPARATOR, width).join('\n').replace(TITLE, p.bold(TITLE));
}

/** A count that is bad news when above zero. */
function troubleCell(n: number, p: Palette, extra = ''): Cell {
  return { text: formatCount(n) + extra, ...(n > 0 ? { paint: p.red } : {}) };
}

function summarySection(r: BenchResult, p: Palette, width: number | undefined): string {
  const lostShare = r.lost > 0 && r.expected > 0 ? ` (${formatPercent(r.lost / r.expected)})` : '';
  const left: [string, Cell][] = [
    ['asked rate', { text: r.askedRate > 0 ? formatRate(r.askedRate) : 'max' }],
    ['publish rate', { text: formatRate(r.publishRate) }],
    ['delivery rate', { text: formatRate(r.deliveryRate) }],
    ['published', { text: formatCount(r.published) }],
    ['publish errors', troubleCell(r.publishErrors, p)],
  ];
  const right: [string, Cell][] = [
    ['expected', { text: formatCount(r.expected) }],
    ['received', { text: formatCount(r.received) }],
    ['lost', troubleCell(r.lost, p, lostShare)],
    ['duplicated', troubleCell(r.duplicates, p)],
    ['reordered', troubleCell(r.reordered, p)],
  ];
  const rows = left.map(([label, cell], i): Cell[] => {
    const [rLabel, rCell] = right[i] ?? ['', { text: '' }];
    return [{ text: label }, cell, { text: rLabel }, rCell];
  });
  const lines = [renderTable(undefined, ['left', 'right', 'left', 'right'], rows, p)];
  for (const sample of r.errorSamples) lines.push(paintLines(wrapText(`! publish error: ${escapeText(sample)}`, width, 2), p.yellow));
  return lines.join('\n');
}

function verifiedLine(r: BenchResult, p: Palette, width: number | undefined): string {
  const v = r.verified;
  const counts = `${formatCount(v.found)} of ${formatCount(v.asked)}`;
  // A detail that starts with the counts itself ("4 of 4 subscriptions (...) found with ...") is said alone.
  const said = v.detail.startsWith(`${v.found} of ${v.asked} `) ? escapeText(v.detail) : `${counts}${v.detail ? ` (${escapeText(v.detail)})` : ''}`;
  const text = wrapText(`subscriptions verified before the clock started: ${said}`, width);
  const fanout = r.fanout.min === r.fanout.max ? formatCount(r.fanout.max) : `${formatCount(r.fanout.min)} to ${formatCount(r.fanout.max)}`;
  const layout = wrapText(`fan-out ${fanout} ${noun(r.fanout.max, 'subscriber')} per channel, ${counted(r.connections, 'subscriber connection')}`, width);
  return `${v.found < v.asked ? paintLines(text, p.red) : text}\n${layout}`;
}

/** Paints each line of a block on its own, so a colour never runs past a line's end. */
function paintLines(block: string, paint: (s: string) => string): string {
  return block
    .split('\n')
    .map((l) => paint(l))
    .join('\n');
}

function reconnectLine(r: BenchResult, width: number | undefined): string | undefined {
  const x = r.reconnects;
  if (!x) return undefined;
  const took = x.resubscribe ? `; back and subscribed again after p50 ${formatMicros(x.resubscribe.p50)}, p99 ${formatMicros(x.resubscribe.p99)}, max ${formatMicros(x.resubscribe.max)}` : '';
  return wrapText(`reconnects: ${formatCount(x.count)}${took}; ${formatCount(x.excused)} deliveries published while a subscriber was away, not counted as lost`, width);
}

const GROUP_HEAD = ['GROUP', 'CHANNELS', 'ASKED', 'PUBLISHED', 'DELIVERED', 'LOST', 'P50', 'P99', 'P99.9'];

/**
 * One row per report group: only when there is more than one. On a terminal too narrow for it,
 * P99.9 goes, then long group names (globs, channel names) are cut in the middle.
 */
function groupSection(r: BenchResult, p: Palette, width: number | undefined): string | undefined {
  if (r.groups.length < 2) return undefined;
  const names = r.groups.map((g) => escapeText(g.name));
  const longest = Math.max(...names.map(displayWidth));
  const render = (nameWidth: number, columns: number) => {
    const rows = r.groups.map((g, i): Cell[] =>
      [
        { text: fitMiddle(names[i]!, nameWidth) },
        { text: formatCount(g.channels) },
        { text: formatRate(g.askedRate) },
        { text: formatRate(g.publishRate) },
        { text: formatRate(g.deliveryRate) },
        troubleCell(g.lost, p),
        { text: formatMicros(g.latency?.p50) },
        { text: formatMicros(g.latency?.p99) },
        { text: formatMicros(g.latency?.p999) },
      ].slice(0, columns),
    );
    const head = GROUP_HEAD.slice(0, columns);
    return renderTable(head, ['left', ...head.slice(1).map((): Align => 'right')], rows, p);
  };
  const table = render(longest, GROUP_HEAD.length);
  if (width === undefined || blockWidth(table) <= width) return table;
  // P99.9 goes first (P99 stays), then the names give up what is still too much.
  return cutNamesToFit((nameWidth) => render(nameWidth, GROUP_HEAD.length - 1), longest, width);
}

/**
 * A table whose first column holds names (hosts, groups), drawn by `render` at a name width: as it
 * is when it fits `width`, else with the names cut (in the middle, by `render`) by what is too
 * much, down to 8 columns.
 */
function cutNamesToFit(render: (nameWidth: number) => string, longest: number, width: number | undefined): string {
  const table = render(longest);
  const over = width === undefined ? 0 : blockWidth(table) - width;
  return over > 0 ? render(Math.max(8, longest - over)) : table;
}

/** What bench itself spent: the figures that say whether the client or the server was measured. */
function clientRows(r: BenchResult): [string, string[]][] {
  const c = r.client;
  const s = (v: number | undefined) => formatMicros(v === undefined ? undefined : v * 1e6);
  const parts: string[] = [];
  if (c.publisherCpuSeconds !== undefined) parts.push(`publishers ${s(c.publisherCpuSeconds)} (${formatMicros(c.publisherCpuUsPerMessage)} per message)`);
  if (c.subscriberCpuSeconds !== undefined) parts.push(`subscribers ${s(c.subscriberCpuSeconds)} (${formatMicros(c.subscriberCpuUsPerDelivery)} per delivery)`);
  if (c.sharedCpuSeconds !== undefined) parts.push(`publishers and subscribers on one thread ${s(c.sharedCpuSeconds)}`);
  parts.push(`${r.processes > 0 ? 'main process' : 'whole process'} ${s(c.processCpuSeconds)}`);
  const memory = [`RSS ${formatBytes(c.rssBytes)}${r.processes > 0 ? ` (this process and its ${formatCount(r.processes)} ${noun(r.processes, 'child process', 'child processes')})` : ''}`];
  if (c.bytesPerConnection !== undefined && r.connections > 0) memory.push(`${formatBytes(c.bytesPerConnection)} per subscriber connection`);
  // Each part but the last keeps its comma, so a line broken between parts still reads as a list.
  const listed = (xs: string[]) => xs.map((x, i) => (i < xs.length - 1 ? `${x},` : x));
  return [
    ['bench CPU', listed(parts)],
    ['bench memory', listed(memory)],
  ];
}

const LATENCY_HEAD = ['MIN', 'P50', 'P90', 'P99', 'P99.9', 'P99.99', 'MAX', 'MEAN', 'STDEV'];

function latencyCells(l: LatencySummary | undefined): Cell[] {
  const values = l ? [l.min, l.p50, l.p90, l.p99, l.p999, l.p9999, l.max, l.mean, l.stdev] : [];
  return LATENCY_HEAD.map((_, i): Cell => ({ text: formatMicros(values[i]) }));
}

/** The widest line of a rendered block, in terminal columns (colour codes count for nothing). */
function blockWidth(block: string): number {
  return Math.max(0, ...block.split('\n').map(displayWidth));
}

/**
 * The run's latency; over agents, also within one host (exact) and across hosts (every figure within
 * the clocks' bound, said under the table). On a terminal too narrow for every column, the columns
 * that matter least go first: STDEV and MEAN, then MAX.
 */
function latencySection(r: BenchResult, p: Palette, width: number | undefined): string {
  const h = r.hostLatency;
  const render = (keep: number) => {
    const rows: Cell[][] = [[{ text: 'end to end' }, ...latencyCells(r.latency).slice(0, keep)]];
    if (h) {
      rows.push([{ text: 'same host' }, ...latencyCells(h.sameHost).slice(0, keep)]);
      rows.push([{ text: 'across hosts' }, ...latencyCells(h.crossHost).slice(0, keep)]);
    }
    const head = LATENCY_HEAD.slice(0, keep);
    return renderTable(['LATENCY', ...head], ['left', ...head.map((): Align => 'right')], rows, p);
  };
  let table = render(LATENCY_HEAD.length);
  for (const keep of [LATENCY_HEAD.length - 2, LATENCY_HEAD.length - 3]) {
    if (width === undefined || blockWidth(table) <= width) break;
    table = render(keep);
  }
  if (!h) return table;
  return `${table}\nacross hosts: within ±${formatMicros(h.boundUs)} (the clocks' bounds); same host: exact`;
}

const AGENT_HEAD = ['HOST', 'P/S', 'PUBLISHED', 'DELIVERED', 'LOST', 'P50', 'P99', 'CPU', 'CLOCK'];

/**
 * A host's clock against the coordinator's, as far as reading the figures goes: how far its shift can
 * be wrong. The shift itself (any number: hosts' clocks start anywhere) is in the JSON.
 */
function clockCell(c: { boundUs: number }): string {
  return `±${formatMicros(c.boundUs)}`;
}

/** One row per host of a run over agents: its share, its rates, its subscribers' latency, its clock against the coordinator's. */
function agentSection(r: BenchResult, p: Palette, width: number | undefined): string | undefined {
  if (!r.agents) return undefined;
  const longest = Math.max(...r.agents.map((a) => displayWidth(escapeText(a.name))));
  // Long host names (FQDNs) are cut in the middle, not the columns after them.
  return cutNamesToFit((nameWidth) => agentTable(r, p, nameWidth), longest, width);
}

function agentTable(r: BenchResult, p: Palette, nameWidth: number): string {
  const rows = r.agents!.map((a): Cell[] => {
    const clock = a.role === 'coordinator' ? 'ref' : clockCell(a.clock);
    const head = [{ text: fitMiddle(escapeText(a.name), nameWidth) }, { text: `${formatCount(a.publishers)}/${formatCount(a.subscribers)}` }];
    if (a.status === 'lost') {
      const at = a.lostAtS !== undefined ? ` at ${a.lostAtS.toFixed(1)} s` : '';
      const last = a.lastHeard ? `; last heard: sent ${formatCount(a.lastHeard.sent)}, received ${formatCount(a.lastHeard.received)}` : '';
      return [...head, { text: p.red(`lost${at}${last}`), span: 6 }, { text: clock }];
    }
    return [
      ...head,
      { text: formatRate(a.publishRate ?? 0) },
      { text: formatRate(a.deliveryRate ?? 0) },
      troubleCell(a.lost ?? 0, p),
      { text: formatMicros(a.latency?.p50) },
      { text: formatMicros(a.latency?.p99) },
      { text: a.cpuSeconds === undefined ? UNKNOWN : `${a.cpuSeconds.toFixed(2)} s` },
      { text: clock },
    ];
  });
  return renderTable(AGENT_HEAD, ['left', ...AGENT_HEAD.slice(1).map((): Align => 'right')], rows, p);
}

/** Nearest-rank percentile of numbers sorted ascending; undefined for none. */
function rank(sorted: number[], pct: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((pct / 100) * sorted.length) - 1));
  return sorted[i];
}

function spread(values: number[], format: (n: number | undefined) => string): Cell[] {
  const sorted = [...values].sort((a, b) => a - b);
  return [sorted[0], rank(sorted, 50), sorted[sorted.length - 1]].map((v) => ({ text: format(v) }));
}

/**
 * Only whole seconds inside the measured phase count: a last second cut short by the end of the run
 * would show as a dip that never happened.
 */
export function completeSeconds(r: BenchResult): BenchTimePoint[] {
  return r.timeseries.filter((t) => (t.second + 1) * 1000 <= r.elapsedMs);
}

function perSecondSection(r: BenchResult, p: Palette): string {
  const points = completeSeconds(r);
  const p99s = points.flatMap((t) => (t.p99Us !== undefined ? [t.p99Us] : []));
  const rows: Cell[][] = [
    [{ text: 'sent' }, ...spread(points.map((t) => t.sent), formatRate)],
    [{ text: 'received' }, ...spread(points.map((t) => t.received), formatRate)],
    [{ text: 'p99 latency' }, ...spread(p99s, formatMicros)],
  ];
  return renderTable(['PER SECOND', 'MIN', 'P50', 'MAX'], ['left', 'right', 'right', 'right'], rows, p);
}

const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const DEFAULT_WIDTH = 80;
const MAX_BAR = 50;
const MIN_BAR = 10;

/** A bar of `units` character cells, in eighths; a non-zero count never disappears entirely. */
function bar(units: number, nonZero: boolean): string {
  const eighths = Math.round(units * 8);
  const text = '█'.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8];
  return text === '' && nonZero ? '▏' : text;
}

/** The latency distribution as rows of log-spaced buckets, bars scaled to the fullest bucket. */
export function renderDistribution(buckets: LatencyBucket[], width = DEFAULT_WIDTH): string {
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  if (total === 0) return '';
  const labels = buckets.map((b) => `${formatMicros(b.fromUs)} – ${formatMicros(b.toUs)}`);
  const labelWidth = Math.max(...labels.map((l) => Array.from(l).length));
  const pctWidth = 4;
  // Two leading spaces, " │", a space before the percentage.
  const barMax = Math.min(MAX_BAR, Math.max(MIN_BAR, width - labelWidth - pctWidth - 5));
  const most = Math.max(...buckets.map((b) => b.count));
  return buckets
    .map((b, i) => {
      const label = (labels[i] ?? '').padStart(labelWidth);
      const drawn = bar((b.count / most) * barMax, b.count > 0);
      const pct = formatPercent(b.count / total).padStart(pctWidth);
      return `  ${label} │${drawn.padEnd(barMax)} ${pct}`;
    })
    .join('\n');
}

function distributionSection(r: BenchResult, opts: RenderBenchOptions): string | undefined {
  if (r.histogramEncoded === undefined) return undefined;
  const body = renderDistribution(logBuckets(decodeHistogram(r.histogramEncoded)), opts.width);
  return body === '' ? undefined : `latency distribution\n${body}`;
}

function omemCell(s: BenchServerStats, p: Palette): Cell {
  const peak = s.peakSubscriberOmem;
  const limit = s.pubsubLimitBytes;
  if (limit === undefined) return { text: `peak ${formatBytes(peak)} of ${UNKNOWN} limit` };
  // A limit of 0 disables it (Redis semantics): nothing to be cut off by.
  if (limit === 0) return { text: `peak ${formatBytes(peak)}, no limit` };
  const text = `peak ${formatBytes(peak)} of ${formatBytes(limit)} limit`;
  if (peak === undefined) return { text };
  // The default soft limit (8 MB of 32 MB) is a quarter of the hard one: past it the 60 s clock runs.
  if (peak >= limit / 2) return { text, paint: p.red };
  if (peak >= limit / 4) return { text, paint: p.yellow };
  return { text };
}

function serverSection(r: BenchResult, p: Palette, width: number | undefined): string {
  const s = r.server;
  const d = s.obufDisconnections;
  const cpu = formatMicros(s.cpuSeconds === undefined ? undefined : s.cpuSeconds * 1e6);
  const rows: Cell[][] = [
    [{ text: 'server CPU' }, { text: `${cpu}, ${formatMicros(s.cpuUsPerMessage)} per message` }],
    [{ text: 'server network' }, { text: `in ${formatBytes(s.netInBytes)}, out ${formatBytes(s.netOutBytes)}` }],
    [{ text: 'subscriber output buffer' }, omemCell(s, p)],
    [
      { text: 'output-buffer disconnections' },
      { text: formatCount(d), ...(d !== undefined && d > 0 ? { paint: p.red } : {}) },
    ],
  ];
  const client = clientRows(r);
  // A value too long for the room beside the labels goes on under itself, broken between parts.
  const labelWidth = Math.max(...rows.map((row) => displayWidth(row[0]!.text)), ...client.map(([label]) => displayWidth(label)));
  const room = width === undefined ? undefined : Math.max(20, width - labelWidth - 2);
  for (const [label, parts] of client) {
    wrapParts(parts, ' ', room).forEach((line, i) => rows.push([{ text: i === 0 ? label : '' }, { text: line }]));
  }
  return renderTable(undefined, ['left', 'left'], rows, p);
}

/** The whole bench report; ends with a newline. Incomplete-result reasons come last, impossible to miss. */
export function renderBenchReport(r: BenchResult, opts: RenderBenchOptions): string {
  const p = makePalette(opts.color);
  const sections = [
    headerLine(r, p, opts.width),
    summarySection(r, p, opts.width),
    verifiedLine(r, p, opts.width),
    latencySection(r, p, opts.width),
    perSecondSection(r, p),
  ];
  const reconnects = reconnectLine(r, opts.width);
  if (reconnects !== undefined) sections.splice(3, 0, reconnects);
  const groups = groupSection(r, p, opts.width);
  if (groups !== undefined) sections.push(groups);
  const agents = agentSection(r, p, opts.width);
  if (agents !== undefined) sections.push(agents);
  const distribution = distributionSection(r, opts);
  if (distribution !== undefined) sections.push(distribution);
  sections.push(serverSection(r, p, opts.width));
  if (r.incomplete.length > 0) {
    sections.push(r.incomplete.map((reason) => paintLines(wrapText(`!! ${escapeText(reason.message)}`, opts.width, 3), (l) => p.red(p.bold(l)))).join('\n'));
  }
  return `${sections.join('\n\n')}\n`;
}
