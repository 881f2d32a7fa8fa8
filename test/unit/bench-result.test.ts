// Unit tests for the pure assembly of a bench result: reconciliation, typed incomplete reasons, server deltas.
import { describe, it, expect } from 'vitest';
import {
  assembleBenchResult,
  incompleteExitCode,
  sampleFromInfos,
  type BenchRunData,
  type PublisherReport,
  type SubscriberReport,
  type TallyReport,
} from '../../src/stats/bench-result.js';
import { DEFAULT_BENCH, type BenchConfig } from '../../src/stats/bench-config.js';
import { encodeHistogram, LatencyRecorder } from '../../src/stats/histogram.js';

const START = 1_000_000_000_000;
const SECOND = 1e9;

function config(over: Partial<BenchConfig> = {}): BenchConfig {
  return { ...DEFAULT_BENCH, durationMs: 2000, subscribe: 'channel', replicas: false, channels: 2, ...over };
}

function histogramOf(...us: number[]): string {
  const r = new LatencyRecorder();
  for (const v of us) r.record(v);
  return encodeHistogram(r.histogram);
}

function publisher(over: Partial<PublisherReport> = {}): PublisherReport {
  return { id: 0, measuredSent: 300, okPerChannel: [100, 200], errors: 0, errorSamples: [], perSecond: [150, 150], lastSendNs: START + 2 * SECOND, lastSeq: [120, 220], unanswered: 0, ...over };
}

function subscriber(over: Partial<SubscriberReport> = {}): SubscriberReport {
  return { id: 0, received: 300, unique: 300, duplicates: 0, reordered: 0, foreign: 0, excused: 0, reconnects: 0, ...over };
}

function tally(over: Partial<TallyReport> = {}): TallyReport {
  return { histogram: histogramOf(100, 200, 300), overflow: 0, groupHistograms: [], receivedPerGroup: [300], uniquePerGroup: [300], excusedPerGroup: [0], perSecond: [140, 160], ...over };
}

function run(over: Partial<BenchRunData> = {}): BenchRunData {
  return {
    config: config(),
    target: 'redis://127.0.0.1:7000',
    topologyMode: 'cluster',
    nodeCount: 6,
    threads: 2,
    processes: 0,
    verified: { perChannel: [1, 1], asked: 2, found: 2, detail: '2 of 2' },
    measureFromNs: START,
    publishers: [publisher()],
    subscribers: [subscriber()],
    tallies: [tally()],
    groups: ['all'],
    channelGroups: [0, 0],
    channelRates: [75, 75],
    fanout: [1, 1],
    connections: 1,
    subscriberCount: 1,
    cpu: {},
    before: { cpu: 10, netIn: 1000, netOut: 5000 },
    after: { cpu: 10.3, netIn: 41_000, netOut: 85_000 },
    p99BySecond: [250, 310],
    interrupted: false,
    ...over,
  };
}

