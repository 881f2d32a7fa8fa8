// Unit tests for the exporter's pure parts: bounding channels, the exposition of a snapshot, and the poll/scrape state fed by snapshots built here.
import { describe, it, expect } from 'vitest';
import { boundChannels } from '../../src/stats/cardinality.js';
import { exporterMetricsText, type ExporterView } from '../../src/render/exporter-metrics.js';
import { Exporter } from '../../src/exporter/exporter.js';
import { parseContract, applyContract } from '../../src/stats/contract.js';
import { parseListenAddress } from '../../src/values.js';
import { arrangeChannels } from '../../src/stats/arrange.js';
import type { ChannelRow, NodeRow, Snapshot } from '../../src/stats/snapshot.js';

const row = (name: string, subscribers: number, kind: 'channel' | 'shard' = 'channel'): ChannelRow => ({ name, kind, subscribers });

function sampleLines(text: string): string[] {
  return text.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
}

describe('boundChannels', () => {
  it('keeps the required rows past the bound, then the most subscribed, ties by name, and counts the rest', () => {
    const rows = [row('b', 5), row('a', 5), row('c', 9), row('declared', 0), row('d', 1)];
    const { kept, omitted } = boundChannels(rows, 3, (r) => r.name === 'declared');
    expect(kept.map((r) => r.name)).toEqual(['declared', 'c', 'a']);
    expect(omitted).toBe(2);
    expect(boundChannels(rows, 0, (r) => r.name === 'declared').kept.map((r) => r.name)).toEqual(['declared']);
    expect(boundChannels(rows, 100, () => false).omitted).toBe(0);
  });
});

describe('parseListenAddress', () => {
  it.each([
    ['127.0.0.1:9484', { host: '127.0.0.1', port: 9484 }],
    ['[::1]:9484', { host: '::1', port: 9484 }],
    [':9484', { host: '0.0.0.0', port: 9484 }],
    ['9484', { host: '127.0.0.1', port: 9484 }],
    ['localhost:0', { host: 'localhost', port: 0 }],
  ])('reads %s', (text, expected) => {
    expect(parseListenAddress(text, '--listen')).toEqual(expected);
  });
  it.each(['', 'host', 'host:', 'host:port', '1.2.3.4:70000', '::1:9484', 'a b:1'])('refuses %j in one line', (text) => {
    expect(() => parseListenAddress(text, '--listen')).toThrow(/^--listen/);
  });
});

const up = (address: string, role: 'primary' | 'replica', over: Partial<NodeRow> = {}): NodeRow => ({
  address,
  role,
  up: true,
  version: '7.0.15',
  pubsubClients: 2,
  numpat: 1,
  maxSubscriberOmem: 4096,
  pubsubLimit: { hardBytes: 33554432, softBytes: 0, softSeconds: 0 },
  serverCounters: { publishCalls: 42, obufDisconnections: 3 },
  ...over,
});

function view(over: Partial<ExporterView> = {}): ExporterView {
  return {
    channels: [row('orders', 2), { ...row('{u}:e', 1, 'shard'), slot: 1, shard: 'x' }],
    known: { channel: 1, shard: 1 },
    omitted: 0,
    nodes: [up('10.0.0.1:7000', 'primary'), { address: '10.0.0.2:7001', role: 'replica', up: false, error: 'no answer' }],
    topClients: [],
    ...over,
  };
}

