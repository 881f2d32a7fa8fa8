// A bench run over agents (bench --agents N): per-host rows that add up to the totals, the latency
// within and across hosts with the clocks' bound, and a lost agent left out of the totals cleanly;
// then the same results as JSON and as the report for people. Pure: fixtures, no network.
import { describe, it, expect } from 'vitest';
import {
  assembleBenchResult,
  type BenchResult,
  type BenchRunData,
  type HostRunData,
  type PublisherReport,
  type SubscriberReport,
  type TallyReport,
} from '../../src/stats/bench-result.js';
import { DEFAULT_BENCH, type BenchConfig } from '../../src/stats/bench-config.js';
import { encodeHistogram, LatencyRecorder } from '../../src/stats/histogram.js';
import { benchToJson } from '../../src/render/json/bench.js';
import { renderBenchReport } from '../../src/render/bench-report.js';
import { displayWidth } from '../../src/render/width.js';

const START = 1_000_000_000_000;
const SECOND = 1e9;
/** Each publisher's accepted messages per channel: 300 in all. */
const OK = [100, 200];
const PER_PUBLISHER = 300;

function config(over: Partial<BenchConfig> = {}): BenchConfig {
  return { ...DEFAULT_BENCH, durationMs: 2000, subscribe: 'channel', replicas: false, channels: 2, publishers: 3, subscribers: 3, agents: 2, ...over };
}

/** `n` latencies spread evenly over [from, from + span) µs. */
function histogramOf(from: number, span: number, n = 100): string {
  const r = new LatencyRecorder();
  for (let i = 0; i < n; i++) r.record(from + Math.floor((i * span) / n));
  return encodeHistogram(r.histogram);
}

function publisher(id: number, over: Partial<PublisherReport> = {}): PublisherReport {
  return { id, measuredSent: PER_PUBLISHER, okPerChannel: [...OK], errors: 0, errorSamples: [], perSecond: [150, 150], lastSendNs: START + 2 * SECOND, lastSeq: [120, 220], unanswered: 0, ...over };
}

function subscriber(id: number, received: number, over: Partial<SubscriberReport> = {}): SubscriberReport {
  return { id, received, unique: received, duplicates: 0, reordered: 0, foreign: 0, excused: 0, reconnects: 0, ...over };
}

/**
 * A host's one tally: its subscribers' latency around `latencyUs`, and what they received from each
 * publisher id (the host split), same-host deliveries around latencyUs and cross-host ones 10x that.
 */
function tally(latencyUs: number, byPublisher: number[], over: Partial<TallyReport> = {}): TallyReport {
  const total = byPublisher.reduce((a, b) => a + b, 0);
  return {
    histogram: histogramOf(latencyUs, latencyUs / 2),
    overflow: 0,
    groupHistograms: [],
    receivedPerGroup: [total],
    uniquePerGroup: [total],
    excusedPerGroup: [0],
    perSecond: [total / 2, total / 2],
    hostSplit: {
      same: histogramOf(latencyUs, latencyUs / 4, 40),
      cross: histogramOf(latencyUs * 10, latencyUs, 60),
      byPublisher: { received: [...byPublisher], unique: [...byPublisher], excused: byPublisher.map(() => 0) },
    },
    ...over,
  };
}

interface HostSpec {
  name: string;
  role?: 'coordinator' | 'agent';
  /** The publisher and subscriber ids it runs (one subscriber each here, on both channels). */
  id: number;
  /** What its subscriber received from each publisher id. */
  byPublisher: number[];
  latencyUs: number;
  clock: HostRunData['clock'];
  cpuSeconds?: number;
  lost?: HostRunData['lost'];
}

function host(s: HostSpec): HostRunData {
  const received = s.byPublisher.reduce((a, b) => a + b, 0);
  return {
    name: s.name,
    host: `${s.name}.box`,
    role: s.role ?? 'agent',
    publisherIds: [s.id],
    subscriberCount: 1,
    publishers: s.lost ? [] : [publisher(s.id)],
    subscribers: s.lost ? [] : [subscriber(s.id, received)],
    tallies: s.lost ? [] : [tally(s.latencyUs, s.byPublisher)],
    subscriptions: [1, 1],
    ...(s.cpuSeconds !== undefined ? { cpuSeconds: s.cpuSeconds } : {}),
    clock: s.clock,
    ...(s.lost ? { lost: s.lost } : {}),
  };
}

