// The open-loop schedule: exact intended times without drift, due counts at boundaries, rate splitting.
import { describe, it, expect } from 'vitest';
import { OpenLoopSchedule, splitRate, staggerNs } from '../../src/bench/schedule.js';

const START = 1_000_000_000_000; // an hrtime-like reading, 1000 s after boot

describe('OpenLoopSchedule.intendedNs', () => {
  it('is the start for message 0 and one interval per message after', () => {
    const s = new OpenLoopSchedule(1000, START);
    expect(s.intendedNs(0)).toBe(START);
    expect(s.intendedNs(1)).toBe(START + 1_000_000);
    expect(s.intendedNs(2500)).toBe(START + 2_500_000_000);
  });

  it('does not drift over 10 million intervals, even where the interval is not a whole ns', () => {
    expect(new OpenLoopSchedule(1e6, START).intendedNs(1e7)).toBe(START + 1e10);
    // 3/s: 333333333.33 ns per message. Adding the interval 3e7 times would drift; i * 1e9 / 3 does not.
    const third = new OpenLoopSchedule(3, START);
    expect(third.intendedNs(3e7)).toBe(START + 1e16);
    const seventh = new OpenLoopSchedule(7, START);
    expect(seventh.intendedNs(7e6)).toBe(START + 1e15);
    expect(seventh.intendedNs(1e7)).toBe(START + Math.floor(1e16 / 7));
    // What the schedule avoids: adding the interval 7e6 times lands away from the exact 1e15 ns.
    let summed = START;
    for (let i = 0; i < 7e6; i++) summed += 1e9 / 7;
    expect(Math.abs(summed - (START + 1e15))).toBeGreaterThan(1);
  });

  it('yields whole nanoseconds, non-decreasing', () => {
    const s = new OpenLoopSchedule(7, 0);
    let previous = -1;
    for (let i = 0; i < 100; i++) {
      const t = s.intendedNs(i);
      expect(Number.isInteger(t)).toBe(true);
      expect(t).toBeGreaterThan(previous);
      previous = t;
    }
  });

  it('refuses a rate that is not positive', () => {
    expect(() => new OpenLoopSchedule(0, 0)).toThrow(RangeError);
    expect(() => new OpenLoopSchedule(-5, 0)).toThrow(RangeError);
    expect(() => new OpenLoopSchedule(Number.POSITIVE_INFINITY, 0)).toThrow(RangeError);
  });
});

describe('OpenLoopSchedule.dueBy', () => {
  it('is 0 before the start and 1 at the start', () => {
    const s = new OpenLoopSchedule(1000, START);
    expect(s.dueBy(START - 1)).toBe(0);
    expect(s.dueBy(0)).toBe(0);
    expect(s.dueBy(START)).toBe(1);
  });

  it('steps exactly at each intended time', () => {
    const s = new OpenLoopSchedule(1000, START);
    expect(s.dueBy(START + 999_999)).toBe(1);
    expect(s.dueBy(START + 1_000_000)).toBe(2);
    expect(s.dueBy(START + 1_000_000_000 - 1)).toBe(1000);
    expect(s.dueBy(START + 1_000_000_000)).toBe(1001);
  });

  it('agrees with intendedNs at every boundary for an awkward rate', () => {
    const s = new OpenLoopSchedule(3333, START);
    for (const i of [1, 2, 17, 3333, 99_999, 12_345_678]) {
      const t = s.intendedNs(i);
      expect(s.dueBy(t)).toBe(i + 1);
      expect(s.dueBy(t - 1)).toBe(i);
    }
  });

  it('stays exact far into a run at a high rate', () => {
    const s = new OpenLoopSchedule(2_500_000, START);
    const i = 2_500_000 * 3600; // an hour in
    expect(s.dueBy(s.intendedNs(i))).toBe(i + 1);
    expect(s.dueBy(s.intendedNs(i) - 1)).toBe(i);
  });
});

describe('splitRate', () => {
  it('splits as evenly as possible and sums exactly to the total', () => {
    expect(splitRate(10, 3)).toEqual([4, 3, 3]);
    expect(splitRate(100_000, 4)).toEqual([25_000, 25_000, 25_000, 25_000]);
    expect(splitRate(2, 5)).toEqual([1, 1, 0, 0, 0]);
    for (const [total, parts] of [[1_000_003, 7], [999, 1000], [0, 3], [123_456_789, 64]] as const) {
      const split = splitRate(total, parts);
      expect(split).toHaveLength(parts);
      expect(split.reduce((a, b) => a + b, 0)).toBe(total);
      expect(Math.max(...split) - Math.min(...split)).toBeLessThanOrEqual(1);
    }
  });

  it('refuses fractional totals and zero parts', () => {
    expect(() => splitRate(10.5, 2)).toThrow(RangeError);
    expect(() => splitRate(10, 0)).toThrow(RangeError);
  });
});

describe('staggerNs', () => {
  it('offsets each publisher by its share of one interval', () => {
    // 1000/s: 1 ms between messages; four publishers start 0, 250, 500, 750 µs apart.
    expect([0, 1, 2, 3].map((p) => staggerNs(p, 4, 1000))).toEqual([0, 250_000, 500_000, 750_000]);
  });

  it('keeps every offset within one interval', () => {
    for (let p = 0; p < 7; p++) {
      const offset = staggerNs(p, 7, 3);
      expect(offset).toBeGreaterThanOrEqual(0);
      expect(offset).toBeLessThan(1e9 / 3);
    }
  });

  it('is 0 when publishing as fast as possible', () => {
    expect(staggerNs(3, 4, 0)).toBe(0);
  });
});