describe('exporterMetricsText', () => {
  it('gives a down node up 0 and no other series; a disabled limit is +Inf; server counters as counters', async () => {
    const lines = sampleLines(await exporterMetricsText(view()));
    expect(lines).toContain('pubsub_mon_node_up{node="10.0.0.2:7001",role="replica"} 0');
    expect(lines.filter((l) => l.includes('10.0.0.2:7001'))).toHaveLength(1);
    expect(lines).toContain('pubsub_mon_node_up{node="10.0.0.1:7000",role="primary"} 1');
    expect(lines).toContain('pubsub_mon_node_pubsub_soft_limit_bytes{node="10.0.0.1:7000",role="primary"} +Inf');
    expect(lines).toContain('pubsub_mon_node_pubsub_hard_limit_bytes{node="10.0.0.1:7000",role="primary"} 33554432');
    expect(lines).toContain('pubsub_mon_node_publish_calls_total{node="10.0.0.1:7000",role="primary"} 42');
    expect(lines).toContain('pubsub_mon_node_output_buffer_disconnections_total{node="10.0.0.1:7000",role="primary"} 3');
    expect(lines).toContain('pubsub_mon_channel_subscribers{channel="orders",kind="channel"} 2');
    expect(lines).toContain('pubsub_mon_channel_subscribers{channel="{u}:e",kind="shard"} 1');
    // No --rates: no counter is made up.
    expect(lines.some((l) => l.startsWith('pubsub_mon_channel_messages_total'))).toBe(false);
  });

  it('leaves out a field the server does not report rather than writing 0', async () => {
    const node = up('10.0.0.1:7000', 'primary', { serverCounters: { publishCalls: 1 } });
    delete node.pubsubClients;
    delete node.pubsubLimit;
    const lines = sampleLines(await exporterMetricsText(view({ nodes: [node] })));
    expect(lines.some((l) => l.startsWith('pubsub_mon_node_pubsub_clients'))).toBe(false);
    expect(lines.some((l) => l.startsWith('pubsub_mon_node_output_buffer_disconnections_total'))).toBe(false);
    expect(lines.some((l) => l.startsWith('pubsub_mon_node_pubsub_soft_limit_bytes'))).toBe(false);
  });

  it('escapes names from servers: bytes as \\xNN, controls and bidi marks escaped, quotes for the format', async () => {
    const hostile = 'a"b\n\u001b[2J\u202e\udcff';
    const text = await exporterMetricsText(
      view({
        channels: [row(hostile, 1)],
        topClients: [{ node: '10.0.0.1:7000', nodeRole: 'primary', id: '1', addr: '1.2.3.4:5', name: 'x\u0007y', omem: 10, reconnects: 0, flapping: false }],
      }),
    );
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\ud800-\udfff]/);
    expect(text).toContain('pubsub_mon_channel_subscribers{channel="a\\"b\\\\n\\\\x1b[2J\\\\u202e\\\\xff",kind="channel"} 1');
    expect(text).toContain('pubsub_mon_client_output_buffer_bytes{node="10.0.0.1:7000",addr="1.2.3.4:5",name="x\\\\x07y"} 10');
  });
});

function snapshot(channels: ChannelRow[], nodes: NodeRow[] = [up('10.0.0.1:7000', 'primary')]): Snapshot {
  return { time: 0, mode: 'cluster', channels, nodes, patternsPresent: false, warnings: [], clients: [], clientsUnknown: [], flapping: 0 };
}

describe('Exporter', () => {
  it('serves the last good poll, counts messages only from measured windows, and forgets channels it stops exporting', async () => {
    let now = 1_000_000;
    const feed: Array<Snapshot | Error> = [
      snapshot([{ ...row('a', 1), rate: 2, messages: 4 }, row('b', 1)]),
      snapshot([{ ...row('a', 1), rate: 1, messages: 3 }, { ...row('b', 1), rate: 0, messages: 0 }]),
      new Error('NOPERM this user has no permissions'),
      snapshot([{ ...row('b', 1), rate: 1, messages: 2 }]),
      snapshot([{ ...row('a', 1), rate: 1, messages: 1 }, { ...row('b', 1), rate: 1, messages: 1 }]),
    ];
    const source = {
      snapshot: async () => {
        const next = feed.shift();
        if (next instanceof Error) throw next;
        if (!next) throw new Error('feed exhausted');
        return next;
      },
    };
    const exporter = new Exporter(source, { maxChannels: 10, topClients: 5, intervalMs: 1000, rates: true, clock: () => now });
    expect(exporter.health()).toEqual({ healthy: false, message: 'no successful poll yet' });
    const counter = async (name: string) => sampleLines(await exporter.scrape()).find((l) => l.startsWith(`pubsub_mon_channel_messages_total{channel="${name}"`))?.split(' ')[1];

    await exporter.poll();
    expect(await counter('a')).toBe('4');
    // b had no measured window yet: its count is unknown, not 0.
    expect(await counter('b')).toBeUndefined();
    now += 1000;
    await exporter.poll();
    expect(await counter('a')).toBe('7');
    expect(await counter('b')).toBe('0');
    now += 1000;
    await expect(exporter.poll()).rejects.toThrow('NOPERM');
    expect(await counter('a')).toBe('7');
    now += 2500;
    const scraped = await exporter.scrape();
    expect(scraped).toContain('pubsub_mon_exporter_snapshot_age_seconds 3.5');
    expect(scraped).toContain('pubsub_mon_exporter_poll_errors_total{node=""} 1');
    expect(scraped).toMatch(/pubsub_mon_exporter_poll_duration_seconds_count 3/);
    expect(exporter.health().healthy).toBe(false);
    expect(exporter.health().message).toContain('NOPERM');
    await exporter.poll();
    // a left the snapshot: forgotten, so it starts again from its next window.
    expect(await counter('a')).toBeUndefined();
    expect(await counter('b')).toBe('2');
    await exporter.poll();
    expect(await counter('a')).toBe('1');
    expect(exporter.health()).toEqual({ healthy: true, message: 'ok: snapshot 0.0 s old' });
  });

  it('exports a contract: declared channels at 0 with thresholds and status, never cut by --max-channels, and counts down nodes as poll errors', async () => {
    const parsed = parseContract('channels:\n  - name: orders\n    min_subscribers: 2\n  - pattern: "jobs:*"\n', 'c.yaml');
    if (!parsed.ok) throw new Error(parsed.problem);
    const nodes = [up('10.0.0.1:7000', 'primary'), { address: '10.0.0.2:7000', role: 'primary' as const, up: false }];
    const source = { snapshot: async () => snapshot([row('big', 50), row('orders', 1), row('jobs:1', 0)], nodes) };
    const exporter = new Exporter(source, { contract: parsed.contract, maxChannels: 1, topClients: 0, intervalMs: 1000, rates: false });
    await exporter.poll();
    const lines = sampleLines(await exporter.scrape());
    expect(lines).toContain('pubsub_mon_channel_subscribers{channel="orders",kind="channel"} 1');
    expect(lines).toContain('pubsub_mon_channel_subscribers{channel="jobs:1",kind="channel"} 0');
    expect(lines.some((l) => l.includes('channel="big"'))).toBe(false);
    expect(lines).toContain('pubsub_mon_channels_omitted 1');
    expect(lines).toContain('pubsub_mon_contract_min_subscribers{channel="orders",kind="channel"} 2');
    // A node is down: orders' count may be short, so its status is UNKNOWN (3), not CRITICAL.
    expect(lines).toContain('pubsub_mon_contract_status{channel="orders",kind="channel"} 3');
    expect(lines).toContain('pubsub_mon_contract_pattern_matches{pattern="jobs:*",kind="channel"} 1');
    expect(lines).toContain('pubsub_mon_exporter_poll_errors_total{node="10.0.0.2:7000"} 1');
  });
});