/** The run-level data of `hosts`, as the runner gathers it: every host's reports together. */
function run(hosts: HostRunData[], over: Partial<BenchRunData> = {}): BenchRunData {
  const n = hosts.length;
  return {
    config: config({ publishers: n, subscribers: n }),
    target: 'redis://127.0.0.1:7000',
    topologyMode: 'cluster',
    nodeCount: 6,
    threads: 2,
    processes: 0,
    verified: { perChannel: [n, n], asked: 2 * n, found: 2 * n, detail: `${2 * n} of ${2 * n}` },
    measureFromNs: START,
    publishers: hosts.flatMap((h) => h.publishers),
    subscribers: hosts.flatMap((h) => h.subscribers),
    tallies: hosts.flatMap((h) => h.tallies),
    groups: ['all'],
    channelGroups: [0, 0],
    channelRates: [0, 0],
    fanout: [n, n],
    connections: n,
    subscriberCount: n,
    cpu: {},
    before: {},
    after: {},
    p99BySecond: [],
    interrupted: false,
    hosts,
    ...over,
  };
}

const LOST_AT = START + 1.25 * SECOND;
const WHY = 'agent agent-2 (agent-2.box, pid 77) stopped answering (silent for 5 s)';

/** (a) Three hosts, all there to the end; agent-1 received 5 duplicates, agent-2 missed 10 of publisher 1's. */
function threeOk(): HostRunData[] {
  return [
    host({ name: 'coordinator', role: 'coordinator', id: 0, byPublisher: [300, 300, 300], latencyUs: 100, clock: { shiftNs: 0, boundNs: 0 }, cpuSeconds: 0.5 }),
    host({ name: 'agent-1', id: 1, byPublisher: [300, 300, 300], latencyUs: 1000, clock: { shiftNs: -1_234_567, boundNs: 45_000, driftNs: 300 }, cpuSeconds: 0.25 }),
    host({ name: 'agent-2', id: 2, byPublisher: [300, 290, 300], latencyUs: 10_000, clock: { shiftNs: 2_500_000, boundNs: 80_000 } }),
  ];
}

/** (b) agent-2 went silent at 1.25 s; the others had 120 of its publisher's messages each, and everything else. */
function oneLost(byPublisher = [300, 300, 120]): HostRunData[] {
  return [
    host({ name: 'coordinator', role: 'coordinator', id: 0, byPublisher, latencyUs: 100, clock: { shiftNs: 0, boundNs: 0 } }),
    host({ name: 'agent-1', id: 1, byPublisher, latencyUs: 1000, clock: { shiftNs: -1_234_567, boundNs: 45_000 } }),
    host({ name: 'agent-2', id: 2, byPublisher: [], latencyUs: 0, clock: { shiftNs: 2_500_000, boundNs: 80_000 }, lost: { atNs: LOST_AT, why: WHY, lastSent: 180, lastReceived: 512 } }),
  ];
}

const sum = (xs: readonly (number | null | undefined)[]) => xs.reduce<number>((s, x) => s + (x ?? 0), 0);

