// Loss, duplicate and reordering counts per stream, including the documented approximation.
import { describe, it, expect } from 'vitest';
import { SequenceTracker } from '../../src/stats/sequence-tracker.js';

function feed(t: SequenceTracker, stream: number, seqs: number[]): void {
  for (const s of seqs) t.observe(stream, s);
}

function counts(t: SequenceTracker) {
  return { unique: t.unique, duplicates: t.duplicates, reordered: t.reordered, missing: t.missing };
}

describe('SequenceTracker', () => {
  it('counts an in-order stream as all unique', () => {
    const t = new SequenceTracker(1);
    feed(t, 0, [0, 1, 2, 3, 4]);
    expect(counts(t)).toEqual({ unique: 5, duplicates: 0, reordered: 0, missing: 0 });
    expect(t.lost(5)).toBe(0);
  });

  it('keeps streams apart', () => {
    const t = new SequenceTracker(3);
    feed(t, 0, [0, 1, 2]);
    feed(t, 2, [0, 1]);
    feed(t, 1, [0]);
    feed(t, 0, [3]);
    expect(counts(t)).toEqual({ unique: 7, duplicates: 0, reordered: 0, missing: 0 });
  });

  it('counts a gap as missing, and as lost when it never fills', () => {
    const t = new SequenceTracker(1);
    feed(t, 0, [0, 1, 4, 5, 9]);
    expect(counts(t)).toEqual({ unique: 5, duplicates: 0, reordered: 0, missing: 5 });
    expect(t.lost(10)).toBe(5);
  });

  it('counts a stream that starts late as having missed the start', () => {
    const t = new SequenceTracker(1);
    feed(t, 0, [3, 4]);
    expect(t.missing).toBe(3);
    expect(t.lost(5)).toBe(3);
  });

  it('counts late arrivals that fill a gap as reordered and unique', () => {
    const t = new SequenceTracker(1);
    feed(t, 0, [0, 2, 3, 1, 6, 5, 4]);
    expect(counts(t)).toEqual({ unique: 7, duplicates: 0, reordered: 3, missing: 0 });
    expect(t.lost(7)).toBe(0);
  });

  it('counts a repeat of the last message and of older ones as duplicates', () => {
    const t = new SequenceTracker(1);
    feed(t, 0, [0, 1, 1, 2, 0, 2]);
    expect(counts(t)).toEqual({ unique: 3, duplicates: 3, reordered: 0, missing: 0 });
    expect(t.lost(3)).toBe(0);
  });

  it('never reports negative loss', () => {
    const t = new SequenceTracker(1);
    feed(t, 0, [0, 1, 2]);
    expect(t.lost(2)).toBe(0);
  });

  it('does not let one stream\'s gap excuse another stream\'s duplicate', () => {
    const t = new SequenceTracker(2);
    feed(t, 0, [0, 5]);
    feed(t, 1, [0, 1, 0]);
    expect(counts(t)).toEqual({ unique: 4, duplicates: 1, reordered: 0, missing: 4 });
  });

  it('shows its approximation: an old duplicate during an open gap counts as reordered', () => {
    // Documented trade-off for constant memory: 0 is a duplicate here, but 2-4 are still missing.
    const t = new SequenceTracker(1);
    feed(t, 0, [0, 1, 5, 0]);
    expect(counts(t)).toEqual({ unique: 4, duplicates: 0, reordered: 1, missing: 2 });
  });

  it('handles sequences beyond 2^32', () => {
    const t = new SequenceTracker(1);
    const base = 2 ** 40;
    feed(t, 0, [base, base + 1, base + 3, base + 2, base + 3]);
    expect(counts(t)).toEqual({ unique: 4, duplicates: 1, reordered: 1, missing: base });
  });

  it('sets aside stream indexes it was not sized for', () => {
    const t = new SequenceTracker(2);
    t.observe(2, 0);
    t.observe(-1, 0);
    t.observe(Number.NaN, 0);
    t.observe(1, 0);
    expect(t.outOfRange).toBe(3);
    expect(t.unique).toBe(1);
  });

  it('excuses what a rejoined stream skipped, once, and counts a later gap as missing again', () => {
    const t = new SequenceTracker(2);
    feed(t, 0, [0, 1, 2]);
    t.rejoin(0);
    feed(t, 0, [7, 8, 10]);
    expect(t.excused).toBe(4);
    expect(counts(t)).toEqual({ unique: 6, duplicates: 0, reordered: 0, missing: 1 });
    // A stream rejoined but not skipped ahead (nothing was published meanwhile) excuses nothing.
    t.rejoin(1);
    feed(t, 1, [0]);
    expect(t.excused).toBe(4);
  });

  it('at the end, excuses what a rejoined stream never heard up to the last sequence sent, and only for rejoined streams', () => {
    const t = new SequenceTracker(3);
    feed(t, 0, [0, 1]);
    feed(t, 1, [0, 1]);
    t.rejoin(0);
    t.excuseUnheard(0, 5);
    t.excuseUnheard(1, 5);
    expect(t.excused).toBe(4);
    // Nothing heard before: what was sent cannot be told from warm-up, so nothing is excused.
    t.rejoin(2);
    t.excuseUnheard(2, 9);
    expect(t.excused).toBe(4);
    // Once excused, the stream is no longer marked.
    t.excuseUnheard(0, 8);
    expect(t.excused).toBe(4);
  });
});