describe('assembleBenchResult: the numbers reconcile', () => {
  it('expects each accepted message once per subscriber found on its channel, and counts loss against that', () => {
    const { result } = assembleBenchResult(
      run({
        verified: { perChannel: [2, 1], asked: 4, found: 3, detail: '3 of 4' },
        subscribers: [subscriber({ received: 380, unique: 370, duplicates: 10 })],
      }),
    );
    // channel 0: 100 accepted x 2 subscribers, channel 1: 200 x 1.
    expect(result.expected).toBe(400);
    expect(result.received).toBe(380);
    expect(result.lost).toBe(30);
    expect(result.duplicates).toBe(10);
    expect(result.verified).toEqual({ asked: 4, found: 3, detail: '3 of 4' });
  });

  it('never counts error replies as published, and measures rates over the publish window', () => {
    const { result } = assembleBenchResult(run({ publishers: [publisher({ errors: 50, errorSamples: ['MOVED 1 x', 'MOVED 1 x'] })] }));
    expect(result.published).toBe(300);
    expect(result.publishErrors).toBe(50);
    expect(result.errorSamples).toEqual(['MOVED 1 x']);
    // 350 replies over the 2 s from the start of measuring to the last send.
    expect(result.publishRate).toBeCloseTo(175, 6);
    expect(result.deliveryRate).toBeCloseTo(150, 6);
    expect(result.elapsedMs).toBeCloseTo(2000, 6);
  });

  it('gives a paced run the rate it kept: n messages are n intervals of the schedule, not n - 1', () => {
    // 3 messages at 3/s, sent at 0, 1/3 and 2/3 s into measuring: 3/s, not 4.5/s.
    const paced = run({ config: config({ rate: 3, messages: 3 }), channelRates: [1.5, 1.5], publishers: [publisher({ measuredSent: 3, okPerChannel: [2, 1], perSecond: [3], lastSendNs: START + (2 / 3) * SECOND, lastSeq: [1, 0] })] });
    const { result } = assembleBenchResult(paced);
    expect(result.publishRate).toBeCloseTo(3, 6);
    expect(result.elapsedMs).toBeCloseTo(1000, 6);
    // As fast as possible there is no schedule: the window ends at the last send.
    const { result: max } = assembleBenchResult({ ...paced, config: config({ rate: 0, messages: 3 }) });
    expect(max.publishRate).toBeCloseTo(4.5, 6);
    // A 2 s run at 1/s whose schedule (started in the warm-up) sent at 0.5 s and 1.5 s: 1/s, its
    // seconds all complete; not 2 / 1.5 s.
    const twoSeconds = run({ config: config({ rate: 1, durationMs: 2000 }), channelRates: [0.5, 0.5], publishers: [publisher({ measuredSent: 2, okPerChannel: [1, 1], perSecond: [1, 1], lastSendNs: START + 1.5 * SECOND, lastSeq: [0, 0] })] });
    expect(assembleBenchResult(twoSeconds).result).toMatchObject({ publishRate: 1, elapsedMs: 2000 });
    // A publisher that fell behind took longer than the schedule: its own time counts.
    const late = { ...twoSeconds, publishers: [publisher({ measuredSent: 2, okPerChannel: [1, 1], perSecond: [1, 1], lastSendNs: START + 4 * SECOND, lastSeq: [0, 0] })] };
    expect(assembleBenchResult(late).result.publishRate).toBeCloseTo(0.5, 6);
    // Interrupted: the schedule's end is unknown, so the span to the last send plus one interval.
    expect(assembleBenchResult({ ...twoSeconds, interrupted: true }).result.publishRate).toBeCloseTo(2 / 2.5, 6);
  });

  it('says which commands a profile replay used: its channels\' kinds, mixed when it has both', () => {
    const ch = (name: string, kind: 'channel' | 'shard') => ({ name, kind, rate: 75, subscribers: 1, sizes: [{ bytes: 128, weight: 1 }], group: name });
    const replay = (kinds: Array<'channel' | 'shard'>) =>
      assembleBenchResult(run({ config: config({ mix: { channels: kinds.map((k, i) => ch(`c${i}`, k)) }, profile: { file: 'p.json', scale: 1 } }) })).result;
    expect(replay(['channel', 'shard'])).toMatchObject({ mode: 'mixed', subscribe: 'mixed' });
    expect(replay(['shard', 'shard'])).toMatchObject({ mode: 'spublish', subscribe: 'shard' });
    expect(replay(['channel', 'channel'])).toMatchObject({ mode: 'publish', subscribe: 'channel' });
    // A run from the flags says what the flags said.
    expect(assembleBenchResult(run({ config: config({ mode: 'spublish', subscribe: 'shard' }) })).result).toMatchObject({ mode: 'spublish', subscribe: 'shard' });
  });

  it('merges every thread\'s histogram, sums the seconds and keeps the live p99 of each', () => {
    const { result, histogram } = assembleBenchResult(run({ tallies: [tally(), tally({ histogram: histogramOf(1000), perSecond: [10] })] }));
    expect(histogram?.totalCount).toBe(4);
    expect(result.latency?.max).toBeGreaterThanOrEqual(1000);
    expect(result.timeseries).toEqual([
      { second: 0, sent: 150, received: 150, p99Us: 250 },
      { second: 1, sent: 150, received: 160, p99Us: 310 },
    ]);
  });

  it('gives no histogram when nothing was received by anyone', () => {
    const { result, histogram } = assembleBenchResult(run({ subscribers: [], tallies: [tally({ histogram: histogramOf(), perSecond: [] })] }));
    expect(histogram).toBeUndefined();
    expect(result.latency).toBeUndefined();
    expect(result.histogramEncoded).toBeUndefined();
  });

  it('turns the servers\' counters into deltas, CPU per accepted message included', () => {
    const { result } = assembleBenchResult(run());
    expect(result.server.cpuSeconds).toBeCloseTo(0.3, 9);
    expect(result.server.cpuUsPerMessage).toBeCloseTo(1000, 6);
    expect(result.server.netInBytes).toBe(40_000);
    expect(result.server.netOutBytes).toBe(80_000);
    // Not reported by this server (before 7.4): unknown, never 0.
    expect(result.server.obufDisconnections).toBeUndefined();
  });

  it('leaves a counter unknown when either sample lacks it', () => {
    const { result } = assembleBenchResult(run({ before: { cpu: 1 }, after: { netIn: 5 } }));
    expect(result.server).toEqual({});
  });
});

