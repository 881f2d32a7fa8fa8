// Unit tests for watch's full-screen frames: never wider nor taller than the terminal, the title first, the footer saying what is hidden.
import { describe, it, expect } from 'vitest';
import type { ChannelRow, NodeRow, Snapshot } from '../../src/stats/snapshot.js';
import type { SubscriberClient } from '../../src/stats/subscriber-clients.js';
import { renderScreen, type ScreenInput } from '../../src/render/watch-screen.js';
import { displayWidth } from '../../src/render/width.js';

const MiB = 1024 * 1024;
const LIMIT = { hardBytes: 32 * MiB, softBytes: 8 * MiB, softSeconds: 60 };

function nodes(): NodeRow[] {
  return [7000, 7001, 7002, 7003, 7004, 7005].map((port, i) => ({
    address: `127.0.0.1:${port}`,
    role: i < 3 ? 'primary' : 'replica',
    up: true,
    version: '7.0.15',
    clients: 12,
    pubsubClients: 3,
    numpat: 1,
    opsPerSec: 1523,
    publishPerSec: 800,
    maxSubscriberOmem: 1.2 * MiB,
    pubsubLimit: LIMIT,
    obufDisconnections: 0,
  }));
}

function channels(n: number): ChannelRow[] {
  return Array.from({ length: n }, (_, i): ChannelRow =>
    i % 7 === 0
      ? { name: `{tenant:${i}}:events:${'long-segment:'.repeat(i % 5)}end`, kind: 'shard', subscribers: i % 4, slot: 1000 + i, shard: '127.0.0.1:7001', rate: i * 1.5 }
      : { name: i % 11 === 0 ? `日本語:${i}` : `chan:${i}`, kind: 'channel', subscribers: 1 + (i % 4), rate: i },
  );
}

function client(over: Partial<SubscriberClient>): SubscriberClient {
  return { node: '127.0.0.1:7000', nodeRole: 'primary', id: '1', addr: '10.0.0.5:51234', name: 'orders-service', sub: 3, psub: 0, ssub: 0, omem: 0, limit: LIMIT, age: 3600, idle: 1, reconnects: 0, flapping: false, ...over };
}

function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    time: Date.UTC(2024, 4, 1, 12, 0, 0),
    mode: 'cluster',
    channels: channels(300),
    nodes: nodes(),
    publishPerSec: 12_345,
    patternsPresent: true,
    warnings: ['127.0.0.1:7009 (replica) is down: no answer', 'second warning', 'third warning'],
    clients: [],
    clientsUnknown: [],
    flapping: 0,
    ...over,
  };
}

function input(over: Partial<ScreenInput> = {}): ScreenInput {
  const s = over.snapshot ?? snapshot();
  return { snapshot: s, view: 'channels', title: 'pubsub-mon watch redis://127.0.0.1:7000', banner: [], channels: s.channels, clients: s.clients, showRates: true, color: false, width: 80, height: 24, scroll: 0, status: ['sort subscribers'], ...over };
}

const SIZES: Array<[number, number]> = [[80, 24], [100, 30], [120, 40], [200, 50], [60, 15]];

