// Payload sizes of a channel, kept as a few log-spaced buckets (count and bytes each) instead of every size seen.

/** One size class: how many payloads fell in a bucket, and their mean size (the class's representative size). */
export interface SizeBucket {
  /** The mean size of the payloads in the bucket, rounded to a whole byte. */
  bytes: number;
  count: number;
}

/**
 * Bucket of a payload size: 0 for an empty payload, else the bit length of the size, so bucket k
 * holds sizes from 2^(k-1) to 2^k - 1 (1, 2-3, 4-7, ..., 64-127, ..., 512-1023, ...). Redis caps a
 * payload at 512 MiB, 30 buckets; a channel usually fills one to three.
 */
export function sizeBucket(size: number): number {
  return size <= 0 ? 0 : 32 - Math.clz32(size);
}

/**
 * A per-channel histogram of payload sizes. Adding a size is a bit count and two additions; the
 * mean of each bucket is its representative size, so a channel whose payloads all have one size is
 * replayed with exactly that size, and the bytes of every bucket add up to the bytes seen.
 */
export class PayloadSizes {
  /** Bucket -> [payloads, bytes]. Sparse: most channels use one or two buckets. */
  private readonly buckets = new Map<number, [number, number]>();

  add(size: number): void {
    const k = sizeBucket(size);
    const b = this.buckets.get(k);
    if (b) {
      b[0]++;
      b[1] += size;
    } else this.buckets.set(k, [1, size]);
  }

  /** Adds every payload of `other` to this histogram. */
  merge(other: PayloadSizes): void {
    for (const [k, [count, bytes]] of other.buckets) {
      const b = this.buckets.get(k);
      if (b) {
        b[0] += count;
        b[1] += bytes;
      } else this.buckets.set(k, [count, bytes]);
    }
  }

  /** Payloads counted. */
  get count(): number {
    let n = 0;
    for (const [count] of this.buckets.values()) n += count;
    return n;
  }

  /** The non-empty buckets, smallest first, each as its mean size and count. */
  classes(): SizeBucket[] {
    return [...this.buckets]
      .sort(([a], [b]) => a - b)
      .map(([, [count, bytes]]) => ({ bytes: Math.round(bytes / count), count }));
  }
}