describe('assembleBenchResult: groups, reconnects and the client\'s own cost', () => {
  it('gives each group its own published, expected, received, lost and latency', () => {
    const { result } = assembleBenchResult(
      run({
        groups: ['orders', 'news'],
        channelGroups: [0, 1],
        channelRates: [50, 100],
        verified: { perChannel: [2, 1], asked: 3, found: 3, detail: '3 of 3' },
        subscribers: [subscriber({ received: 390, unique: 390 })],
        tallies: [tally({ groupHistograms: [histogramOf(100, 110), histogramOf(5000)], receivedPerGroup: [195, 195], uniquePerGroup: [195, 195], excusedPerGroup: [0, 0] })],
      }),
    );
    expect(result.groups.map((g) => [g.name, g.channels, g.askedRate, g.published, g.expected, g.received, g.lost])).toEqual([
      ['orders', 1, 50, 100, 200, 195, 5],
      ['news', 1, 100, 200, 200, 195, 5],
    ]);
    expect(result.groups[1]!.latency?.p50).toBeGreaterThanOrEqual(4900);
    expect(result.groups[0]!.publishRate).toBeCloseTo(50, 6);
    // The totals are the sums of the groups.
    expect(result.expected).toBe(400);
    expect(result.lost).toBe(10);
  });

  it('does not count as lost what was published while a subscriber was away, and reports the reconnects', () => {
    const resubscribe = histogramOf(800, 1200);
    const { result } = assembleBenchResult(
      run({
        config: config({ reconnect: { minMs: 100, maxMs: 200 } }),
        subscribers: [subscriber({ unique: 280, received: 280, excused: 20, reconnects: 2 })],
        tallies: [tally({ uniquePerGroup: [280], receivedPerGroup: [280], excusedPerGroup: [20], resubscribe })],
      }),
    );
    expect(result.lost).toBe(0);
    expect(result.groups[0]!.lost).toBe(0);
    expect(result.reconnects?.count).toBe(2);
    expect(result.reconnects?.excused).toBe(20);
    expect(result.reconnects?.resubscribe?.max).toBeGreaterThanOrEqual(1200);
    // Without --reconnect-interval there is no reconnect section at all.
    expect(assembleBenchResult(run()).result.reconnects).toBeUndefined();
  });

  it('divides the publishing threads\' CPU by messages published and the subscribing threads\' by deliveries, unknown stays unknown', () => {
    const { result } = assembleBenchResult(run({ cpu: { publisher: 0.0006, subscriber: 0.0003, process: 0.002 }, bytesPerConnection: 2048, rssBytes: 100 }));
    expect(result.client.publisherCpuUsPerMessage).toBeCloseTo(2, 6);
    expect(result.client.subscriberCpuUsPerDelivery).toBeCloseTo(1, 6);
    expect(result.client.processCpuSeconds).toBe(0.002);
    expect(result.client.bytesPerConnection).toBe(2048);
    const unknown = assembleBenchResult(run()).result.client;
    expect(unknown.publisherCpuUsPerMessage).toBeUndefined();
    expect(unknown.sharedCpuSeconds).toBeUndefined();
  });

  it('reports the fan-out as laid out, least and most subscribed channel', () => {
    expect(assembleBenchResult(run({ fanout: [3, 0, 7] })).result.fanout).toEqual({ min: 0, max: 7 });
  });
});

