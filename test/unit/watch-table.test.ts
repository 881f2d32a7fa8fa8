// Unit tests for the `watch` renderer: tables for people and the stable JSON shape.
import { describe, it, expect } from 'vitest';
import type { NodeRow, Snapshot } from '../../src/stats/snapshot.js';
import { renderScreen } from '../../src/render/watch-screen.js';
import { snapshotToJson } from '../../src/render/json/watch.js';
import { fitWidth } from '../../src/render/width.js';
import { UNKNOWN } from '../../src/render/format.js';

const MiB = 1024 * 1024;
const LIMIT = { hardBytes: 32 * MiB, softBytes: 8 * MiB, softSeconds: 60 };

function node(over: Partial<NodeRow> = {}): NodeRow {
  return {
    address: '127.0.0.1:7001',
    role: 'primary',
    up: true,
    version: '7.4.1',
    clients: 12,
    pubsubClients: 3,
    numpat: 0,
    opsPerSec: 1523,
    publishPerSec: 800,
    maxSubscriberOmem: 1.2 * MiB,
    pubsubLimit: LIMIT,
    obufDisconnections: 0,
    ...over,
  };
}

function snapshot(over: Partial<Snapshot> = {}): Snapshot {
  return {
    time: Date.UTC(2024, 4, 1, 12, 0, 0),
    mode: 'cluster',
    channels: [
      { name: 'orders', kind: 'channel', subscribers: 3, rate: 12.3 },
      { name: '{user}:events', kind: 'shard', subscribers: 2, slot: 5474, shard: '127.0.0.1:7001', rate: 1500 },
    ],
    nodes: [node()],
    publishPerSec: 12_345,
    patternsPresent: false,
    warnings: [],
    clients: [],
    clientsUnknown: [],
    flapping: 0,
    ...over,
  };
}

const plain = { color: false, showRates: true };

/** The channels view as watch prints it off a terminal (or at `width` columns with --once). */
function renderSnapshot(s: Snapshot, opts: { color: boolean; showRates: boolean; width?: number; title?: string }): string {
  const screen = renderScreen({ snapshot: s, view: 'channels', title: opts.title ?? 'pubsub-mon', banner: [], channels: s.channels, clients: s.clients, showRates: opts.showRates, color: opts.color, ...(opts.width !== undefined ? { width: opts.width } : {}), scroll: 0, status: [] });
  return `${screen.lines.join('\n')}\n`;
}

/** The line of a rendered table that starts with `first`. */
function lineStarting(text: string, first: string): string {
  const line = text.split('\n').find((l) => l.startsWith(first));
  expect(line, `no line starting with ${first}`).toBeDefined();
  return line ?? '';
}

function cells(line: string): string[] {
  return line.trim().split(/\s{2,}/);
}

