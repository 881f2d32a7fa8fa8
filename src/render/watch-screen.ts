// One frame of `watch`: a view (channels, nodes or clients) fitted to the terminal, never wider nor taller, with the title on the first line.
import type { ChannelRow, NodeRow, Snapshot } from '../stats/snapshot.js';
import type { ClientGroup, ClientGroupBy, SubscriberClient } from '../stats/subscriber-clients.js';
import { plural } from '../stats/plural.js';
import { makePalette, type Palette } from './color.js';
import { escapeText } from './escape.js';
import type { Grid } from './grid.js';
import { channelGrid, headerLine, nodeGrid, patternNote, warningLines } from './watch-table.js';
import { clientGrid, clientGroupGrid } from './watch-clients.js';
import { clipLine, joinFitting } from './width.js';

export const WATCH_VIEWS = ['channels', 'nodes', 'clients'] as const;
export type WatchView = (typeof WATCH_VIEWS)[number];

export interface ScreenInput {
  snapshot: Snapshot;
  view: WatchView;
  title: string;
  /** Lines of whoever started watch (the demo: what runs, how to stop it), kept under the title. */
  banner: readonly string[];
  /** Channel rows, already filtered and sorted. */
  channels: readonly ChannelRow[];
  /** Subscriber connections, already filtered and sorted; or their groups when `groupBy` is set. */
  clients: readonly SubscriberClient[];
  groups?: readonly ClientGroup[];
  groupBy?: ClientGroupBy;
  showRates: boolean;
  color: boolean;
  /** Terminal size; absent: not a terminal, everything shown at its natural width. */
  width?: number;
  height?: number;
  /** First row of the view's list that is shown. */
  scroll: number;
  /** Node rows of the nodes view, already filtered; the title counts the snapshot's. Absent: all of them. */
  nodes?: readonly NodeRow[];
  /** The glob applied to the view's list: said in the footer, and when it leaves nothing. */
  filter?: string;
  /** `PAUSED`, `rates off`: kept in the footer whatever else gives way. */
  alerts?: readonly string[];
  /** Short facts for the footer (`sort subscribers`), the first to go on a narrow terminal. */
  status: readonly string[];
  /** The filter being typed, shown as a prompt in place of the footer. */
  prompt?: string;
  /** Keys are read (a keyboard is attached); false: only Ctrl-C ends watch. @default true */
  keys?: boolean;
  /** Show the keys instead of the view. */
  help?: readonly (readonly [string, string])[];
}

export interface Screen {
  lines: string[];
  /** Rows in the view's list, and how many of them one frame shows: what scrolling works within. */
  listLength: number;
  pageRows: number;
  /** `scroll` held within the list. */
  scroll: number;
}

/** In the channels view the node table takes at most this share of the rows, and at least 2. */
const NODE_SHARE = 1 / 3;
/** Warnings take at most this many lines of a frame; the footer counts the rest. */
const MAX_WARNING_LINES = 2;

interface ListPart {
  grid: Grid;
  /** Rows in the whole list; the grid holds only the window asked for. */
  length: number;
  empty: string;
  noun: string;
}

/** The view's list: its length and noun, and (given a window) the grid of the rows shown. */
function listPart(input: ScreenInput, p: Palette, width: number | undefined, window?: readonly [number, number]): ListPart {
  const s = input.snapshot;
  const nodes = input.nodes ?? s.nodes;
  if (input.view === 'nodes') return { grid: nodeGrid(nodes, width, p, window), length: nodes.length, empty: 'no nodes', noun: 'node' };
  if (input.view === 'clients') {
    if (input.groupBy && input.groups) {
      return { grid: clientGroupGrid(input.groups, input.groupBy, width, p, window), length: input.groups.length, empty: 'no subscriber connections', noun: 'group' };
    }
    return { grid: clientGrid(input.clients, width, p, window), length: input.clients.length, empty: 'no subscriber connections', noun: 'connection' };
  }
  return { grid: channelGrid(input.channels, input.showRates, width, p, window), length: input.channels.length, empty: 'no channels with subscribers', noun: 'channel' };
}

/** Rows in the view's list, known before anything is laid out. */
function listLength(input: ScreenInput): number {
  if (input.view === 'nodes') return (input.nodes ?? input.snapshot.nodes).length;
  if (input.view === 'clients') return input.groupBy && input.groups ? input.groups.length : input.clients.length;
  return input.channels.length;
}

function viewFacts(input: ScreenInput): string[] {
  const s = input.snapshot;
  if (input.view === 'clients') {
    const facts = [plural(s.clients.length, 'connection')];
    if (s.flapping > 0) facts.push(`${s.flapping} flapping`);
    if (s.clientsUnknown.length > 0) facts.push(`unknown on ${plural(s.clientsUnknown.length, 'node')}`);
    return facts;
  }
  return [];
}

/** The view's own lines besides the list: notes that belong under it. */
function notes(input: ScreenInput, p: Palette): string[] {
  const s = input.snapshot;
  if (input.view === 'channels' && s.patternsPresent) return [patternNote(p)];
  if (input.view === 'clients' && s.clientsUnknown.length > 0) {
    return [p.yellow(`CLIENT LIST refused or not answered on ${s.clientsUnknown.map(escapeText).join(', ')}: their subscribers are missing here`)];
  }
  return [];
}

/**
 * The frame, with every line cut to `width` and, given `height`, no more lines than it: the list
 * gets what the title, banner, notes, node table, warnings and footer leave.
 */