describe('assembleBenchResult: why a result is incomplete, by kind', () => {
  const lost = { address: '127.0.0.1:7001', reason: 'connection reset', atNs: START + 1.5 * SECOND };

  it('names the output-buffer limit when the server counted an output-buffer disconnection', () => {
    const { result } = assembleBenchResult(
      run({ subscribers: [subscriber({ lost })], before: { disconnections: 4 }, after: { disconnections: 5 } }),
    );
    expect(result.incomplete).toHaveLength(1);
    expect(result.incomplete[0]!.kind).toBe('output-buffer-limit');
    expect(result.incomplete[0]!.message).toContain('disconnected at 1.5 s (connection reset)');
    expect(result.incomplete[0]!.message).toContain('rose by 1');
  });

  it('says only "disconnected" when the cause cannot be proven, with the limit and the last output buffer seen', () => {
    const { result } = assembleBenchResult(run({ subscribers: [subscriber({ lost })], pubsubLimit: 32 * 1048576, peakOmem: 3 * 1048576 }));
    expect(result.incomplete.map((r) => r.kind)).toEqual(['disconnected']);
    expect(result.incomplete[0]!.message).toContain('here 32.0 MiB');
    expect(result.incomplete[0]!.message).toContain('last seen at 3.0 MiB');
  });

  it('reports a publisher that lost its connection, overflowing latencies, foreign messages and an interrupt', () => {
    const { result } = assembleBenchResult(
      run({
        publishers: [publisher({ failure: 'publisher 0: 127.0.0.1:7000 closed the connection' })],
        subscribers: [subscriber({ foreign: 7 })],
        tallies: [tally({ overflow: 3 })],
        interrupted: true,
      }),
    );
    expect(result.incomplete.map((r) => r.kind)).toEqual(['disconnected', 'latency-overflow', 'interrupted', 'foreign-messages']);
    expect(result.incomplete[1]!.message).toContain('3 latencies above 60 s');
    expect(result.incomplete[3]!.message).toContain('7 messages without a bench header');
  });

  it('says a node went down when the subscriber\'s or publisher\'s node no longer answered at the end, without blaming the output buffer', () => {
    const { result } = assembleBenchResult(
      run({
        publishers: [publisher({ failure: 'publisher 0: 127.0.0.1:7001 closed the connection', failedNode: '127.0.0.1:7001' })],
        subscribers: [subscriber({ lost })],
        pubsubLimit: 32 * 1048576,
        downNodes: ['127.0.0.1:7001'],
      }),
    );
    expect(result.incomplete.map((r) => r.kind)).toEqual(['node-down', 'node-down']);
    expect(result.incomplete[0]!.message).toBe('publisher 0: 127.0.0.1:7001 closed the connection: 127.0.0.1:7001 went down (it no longer answered when the run ended)');
    expect(result.incomplete[1]!.message).toContain('disconnected at 1.5 s (connection reset): 127.0.0.1:7001 went down');
    for (const r of result.incomplete) expect(r.message).not.toMatch(/output.buffer/);
  });

  it('keeps "disconnected" for a publisher whose node still answers', () => {
    const { result } = assembleBenchResult(
      run({ publishers: [publisher({ failure: 'publisher 0: 127.0.0.1:7000 closed the connection', failedNode: '127.0.0.1:7000' })], downNodes: ['127.0.0.1:7001'] }),
    );
    // 7000 still answered: its publisher was only disconnected. 7001 did not, and is named on its own.
    expect(result.incomplete.map((r) => r.kind)).toEqual(['disconnected', 'node-down']);
    expect(result.incomplete[1]!.message).toMatch(/^127\.0\.0\.1:7001 did not answer when the run ended \(down, or stalled\)/);
  });

  it('names a node that stalled (kill -STOP): its connections never ended, so only the check at the end sees it', () => {
    const { result } = assembleBenchResult(run({ publishers: [publisher({ unanswered: 40 })], downNodes: ['127.0.0.1:7002'] }));
    expect(result.incomplete.map((r) => r.kind)).toEqual(['node-down', 'unanswered']);
    expect(result.incomplete[0]!.message).toContain('127.0.0.1:7002 did not answer when the run ended');
    expect(incompleteExitCode(result.incomplete)).toBe(1);
    // A node-down already said by a connection that ended on it is not said twice.
    const twice = assembleBenchResult(run({ subscribers: [subscriber({ lost })], downNodes: ['127.0.0.1:7001'] })).result;
    expect(twice.incomplete.filter((r) => r.message.includes('127.0.0.1:7001'))).toHaveLength(1);
  });

  it('reports shard subscriptions the server ended, where, how many and when', () => {
    const ended = { address: '127.0.0.1:7002', channels: 3, atNs: START + 0.8 * SECOND };
    const { result } = assembleBenchResult(run({ subscribers: [subscriber({ ended })] }));
    expect(result.incomplete.map((r) => r.kind)).toEqual(['subscription-ended']);
    expect(result.incomplete[0]!.message).toMatch(/^subscriber 0: 127\.0\.0\.1:7002 ended its subscriptions to 3 shard channels at 0\.8 s, /);
    expect(incompleteExitCode(result.incomplete)).toBe(1);
  });

  it('says so when publishes went unanswered, and when deliveries are missing with nothing to explain them', () => {
    const { result } = assembleBenchResult(
      run({ publishers: [publisher({ unanswered: 12 })], subscribers: [subscriber({ unique: 290, received: 290 })], tallies: [tally({ uniquePerGroup: [290] })] }),
    );
    expect(result.lost).toBe(10);
    expect(result.incomplete.map((r) => r.kind)).toEqual(['unanswered', 'lost']);
    expect(result.incomplete[0]!.message).toMatch(/^12 measured publishes had no reply/);
    expect(result.incomplete[1]!.message).toMatch(/^10 expected deliveries never arrived, though no subscriber connection was seen to end/);
    expect(incompleteExitCode(result.incomplete)).toBe(1);
    // A subscriber that was cut off explains its loss: no second reason.
    const lost = { address: '127.0.0.1:7001', reason: 'connection reset', atNs: START + SECOND };
    const cut = assembleBenchResult(run({ subscribers: [subscriber({ unique: 290, received: 290, lost })] })).result;
    expect(cut.incomplete.map((r) => r.kind)).toEqual(['disconnected']);
  });

  it('is complete when nothing went wrong', () => {
    expect(assembleBenchResult(run()).result.incomplete).toEqual([]);
  });
});

