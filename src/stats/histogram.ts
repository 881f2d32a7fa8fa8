// HDR latency histograms in microseconds: recording with clamping, encoding for threads, merging, summaries.

import {
  build,
  decodeFromCompressedBase64,
  encodeIntoCompressedBase64,
  JsHistogram,
  type Histogram,
} from 'hdr-histogram-js';

export type LatencyHistogram = Histogram;

/** 1 µs resolution floor. */
const LOWEST_US = 1;
/** 60 s: anything slower is recorded as 60 s and counted in LatencyRecorder.overflow. */
export const HIGHEST_US = 60_000_000;
/** 3 significant digits: 0.1% value error, about 140 KiB per histogram at this range. */
const SIGNIFICANT_DIGITS = 3;

/** What HdrHistogram accepts: value precision in decimal digits. */
type SignificantDigits = 1 | 2 | 3 | 4 | 5;
/**
 * 64-bit counts: 32-bit ones overflow after 4.3 billion values in one bucket, about 70 minutes at
 * 1M messages/s with a tight distribution. Decoding must use the same size.
 */
const BIT_BUCKET_SIZE = 64;

/**
 * An empty histogram for latencies in µs. Pure JS, not WebAssembly: the wasm build needs an async
 * init in every worker and explicit destroy(), for a recording cost that is not the bottleneck here.
 * autoResize is off so every histogram has the same layout and merging takes the fast path.
 */
export function createLatencyHistogram(significantDigits: SignificantDigits = SIGNIFICANT_DIGITS): LatencyHistogram {
  return build({
    bitBucketSize: BIT_BUCKET_SIZE,
    autoResize: false,
    lowestDiscernibleValue: LOWEST_US,
    highestTrackableValue: HIGHEST_US,
    numberOfSignificantValueDigits: significantDigits,
    useWebAssembly: false,
  });
}

/** A histogram plus the count of values that were too slow for it, so clamping is never silent. */
export class LatencyRecorder {
  readonly histogram: LatencyHistogram;
  /** Values above HIGHEST_US, recorded as HIGHEST_US. */
  overflow = 0;

  /** @param significantDigits 3 (the default) for the run's own figures; 2 (a tenth of the memory) for many small breakdowns. */
  constructor(significantDigits: SignificantDigits = SIGNIFICANT_DIGITS) {
    this.histogram = createLatencyHistogram(significantDigits);
  }

  /**
   * Records one latency, rounded to a whole µs and clamped to [LOWEST_US, HIGHEST_US]. Values below
   * 1 µs (and NaN) become 1 µs: such a latency is below what the clocks can resolve anyway.
   */
  record(us: number): void {
    let v = Math.round(us);
    if (!(v >= LOWEST_US)) {
      v = LOWEST_US;
    } else if (v > HIGHEST_US) {
      v = HIGHEST_US;
      this.overflow++;
    }
    this.histogram.recordValue(v);
  }

  reset(): void {
    this.histogram.reset();
    this.overflow = 0;
  }
}

/** Compressed base64 (the standard HdrHistogram V2 form), small enough to post from a worker thread. */
export function encodeHistogram(h: LatencyHistogram): string {
  return encodeIntoCompressedBase64(h);
}

export function decodeHistogram(s: string): LatencyHistogram {
  return decodeFromCompressedBase64(s, BIT_BUCKET_SIZE, false);
}

/** Adds every count of `source` to `target`. */
export function mergeInto(target: LatencyHistogram, source: LatencyHistogram): void {
  target.add(source);
}

/** Latency percentiles in µs. */
export interface LatencySummary {
  count: number;
  min: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  p9999: number;
  max: number;
  mean: number;
  stdev: number;
}

/**
 * Undefined when nothing was recorded: an empty histogram has no latency, not a latency of 0.
 * min and max are read from the counts (percentiles 0 and 100, equivalent-value bounds like every
 * other percentile) rather than from minNonZeroValue/maxValue, which keep the raw extremes only until
 * an encode/decode: read this way, a histogram merged from threads summarises like one fed directly.
 */