describe('Exporter when no node answers', () => {
  const down = (address: string): NodeRow => ({ address, role: 'primary', up: false, error: 'refused' });

  it('serves every node as up 0 and no count, and does not call it a success', async () => {
    const source = { snapshot: async () => snapshot([row('orders', 0)], [down('10.0.0.1:7000'), down('10.0.0.2:7000')]) };
    const exporter = new Exporter(source, { maxChannels: 10, topClients: 5, intervalMs: 1000, rates: false });
    await expect(exporter.poll()).rejects.toThrow('no node answered');
    const lines = sampleLines(await exporter.scrape());
    expect(lines).toContain('pubsub_mon_node_up{node="10.0.0.1:7000",role="primary"} 0');
    expect(lines.some((l) => l.startsWith('pubsub_mon_channel_subscribers'))).toBe(false);
    expect(lines.some((l) => l.startsWith('pubsub_mon_exporter_last_success_timestamp_seconds'))).toBe(true);
    expect(lines).toContain('pubsub_mon_exporter_last_success_timestamp_seconds 0');
    expect(lines).toContain('pubsub_mon_exporter_poll_errors_total{node=""} 1');
    expect(exporter.health()).toEqual({ healthy: false, message: 'no successful poll yet (no node answered)' });
  });

  it('keeps its message counters through a poll that read nothing, without serving them meanwhile', async () => {
    const feed = [
      snapshot([{ ...row('orders', 1), rate: 1, messages: 5 }]),
      snapshot([row('orders', 0)], [down('10.0.0.1:7000')]),
      snapshot([{ ...row('orders', 1), rate: 1, messages: 2 }]),
    ];
    const source = { snapshot: async () => feed.shift() ?? snapshot([]) };
    const exporter = new Exporter(source, { maxChannels: 10, topClients: 5, intervalMs: 1000, rates: true });
    await exporter.poll();
    await expect(exporter.poll()).rejects.toThrow('no node answered');
    expect(sampleLines(await exporter.scrape()).some((l) => l.startsWith('pubsub_mon_channel_messages_total'))).toBe(false);
    await exporter.poll();
    expect(sampleLines(await exporter.scrape())).toContain('pubsub_mon_channel_messages_total{channel="orders",kind="channel"} 7');
  });
});

describe('applyContract (watch)', () => {
  it('marks covered rows, sorts breaches first whatever the sort, and sums them up in one warning', () => {
    const parsed = parseContract('channels:\n  - name: orders\n    min_subscribers: 2\n', 'c.yaml');
    if (!parsed.ok) throw new Error(parsed.problem);
    const s = applyContract(snapshot([row('busy', 9), row('orders', 1)], [up('10.0.0.1:7000', 'primary', { numpat: 0 })]), parsed.contract);
    expect(s.channels.find((r) => r.name === 'orders')?.contract).toEqual({ status: 'CRITICAL', reason: 'below 2 subscribers' });
    expect(s.channels.find((r) => r.name === 'busy')?.contract).toBeUndefined();
    expect(arrangeChannels(s.channels, 'subscribers').rows.map((r) => r.name)).toEqual(['orders', 'busy']);
    expect(s.warnings[0]).toBe('contract CRITICAL - 1 of 1 channel failing their contract: orders (1, min 2)');
  });
});
