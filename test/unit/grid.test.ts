// Unit tests for laying tables out to a terminal: display widths, cuts, dropped columns, and the last-resort clip.
import { describe, it, expect } from 'vitest';
import { clipLine, displayWidth, fitMiddle, fitWidth, joinFitting } from '../../src/render/width.js';
import { layoutGrid, type GridColumn } from '../../src/render/grid.js';
import { makePalette } from '../../src/render/color.js';

const plain = makePalette(false);
const color = makePalette(true);

describe('display width', () => {
  it('counts terminal columns: wide characters two, accents and colour codes none', () => {
    expect(displayWidth('abc')).toBe(3);
    expect(displayWidth('日本')).toBe(4);
    expect(displayWidth('e\u0301')).toBe(1);
    expect(displayWidth('\x1b[1mab\x1b[22m')).toBe(2);
    expect(displayWidth('👍')).toBe(2);
  });

  it('cuts at the end or in the middle by columns, never leaving half of a wide character', () => {
    expect(fitWidth('abcdef', 4)).toBe('abc…');
    expect(fitWidth('abc', 3)).toBe('abc');
    expect(fitWidth('日本語', 4)).toBe('日…');
    expect(displayWidth(fitWidth('日本語日本語', 5))).toBeLessThanOrEqual(5);
    const name = 'app:tenant:1234:orders:eu-west-1:v2';
    const cut = fitMiddle(name, 20);
    expect(displayWidth(cut)).toBe(20);
    expect(cut.startsWith('app:tenant')).toBe(true);
    expect(cut.endsWith('-1:v2')).toBe(true);
    expect(fitMiddle('日本語日本語日本語日本語', 11).length).toBeGreaterThan(0);
    expect(displayWidth(fitMiddle('日本語日本語日本語日本語', 11))).toBeLessThanOrEqual(11);
  });

  it('clips a painted line by what shows, keeps escape sequences whole and resets colour after the cut', () => {
    const line = `${color.red('abcdef')}ghij`;
    const clipped = clipLine(line, 4);
    expect(clipped).toBe('\x1b[31mabcd\x1b[0m');
    expect(clipLine('short', 10)).toBe('short');
    expect(clipLine('日本語', 5)).toBe('日本');
  });

  it('keeps the most important parts of a status line when it is too long, in their order', () => {
    const parts = [
      { text: 'title', priority: 0 },
      { text: 'date and time', priority: 3 },
      { text: '6 nodes', priority: 1 },
    ];
    expect(joinFitting(parts, ' · ')).toBe('title · date and time · 6 nodes');
    expect(joinFitting(parts, ' · ', 20)).toBe('title · 6 nodes');
    // Even the first part alone too long is cut visibly, not left to run off the edge.
    expect(joinFitting(parts, ' · ', 3)).toBe('ti…');
  });
});

const COLUMNS: GridColumn[] = [
  { head: 'NAME', align: 'left', flex: true },
  { head: 'KIND', align: 'left', drop: 2 },
  { head: 'COUNT', short: 'N', align: 'right' },
  { head: 'SLOT', align: 'right', drop: 1 },
];
const rows = [
  [{ text: 'a-rather-long-channel-name-that-goes-on' }, { text: 'channel' }, { text: '12' }, { text: '5474' }],
  [{ text: 'short' }, { text: 'shard' }, { text: '3' }, { text: '16383' }],
];

describe('layoutGrid', () => {
  it('keeps natural widths and every column without a width', () => {
    const grid = layoutGrid(COLUMNS, rows, { palette: plain });
    expect(grid.hidden).toEqual([]);
    expect(grid.lines[0]).toBe('NAME                                     KIND     COUNT   SLOT');
    expect(grid.lines[1]).toBe('a-rather-long-channel-name-that-goes-on  channel     12   5474');
  });

  it('shortens headers, then drops columns in their order, then cuts the flexible one, never past the width', () => {
    for (const width of [20, 30, 40, 50, 60, 70]) {
      const grid = layoutGrid(COLUMNS, rows, { width, palette: plain });
      for (const line of grid.lines) expect(displayWidth(line), `${width}: ${line}`).toBeLessThanOrEqual(width);
    }
    // At 50 columns everything fits once the name gives up its tail.
    expect(layoutGrid(COLUMNS, rows, { width: 50, palette: plain }).hidden).toEqual([]);
    const mid = layoutGrid(COLUMNS, rows, { width: 35, palette: plain });
    expect(mid.hidden).toEqual(['SLOT']);
    expect(mid.lines[0]).toMatch(/^NAME\s+KIND\s+N$/);
    const narrow = layoutGrid(COLUMNS, rows, { width: 25, palette: plain });
    expect(narrow.hidden).toEqual(['SLOT', 'KIND']);
    expect(narrow.lines[1]).toContain('…');
    expect(narrow.lines[1]).toMatch(/^a-rather.*goes-on\s+12$/);
  });

  it('formats only the window of rows asked for, with the widths of the whole list', () => {
    const many = Array.from({ length: 50 }, (_, i) => [{ text: i === 40 ? 'the-widest-name-of-all' : `n${i}` }, { text: 'channel' }, { text: String(i) }, { text: '1' }]);
    const whole = layoutGrid(COLUMNS, many, { palette: plain });
    const page = layoutGrid(COLUMNS, many, { palette: plain, window: [10, 15] });
    expect(page.lines).toEqual([whole.lines[0], ...whole.lines.slice(11, 16)]);
    // The widest name is off the page but still sets the column: nothing shifts while scrolling.
    expect(page.lines[1]!.indexOf('channel')).toBe(whole.lines[41]!.indexOf('channel'));
  });

  it('measures painted cells by their text, so colour never shifts a column', () => {
    const painted = [[{ text: 'x', paint: color.red }, { text: 'k' }, { text: '1', paint: color.yellow }, { text: '2' }]];
    const a = layoutGrid(COLUMNS, painted, { width: 40, palette: color }).lines.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''));
    const b = layoutGrid(COLUMNS, [[{ text: 'x' }, { text: 'k' }, { text: '1' }, { text: '2' }]], { width: 40, palette: plain }).lines;
    expect(a).toEqual(b);
  });

  it('fits a spanning cell (a node that is down) to the columns it covers that are still shown', () => {
    const down = [...rows, [{ text: 'gone' }, { text: `DOWN  ${'e'.repeat(200)}`, span: 3 }]];
    const grid = layoutGrid(COLUMNS, down, { width: 50, palette: plain });
    const last = grid.lines[3]!;
    expect(last).toMatch(/^gone\s+DOWN {2}e+…$/);
    expect(displayWidth(last)).toBeLessThanOrEqual(displayWidth(grid.lines[0]!) + 2);
  });
});
