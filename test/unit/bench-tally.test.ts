// One worker thread's tally of its subscribers' deliveries: latency overall and per group, seconds, excused deliveries.
import { describe, it, expect } from 'vitest';
import { ThreadTally } from '../../src/bench/tally.js';
import { decodeHistogram } from '../../src/stats/histogram.js';

describe('ThreadTally', () => {
  it('keeps one histogram for every delivery and one per group, counts unique ones per group, and seconds from the start', () => {
    const t = new ThreadTally(2);
    t.record(0, 100_000, 0.5e9, true, 0); // 100 µs, in second 0
    t.record(1, 5_000_000, 1.2e9, true, 0); // 5 ms, in second 1
    t.record(1, 5_000_000, 1.3e9, false, 0); // a duplicate
    t.record(0, 200_000, -1e6, true, 0); // before the start: counted, in no second
    const r = t.report();
    expect(decodeHistogram(r.histogram).totalCount).toBe(4);
    expect(r.groupHistograms.map((h) => decodeHistogram(h).totalCount)).toEqual([2, 2]);
    expect(decodeHistogram(r.groupHistograms[1]!).getValueAtPercentile(50)).toBeGreaterThanOrEqual(4950);
    expect(r.receivedPerGroup).toEqual([2, 2]);
    expect(r.uniquePerGroup).toEqual([2, 1]);
    expect(r.perSecond).toEqual([1, 2]);
    expect(r.resubscribe).toBeUndefined();
  });

  it('keeps no per-group histogram for a run of one group, and reports excused deliveries and resubscribe times', () => {
    const t = new ThreadTally(1);
    t.record(0, 1000, 0, true, 0);
    t.excused(0, 7, 0);
    t.excused(0, 3, 0);
    t.resubscribed(1500);
    const r = t.report();
    expect(r.groupHistograms).toEqual([]);
    expect(r.excusedPerGroup).toEqual([10]);
    expect(decodeHistogram(r.resubscribe!).getValueAtPercentile(100)).toBeGreaterThanOrEqual(1499);
  });

  it('resets its interval histogram without touching the run\'s', () => {
    const t = new ThreadTally(1);
    t.record(0, 1_000_000, 0, true, 0);
    expect(t.interval.histogram.totalCount).toBe(1);
    t.interval.reset();
    t.record(0, 2_000_000, 0, true, 0);
    expect(t.interval.histogram.totalCount).toBe(1);
    expect(t.latency.histogram.totalCount).toBe(2);
  });

  it('on a run over several hosts, keeps deliveries from this host\'s publishers and from the others\' apart, and counts by publisher', () => {
    // Publishers 0 and 2 are here, 1 is on another host.
    const t = new ThreadTally(1, { publisherCount: 3, remotePublishers: [1] });
    t.record(0, 100_000, 0, true, 0); // 100 µs, same host
    t.record(0, 300_000, 0, true, 1); // 300 µs, across hosts
    t.record(0, 310_000, 0, false, 1); // a duplicate, across hosts
    t.record(0, 120_000, 0, true, 2);
    t.excused(0, 4, 1);
    const r = t.report();
    const same = decodeHistogram(r.hostSplit!.same);
    const cross = decodeHistogram(r.hostSplit!.cross);
    expect([same.totalCount, cross.totalCount]).toEqual([2, 2]);
    expect(same.maxValue).toBeLessThan(130);
    expect(cross.minNonZeroValue).toBeGreaterThanOrEqual(299);
    expect(decodeHistogram(r.histogram).totalCount).toBe(4);
    expect(r.hostSplit!.byPublisher).toEqual({ received: [1, 2, 1], unique: [1, 1, 1], excused: [0, 4, 0] });
  });

  it('on a run from one host, keeps no split and no counts by publisher', () => {
    const t = new ThreadTally(1);
    t.record(0, 100_000, 0, true, 5);
    expect(t.report().hostSplit).toBeUndefined();
  });
});
