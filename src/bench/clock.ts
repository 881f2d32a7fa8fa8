// The monotonic clock every bench timestamp comes from: process.hrtime in nanoseconds, as a Number.

/**
 * Nanoseconds since an arbitrary point (boot, on Linux), shared by every thread of the process. A
 * Number is exact to 2^53 ns, about 104 days of uptime; BigInt would allocate on every message.
 */
export function hrNowNs(): number {
  return Number(process.hrtime.bigint());
}