describe('renderScreen', () => {
  it('never draws a line wider or a frame taller than the terminal, in any view, title first and footer last', () => {
    const many = Array.from({ length: 200 }, (_, i) => client({ id: String(i), name: `worker-${i}-${'x'.repeat(i % 40)}`, omem: i * 1000 }));
    for (const color of [false, true]) {
      for (const [width, height] of SIZES) {
        for (const view of ['channels', 'nodes', 'clients'] as const) {
          for (const groupBy of [undefined, 'name'] as const) {
            const s = snapshot({ clients: many });
            const screen = renderScreen(input({ snapshot: s, clients: many, view, width, height, color, banner: ['demo: 6 servers; q or Ctrl-C stops them'], ...(groupBy ? { groupBy, groups: [{ key: 'worker', connections: 200, nodes: 6, sub: 600, psub: 0, ssub: 0, omem: 5 * MiB, maxOmem: MiB, flapping: 0, incomplete: [] }] } : {}) }));
            const where = `${view} ${width}x${height} color=${color}`;
            expect(screen.lines.length, where).toBe(height);
            for (const line of screen.lines) expect(displayWidth(line), `${where}: ${line}`).toBeLessThanOrEqual(width);
            expect(screen.lines[0]!.replace(/\x1b\[[0-9;]*m/g, '')).toMatch(/^pubsub-mon watch/);
            expect(screen.lines.join('\n')).toContain('demo: 6 servers');
            expect(screen.lines[height - 1]).toContain('q quit');
          }
        }
      }
    }
  });

  it('says in the footer how many rows and which columns are hidden', () => {
    const screen = renderScreen(input());
    const footer = screen.lines.at(-1)!;
    expect(footer).toMatch(new RegExp(`channels 1-${screen.pageRows} of 300 \\(j/k\\)`));
    expect(footer).toMatch(/hidden: VERSION OPS\/S/);
    expect(footer).toContain('? keys');
    // Narrower, the channel table gives up columns too, SLOT first.
    expect(renderScreen(input({ width: 66 })).lines.at(-1)).toMatch(/hidden: SLOT/);
    expect(screen.listLength).toBe(300);
    // On a wide terminal nothing is hidden but the rows.
    const wide = renderScreen(input({ width: 200, height: 50 })).lines.at(-1)!;
    expect(wide).not.toContain('hidden:');
  });

  it('scrolls the channel list and holds the scroll within it', () => {
    const first = renderScreen(input({ scroll: 0 }));
    const second = renderScreen(input({ scroll: 5 }));
    const rowsOf = (lines: string[]) => lines.filter((l) => /^(chan|\{tenant|日本語)/.test(l));
    expect(rowsOf(second.lines)[0]).toBe(rowsOf(first.lines)[5]);
    const end = renderScreen(input({ scroll: 10_000 }));
    expect(end.scroll).toBe(300 - end.pageRows);
    expect(end.lines.at(-1)).toContain(`of 300`);
  });

  it('keeps the node table to a share of a short terminal and points to the nodes view for the rest', () => {
    const screen = renderScreen(input({ width: 120, height: 16 }));
    const nodeRows = screen.lines.filter((l) => l.startsWith('127.0.0.1:70'));
    expect(nodeRows.length).toBeLessThan(6);
    expect(screen.lines.at(-1)).toMatch(/\+\d nodes \(Tab\)/);
    const nodesView = renderScreen(input({ view: 'nodes', width: 80, height: 16 }));
    expect(nodesView.lines.filter((l) => l.startsWith('127.0.0.1:70'))).toHaveLength(6);
  });

  it('shows two warnings and counts the rest; the help lists keys', () => {
    const screen = renderScreen(input({ width: 200, height: 50 }));
    expect(screen.lines.filter((l) => l.startsWith('! '))).toHaveLength(2);
    expect(screen.lines.at(-1)).toContain('+1 warning (?)');
    const help = renderScreen(input({ help: [['q', 'quit'], ['s', 'sort']] }));
    expect(help.lines.join('\n')).toMatch(/Keys\n\s+q\s+quit\n\s+s\s+sort/);
  });

  it('shows the filter prompt in place of the footer while one is typed, escaped', () => {
    const screen = renderScreen(input({ prompt: 'news:\x1b[2J*' }));
    expect(screen.lines.at(-1)).toContain('filter (glob): news:\\x1b[2J*_');
  });

  it('names the slow subscriber first in the clients view, highlighted, with its output buffer', () => {
    const slow = client({ id: '9', name: 'slow-consumer', omem: 6 * MiB, addr: '10.0.0.9:4000' });
    const clients = [slow, client({ id: '2', name: 'ok-1' }), client({ id: '3', name: '', omem: undefined })];
    const s = snapshot({ clients, flapping: 1 });
    const screen = renderScreen(input({ snapshot: s, clients, view: 'clients', color: true }));
    const text = screen.lines.join('\n');
    expect(screen.lines[0]).toContain('3 connections');
    expect(screen.lines[0]).toContain('1 flapping');
    // Above half the 8 MiB soft limit: yellow name and buffer.
    expect(text).toContain('\x1b[33mslow-consumer\x1b[39m');
    expect(text).toContain('\x1b[33m6.00 MiB / 32.0 MiB\x1b[39m');
    const plainText = renderScreen(input({ snapshot: s, clients, view: 'clients' })).lines;
    const rows = plainText.filter((l) => /^(slow|ok|\(no name\))/.test(l));
    expect(rows[0]).toMatch(/^slow-consumer/);
    // An unnamed client says so; an output buffer the server did not give is a dash, not 0.
    expect(rows[2]).toMatch(/^\(no name\).*–/);
  });

  it('says when clients of some node could not be listed, instead of presenting a short list as whole', () => {
    const s = snapshot({ clients: [], clientsUnknown: ['127.0.0.1:7004'] });
    const screen = renderScreen(input({ snapshot: s, clients: [], view: 'clients', width: 120 }));
    const text = screen.lines.join('\n');
    expect(text).toContain('no subscriber connections');
    expect(text).toContain('CLIENT LIST refused or not answered on 127.0.0.1:7004');
    expect(screen.lines[0]).toContain('unknown on 1 node');
  });

  it('renders whole, at natural width, off a terminal', () => {
    const screen = renderScreen(input({ width: undefined, height: undefined }));
    expect(screen.lines.filter((l) => l.startsWith('chan:'))).toHaveLength(300 - Math.ceil(300 / 7) - 24);
    expect(screen.lines.join('\n')).not.toContain('…');
  });
});

describe('renderScreen footer and filter', () => {
  it('keeps PAUSED and the filter in the footer at 80 columns, ahead of the hidden columns, and escapes the filter', () => {
    const screen = renderScreen(input({ alerts: ['PAUSED (p)'], filter: 'ab\u202ecd\x1b[2J*', status: ['sort subscribers', 'rates off (r)'] }));
    const footer = screen.lines.at(-1)!;
    expect(footer).toContain('PAUSED (p)');
    expect(footer).toContain('filter ab\\u202ecd\\x1b[2J*');
    expect(footer).not.toMatch(/[\u202e\x1b]/);
    expect(displayWidth(footer)).toBeLessThanOrEqual(80);
  });

  it('says when a filter leaves nothing, and keeps the title counting the whole snapshot', () => {
    const clients = [client({ id: '1', name: 'a' }), client({ id: '2', name: 'b' })];
    const s = snapshot({ clients });
    const screen = renderScreen(input({ snapshot: s, clients: [], view: 'clients', filter: 'zzz*', width: 120 }));
    expect(screen.lines.join('\n')).toContain('no connections match zzz* (Esc clears the filter)');
    expect(screen.lines[0]).toContain('2 connections');
    const nodes = renderScreen(input({ view: 'nodes', nodes: [], filter: 'x*', width: 120 }));
    expect(nodes.lines[0]).toContain('6 nodes');
    expect(nodes.lines.join('\n')).toContain('no nodes match x*');
  });

  it('offers only Ctrl-C when no keyboard is attached', () => {
    const footer = renderScreen(input({ keys: false })).lines.at(-1)!;
    expect(footer).toContain('Ctrl-C quits');
    expect(footer).not.toContain('q quit');
  });
});