describe('assembleBenchResult over agents: every host there', () => {
  const { result } = assembleBenchResult(run(threeOk()));
  const agents = result.agents!;

  it('has one row per host, in order, with its role, share and status', () => {
    expect(agents.map((a) => [a.name, a.host, a.role, a.status, a.publishers, a.subscribers])).toEqual([
      ['coordinator', 'coordinator.box', 'coordinator', 'ok', 1, 1],
      ['agent-1', 'agent-1.box', 'agent', 'ok', 1, 1],
      ['agent-2', 'agent-2.box', 'agent', 'ok', 1, 1],
    ]);
  });

  it('gives each host its own counts, and they add up to the totals', () => {
    expect(agents.map((a) => [a.published, a.expected, a.received, a.lost])).toEqual([
      [300, 900, 900, 0],
      [300, 900, 900, 0],
      [300, 900, 890, 10],
    ]);
    expect(result.published).toBe(900);
    expect(result.expected).toBe(2700);
    expect(result.received).toBe(2690);
    expect(result.lost).toBe(10);
    expect(sum(agents.map((a) => a.published))).toBe(result.published);
    expect(sum(agents.map((a) => a.expected))).toBe(result.expected);
    expect(sum(agents.map((a) => a.received))).toBe(result.received);
    expect(sum(agents.map((a) => a.lost))).toBe(result.lost);
    // Rates over the same window as the totals'.
    expect(sum(agents.map((a) => a.publishRate))).toBeCloseTo(result.publishRate, 6);
    expect(sum(agents.map((a) => a.deliveryRate))).toBeCloseTo(result.deliveryRate, 6);
  });

  it('counts duplicates as received on the host that got them, and not as lost', () => {
    const hosts = threeOk();
    hosts[1]!.subscribers = [subscriber(1, 905, { unique: 900, duplicates: 5 })];
    const r = assembleBenchResult(run(hosts)).result;
    expect(r.agents![1]!.received).toBe(905);
    expect(r.agents![1]!.lost).toBe(0);
    expect(r.received).toBe(2695);
    expect(sum(r.agents!.map((a) => a.received))).toBe(r.received);
    expect(sum(r.agents!.map((a) => a.lost))).toBe(r.lost);
  });

  it('takes each host\'s latency from its own tallies only', () => {
    const [c, a1, a2] = agents;
    expect(c!.latency!.count).toBe(100);
    expect(c!.latency!.min).toBeGreaterThanOrEqual(99);
    expect(c!.latency!.max).toBeLessThan(160);
    expect(a1!.latency!.min).toBeGreaterThanOrEqual(990);
    expect(a1!.latency!.max).toBeLessThan(1600);
    expect(a2!.latency!.min).toBeGreaterThanOrEqual(9900);
    expect(a2!.latency!.max).toBeLessThan(16_000);
    // Each has its own histogram; the run's merges all three.
    expect(new Set(agents.map((a) => a.histogramEncoded)).size).toBe(3);
    expect(result.latency!.count).toBe(300);
    expect(result.latency!.min).toBe(c!.latency!.min);
    expect(result.latency!.max).toBe(a2!.latency!.max);
  });

  it('gives each host its clock against the coordinator\'s in µs, drift when measured, and CPU when read', () => {
    expect(agents.map((a) => a.clock)).toEqual([
      { offsetUs: 0, boundUs: 0 },
      { offsetUs: -1234.567, boundUs: 45, driftUs: 0.3 },
      { offsetUs: 2500, boundUs: 80 },
    ]);
    expect(agents.map((a) => a.cpuSeconds)).toEqual([0.5, 0.25, undefined]);
    expect('cpuSeconds' in agents[2]!).toBe(false);
    for (const a of agents) {
      expect(a.lostAtS).toBeUndefined();
      expect(a.lastHeard).toBeUndefined();
    }
  });

  it('splits latency into same host (exact) and across hosts, bound by the two largest clock bounds', () => {
    const h = result.hostLatency!;
    expect(h.boundUs).toBe((80_000 + 45_000) / 1000);
    expect(h.sameHost!.count).toBe(120);
    expect(h.crossHost!.count).toBe(180);
    // Same host: each host's own publisher (~1x its latency); across: the others' (~10x).
    expect(h.sameHost!.min).toBeGreaterThanOrEqual(99);
    expect(h.crossHost!.min).toBeGreaterThanOrEqual(990);
    expect(h.crossHost!.max).toBeGreaterThanOrEqual(100_000);
    expect(h.sameHost!.max).toBeLessThan(13_000);
  });

  it('takes the two largest bounds wherever they are, not the first two nor all of them', () => {
    const hosts = threeOk();
    hosts[0]!.role = 'agent';
    hosts[0]!.clock = { shiftNs: 10, boundNs: 60_000 };
    const extra = host({ name: 'agent-3', id: 3, byPublisher: [300, 300, 300, 300], latencyUs: 500, clock: { shiftNs: 5, boundNs: 90_000 } });
    const r = assembleBenchResult(run([...hosts, extra])).result;
    // Bounds 60, 45, 80, 90 µs: the two largest are 90 and 80.
    expect(r.hostLatency!.boundUs).toBe(170);
    const one = assembleBenchResult(run([threeOk()[1]!])).result;
    // A single host: its bound alone (nothing crosses to another host anyway).
    expect(one.hostLatency!.boundUs).toBe(45);
  });

  it('names no reason but the loss the run really had', () => {
    expect(result.incomplete.map((r) => r.kind)).toEqual(['lost']);
    expect(result.incomplete[0]!.message).toMatch(/^10 expected deliveries never arrived/);
    const clean = threeOk();
    clean[2] = host({ name: 'agent-2', id: 2, byPublisher: [300, 300, 300], latencyUs: 10_000, clock: { shiftNs: 0, boundNs: 1 } });
    expect(assembleBenchResult(run(clean)).result.incomplete).toEqual([]);
  });

  it('has no agents and no host latency for a run from one process', () => {
    const data = run(threeOk());
    delete data.hosts;
    const r = assembleBenchResult(data).result;
    expect(r.agents).toBeUndefined();
    expect(r.hostLatency).toBeUndefined();
    expect(r.published).toBe(900);
  });
});

