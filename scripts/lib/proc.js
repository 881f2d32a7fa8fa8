// What Linux says about processes and the machine's CPU (/proc), for the CPU and memory figures; undefined elsewhere.
// @ts-check
import fs from 'node:fs';
import os from 'node:os';
import { performance } from 'node:perf_hooks';

/** Clock ticks per second of /proc/stat and /proc/PID/stat (USER_HZ, 100 on Linux). */
const CLOCK_TICKS = 100;

/**
 * CPU time of a process in clock ticks, from /proc/PID/stat: utime and stime, and with
 * `withReapedChildren` also cutime and cstime (children already waited for). Throws without /proc or
 * once the process is gone.
 * @param {number | 'self'} pid
 * @param {boolean} [withReapedChildren]
 */
function cpuTicks(pid, withReapedChildren = false) {
  return cpuFields(pid).slice(0, withReapedChildren ? 4 : 2).reduce((sum, v) => sum + v, 0);
}

/**
 * utime, stime, cutime and cstime of a process, in clock ticks, read at once from /proc/PID/stat.
 * @param {number | 'self'} pid
 */
function cpuFields(pid) {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  // After the `(command)` field, which may hold spaces; f[0] is field 3, utime..cstime are fields 14 to 17.
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return f.slice(11, 15).map(Number);
}

/**
 * CPU time of this process's children that have ended and been waited for (cutime and cstime), in
 * ms (10 ms steps): read before and after a child runs, the difference is that child's whole CPU
 * time, start-up included. Undefined without /proc.
 */
export function reapedChildrenCpuMs() {
  try {
    const [, , cutime = NaN, cstime = NaN] = cpuFields('self');
    return ((cutime + cstime) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * CPU time a process has used, in ms (10 ms steps); undefined without /proc or once it is gone.
 * @param {number | undefined} pid
 */
export function processCpuMs(pid) {
  if (pid === undefined) return undefined;
  try {
    return (cpuTicks(pid) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

/**
 * Resident set of a process in bytes; undefined without /proc or once it is gone.
 * @param {number | undefined} pid
 */
export function rssOf(pid) {
  try {
    const kb = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
    return Number.isFinite(kb) ? kb * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/** The 1, 5 and 15-minute load averages, `0.52 0.48 0.40`: a busy machine says so before any figure. */
export function loadAverage() {
  return os.loadavg().map((v) => v.toFixed(2)).join(' ');
}

/** @typedef {{ at: number, busy: number, ours: number }} CpuSample */

/**
 * Who else is using the CPU: all busy time (/proc/stat) minus ours (this process, its reaped children,
 * and the `alsoOurs` processes, such as the sandbox's redis-server). Children are sampled after they
 * have been reaped, so their whole CPU time is in this process's cutime/cstime by then. This is the
 * CPU the neighbours got, not what they wanted: a run that keeps every core busy leaves them little,
 * so it reads low there; for runs that leave CPU free, it is a fair measure of contention.
 * @param {number[]} alsoOurs
 */
export function cpuMeter(alsoOurs) {
  return {
    /** @returns {CpuSample | undefined} */
    sample() {
      try {
        const fields = (fs.readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '').trim().split(/\s+/).slice(1).map(Number);
        const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
        const busy = user + nice + system + irq + softirq + steal;
        const ours = cpuTicks('self', true) + alsoOurs.reduce((sum, pid) => sum + cpuTicks(pid), 0);
        return { at: performance.now(), busy, ours };
      } catch {
        return undefined;
      }
    },
    /**
     * Cores' worth of CPU that other processes used between two samples; undefined without /proc.
     * @param {CpuSample | undefined} a
     * @param {CpuSample | undefined} b
     */
    neighbours(a, b) {
      if (!a || !b || b.at <= a.at) return undefined;
      return Math.max(0, (b.busy - a.busy - (b.ours - a.ours)) / CLOCK_TICKS / ((b.at - a.at) / 1000));
    },
  };
}

/**
 * `0.42 cores`, or `unknown` without /proc.
 * @param {number | undefined} n
 */
export function formatCores(n) {
  return n === undefined ? 'unknown' : `${n.toFixed(2)} cores`;
}
