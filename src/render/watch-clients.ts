// The clients view's tables: one row per subscriber connection, or per client name, library or host.
import { libraryOf, type ClientGroup, type ClientGroupBy, type ClientTotalField, type SubscriberClient } from '../stats/subscriber-clients.js';
import type { Palette } from './color.js';
import type { Cell } from './table.js';
import { escapeText } from './escape.js';
import { formatAge, formatBytes, formatCount, UNKNOWN } from './format.js';
import { layoutGrid, type Grid, type GridColumn } from './grid.js';
import { outputBufferCell, outputBufferLevel } from './watch-table.js';

/**
 * Connection columns, and the order they give way: LIB, IDLE, AGE, ADDR, RECONN, NODE. NAME, the
 * subscription counts and the output buffer always stay: they name the slow subscriber.
 */
const CLIENT_COLUMNS: GridColumn[] = [
  { head: 'NAME', align: 'left', flex: true },
  { head: 'ADDR', align: 'left', drop: 4 },
  { head: 'NODE', align: 'left', drop: 6 },
  { head: 'LIB', align: 'left', drop: 1 },
  { head: 'SUB', align: 'right' },
  { head: 'PSUB', align: 'right' },
  { head: 'SSUB', align: 'right' },
  { head: 'OUTPUT BUFFER', short: 'OBUF', align: 'right' },
  { head: 'AGE', align: 'right', drop: 3 },
  { head: 'IDLE', align: 'right', drop: 2 },
  { head: 'RECONN', align: 'right', drop: 5 },
];

/** `lib-name lib-ver` as the server reports them (Redis 7.2+), or a dash. */
function libraryText(c: Pick<SubscriberClient, 'libName' | 'libVer'>): string {
  const lib = libraryOf(c);
  return lib === '' ? UNKNOWN : escapeText(lib);
}

function clientCells(c: SubscriberClient, p: Palette): Cell[] {
  const level = outputBufferLevel(c.omem, c.limit);
  // A flapping client is red by name too: on a narrow terminal its RECONN column may be gone.
  const alarm = level === 'over' || c.flapping ? p.red : level === 'near' ? p.yellow : undefined;
  return [
    // The slow subscriber is named in the colour of its buffer: the eye finds it from either side.
    { text: c.name === '' ? '(no name)' : escapeText(c.name), ...(alarm ? { paint: alarm } : c.name === '' ? { paint: p.dim } : {}) },
    { text: escapeText(c.addr) },
    { text: escapeText(c.node) },
    { text: libraryText(c) },
    { text: formatCount(c.sub) },
    { text: formatCount(c.psub) },
    { text: formatCount(c.ssub) },
    outputBufferCell(c.omem, c.limit, p),
    { text: formatAge(c.age) },
    { text: formatAge(c.idle) },
    { text: c.flapping ? `${c.reconnects} flapping` : String(c.reconnects), ...(c.flapping ? { paint: p.red } : {}) },
  ];
}

/** One row per subscriber connection, in the order given. */
export function clientGrid(clients: readonly SubscriberClient[], width: number | undefined, p: Palette, window?: readonly [number, number]): Grid {
  return layoutGrid(CLIENT_COLUMNS, clients.map((c) => clientCells(c, p)), { ...(width !== undefined ? { width } : {}), palette: p, ...(window ? { window } : {}) });
}

const GROUP_HEAD: Record<ClientGroupBy, string> = { name: 'CLIENT NAME', lib: 'LIBRARY', addr: 'HOST' };

function groupColumns(by: ClientGroupBy): GridColumn[] {
  return [
    { head: GROUP_HEAD[by], align: 'left', flex: true },
    { head: 'CONNECTIONS', short: 'CONNS', align: 'right' },
    { head: 'NODES', align: 'right', drop: 2 },
    { head: 'SUB', align: 'right' },
    { head: 'PSUB', align: 'right' },
    { head: 'SSUB', align: 'right' },
    { head: 'OUTPUT BUFFERS', short: 'OBUF', align: 'right', drop: 3 },
    { head: 'LARGEST', align: 'right' },
    { head: 'FLAPPING', short: 'FLAP', align: 'right', drop: 1 },
  ];
}

function groupCells(g: ClientGroup, by: ClientGroupBy, p: Palette): Cell[] {
  const unnamed = g.key === '';
  // A total some member did not report (ssub before Redis 7.0.3) is not a total: a dash, never a short sum.
  const total = (field: ClientTotalField, format: (n: number) => string) => (g.incomplete.includes(field) ? UNKNOWN : format(g[field]));
  return [
    { text: unnamed ? (by === 'lib' ? '(not reported)' : '(no name)') : escapeText(g.key), ...(unnamed ? { paint: p.dim } : {}) },
    { text: formatCount(g.connections) },
    { text: formatCount(g.nodes) },
    { text: total('sub', formatCount) },
    { text: total('psub', formatCount) },
    { text: total('ssub', formatCount) },
    { text: total('omem', formatBytes) },
    { text: total('omem', () => formatBytes(g.maxOmem)) },
    { text: formatCount(g.flapping), ...(g.flapping > 0 ? { paint: p.red } : {}) },
  ];
}

/** One row per client name, library or host: how many connections each holds and their subscriptions. */
export function clientGroupGrid(groups: readonly ClientGroup[], by: ClientGroupBy, width: number | undefined, p: Palette, window?: readonly [number, number]): Grid {
  return layoutGrid(groupColumns(by), groups.map((g) => groupCells(g, by, p)), { ...(width !== undefined ? { width } : {}), palette: p, ...(window ? { window } : {}) });
}