describe('assembleBenchResult over agents: one agent lost', () => {
  const { result } = assembleBenchResult(run(oneLost()));
  const agents = result.agents!;

  it('gives the lost agent a row with its status, share, when and what it last said, and no counts', () => {
    const lost = agents[2]!;
    expect(lost.status).toBe('lost');
    expect(lost.name).toBe('agent-2');
    expect(lost.publishers).toBe(1);
    expect(lost.subscribers).toBe(1);
    for (const k of ['published', 'expected', 'received', 'lost', 'publishRate', 'deliveryRate', 'latency', 'histogramEncoded', 'cpuSeconds'] as const) {
      expect(lost[k], k).toBeUndefined();
    }
    expect(lost.lostAtS).toBeCloseTo(1.25, 9);
    expect(lost.lastHeard).toEqual({ sent: 180, received: 512 });
    expect(lost.clock).toEqual({ offsetUs: 2500, boundUs: 80 });
    expect(agents.slice(0, 2).map((a) => a.status)).toEqual(['ok', 'ok']);
  });

  it('names it in an agent-lost reason, with what was left out, and adds no generic lost reason', () => {
    expect(result.incomplete.map((r) => r.kind)).toEqual(['agent-lost']);
    const m = result.incomplete[0]!.message;
    expect(m).toContain('agent-2');
    expect(m).toContain(`${WHY}, last heard from 1.3 s into the measured run`); // 1.25 s, to a tenth
    expect(m).toContain('its 1 publisher and 1 subscriber are left out of the totals');
    expect(m).toContain('its last report: sent 180, received 512');
    // 120 from its publisher on each of the two other hosts; 2 live publishers x 300 owed its one subscriber.
    expect(m).toContain('the 240 deliveries the other hosts had from its publishers');
    expect(m).toContain('the 600 deliveries the others\' publishers owed its subscribers');
  });

  it('leaves out its publishers, what the others had from them, and what was owed its subscribers: the rest reconciles', () => {
    expect(result.published).toBe(600);
    // Publishers 0 and 1, 300 each, to the two subscribers left on each channel.
    expect(result.expected).toBe(1200);
    expect(result.received).toBe(1200);
    expect(result.lost).toBe(0);
    expect(result.received + result.lost).toBe(result.expected);
    const ok = agents.filter((a) => a.status === 'ok');
    expect(ok.map((a) => [a.published, a.expected, a.received, a.lost])).toEqual([
      [300, 600, 600, 0],
      [300, 600, 600, 0],
    ]);
    expect(sum(ok.map((a) => a.published))).toBe(result.published);
    expect(sum(ok.map((a) => a.expected))).toBe(result.expected);
    expect(sum(ok.map((a) => a.received))).toBe(result.received);
    expect(sum(ok.map((a) => a.lost))).toBe(result.lost);
  });

  it('leaves its publishers out even when their reports reached the coordinator before it went silent', () => {
    const hosts = oneLost();
    hosts[2]!.publishers = [publisher(2, { okPerChannel: [40, 80] })];
    const data = run(hosts);
    expect(data.publishers.map((p) => p.id)).toEqual([0, 1, 2]);
    const r = assembleBenchResult(data).result;
    expect(r.published).toBe(600);
    expect(r.expected).toBe(1200);
    expect(r.received).toBe(1200);
    expect(r.lost).toBe(0);
    expect(r.incomplete.map((x) => x.kind)).toEqual(['agent-lost']);
  });

  it('still counts as lost what the live hosts missed from the live publishers', () => {
    // Each live subscriber missed 25 of publisher 1's messages.
    const r = assembleBenchResult(run(oneLost([300, 275, 120]))).result;
    expect(r.expected).toBe(1200);
    expect(r.received).toBe(1150);
    expect(r.lost).toBe(50);
    expect(r.received + r.lost).toBe(r.expected);
    const ok = r.agents!.filter((a) => a.status === 'ok');
    expect(ok.map((a) => a.lost)).toEqual([25, 25]);
    expect(sum(ok.map((a) => a.lost))).toBe(r.lost);
    expect(r.incomplete.filter((x) => x.kind === 'agent-lost')).toHaveLength(1);
  });

  it('leaves out everything of two lost agents, the deliveries each had from the other included', () => {
    const hosts = [
      host({ name: 'coordinator', role: 'coordinator', id: 0, byPublisher: [300, 100, 50], latencyUs: 100, clock: { shiftNs: 0, boundNs: 0 } }),
      host({ name: 'agent-1', id: 1, byPublisher: [], latencyUs: 0, clock: { shiftNs: 1, boundNs: 1000 }, lost: { atNs: START + 0.5 * SECOND, why: 'agent agent-1 stopped answering', lastSent: 1, lastReceived: 2 } }),
      host({ name: 'agent-2', id: 2, byPublisher: [], latencyUs: 0, clock: { shiftNs: 2, boundNs: 2000 }, lost: { atNs: LOST_AT, why: WHY, lastSent: 3, lastReceived: 4 } }),
    ];
    const r = assembleBenchResult(run(hosts)).result;
    expect(r.published).toBe(300);
    expect(r.expected).toBe(300);
    expect(r.received).toBe(300);
    expect(r.lost).toBe(0);
    expect(r.incomplete.map((x) => x.kind)).toEqual(['agent-lost', 'agent-lost']);
    expect(r.incomplete[0]!.message).toContain('agent-1');
    expect(r.incomplete[1]!.message).toContain('agent-2');
    expect(r.agents!.map((a) => a.status)).toEqual(['ok', 'lost', 'lost']);
    expect(r.agents![0]!.received).toBe(300);
  });

  // The per-group counts of the tallies still hold what the live hosts had from the lost agent's
  // publishers, while the group's published and expected leave those publishers out: with one group,
  // the group must say what the totals say.
  it('keeps the group figures in line with the totals (one group)', () => {
    const r = assembleBenchResult(run(oneLost([300, 275, 120]))).result;
    const g = r.groups[0]!;
    expect([g.published, g.expected, g.received, g.lost]).toEqual([r.published, r.expected, r.received, r.lost]);
  });
});

