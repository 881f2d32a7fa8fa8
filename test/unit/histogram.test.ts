// Latency histograms: clamping, encode/decode and merge round trips, summaries and the percentile text.
import { describe, it, expect } from 'vitest';
import {
  addSparseCounts,
  sparseCounts,
  createLatencyHistogram,
  decodeHistogram,
  encodeHistogram,
  HIGHEST_US,
  LatencyRecorder,
  logBuckets,
  mergeInto,
  percentileDistribution,
  summarize,
} from '../../src/stats/histogram.js';

/** 1..n µs, once each: percentiles are known in closed form. */
function uniform(n: number): LatencyRecorder {
  const r = new LatencyRecorder();
  for (let v = 1; v <= n; v++) r.record(v);
  return r;
}

describe('LatencyRecorder', () => {
  it('clamps values above 60 s to 60 s and counts them', () => {
    const r = new LatencyRecorder();
    r.record(HIGHEST_US + 1);
    r.record(120_000_000);
    r.record(HIGHEST_US);
    expect(r.overflow).toBe(2);
    expect(r.histogram.totalCount).toBe(3);
    const { min, max } = summarize(r.histogram)!;
    // All three share HIGHEST_US's bucket, which the 3-digit precision makes 0.1% wide at most.
    expect(min).toBeLessThanOrEqual(HIGHEST_US);
    expect(max).toBeGreaterThanOrEqual(HIGHEST_US);
    expect(max - min).toBeLessThan(HIGHEST_US * 0.001);
  });

  it('clamps values below 1 µs, negative ones and NaN to 1 µs without calling it overflow', () => {
    const r = new LatencyRecorder();
    r.record(0);
    r.record(-50);
    r.record(0.2);
    r.record(Number.NaN);
    expect(r.overflow).toBe(0);
    expect(r.histogram.totalCount).toBe(4);
    expect(r.histogram.minNonZeroValue).toBe(1);
    expect(r.histogram.maxValue).toBe(1);
  });

  it('rounds fractional microseconds', () => {
    const r = new LatencyRecorder();
    r.record(41.6);
    expect(r.histogram.maxValue).toBe(42);
  });

  it('reset() empties the histogram and the overflow count', () => {
    const r = new LatencyRecorder();
    r.record(5);
    r.record(1e9);
    r.reset();
    expect(r.histogram.totalCount).toBe(0);
    expect(r.overflow).toBe(0);
    expect(summarize(r.histogram)).toBeUndefined();
  });
});

describe('summarize', () => {
  it('is undefined for an empty histogram', () => {
    expect(summarize(createLatencyHistogram())).toBeUndefined();
  });

  it('reports the percentiles of 1..10000 µs within the 3-digit precision', () => {
    const s = summarize(uniform(10_000).histogram)!;
    expect(s.count).toBe(10_000);
    expect(s.min).toBe(1);
    const near = (actual: number, want: number) => expect(Math.abs(actual - want) / want).toBeLessThan(0.001);
    near(s.p50, 5000);
    near(s.p90, 9000);
    near(s.p99, 9900);
    near(s.p999, 9990);
    near(s.p9999, 9999);
    near(s.max, 10_000);
    near(s.mean, 5000.5);
    // Standard deviation of a discrete uniform 1..n: sqrt((n^2 - 1) / 12).
    near(s.stdev, Math.sqrt((10_000 ** 2 - 1) / 12));
  });

  it('is exact below 2048 µs, where the histogram has unit resolution', () => {
    const r = new LatencyRecorder();
    for (const v of [100, 100, 100, 200, 300, 400, 500, 600, 700, 1000]) r.record(v);
    const s = summarize(r.histogram)!;
    expect([s.min, s.p50, s.p90, s.p99, s.max]).toEqual([100, 300, 700, 1000, 1000]);
    expect(s.mean).toBe(400);
  });
});