export function summarize(h: LatencyHistogram): LatencySummary | undefined {
  if (h.totalCount === 0) return undefined;
  return {
    count: h.totalCount,
    min: h.getValueAtPercentile(0),
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    p9999: h.getValueAtPercentile(99.99),
    max: h.getValueAtPercentile(100),
    mean: h.mean,
    stdev: h.stdDeviation,
  };
}

/**
 * The standard HdrHistogram percentile-distribution text, values in milliseconds: recorded values are
 * µs, and the usual HdrHistogram plotter (hdrhistogram.github.io/HdrHistogram/plotFiles.html) labels
 * its axis in ms, so scaling by 1000 makes the plot read right.
 */
export function percentileDistribution(h: LatencyHistogram): string {
  return h.outputPercentileDistribution(5, 1000);
}

/** One row of a coarse view of the distribution: values in [fromUs, toUs). */
export interface LatencyBucket {
  fromUs: number;
  toUs: number;
  count: number;
}

/**
 * The distribution in at most `rows` log-spaced buckets from the smallest to the largest value
 * recorded (the last bucket includes the largest). Empty for an empty histogram. Counts come from the
 * histogram's own sub-buckets, each placed by its lowest equivalent value.
 */
export function logBuckets(h: LatencyHistogram, rows = 12): LatencyBucket[] {
  if (h.totalCount === 0 || !(h instanceof JsHistogram)) return [];
  // The same bounds summarize() reports, so the rows span exactly the printed min and max.
  const lo = Math.max(LOWEST_US, h.getValueAtPercentile(0));
  const hi = Math.max(lo, h.getValueAtPercentile(100));
  const edges: number[] = [lo];
  const ratio = hi / lo;
  for (let k = 1; k < rows; k++) {
    const edge = Math.round(lo * Math.pow(ratio, k / rows));
    // Whole µs edges: below about `rows` µs of range, neighbouring edges coincide and merge.
    if (edge > edges[edges.length - 1]! && edge < hi) edges.push(edge);
  }
  edges.push(hi);
  const buckets: LatencyBucket[] = [];
  for (let k = 0; k < edges.length - 1; k++) {
    buckets.push({ fromUs: edges[k]!, toUs: edges[k + 1]!, count: 0 });
  }
  const lastIndex = h.countsArrayIndex(h.maxValue);
  let b = 0;
  for (let i = 0; i <= lastIndex && i < h.countsArrayLength; i++) {
    const count = h.getCountAtIndex(i);
    if (count === 0) continue;
    const value = h.valueFromIndex(i);
    while (b < buckets.length - 1 && value >= buckets[b]!.toUs) b++;
    buckets[b]!.count += count;
  }
  return buckets;
}

/**
 * The non-zero counts of `h` as [value, count, value, count, ...]: what a worker thread posts every
 * second for the live p99. Encoding (deflate in JS) took milliseconds on the thread that reads the
 * messages, once a second, and showed up in the very tail it was measuring; this is a walk over the
 * counts. Each value is the lowest of its bucket, as logBuckets reads them.
 */
export function sparseCounts(h: LatencyHistogram): number[] {
  if (h.totalCount === 0 || !(h instanceof JsHistogram)) return [];
  const out: number[] = [];
  const last = Math.min(h.countsArrayLength - 1, h.countsArrayIndex(h.maxValue));
  for (let i = 0; i <= last; i++) {
    const count = h.getCountAtIndex(i);
    if (count > 0) out.push(h.valueFromIndex(i), count);
  }
  return out;
}

/** Adds sparseCounts() output to `target`. */
export function addSparseCounts(target: LatencyHistogram, counts: readonly number[]): void {
  for (let i = 0; i + 1 < counts.length; i += 2) target.recordValueWithCount(counts[i]!, counts[i + 1]!);
}