describe('benchToJson over agents', () => {
  it('has null agents and host latency for a run without hosts', () => {
    const data = run(threeOk());
    delete data.hosts;
    const json = benchToJson(assembleBenchResult(data).result);
    expect(json.agents).toBeNull();
    expect(json.host_latency).toBeNull();
  });

  it('gives every host an entry whose counts add up to the totals, and the host latency with its bound', () => {
    const json = benchToJson(assembleBenchResult(run(threeOk())).result);
    const agents = json.agents!;
    expect(agents.map((a) => [a.name, a.role, a.status, a.published, a.expected, a.received, a.lost])).toEqual([
      ['coordinator', 'coordinator', 'ok', 300, 900, 900, 0],
      ['agent-1', 'agent', 'ok', 300, 900, 900, 0],
      ['agent-2', 'agent', 'ok', 300, 900, 890, 10],
    ]);
    expect(sum(agents.map((a) => a.received))).toBe(json.received);
    expect(sum(agents.map((a) => a.lost))).toBe(json.lost);
    expect(agents[1]!.clock).toEqual({ offset_us: -1234.57, bound_us: 45, drift_us: 0.3 });
    expect(agents[2]!.clock.drift_us).toBeNull();
    expect(agents[2]!.cpu_seconds).toBeNull();
    expect(agents[0]!.cpu_seconds).toBe(0.5);
    expect(agents.every((a) => a.histogram !== null && a.latency_us !== null)).toBe(true);
    expect(agents.every((a) => a.last_heard === null && a.lost_at_s === null)).toBe(true);
    expect(json.host_latency!.clock_bound_us).toBe(125);
    expect(json.host_latency!.same_host_us).not.toBeNull();
    expect(json.host_latency!.cross_host_us).not.toBeNull();
    // The same document through JSON text: nothing that does not survive it (no undefined, no BigInt).
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });

  it('gives a lost agent null counts (never 0), when it went silent, and what it last said', () => {
    const json = benchToJson(assembleBenchResult(run(oneLost())).result);
    const lost = json.agents![2]!;
    expect(lost.status).toBe('lost');
    expect(lost.published).toBeNull();
    expect(lost.received).toBeNull();
    expect(lost.lost).toBeNull();
    expect(lost.expected).toBeNull();
    expect(lost.publish_rate).toBeNull();
    expect(lost.delivery_rate).toBeNull();
    expect(lost.latency_us).toBeNull();
    expect(lost.histogram).toBeNull();
    expect(lost.last_heard).toEqual({ sent: 180, received: 512 });
    expect(lost.lost_at_s).toBe(1.25);
    expect(json.incomplete_reasons.map((r) => r.kind)).toEqual(['agent-lost']);
    // The live entries still add up to the totals.
    const ok = json.agents!.filter((a) => a.status === 'ok');
    expect(sum(ok.map((a) => a.published))).toBe(json.published);
    expect(sum(ok.map((a) => a.received))).toBe(json.received);
    expect(json.received + json.lost).toBe(json.expected);
    expect(JSON.parse(JSON.stringify(json))).toEqual(json);
  });
});

