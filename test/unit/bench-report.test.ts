// The bench report for people (sections, colours, UNKNOWN for missing values) and the stable JSON shape.
import { describe, it, expect } from 'vitest';
import { completeSeconds, renderBenchReport, renderDistribution } from '../../src/render/bench-report.js';
import { benchToJson } from '../../src/render/json/bench.js';
import type { BenchResult } from '../../src/stats/bench-result.js';
import { UNKNOWN } from '../../src/render/format.js';
import { displayWidth } from '../../src/render/width.js';
import { encodeHistogram, LatencyRecorder, summarize } from '../../src/stats/histogram.js';

const MiB = 1024 * 1024;
const RED = '\u001b[31m';

function recorded(): LatencyRecorder {
  const r = new LatencyRecorder();
  for (let i = 0; i < 1000; i++) r.record(100 + (i % 50)); // 100-149 µs
  for (let i = 0; i < 10; i++) r.record(10_000); // a slow tail at 10 ms
  return r;
}

function result(over: Partial<BenchResult> = {}): BenchResult {
  const rec = recorded();
  return {
    target: '127.0.0.1:6379',
    topology: 'standalone',
    nodes: 1,
    mode: 'publish',
    subscribe: 'channel',
    replicas: false,
    askedRate: 10_000,
    durationMs: 3000,
    warmupMs: 1000,
    channels: 4,
    publishers: 2,
    subscribers: 3,
    size: 128,
    threads: 1,
    processes: 0,
    verified: { asked: 12, found: 12, detail: 'NUMSUB on 1 node' },
    published: 30_000,
    publishErrors: 0,
    errorSamples: [],
    expected: 90_000,
    received: 90_000,
    lost: 0,
    duplicates: 0,
    reordered: 0,
    publishRate: 9876.543,
    deliveryRate: 29_629.625,
    elapsedMs: 3000,
    latency: summarize(rec.histogram),
    histogramEncoded: encodeHistogram(rec.histogram),
    timeseries: [
      { second: 0, sent: 9000, received: 27_000, p99Us: 400 },
      { second: 1, sent: 10_000, received: 30_000, p99Us: 150 },
      { second: 2, sent: 11_000, received: 33_000, p99Us: 200 },
    ],
    server: {
      cpuSeconds: 1.5,
      cpuUsPerMessage: 50,
      netInBytes: 4 * MiB,
      netOutBytes: 12 * MiB,
      peakSubscriberOmem: 512 * 1024,
      pubsubLimitBytes: 32 * MiB,
      obufDisconnections: 0,
    },
    groups: [{ name: 'all', channels: 4, askedRate: 10_000, published: 30_000, expected: 90_000, received: 90_000, lost: 0, publishRate: 9876.543, deliveryRate: 29_629.625, latency: summarize(rec.histogram) }],
    fanout: { min: 3, max: 3 },
    connections: 3,
    client: { publisherCpuSeconds: 0.06, subscriberCpuSeconds: 0.09, processCpuSeconds: 0.2, publisherCpuUsPerMessage: 1.99, subscriberCpuUsPerDelivery: 1.56, bytesPerConnection: 4096, rssBytes: 100 * MiB },
    incomplete: [],
    ...over,
  };
}

function plain(r: BenchResult): string {
  return renderBenchReport(r, { color: false });
}

/** The line of `text` that contains `needle`. */
function lineWith(text: string, needle: string): string {
  const line = text.split('\n').find((l) => l.includes(needle));
  if (line === undefined) throw new Error(`no line with ${needle} in:\n${text}`);
  return line;
}

/** The table row of `text` whose first cell is `label`. */
function rowOf(text: string, label: string): string {
  const line = text.split('\n').find((l) => l.startsWith(`${label} `));
  if (line === undefined) throw new Error(`no row ${label} in:\n${text}`);
  return line;
}

