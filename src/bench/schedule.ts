// Open-loop publish schedule: when message i should leave, however late the previous ones actually left.

const NS_PER_SEC = 1e9;

/**
 * Message i is due at `start + i * 1e9 / rate` ns, computed from i each time rather than by adding an
 * interval, so rounding never accumulates. Latency is then measured from this intended time, not from
 * the actual send: a publisher that stalls cannot hide the stall (no coordinated omission).
 * Times are whole nanoseconds, floored, as the payload header carries integers.
 */
export class OpenLoopSchedule {
  readonly ratePerSec: number;
  readonly startNs: number;

  constructor(ratePerSec: number, startNs: number) {
    if (!(ratePerSec > 0) || !Number.isFinite(ratePerSec)) {
      throw new RangeError(`an open-loop schedule needs a positive finite rate, got ${ratePerSec}`);
    }
    this.ratePerSec = ratePerSec;
    this.startNs = startNs;
  }

  /**
   * When message `i` (0-based) is due. `i * 1e9` is exact for i below 4.6e9 (1e9 = 2^9 * 1953125),
   * so the only rounding is one division.
   */
  intendedNs(i: number): number {
    return this.startNs + Math.floor((i * NS_PER_SEC) / this.ratePerSec);
  }

  /**
   * How many messages should have been sent by `nowNs` (the index of the last one due, plus one);
   * 0 before the start. The floating-point estimate is corrected against intendedNs() so the two
   * agree exactly at every boundary.
   */
  dueBy(nowNs: number): number {
    if (nowNs < this.startNs) return 0;
    let last = Math.floor(((nowNs - this.startNs) * this.ratePerSec) / NS_PER_SEC);
    while (last > 0 && this.intendedNs(last) > nowNs) last--;
    while (this.intendedNs(last + 1) <= nowNs) last++;
    return last + 1;
  }
}

/** `total` split into `parts` integers that differ by at most one and sum exactly to `total`. */
export function splitRate(total: number, parts: number): number[] {
  if (!Number.isInteger(total) || total < 0) {
    throw new RangeError(`splitRate needs a non-negative integer total, got ${total}`);
  }
  if (!Number.isInteger(parts) || parts < 1) {
    throw new RangeError(`splitRate needs at least one part, got ${parts}`);
  }
  const base = Math.floor(total / parts);
  const extra = total - base * parts;
  const out = new Array<number>(parts);
  for (let p = 0; p < parts; p++) out[p] = base + (p < extra ? 1 : 0);
  return out;
}

/**
 * How far publisher `part` of `parts` shifts its schedule start: `part / parts` of its own interval,
 * so publishers at the same rate take turns instead of all firing (and bursting the server) together.
 * 0 when the rate is 0 (as fast as possible: there is no interval to spread over).
 */
export function staggerNs(part: number, parts: number, ratePerSec: number): number {
  if (!(ratePerSec > 0) || parts < 1) return 0;
  return Math.floor((part * NS_PER_SEC) / ratePerSec / parts);
}