/** Columns of a plain (uncoloured) line. */
const columns = (line: string) => Array.from(line).length;

function report(r: BenchResult, width?: number): string {
  return renderBenchReport(r, { color: false, ...(width !== undefined ? { width } : {}) });
}

/** The HOST table: from its head to the first blank line. */
function hostTable(text: string): string[] {
  const lines = text.split('\n');
  const at = lines.findIndex((l) => /^HOST\s+P\/S\s/.test(l));
  expect(at, 'a HOST table').toBeGreaterThanOrEqual(0);
  const end = lines.indexOf('', at);
  return lines.slice(at, end === -1 ? undefined : end);
}

describe('renderBenchReport over agents', () => {
  it('has a HOST table with every host, the coordinator as the clock reference, and the agents\' shifts with their bounds', () => {
    const text = report(assembleBenchResult(run(threeOk())).result);
    const table = hostTable(text);
    expect(table).toHaveLength(4);
    expect(table[1]).toMatch(/^coordinator\s/);
    expect(table[1]).toMatch(/ ref$/);
    expect(table[2]).toMatch(/^agent-1\s/);
    expect(table[2]).toMatch(/±45\.0 µs$|±45 µs$/);
    expect(table[3]).toMatch(/^agent-2\s/);
    // agent-2's 10 lost deliveries show in its row.
    expect(table[3]).toMatch(/\s10\s/);
    // The header says where the load came from.
    expect(text).toContain('2 agents + ');
    expect(text).toMatch(/here/);
  });

  it('fits an 80-column terminal with the names bench gives (the latency table drops MEAN and STDEV there)', () => {
    const r = assembleBenchResult(run(threeOk())).result;
    const text = renderBenchReport(r, { color: false, width: 80 });
    expect(text.split('\n').filter((l) => displayWidth(l) > 80)).toEqual([]);
    expect(text).toMatch(/^LATENCY\s.*\sMAX$/m);
    expect(renderBenchReport(r, { color: false, width: 200 })).toMatch(/^LATENCY\s.*\sSTDEV$/m);
  });

  it('cuts long host names in the middle to fit 80 columns, and keeps every other column', () => {
    const data = run(threeOk());
    data.hosts = data.hosts!.map((h, i) => (i === 0 ? h : { ...h, name: `ip-10-0-0-${i}.eu-west-1.compute.internal-4242` }));
    const text = renderBenchReport(assembleBenchResult(data).result, { color: false, width: 80 });
    const table = hostTable(text);
    expect(table.filter((l) => l.length > 80)).toEqual([]);
    expect(table.slice(1).every((l) => /±\S+ µs$| ref$/.test(l))).toBe(true);
    expect(table.some((l) => l.includes('…'))).toBe(true);
  });

  it('has the latency table\'s same host and across hosts ± rows', () => {
    const text = report(assembleBenchResult(run(threeOk())).result);
    const lines = text.split('\n');
    expect(lines.some((l) => l.startsWith('end to end'))).toBe(true);
    expect(lines.some((l) => l.startsWith('same host'))).toBe(true);
    expect(lines.some((l) => /^across hosts\s+\d/.test(l))).toBe(true);
    expect(lines).toContain('across hosts: within ±125 µs (the clocks\' bounds); same host: exact');
  });

  it('says lost in the lost agent\'s row, when and what it last said, and keeps the others\' rows', () => {
    const text = report(assembleBenchResult(run(oneLost())).result);
    const table = hostTable(text);
    const row = table.find((l) => l.startsWith('agent-2'))!;
    expect(row).toContain('lost at 1.3 s');
    expect(row).toContain('last heard: sent 180, received 512');
    // Its clock column is still there, and no count of 0 pretends to be a measurement.
    expect(row).toMatch(/ ±80(\.0)? µs$/);
    expect(table.find((l) => l.startsWith('coordinator'))).toMatch(/ ref$/);
    expect(table.find((l) => l.startsWith('agent-1'))).not.toContain('lost');
    expect(text).toContain(`!! ${WHY}`);
  });

  it('shows the lost agent in red, with colour on', () => {
    const text = renderBenchReport(assembleBenchResult(run(oneLost())).result, { color: true });
    const row = text.split('\n').find((l) => l.includes('agent-2') && l.includes('lost at'))!;
    expect(row).toContain('\u001b[31m');
  });

  it.each([
    ['all hosts there', () => run(threeOk())],
    ['one agent lost', () => run(oneLost())],
  ])('fits in 120 columns with host names of up to 20 characters (%s)', (_, make) => {
    const data = make();
    const names = ['coordinator', 'a'.repeat(20), 'b'.repeat(19) + '9'];
    data.hosts!.forEach((h, i) => (h.name = names[i]!));
    // A 120-column terminal: the header breaks between its parts to fit, the tables must fit by themselves.
    const text = report(assembleBenchResult(data).result, 120);
    for (const name of names) expect(hostTable(text).some((l) => l.startsWith(name))).toBe(true);
    // Every line but the reasons for an incomplete result, which are sentences left for the terminal to wrap.
    const wide = text.split('\n').filter((l) => !l.startsWith('!! ') && columns(l) > 120);
    expect(wide).toEqual([]);
  });
});