describe('renderSnapshot', () => {
  it('starts with a header: mode, node count, time and total publish rate', () => {
    const header = renderSnapshot(snapshot(), plain).split('\n')[0] ?? '';
    expect(header).toContain('pubsub-mon');
    expect(header).toContain('cluster');
    expect(header).toContain('1 node');
    expect(header).toContain('publish 12.3 k/s');
    const d = new Date(Date.UTC(2024, 4, 1, 12, 0, 0));
    expect(header).toContain(`${String(d.getHours()).padStart(2, '0')}:00:00`);
  });

  it('uses the title and counts nodes that are down', () => {
    const s = snapshot({ nodes: [node(), node({ address: '127.0.0.1:7002', up: false, error: 'ECONNREFUSED' })] });
    const header = renderSnapshot(s, { ...plain, title: 'prod' }).split('\n')[0] ?? '';
    expect(header.startsWith('prod')).toBe(true);
    expect(header).toContain('2 nodes, 1 down');
  });

  it('shows the publish total as unknown, not 0, when it is not measured yet', () => {
    const header = renderSnapshot(snapshot({ publishPerSec: undefined }), plain).split('\n')[0] ?? '';
    expect(header).toContain(`publish ${UNKNOWN}`);
  });

  it('lists channels with a dash where slot and shard do not apply', () => {
    const out = renderSnapshot(snapshot(), plain);
    expect(cells(lineStarting(out, 'CHANNEL'))).toEqual(['CHANNEL', 'KIND', 'SUBSCRIBERS', 'SLOT', 'SHARD', 'MSG/S']);
    expect(cells(lineStarting(out, 'orders'))).toEqual(['orders', 'channel', '3', UNKNOWN, UNKNOWN, '12.3/s']);
    expect(cells(lineStarting(out, '{user}:events'))).toEqual([
      '{user}:events',
      'shard',
      '2',
      '5474',
      '127.0.0.1:7001',
      '1.50 k/s',
    ]);
  });

  it('drops the MSG/S column when rates are off', () => {
    const out = renderSnapshot(snapshot(), { color: false, showRates: false });
    expect(out).not.toContain('MSG/S');
    expect(cells(lineStarting(out, 'orders'))).toHaveLength(5);
  });

  it('says so when no channel has subscribers, and warns about pattern subscribers', () => {
    const out = renderSnapshot(snapshot({ channels: [], patternsPresent: true }), plain);
    expect(out).toContain('no channels with subscribers');
    expect(out).toMatch(/pattern subscriptions exist/);
    expect(out).not.toContain('CHANNEL');
    const none = renderSnapshot(snapshot({ channels: [] }), plain);
    expect(none).not.toMatch(/pattern subscriptions exist/);
  });

  it('escapes control characters in channel names', () => {
    const s = snapshot({ channels: [{ name: 'evil\u001b[2J\u009bname', kind: 'channel', subscribers: 1 }] });
    const out = renderSnapshot(s, plain);
    expect(out).toContain('evil\\x1b[2J\\u009bname');
    expect(out).not.toMatch(/[\u001b\u009b]/);
  });

  it('cuts long channel names to fit the width, and only when a width is given', () => {
    const long = `app:${'x'.repeat(200)}`;
    const s = snapshot({ channels: [{ name: long, kind: 'channel', subscribers: 1 }] });
    const fitted = renderSnapshot(s, { ...plain, width: 80 });
    const row = lineStarting(fitted, 'app:');
    expect(row).toContain('…');
    expect(Array.from(row).length).toBeLessThanOrEqual(80);
    expect(Array.from(lineStarting(fitted, 'CHANNEL')).length).toBeLessThanOrEqual(80);
    expect(renderSnapshot(s, plain)).toContain(long);
  });

  it('renders the node table with output buffer against the hard limit', () => {
    const out = renderSnapshot(snapshot(), plain);
    expect(cells(lineStarting(out, 'ADDRESS'))).toEqual([
      'ADDRESS',
      'ROLE',
      'VERSION',
      'CLIENTS',
      'PUBSUB CLIENTS',
      'PATTERNS',
      'OPS/S',
      'PUBLISH/S',
      'MAX SUB OBUF',
      'OBUF DISCONN',
    ]);
    expect(cells(lineStarting(out, '127.0.0.1:7001'))).toEqual([
      '127.0.0.1:7001',
      'primary',
      '7.4.1',
      '12',
      '3',
      '0',
      '1.52 k/s',
      '800/s',
      '1.20 MiB / 32.0 MiB',
      '0',
    ]);
  });

  it('shows fields the server does not report as a dash, never 0', () => {
    const s = snapshot({ nodes: [{ address: '10.0.0.1:6379', role: 'primary', up: true }] });
    const row = cells(lineStarting(renderSnapshot(s, plain), '10.0.0.1:6379'));
    expect(row.slice(2)).toEqual(Array(8).fill(UNKNOWN));
  });

  it('marks a replica whose publish count repeats its primary', () => {
    const s = snapshot({ nodes: [node({ role: 'replica', publishReplicated: true })] });
    expect(renderSnapshot(s, plain)).toContain('800/s (repl)');
    expect(renderSnapshot(s, { ...plain, color: true })).toContain('800/s\u001b[2m (repl)\u001b[22m');
  });

  it('shows DOWN and the error instead of numbers for a node that is down', () => {
    const s = snapshot({
      nodes: [node(), node({ address: '127.0.0.1:7002', up: false, error: `connect ECONNREFUSED ${'z'.repeat(300)}` })],
    });
    const out = renderSnapshot(s, plain);
    const row = lineStarting(out, '127.0.0.1:7002');
    expect(row).toMatch(/primary\s+DOWN\s+connect ECONNREFUSED/);
    // A long error is cut rather than widening every column.
    expect(row).toContain('…');
    expect(row.length).toBeLessThanOrEqual(lineStarting(out, 'ADDRESS').length);
    const colored = renderSnapshot(s, { ...plain, color: true });
    expect(colored).toMatch(/\u001b\[31mDOWN {2}connect ECONNREFUSED z+…\u001b\[39m/);
  });

  it('paints the output buffer yellow above half the soft limit and red above it', () => {
    const render = (omem: number): string =>
      renderSnapshot(snapshot({ nodes: [node({ maxSubscriberOmem: omem })] }), { ...plain, color: true });
    expect(render(1 * MiB)).not.toMatch(/\u001b\[3[13]m[\d.]+ MiB \/ 32\.0 MiB/);
    expect(render(5 * MiB)).toContain('\u001b[33m5.00 MiB / 32.0 MiB\u001b[39m');
    expect(render(9 * MiB)).toContain('\u001b[31m9.00 MiB / 32.0 MiB\u001b[39m');
  });

  it('writes no ANSI codes at all when colour is off', () => {
    const s = snapshot({
      patternsPresent: true,
      channels: [{ name: 'z', kind: 'channel', subscribers: 0 }],
      nodes: [node({ maxSubscriberOmem: 20 * MiB, obufDisconnections: 4 }), node({ up: false, error: 'x' })],
      warnings: ['w'],
    });
    expect(renderSnapshot(s, plain)).not.toContain('\u001b');
  });

  it('ends with one warning line per warning, prefixed "! " and escaped', () => {
    const out = renderSnapshot(snapshot({ warnings: ['node 127.0.0.1:7002 is down', 'bad\u001bname'] }), plain);
    const lines = out.trimEnd().split('\n');
    expect(lines.slice(-2)).toEqual(['! node 127.0.0.1:7002 is down', '! bad\\x1bname']);
    expect(out.endsWith('\n')).toBe(true);
  });
});

describe('fitWidth', () => {
  it('keeps short text and cuts long text to the limit, ellipsis included', () => {
    expect(fitWidth('orders', 10)).toBe('orders');
    expect(fitWidth('abcdefghij', 5)).toBe('abcd…');
  });
  it('never splits a surrogate pair, and counts an emoji as the two columns it takes', () => {
    expect(fitWidth('😀😀😀😀', 5)).toBe('😀😀…');
  });
});

describe('snapshotToJson', () => {
  it('produces the stable shape with an ISO time', () => {
    const json = snapshotToJson(snapshot());
    expect(json.time).toBe('2024-05-01T12:00:00.000Z');
    expect(json.mode).toBe('cluster');
    expect(json.publish_per_sec).toBe(12_345);
    expect(json.patterns_present).toBe(false);
    expect(json.channels).toEqual([
      { name: 'orders', kind: 'channel', subscribers: 3, rate: 12.3 },
      { name: '{user}:events', kind: 'shard', subscribers: 2, slot: 5474, shard: '127.0.0.1:7001', rate: 1500 },
    ]);
    expect(json.nodes[0]).toEqual({
      address: '127.0.0.1:7001',
      role: 'primary',
      up: true,
      replaced: false,
      version: '7.4.1',
      clients: 12,
      pubsub_clients: 3,
      numpat: 0,
      ops_per_sec: 1523,
      publish_per_sec: 800,
      publish_replicated: false,
      max_subscriber_omem: 1.2 * MiB,
      pubsub_limit: { hard_bytes: 32 * MiB, soft_bytes: 8 * MiB, soft_seconds: 60 },
      obuf_disconnections: 0,
    });
  });

  it('writes null for unknown numbers, never 0, and survives a JSON round trip', () => {
    const s = snapshot({
      publishPerSec: undefined,
      channels: [{ name: 'c', kind: 'shard', subscribers: 0 }],
      nodes: [{ address: 'h:1', role: 'replica', up: false, error: 'timeout' }],
    });
    const json = JSON.parse(JSON.stringify(snapshotToJson(s))) as Record<string, unknown>;
    expect(json['publish_per_sec']).toBeNull();
    expect(json['channels']).toEqual([{ name: 'c', kind: 'shard', subscribers: 0, slot: null, shard: null, rate: null }]);
    expect(json['nodes']).toEqual([
      {
        address: 'h:1',
        role: 'replica',
        up: false,
        error: 'timeout',
        replaced: false,
        version: null,
        clients: null,
        pubsub_clients: null,
        numpat: null,
        ops_per_sec: null,
        publish_per_sec: null,
        publish_replicated: false,
        max_subscriber_omem: null,
        pubsub_limit: null,
        obuf_disconnections: null,
      },
    ]);
  });

  it('leaves slot and shard out where they do not apply', () => {
    const json = snapshotToJson(
      snapshot({ mode: 'standalone', channels: [{ name: 's', kind: 'shard', subscribers: 1 }] }),
    );
    expect(json.channels[0]).toEqual({ name: 's', kind: 'shard', subscribers: 1, rate: null });
    expect(snapshotToJson(snapshot()).channels[0]).not.toHaveProperty('slot');
  });

  it('keeps channel names raw: JSON escapes control characters itself', () => {
    const json = snapshotToJson(snapshot({ channels: [{ name: 'a\u001bb', kind: 'channel', subscribers: 1 }] }));
    expect(json.channels[0]?.name).toBe('a\u001bb');
    expect(JSON.stringify(json)).toContain('a\\u001bb');
  });
});
