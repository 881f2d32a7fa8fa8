// Unit tests for counter rates (with resets) and sliding-window event rates, on an injected clock.
import { describe, it, expect } from 'vitest';
import { CounterRate, MessageRate } from '../../src/stats/counter-rate.js';

describe('CounterRate', () => {
  it('is unknown on the first sample, then gives per-second rates', () => {
    const rate = new CounterRate();
    expect(rate.update(100, 10_000)).toBeUndefined();
    expect(rate.update(600, 11_000)).toBe(500);
    expect(rate.update(700, 11_500)).toBe(200);
    expect(rate.update(700, 13_500)).toBe(0);
  });

  it('treats a counter that went down as a reset: unknown, then rates from the new value', () => {
    const rate = new CounterRate();
    rate.update(1_000, 0);
    expect(rate.update(5, 1_000)).toBeUndefined();
    expect(rate.update(105, 2_000)).toBe(100);
  });

  it('never reports a negative rate', () => {
    const rate = new CounterRate();
    const values = [10, 20, 3, 50, 0, 0, 40];
    const results = values.map((v, i) => rate.update(v, i * 1000));
    expect(results).toEqual([undefined, 10, undefined, 47, undefined, 0, 40]);
  });

  it('does not divide by zero when the clock has not moved, and keeps the older sample', () => {
    const rate = new CounterRate();
    rate.update(0, 1_000);
    expect(rate.update(50, 1_000)).toBeUndefined();
    expect(rate.update(100, 2_000)).toBe(100);
  });

  it('restarts when the clock goes backwards', () => {
    const rate = new CounterRate();
    rate.update(0, 5_000);
    expect(rate.update(10, 4_000)).toBeUndefined();
    expect(rate.update(20, 5_000)).toBe(10);
  });

  it('treats a non-finite value as unknown', () => {
    const rate = new CounterRate();
    rate.update(0, 0);
    expect(rate.update(Number.NaN, 1_000)).toBeUndefined();
    expect(rate.update(10, 2_000)).toBeUndefined();
    expect(rate.update(20, 3_000)).toBe(10);
  });

  it('forgets everything on reset()', () => {
    const rate = new CounterRate();
    rate.update(0, 0);
    rate.update(10, 1_000);
    rate.reset();
    expect(rate.update(1_000, 2_000)).toBeUndefined();
    expect(rate.update(1_010, 3_000)).toBe(10);
  });
});

describe('MessageRate', () => {
  it('gives events per second over a full window', () => {
    const rate = new MessageRate({ windowMs: 1000, buckets: 5, startMs: 0 });
    // 10 events every 100 ms for 3 s: 100 per second.
    for (let t = 0; t < 3000; t += 100) rate.record(10, t);
    expect(rate.rate(3000)).toBeCloseTo(100, 5);
    expect(rate.rate(2999)).toBeCloseTo(100, 0);
  });

  it('stays steady as buckets roll over mid-bucket', () => {
    const rate = new MessageRate({ windowMs: 1000, buckets: 5, startMs: 0 });
    const seen: number[] = [];
    for (let t = 0; t < 5000; t += 10) {
      rate.record(1, t);
      if (t >= 1000) seen.push(rate.rate(t + 10));
    }
    for (const r of seen) expect(r).toBeCloseTo(100, 5);
  });

  it('defaults count to 1', () => {
    const rate = new MessageRate({ startMs: 0 });
    rate.record(undefined, 100);
    rate.record(undefined, 200);
    expect(rate.rate(800)).toBe(2.5);
  });

  it('forgets events older than the window', () => {
    const rate = new MessageRate({ windowMs: 1000, buckets: 5, startMs: 0 });
    rate.record(500, 100);
    // The event sits in the 0-200 ms bucket, which leaves the window when the 1000-1200 ms one opens.
    expect(rate.rate(999)).toBeCloseTo(500_000 / 999, 5);
    expect(rate.rate(1000)).toBe(0);
    expect(rate.rate(60_000)).toBe(0);
    rate.record(3, 60_000);
    expect(rate.rate(60_000)).toBeCloseTo(3 * 1000 / 800, 5);
  });

  it('divides by the elapsed time before a whole window has passed', () => {
    const rate = new MessageRate({ windowMs: 10_000, buckets: 10, startMs: 0 });
    rate.record(50, 500);
    expect(rate.rate(2_500)).toBe(20);
    expect(rate.rate(5_000)).toBe(10);
  });

  it('divides by at least one bucket right after the start', () => {
    const rate = new MessageRate({ windowMs: 1000, buckets: 5, startMs: 0 });
    rate.record(1, 0);
    expect(rate.rate(0)).toBe(5);
    expect(rate.rate(1)).toBe(5);
  });

  it('starts the clock at the first call when no startMs is given', () => {
    const rate = new MessageRate({ windowMs: 1000, buckets: 5 });
    rate.record(4, 50_000);
    rate.record(4, 50_400);
    expect(rate.rate(50_800)).toBe(10);
    expect(new MessageRate().rate(123)).toBe(0);
  });

  it('drops events too old for the window and stamps before the start', () => {
    const rate = new MessageRate({ windowMs: 1000, buckets: 5, startMs: 1_000 });
    rate.record(1, 5_000);
    rate.record(100, 3_900);
    expect(rate.rate(5_000)).toBeCloseTo(1000 / 800, 5);
    const early = new MessageRate({ windowMs: 1000, buckets: 5, startMs: 1_000 });
    early.record(2, 0);
    expect(early.rate(1_000)).toBe(10);
  });

  it('rejects bad options and counts', () => {
    expect(() => new MessageRate({ windowMs: 0 })).toThrow(RangeError);
    expect(() => new MessageRate({ windowMs: Number.NaN })).toThrow(RangeError);
    expect(() => new MessageRate({ buckets: 0 })).toThrow(RangeError);
    expect(() => new MessageRate({ buckets: 2.5 })).toThrow(RangeError);
    expect(() => new MessageRate().record(-1, 0)).toThrow(RangeError);
    expect(() => new MessageRate().record(Number.POSITIVE_INFINITY, 0)).toThrow(RangeError);
  });

  it('keeps fixed memory however many events it sees', () => {
    const rate = new MessageRate({ windowMs: 1000, buckets: 4, startMs: 0 });
    for (let t = 0; t < 100_000; t += 7) rate.record(1, t);
    const arrays = Object.values(rate).filter((v): v is Float64Array => v instanceof Float64Array);
    expect(arrays.map((a) => a.length)).toEqual([4, 4]);
    expect(rate.rate(100_000)).toBeCloseTo(1000 / 7, 0);
  });
});