describe('renderBenchReport', () => {
  it('opens with one line saying where and what was run', () => {
    const [header, blank] = plain(result()).split('\n');
    expect(header).toBe(
      'pubsub-mon bench · 127.0.0.1:6379 · standalone, 1 node · PUBLISH → SUBSCRIBE · 128 B · 4 channels · ' +
        '2 publishers · 3 subscribers · 1 thread · 3.00 s + 1.00 s warm-up',
    );
    expect(blank).toBe('');
  });

  it('breaks the header between parts to fit a terminal, title still bold', () => {
    const out = renderBenchReport(result(), { color: true, width: 60 });
    const header = out.slice(0, out.indexOf('\n\n')).split('\n');
    expect(header).toEqual([
      '\u001b[1mpubsub-mon bench\u001b[22m · 127.0.0.1:6379 · standalone, 1 node',
      'PUBLISH → SUBSCRIBE · 128 B · 4 channels · 2 publishers',
      '3 subscribers · 1 thread · 3.00 s + 1.00 s warm-up',
    ]);
  });

  it('fits 80 columns: long lines break between words and parts, and nothing is lost in the breaking', () => {
    const rec = recorded();
    const r = result({
      verified: { asked: 4, found: 4, detail: '4 of 4 subscriptions (4 subscribers × 1 channel) found with PUBSUB SHARDNUMSUB on each channel\'s shard' },
      reconnects: { count: 1234, excused: 56_789, resubscribe: summarize(rec.histogram) },
      client: { ...result().client, sharedCpuSeconds: 0.5 },
      incomplete: [{ kind: 'disconnected', message: 'subscriber connection 3 of 4 on 127.0.0.1:7001 was closed by the server 1.2 s into the run: its deliveries after that are lost' }],
      publishErrors: 3,
      errorSamples: ["NOPERM this user has no permissions to run the 'publish' command, as the ACL user benchuser says"],
      target: `redis://${'very-long-host-name.'.repeat(6)}example.com:6379`,
    });
    const wide = renderBenchReport(r, { color: false });
    const narrow = renderBenchReport(r, { color: false, width: 80 });
    expect(narrow.split('\n').filter((l) => displayWidth(l) > 80)).toEqual([]);
    // Every word is still there, in order: only line breaks and indents were added. (The header
    // drops its separators at breaks and the latency table its last columns: both tested apart.)
    const sections = (t: string) => t.split('\n\n').filter((x) => !x.startsWith('LATENCY')).slice(1).map((x) => x.split(/\s+/).filter(Boolean));
    expect(sections(narrow)).toEqual(sections(wide));
    // The bench CPU value goes on under itself, in the value column, broken after a comma.
    const lines = narrow.split('\n');
    const at = lines.findIndex((l) => l.startsWith('bench CPU'));
    const column = lines[at]!.indexOf('publishers');
    expect(lines[at]!.trimEnd()).toMatch(/,$/);
    expect(lines[at + 1]!.slice(0, column).trim()).toBe('');
    // An incomplete reason stays red and bold on each of its lines, and its continuation is indented.
    const painted = renderBenchReport(r, { color: true, width: 80 }).split('\n').filter((l) => l.includes('\u001b[31m'));
    expect(painted.length).toBeGreaterThan(1);
    expect(painted.at(-1)).toMatch(/^\u001b\[31m\u001b\[1m   \S/);
  });

  it('names the commands of sharded and pattern runs, replicas, and a run by message count', () => {
    const shard = plain(result({ topology: 'cluster', nodes: 6, mode: 'spublish', subscribe: 'shard', replicas: true }));
    expect(shard.split('\n')[0]).toContain('cluster, 6 nodes · SPUBLISH → SSUBSCRIBE (subscribers on replicas too) · ');
    expect(plain(result({ subscribe: 'pattern' })).split('\n')[0]).toContain('PUBLISH → PSUBSCRIBE');
    const counted = plain(result({ messages: 50_000, warmupMs: 0 })).split('\n')[0];
    expect(counted).toMatch(/· 50\.0 k messages$/);
  });

  it('summarises rates and counts through the shared formatter', () => {
    const out = plain(result());
    expect(lineWith(out, 'asked rate')).toMatch(/asked rate\s+10\.0 k\/s\s+expected\s+90\.0 k/);
    expect(lineWith(out, 'publish rate')).toMatch(/publish rate\s+9\.88 k\/s\s+received\s+90\.0 k/);
    expect(lineWith(out, 'delivery rate')).toMatch(/delivery rate\s+29\.6 k\/s\s+lost\s+0$/);
    expect(lineWith(out, 'published')).toMatch(/published\s+30\.0 k\s+duplicated\s+0$/);
    expect(lineWith(out, 'publish errors')).toMatch(/publish errors\s+0\s+reordered\s+0$/);
  });

  it('says "max" for a run without a rate limit', () => {
    expect(lineWith(plain(result({ askedRate: 0 })), 'asked rate')).toMatch(/asked rate\s+max\s/);
  });

  it('paints loss, duplicates, reordering and publish errors red only when above zero', () => {
    const clean = renderBenchReport(result(), { color: true });
    expect(lineWith(clean, 'lost')).not.toContain(RED);
    expect(lineWith(clean, 'publish errors')).not.toContain(RED);
    const bad = renderBenchReport(
      result({ lost: 900, duplicates: 2, reordered: 3, publishErrors: 4, errorSamples: ['MOVED 1 127.0.0.1:7002'] }),
      { color: true },
    );
    expect(lineWith(bad, 'lost')).toContain(`${RED}900 (1.0%)`);
    expect(lineWith(bad, 'duplicated')).toContain(`${RED}2`);
    expect(lineWith(bad, 'reordered')).toContain(`${RED}3`);
    expect(lineWith(bad, 'publish errors')).toContain(`${RED}4`);
    expect(bad).toContain('! publish error: MOVED 1 127.0.0.1:7002');
  });

  it('prints the subscription check, red when fewer were found than asked for', () => {
    const ok = renderBenchReport(result(), { color: true });
    expect(lineWith(ok, 'subscriptions verified')).toBe(
      'subscriptions verified before the clock started: 12 of 12 (NUMSUB on 1 node)',
    );
    // A detail that gives the counts itself is not preceded by them again.
    const told = plain(result({ verified: { asked: 12, found: 12, detail: '12 of 12 subscriptions (3 subscribers × 4 channels) found with PUBSUB NUMSUB on 1 node' } }));
    expect(lineWith(told, 'subscriptions verified')).toBe('subscriptions verified before the clock started: 12 of 12 subscriptions (3 subscribers × 4 channels) found with PUBSUB NUMSUB on 1 node');
    const short = renderBenchReport(result({ verified: { asked: 12, found: 9, detail: '' } }), { color: true });
    expect(lineWith(short, 'subscriptions verified')).toBe(
      `${RED}subscriptions verified before the clock started: 9 of 12\u001b[39m`,
    );
  });

  it('prints every latency percentile in µs/ms', () => {
    const out = plain(result());
    expect(lineWith(out, 'LATENCY')).toMatch(/LATENCY\s+MIN\s+P50\s+P90\s+P99\s+P99\.9\s+P99\.99\s+MAX\s+MEAN\s+STDEV/);
    const cells = lineWith(out, 'end to end').replace('end to end', '').trim().split(/\s{2,}/);
    expect(cells.slice(0, 7)).toEqual(['100 µs', '125 µs', '145 µs', '149 µs', '10.0 ms', '10.0 ms', '10.0 ms']);
    expect(cells).toHaveLength(9);
  });

  it('shows UNKNOWN, never 0, for everything that was not measured', () => {
    const out = plain(
      result({ latency: undefined, histogramEncoded: undefined, timeseries: [], server: {} }),
    );
    const latencyCells = lineWith(out, 'end to end').replace('end to end', '').trim().split(/\s+/);
    expect(latencyCells).toEqual(Array(9).fill(UNKNOWN));
    expect(rowOf(out, 'sent').trim().split(/\s+/).slice(1)).toEqual([UNKNOWN, UNKNOWN, UNKNOWN]);
    expect(lineWith(out, 'server CPU')).toMatch(/server CPU\s+–, – per message$/);
    expect(lineWith(out, 'server network')).toMatch(/in –, out –$/);
    expect(lineWith(out, 'subscriber output buffer')).toMatch(/peak – of – limit$/);
    expect(lineWith(out, 'output-buffer disconnections')).toMatch(/disconnections\s+–$/);
    expect(out).not.toContain('latency distribution');
  });

  it('gives per-second min, median and max over whole seconds only', () => {
    // 2.5 s measured: second 2 is half a second and would read as a dip.
    const r = result({
      elapsedMs: 2500,
      timeseries: [
        { second: 0, sent: 9000, received: 27_000, p99Us: 400 },
        { second: 1, sent: 11_000, received: 33_000 },
        { second: 2, sent: 4000, received: 12_000, p99Us: 9000 },
      ],
    });
    expect(completeSeconds(r).map((t) => t.second)).toEqual([0, 1]);
    const out = plain(r);
    expect(lineWith(out, 'PER SECOND')).toMatch(/PER SECOND\s+MIN\s+P50\s+MAX/);
    expect(rowOf(out, 'sent').trim().split(/\s{2,}/)).toEqual(['sent', '9.00 k/s', '9.00 k/s', '11.0 k/s']);
    expect(rowOf(out, 'received').trim().split(/\s{2,}/)).toEqual(['received', '27.0 k/s', '27.0 k/s', '33.0 k/s']);
    expect(rowOf(out, 'p99 latency').trim().split(/\s{2,}/)).toEqual(['p99 latency', '400 µs', '400 µs', '400 µs']);
  });

  it('draws the latency distribution from the encoded histogram', () => {
    const out = plain(result());
    const lines = out.split('\n');
    const start = lines.indexOf('latency distribution');
    expect(start).toBeGreaterThan(0);
    const rows = lines.slice(start + 1, lines.indexOf('', start));
    expect(rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.length).toBeLessThanOrEqual(12);
    expect(rows[0]).toMatch(/^\s+100 µs – \d+ µs │█+.*\s\d+%$/);
    expect(rows.at(-1)).toMatch(/ – 10\.0 ms │[▏▎▍▌▋▊▉]\s+1\.0%$/);
    // The fullest row has the longest bar; empty rows have none.
    const barLength = (row: string) => (row.split('│')[1] ?? '').replace(/[^█▏▎▍▌▋▊▉]/g, '').length;
    const longest = Math.max(...rows.map(barLength));
    expect(longest).toBe(50);
    expect(rows.filter((r) => r.endsWith(' 0%')).every((r) => barLength(r) === 0)).toBe(true);
  });

  it('shows server cost, traffic and the subscriber output buffer against its limit', () => {
    const out = plain(result());
    expect(lineWith(out, 'server CPU')).toMatch(/1\.50 s, 50 µs per message$/);
    expect(lineWith(out, 'server network')).toMatch(/in 4\.00 MiB, out 12\.0 MiB$/);
    expect(lineWith(out, 'subscriber output buffer')).toMatch(/peak 512 KiB of 32\.0 MiB limit$/);
    const near = renderBenchReport(
      result({ server: { peakSubscriberOmem: 20 * MiB, pubsubLimitBytes: 32 * MiB, obufDisconnections: 2 } }),
      { color: true },
    );
    expect(lineWith(near, 'subscriber output buffer')).toContain(`${RED}peak 20.0 MiB of 32.0 MiB limit`);
    expect(lineWith(near, 'output-buffer disconnections')).toContain(`${RED}2`);
    const unlimited = plain(result({ server: { peakSubscriberOmem: MiB, pubsubLimitBytes: 0 } }));
    expect(lineWith(unlimited, 'subscriber output buffer')).toMatch(/peak 1\.00 MiB, no limit$/);
  });

  it('ends with every incomplete reason, loud and escaped', () => {
    const out = renderBenchReport(
      result({ incomplete: [{ kind: 'output-buffer-limit', message: 'subscriber 2 cut off by the server' }, { kind: 'node-down', message: 'node \u001b[2J 7003 unreachable' }] }),
      { color: true },
    );
    const tail = out.trimEnd().split('\n').slice(-2);
    expect(tail[0]).toBe(`${RED}\u001b[1m!! subscriber 2 cut off by the server\u001b[22m\u001b[39m`);
    expect(tail[1]).toContain('!! node \\x1b[2J 7003 unreachable');
    expect(out.endsWith('\n')).toBe(true);
  });

  it('escapes control characters from the target and the server detail', () => {
    const out = plain(result({ target: 'evil\u001b[31m:6379', verified: { asked: 1, found: 1, detail: 'x\u0007' } }));
    expect(out).not.toContain('\u001b');
    expect(out).not.toContain('\u0007');
    expect(out).toContain('evil\\x1b[31m:6379');
  });
});

describe('renderDistribution', () => {
  it('scales bars to the fullest bucket and prints shares', () => {
    const text = renderDistribution(
      [
        { fromUs: 100, toUs: 200, count: 3 },
        { fromUs: 200, toUs: 400, count: 6 },
        { fromUs: 400, toUs: 800, count: 1 },
      ],
      80,
    );
    expect(text.split('\n')).toEqual([
      `  100 µs – 200 µs │${'█'.repeat(25).padEnd(50)}  30%`,
      `  200 µs – 400 µs │${'█'.repeat(50)}  60%`,
      `  400 µs – 800 µs │${('█'.repeat(8) + '▍').padEnd(50)}  10%`,
    ]);
  });

  it('narrows the bars to fit the terminal, but not below ten cells', () => {
    const buckets = [{ fromUs: 100, toUs: 200, count: 1 }];
    expect(renderDistribution(buckets, 40).split('│')[1]).toBe(`${'█'.repeat(16)} 100%`);
    expect(renderDistribution(buckets, 10).split('│')[1]).toBe(`${'█'.repeat(10)} 100%`);
  });

  it('is empty when nothing was counted', () => {
    expect(renderDistribution([])).toBe('');
    expect(renderDistribution([{ fromUs: 1, toUs: 2, count: 0 }])).toBe('');
  });
});

describe('benchToJson', () => {
  it('has the stable shape, rates rounded to 0.01', () => {
    const r = result({ messages: 30_000, errorSamples: ['ERR x'], publishErrors: 1 });
    const json = benchToJson(r);
    expect(json).toEqual({
      published: 30_000,
      publish_errors: 1,
      error_samples: ['ERR x'],
      received: 90_000,
      expected: 90_000,
      lost: 0,
      duplicates: 0,
      reordered: 0,
      publish_rate: 9876.54,
      delivery_rate: 29_629.63,
      asked_rate: 10_000,
      elapsed_ms: 3000,
      latency_us: {
        min: r.latency!.min,
        p50: r.latency!.p50,
        p90: r.latency!.p90,
        p99: r.latency!.p99,
        p999: r.latency!.p999,
        p9999: r.latency!.p9999,
        max: r.latency!.max,
        mean: Math.round(r.latency!.mean * 100) / 100,
        stdev: Math.round(r.latency!.stdev * 100) / 100,
      },
      histogram: r.histogramEncoded,
      timeseries: [
        { second: 0, sent: 9000, received: 27_000, p99_us: 400 },
        { second: 1, sent: 10_000, received: 30_000, p99_us: 150 },
        { second: 2, sent: 11_000, received: 33_000, p99_us: 200 },
      ],
      verified: { asked: 12, found: 12, detail: 'NUMSUB on 1 node' },
      server: {
        cpu_seconds: 1.5,
        cpu_us_per_message: 50,
        net_in_bytes: 4 * MiB,
        net_out_bytes: 12 * MiB,
        peak_subscriber_omem: 512 * 1024,
        pubsub_limit_bytes: 32 * MiB,
        obuf_disconnections: 0,
      },
      config: {
        target: '127.0.0.1:6379',
        topology: 'standalone',
        nodes: 1,
        mode: 'publish',
        subscribe: 'channel',
        replicas: false,
        duration_ms: 3000,
        warmup_ms: 1000,
        messages: 30_000,
        channels: 4,
        publishers: 2,
        subscribers: 3,
        size: 128,
        threads: 1,
        processes: 0,
        profile: null,
      },
      groups: [
        {
          group: 'all',
          channels: 4,
          asked_rate: 10_000,
          published: 30_000,
          expected: 90_000,
          received: 90_000,
          lost: 0,
          publish_rate: 9876.54,
          delivery_rate: 29_629.63,
          latency_us: json.latency_us,
        },
      ],
      fanout: { min: 3, max: 3 },
      connections: 3,
      reconnects: null,
      client: {
        publisher_cpu_seconds: 0.06,
        subscriber_cpu_seconds: 0.09,
        shared_cpu_seconds: null,
        process_cpu_seconds: 0.2,
        publisher_cpu_us_per_message: 1.99,
        subscriber_cpu_us_per_delivery: 1.56,
        bytes_per_connection: 4096,
        rss_bytes: 100 * MiB,
      },
      agents: null,
      host_latency: null,
      incomplete: [],
      incomplete_reasons: [],
    });
    expect(json.latency_us!.p50).toBe(125);
  });

  it('shows the groups table only when there are several groups, and the client\'s own cost and memory', () => {
    const one = plain(result());
    expect(one).not.toContain('GROUP');
    expect(lineWith(one, 'bench CPU')).toContain('publishers 60.0 ms (1.99 µs per message), subscribers 90.0 ms (1.56 µs per delivery), whole process 200 ms');
    expect(lineWith(one, 'bench memory')).toContain('4.00 KiB per subscriber connection');
    expect(lineWith(one, 'fan-out')).toBe('fan-out 3 subscribers per channel, 3 subscriber connections');
    const g = (name: string, lost: number) => ({ name, channels: 2, askedRate: 100, published: 1000, expected: 2000, received: 2000 - lost, lost, publishRate: 100, deliveryRate: 200 });
    const two = renderBenchReport(result({ groups: [g('orders\u001b[2J', 0), g('news', 5)] }), { color: true });
    expect(two).toContain('GROUP');
    expect(two).not.toContain('\u001b[2J');
    expect(lineWith(two, 'news')).toContain(RED);
  });

  it('fits the groups table into a narrow terminal: P99.9 goes first, then long names are cut in the middle', () => {
    const rec = recorded();
    const g = (name: string, lost = 0) => ({ name, channels: 12, askedRate: 1000, published: 1_000, expected: 9_000, received: 9_000 - lost, lost, publishRate: 1000, deliveryRate: 9000, latency: summarize(rec.histogram) });
    const groupLines = (t: string) => t.slice(t.indexOf('GROUP')).split('\n\n')[0]!.split('\n');
    const groups = [g('tenant:acme:orders:*'), g('tenant:acme:invoices:*', 123_456)];
    // Wide enough: every column, whole names.
    const wide = groupLines(renderBenchReport(result({ groups }), { color: false, width: 120 }));
    expect(wide[0]).toMatch(/ P99\.9$/);
    expect(wide[2]).toMatch(/^tenant:acme:invoices:\* /);
    const at80 = groupLines(renderBenchReport(result({ groups }), { color: false, width: 80 }));
    expect(at80.filter((l) => displayWidth(l) > 80)).toEqual([]);
    expect(at80[0]).toMatch(/ P99$/);
    const narrow = groupLines(renderBenchReport(result({ groups }), { color: false, width: 76 }));
    expect(narrow.filter((l) => displayWidth(l) > 76)).toEqual([]);
    // Cut in the middle: both ends stay, so the two names are still told apart.
    expect(narrow[1]).toMatch(/^tenant.*…rs:\* /);
    expect(narrow[2]).toMatch(/^tenant.*…es:\* /);
    // Without a terminal nothing is cut.
    expect(plain(result({ groups: [g('x'.repeat(60)), g('news')] }))).toContain('x'.repeat(60));
  });

  it('uses null for everything unknown, never 0', () => {
    const json = benchToJson(
      result({
        latency: undefined,
        histogramEncoded: undefined,
        server: {},
        timeseries: [{ second: 0, sent: 5, received: 5 }],
        incomplete: [{ kind: 'disconnected', message: 'cut off' }],
      }),
    );
    expect(json.latency_us).toBeNull();
    expect(json.histogram).toBeNull();
    expect(json.config.messages).toBeNull();
    expect(Object.values(json.server)).toEqual(Array(7).fill(null));
    expect(json.timeseries).toEqual([{ second: 0, sent: 5, received: 5, p99_us: null }]);
    expect(json.incomplete).toEqual(['cut off']);
    expect(json.incomplete_reasons).toEqual([{ kind: 'disconnected', message: 'cut off' }]);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});