export function renderScreen(input: ScreenInput): Screen {
  const p = makePalette(input.color);
  const { width, height } = input;
  const s = input.snapshot;
  const fit = (line: string) => (width === undefined ? line : clipLine(line, width));
  const title = headerLine(s, input.title, p, viewFacts(input), width);
  const top = [title, ...input.banner.map((b) => p.dim(escapeText(b)))];

  if (input.help) {
    const keys = input.help.map(([k, what]) => `  ${k.padEnd(18)} ${what}`);
    const lines = [...top, '', p.bold('Keys'), ...keys.map(escapeText), '', p.dim('any key returns')];
    return { lines: (height === undefined ? lines : lines.slice(0, height)).map(fit), listLength: 0, pageRows: 0, scroll: 0 };
  }

  const emptyText = (list: ListPart) =>
    // A filter that leaves nothing says so: "no channels" alone would read as an empty deployment.
    input.filter !== undefined ? `no ${list.noun}s match ${escapeText(input.filter)} (Esc clears the filter)` : list.empty;
  const below = notes(input, p);
  const nodes = input.view === 'channels' && s.nodes.length > 0 ? nodeGrid(s.nodes, width, p) : undefined;
  const warnings = warningLines(s.warnings, p);

  if (height === undefined) {
    const list = listPart(input, p, width);
    const sections: string[][] = [top, [...(list.length === 0 ? [emptyText(list)] : list.grid.lines), ...below]];
    if (nodes) sections.push(nodes.lines);
    if (warnings.length > 0) sections.push(warnings);
    const lines = sections.flatMap((section, i) => (i === 0 ? section : ['', ...section]));
    return { lines: lines.map(fit), listLength: list.length, pageRows: list.length, scroll: 0 };
  }

  // Fixed parts first: title and banner, the footer, the notes, a few warnings, the node table.
  const shownWarnings = warnings.slice(0, MAX_WARNING_LINES);
  const hiddenWarnings = warnings.length - shownWarnings.length;
  let room = height - top.length - 1 - below.length - shownWarnings.length - (shownWarnings.length > 0 ? 1 : 0);
  let nodeLines: string[] = [];
  let hiddenNodes = 0;
  if (nodes) {
    // The node table yields to the channels on a short terminal: the nodes view has them all.
    const cap = Math.max(2, Math.floor(room * NODE_SHARE));
    const rows = nodes.lines.length - 1;
    const kept = Math.min(rows, cap);
    hiddenNodes = rows - kept;
    nodeLines = ['', ...nodes.lines.slice(0, kept + 1)];
    room -= nodeLines.length;
  }
  // The list's header takes a line; at least one row always shows.
  const pageRows = Math.max(1, room - 1);
  const scroll = Math.max(0, Math.min(input.scroll, listLength(input) - pageRows));
  // Only the rows on screen are formatted: a frame costs the same with 100 channels or 100,000.
  const list = listPart(input, p, width, [scroll, scroll + pageRows]);
  const listLines = list.length === 0 ? [emptyText(list)] : list.grid.lines;

  const footer = footerLine(input, list, { scroll, pageRows, hiddenNodes, hiddenWarnings, hiddenColumns: [...list.grid.hidden, ...(nodes?.hidden ?? [])] }, p);
  let lines = [...top, ...listLines, ...below, ...nodeLines, ...(shownWarnings.length > 0 ? ['', ...shownWarnings] : [])];
  // A terminal too short for even that keeps the title and the footer.
  if (lines.length > height - 1) lines = lines.slice(0, Math.max(1, height - 1));
  // The footer sits on the bottom line, as in top: the eye finds it in the same place each time.
  while (lines.length < height - 1) lines.push('');
  lines.push(footer);
  return { lines: lines.slice(0, height).map(fit), listLength: list.length, pageRows, scroll };
}

interface Hidden {
  scroll: number;
  pageRows: number;
  hiddenNodes: number;
  hiddenWarnings: number;
  hiddenColumns: string[];
}

/** What the frame leaves out and the keys that bring it back; or the filter prompt while one is typed. */
function footerLine(input: ScreenInput, list: ListPart, h: Hidden, p: Palette): string {
  if (input.prompt !== undefined) return `filter (glob): ${escapeText(input.prompt)}_   ${p.dim('Enter applies · Esc clears')}`;
  const shown = Math.min(h.pageRows, Math.max(0, list.length - h.scroll));
  const rows =
    list.length > shown
      ? `${list.noun}s ${h.scroll + 1}-${h.scroll + shown} of ${list.length} (j/k)`
      : plural(list.length, list.noun);
  const parts = [
    { text: rows, priority: 0 },
    ...(h.hiddenNodes > 0 ? [{ text: `+${plural(h.hiddenNodes, 'node')} (Tab)`, priority: 3 }] : []),
    ...(h.hiddenColumns.length > 0 ? [{ text: `hidden: ${[...new Set(h.hiddenColumns)].join(' ')}`, priority: 3, cut: true }] : []),
    ...(h.hiddenWarnings > 0 ? [{ text: `+${plural(h.hiddenWarnings, 'warning')} (?)`, priority: 3 }] : []),
    ...(input.filter !== undefined ? [{ text: `filter ${escapeText(input.filter)}`, priority: 1 }] : []),
    ...(input.alerts ?? []).map((text) => ({ text, priority: 1 })),
    ...input.status.map((text) => ({ text, priority: 4 })),
    { text: input.keys === false ? 'Ctrl-C quits' : '? keys · q quit', priority: 2 },
  ];
  return p.dim(joinFitting(parts, ' · ', input.width));
}