describe('encode, decode and merge', () => {
  it('round-trips through the compressed base64 form', () => {
    const r = uniform(5000);
    r.record(1_234_567);
    const decoded = decodeHistogram(encodeHistogram(r.histogram));
    expect(summarize(decoded)).toEqual(summarize(r.histogram));
  });

  it('merges to the same percentiles as one histogram fed every value', () => {
    const all = new LatencyRecorder();
    const parts = [new LatencyRecorder(), new LatencyRecorder(), new LatencyRecorder()];
    // A deterministic spread from 10 µs to about 2 s, handed out round robin as threads would.
    for (let i = 0; i < 30_000; i++) {
      const v = Math.round(10 * Math.pow(1.0005, i));
      all.record(v);
      parts[i % 3]!.record(v);
    }
    const merged = createLatencyHistogram();
    for (const p of parts) mergeInto(merged, decodeHistogram(encodeHistogram(p.histogram)));
    expect(summarize(merged)).toEqual(summarize(all.histogram));
    expect(merged.totalCount).toBe(30_000);
  });

  it('encodes an empty histogram to one that decodes empty', () => {
    const decoded = decodeHistogram(encodeHistogram(createLatencyHistogram()));
    expect(decoded.totalCount).toBe(0);
    expect(summarize(decoded)).toBeUndefined();
  });
});

describe('percentileDistribution', () => {
  it('prints the standard HdrHistogram text with values in milliseconds', () => {
    const r = new LatencyRecorder();
    for (let i = 0; i < 100; i++) r.record(2000); // 2 ms
    const text = percentileDistribution(r.histogram);
    expect(text).toMatch(/Value\s+Percentile\s+TotalCount\s+1\/\(1-Percentile\)/);
    expect(text).toMatch(/^\s+2\.000\s+0\.000000000000\s+100/m);
    expect(text).toMatch(/#\[Max\s+=\s+2\.000, Total count\s+=\s+100\]/);
  });
});

describe('logBuckets', () => {
  it('is empty for an empty histogram', () => {
    expect(logBuckets(createLatencyHistogram())).toEqual([]);
  });

  it('covers min to max in log-spaced rows whose counts add up to the total', () => {
    const r = new LatencyRecorder();
    for (let i = 0; i < 900; i++) r.record(100 + (i % 50));
    for (let i = 0; i < 90; i++) r.record(1000 + i);
    for (let i = 0; i < 10; i++) r.record(100_000);
    const buckets = logBuckets(r.histogram, 12);
    expect(buckets.length).toBeLessThanOrEqual(12);
    expect(buckets.length).toBeGreaterThanOrEqual(10);
    expect(buckets[0]!.fromUs).toBe(100);
    expect(buckets.at(-1)!.toUs).toBe(summarize(r.histogram)!.max);
    expect(buckets.reduce((s, b) => s + b.count, 0)).toBe(1000);
    for (let i = 1; i < buckets.length; i++) {
      expect(buckets[i]!.fromUs).toBe(buckets[i - 1]!.toUs);
      // Log spacing: every row covers about the same ratio.
      const ratio = buckets[i]!.toUs / buckets[i]!.fromUs;
      expect(ratio).toBeGreaterThan(1.5);
      expect(ratio).toBeLessThan(2.2);
    }
    expect(buckets[0]!.count).toBe(900);
    expect(buckets.at(-1)!.count).toBe(10);
  });

  it('gives a single row when every value is the same', () => {
    const r = new LatencyRecorder();
    for (let i = 0; i < 5; i++) r.record(250);
    expect(logBuckets(r.histogram)).toEqual([{ fromUs: 250, toUs: 250, count: 5 }]);
  });

  it('merges rows that would be narrower than a microsecond', () => {
    const r = new LatencyRecorder();
    for (const v of [1, 2, 3, 4]) r.record(v);
    const buckets = logBuckets(r.histogram, 12);
    expect(buckets.map((b) => [b.fromUs, b.toUs])).toEqual([
      [1, 2],
      [2, 3],
      [3, 4],
    ]);
    expect(buckets.map((b) => b.count)).toEqual([1, 1, 2]);
  });
});

describe('sparseCounts', () => {
  it('carries every count of a histogram, so the one rebuilt from it has the same percentiles', () => {
    const r = new LatencyRecorder(2);
    for (let i = 1; i <= 1000; i++) r.record(i * 7);
    r.record(45_000_000);
    const counts = sparseCounts(r.histogram);
    // Far fewer numbers than buckets: only the non-zero ones travel.
    expect(counts.length).toBeLessThan(2 * 1001);
    const rebuilt = createLatencyHistogram(2);
    addSparseCounts(rebuilt, counts);
    expect(rebuilt.totalCount).toBe(1001);
    for (const p of [0, 50, 90, 99, 99.9, 100]) expect(rebuilt.getValueAtPercentile(p)).toBe(r.histogram.getValueAtPercentile(p));
  });
  it('is empty for an empty histogram', () => {
    expect(sparseCounts(createLatencyHistogram())).toEqual([]);
  });
});
