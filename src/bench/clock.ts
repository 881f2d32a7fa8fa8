// The clocks bench reads: process.hrtime in nanoseconds as a Number (moved onto the run's shared
// clock when this host is one of several), and the calling thread's CPU time.
import fs from 'node:fs';

/**
 * Nanoseconds added to this process's clock to pretend it is another host's, whose clock disagrees:
 * read only by tests of the clock-offset estimate (PUBSUB_MON_TEST_CLOCK_SKEW_NS), 0 otherwise.
 */
const TEST_SKEW_NS = /^-?\d{1,15}$/.test(process.env.PUBSUB_MON_TEST_CLOCK_SKEW_NS ?? '') ? BigInt(process.env.PUBSUB_MON_TEST_CLOCK_SKEW_NS!) : 0n;

const SKEW_NS = Number(TEST_SKEW_NS);

/** What this thread adds to its own clock to read the run's: 0 on the coordinator and on a lone host. */
let runShiftNs = 0;

/** This host's clock, as a BigInt: what the clock-offset estimate compares with the server's TIME. */
export function hostNowBigNs(): bigint {
  return process.hrtime.bigint() + TEST_SKEW_NS;
}

/**
 * Nanoseconds on the run's clock, shared by every thread of the process. A Number is exact to 2^53 ns,
 * about 104 days of uptime; BigInt would allocate on every message. On an agent the run's clock is
 * the coordinator's, as estimated (clock-offset.ts): messages between two threads of one host carry
 * the same shift at both ends, so their latency is exact; across hosts it is off by at most the sum
 * of the two hosts' stated bounds.
 */
export function hrNowNs(): number {
  return Number(process.hrtime.bigint()) + SKEW_NS + runShiftNs;
}

/** Moves this thread onto the run's clock (each worker thread and process sets its own). */
export function setRunClockShift(ns: number): void {
  runShiftNs = ns;
}

/**
 * CPU time the calling thread has run, in ns, from Linux's /proc/thread-self/schedstat (its first
 * field); undefined where that file does not exist. Node 20 has no per-thread CPU clock of its own
 * (process.cpuUsage counts every thread), and a worker thread reads the file as itself.
 */
export function threadCpuNs(): number | undefined {
  try {
    const first = fs.readFileSync('/proc/thread-self/schedstat', 'latin1').split(' ', 1)[0];
    const ns = Number(first);
    return Number.isFinite(ns) ? ns : undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}
