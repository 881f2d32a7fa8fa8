// Per-second rates: from a server counter sampled now and then, and from events counted as they happen.

/**
 * The rate of a counter that only grows (commandstats calls, total_commands_processed), from
 * successive samples. A counter that goes down was reset (CONFIG RESETSTAT, a restart): the rate for
 * that interval is unknown, never negative.
 */
export class CounterRate {
  private lastValue: number | undefined;
  private lastMs = 0;

  /**
   * Takes a sample; returns events per second since the previous one, or undefined when that is not
   * known: first sample, counter reset, non-finite input, or a clock that did not move forward.
   */
  update(value: number, nowMs: number): number | undefined {
    if (!Number.isFinite(value) || !Number.isFinite(nowMs)) {
      this.reset();
      return undefined;
    }
    const previous = this.lastValue;
    const elapsedMs = nowMs - this.lastMs;
    if (previous === undefined || value < previous || elapsedMs < 0) {
      this.lastValue = value;
      this.lastMs = nowMs;
      return undefined;
    }
    // Two samples in the same millisecond: keep the older one so the next interval is measured in full.
    if (elapsedMs === 0) return undefined;
    this.lastValue = value;
    this.lastMs = nowMs;
    return ((value - previous) * 1000) / elapsedMs;
  }

  /** Forgets the last sample: the next update starts afresh. */
  reset(): void {
    this.lastValue = undefined;
    this.lastMs = 0;
  }
}

/** Sliding-window options for MessageRate. */
export interface MessageRateOptions {
  /**
   * Length of the window the rate is taken over.
   * @default 1000
   */
  windowMs?: number;
  /**
   * How many buckets the window is cut into; more buckets slide more smoothly, at fixed memory.
   * @default 5
   */
  buckets?: number;
  /**
   * When counting began (the injected clock at creation). Without it, the first call to `record`
   * or `rate` starts the clock.
   */
  startMs?: number;
}

const DEFAULT_MESSAGE_RATE_OPTIONS = { windowMs: 1000, buckets: 5 } as const;

/**
 * Events per second over a sliding window, kept in a fixed ring of time buckets. The rate divides by
 * the time the counted buckets really cover (the current one is partial), so it does not dip by a
 * bucket's worth each time a new bucket opens.
 */
export class MessageRate {
  private readonly bucketMs: number;
  private readonly counts: Float64Array;
  /** Which bucket (counted from startMs) each ring slot holds; -1 when unused. */
  private readonly bucketIndexes: Float64Array;
  private startMs: number | undefined;

  constructor(options: MessageRateOptions = {}) {
    const windowMs = options.windowMs ?? DEFAULT_MESSAGE_RATE_OPTIONS.windowMs;
    const buckets = options.buckets ?? DEFAULT_MESSAGE_RATE_OPTIONS.buckets;
    if (!(windowMs > 0) || !Number.isFinite(windowMs)) {
      throw new RangeError(`windowMs must be a positive number, got ${windowMs}`);
    }
    if (!Number.isInteger(buckets) || buckets < 1) {
      throw new RangeError(`buckets must be a positive whole number, got ${buckets}`);
    }
    this.bucketMs = windowMs / buckets;
    this.counts = new Float64Array(buckets);
    this.bucketIndexes = new Float64Array(buckets).fill(-1);
    this.startMs = options.startMs;
  }

  /** Counts `count` events at `nowMs`. Events older than the window are dropped. */
  record(count = 1, nowMs: number): void {
    if (!Number.isFinite(count) || count < 0) {
      throw new RangeError(`count must be a non-negative number, got ${count}`);
    }
    const index = this.bucketIndex(nowMs);
    const slot = index % this.counts.length;
    const held = this.bucketIndexes[slot] ?? -1;
    // The slot already holds a newer bucket: this event is too old for the window.
    if (held > index) return;
    if (held !== index) {
      this.bucketIndexes[slot] = index;
      this.counts[slot] = 0;
    }
    this.counts[slot] = (this.counts[slot] ?? 0) + count;
  }

  /**
   * Events per second at `nowMs` over the last window. Until a whole window has passed since the
   * start, it divides by the time elapsed instead, but by no less than one bucket: dividing by a
   * few milliseconds would turn the first message into a rate of hundreds per second.
   */
  rate(nowMs: number): number {
    const current = this.bucketIndex(nowMs);
    const oldest = Math.max(0, current - this.counts.length + 1);
    let total = 0;
    for (let slot = 0; slot < this.counts.length; slot++) {
      const index = this.bucketIndexes[slot] ?? -1;
      if (index >= oldest && index <= current) total += this.counts[slot] ?? 0;
    }
    const elapsedMs = Math.max(0, nowMs - (this.startMs ?? nowMs));
    const coveredMs = Math.max(elapsedMs - oldest * this.bucketMs, this.bucketMs);
    return (total * 1000) / coveredMs;
  }

  private bucketIndex(nowMs: number): number {
    if (this.startMs === undefined) this.startMs = nowMs;
    // A clock earlier than the start counts into the first bucket rather than a negative one.
    return Math.floor(Math.max(0, nowMs - this.startMs) / this.bucketMs);
  }
}
