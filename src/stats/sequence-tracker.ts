// Counts unique, duplicated and reordered messages per (publisher, channel) stream, in constant memory per stream.

/**
 * Each stream keeps the highest sequence seen and how many sequences it skipped over ("missing").
 * A sequence below the highest is taken as a late arrival of a skipped one while the stream still has
 * missing sequences, and as a duplicate otherwise. This is an approximation, chosen to keep memory
 * fixed at 1M+ messages/s: a duplicate of an old message that arrives while a gap is open counts as
 * reordered (and unique), and a late arrival after the gaps were used up counts as a duplicate. With
 * no reordering (a single Redis connection delivers in order) both counts are exact.
 */
export class SequenceTracker {
  /** Messages counted once each: in order, after a gap, or late arrivals filling a gap. */
  unique = 0;
  /** The same sequence seen again. */
  duplicates = 0;
  /** Late arrivals: a sequence below the highest seen that filled a gap. */
  reordered = 0;
  /** Messages whose stream index was out of range (another bench run sharing the channels). */
  outOfRange = 0;
  /** Sequences skipped while the subscriber was away (see rejoin): missed on purpose, not lost. */
  excused = 0;

  private readonly streams: number;
  /** Highest sequence seen per stream; -1 until the first. Float64 because sequences reach 2^53. */
  private readonly last: Float64Array;
  /** Sequences skipped over and not yet seen, per stream. */
  private readonly gaps: Float64Array;
  private missingTotal = 0;
  /** 1 for a stream the subscriber rejoined and has not heard from since. */
  private readonly rejoined: Uint8Array;

  constructor(streams: number) {
    this.streams = streams;
    this.last = new Float64Array(streams).fill(-1);
    this.gaps = new Float64Array(streams);
    this.rejoined = new Uint8Array(streams);
  }

  /**
   * The subscriber was away from `stream` and is back: the sequences its next message skips were
   * published while it was away, and are counted as excused instead of missing.
   */
  rejoin(stream: number): void {
    if (stream >= 0 && stream < this.streams) this.rejoined[stream] = 1;
  }

  /** The subscriber did not come back to `stream` after all: what it skips is missing again. */
  unmark(stream: number): void {
    if (stream >= 0 && stream < this.streams) this.rejoined[stream] = 0;
  }

  /**
   * At the end of the run: a stream rejoined and not heard from since lost nothing after its last
   * sequence seen; what its publisher sent up to `lastSent` was sent while the subscriber was away.
   */
  excuseUnheard(stream: number, lastSent: number): void {
    if (!(stream >= 0 && stream < this.streams) || this.rejoined[stream] === 0) return;
    const last = this.last[stream]!;
    if (last >= 0 && lastSent > last) this.excused += lastSent - last;
    this.rejoined[stream] = 0;
  }

  observe(stream: number, seq: number): void {
    if (!(stream >= 0 && stream < this.streams)) {
      this.outOfRange++;
      return;
    }
    // In range, checked above: the typed arrays hold a number at `stream`.
    const last = this.last[stream]!;
    if (this.rejoined[stream] === 1) {
      this.rejoined[stream] = 0;
      if (seq > last + 1 && last >= 0) {
        this.excused += seq - last - 1;
        this.last[stream] = seq;
        this.unique++;
        return;
      }
    }
    if (seq === last + 1) {
      this.last[stream] = seq;
      this.unique++;
    } else if (seq > last) {
      const skipped = seq - last - 1;
      this.gaps[stream] = this.gaps[stream]! + skipped;
      this.missingTotal += skipped;
      this.last[stream] = seq;
      this.unique++;
    } else if (seq !== last && this.gaps[stream]! > 0) {
      this.gaps[stream] = this.gaps[stream]! - 1;
      this.missingTotal--;
      this.reordered++;
      this.unique++;
    } else {
      this.duplicates++;
    }
  }

  /** Sequences skipped over and not (yet) seen, over all streams: lost so far, unless they arrive late. */
  get missing(): number {
    return this.missingTotal;
  }

  /** Messages that never arrived, given how many should have. */
  lost(expected: number): number {
    return Math.max(0, expected - this.unique);
  }
}