describe('incompleteExitCode', () => {
  it('is 0 for a complete run and for one the user interrupted, 1 for anything that spoils the numbers', () => {
    expect(incompleteExitCode([])).toBe(0);
    expect(incompleteExitCode([{ kind: 'interrupted', message: 'Ctrl-C' }])).toBe(0);
    for (const kind of ['disconnected', 'output-buffer-limit', 'node-down', 'subscription-ended', 'latency-overflow', 'foreign-messages'] as const) {
      expect(incompleteExitCode([{ kind: 'interrupted', message: '' }, { kind, message: '' }])).toBe(1);
    }
  });

  it('does not read the wording: a message that starts with "interrupted" but is of another kind still fails', () => {
    expect(incompleteExitCode([{ kind: 'disconnected', message: 'interrupted by the server' }])).toBe(1);
  });
});

describe('sampleFromInfos', () => {
  it('sums the counters over every node', () => {
    const node = (cpu: number) => ({ used_cpu_user: String(cpu), used_cpu_sys: '0.5', total_net_input_bytes: '10', total_net_output_bytes: '20' });
    expect(sampleFromInfos([node(1), node(2)])).toEqual({ cpu: 4, netIn: 20, netOut: 40 });
  });

  it('leaves a counter unknown when one node lacks it or did not answer', () => {
    const full = { used_cpu_user: '1', used_cpu_sys: '1', client_output_buffer_limit_disconnections: '2' };
    expect(sampleFromInfos([full, { used_cpu_user: '1', used_cpu_sys: '1' }])).toEqual({ cpu: 4 });
    expect(sampleFromInfos([full, undefined])).toEqual({});
  });
});
