// The latency floor's C programs (pubsub-floor.c): built with the machine's compiler, run as children, their JSON read back.
// @ts-check
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { HOST } from '../lib/admin.js';
import { processCpuMs } from '../lib/proc.js';
import { runProcess, startProcess } from '../lib/processes.js';

/** @typedef {import('../lib/cleanup.js').Cleanup} Cleanup */

const SOURCE = new URL('./pubsub-floor.c', import.meta.url).pathname;
const CC_ARGS = ['-std=c11', '-O2', '-Wall', '-Wextra'];
/** A child gets its duration and this much more before it is stopped. */
const GRACE_MS = 20_000;
/** How often the CPU time of a running child is read from /proc. */
const CPU_SAMPLE_MS = 250;

/**
 * What `pubsub-floor pub` prints when it ends.
 * @typedef {object} FloorPubJson
 * @property {number} sent
 * @property {number} measured  sent with an intended time at or after the end of the warm-up
 * @property {number} ok
 * @property {number} errors
 * @property {number} other_replies
 * @property {number} writes
 * @property {number} start_ns
 * @property {number} measure_from_ns
 * @property {number} late_max_us  how far behind its schedule a message was written, at worst
 * @property {number} late_mean_us  the same on average, over the measured messages
 * @property {boolean} stopped_early
 * @property {number} cpu_ms  its own user+sys CPU over its whole life (getrusage)
 */

/**
 * What `pubsub-floor sub` prints when it ends.
 * @typedef {object} FloorSubJson
 * @property {boolean} subscribed
 * @property {number} count  measured messages received
 * @property {number} skipped_warmup
 * @property {number} foreign
 * @property {number} reads
 * @property {number} measure_from_ns
 * @property {number} first_ns  when the first measured message arrived
 * @property {number} last_ns  when the last one did
 * @property {number} lost  sequence gaps, all streams
 * @property {{ min: number, p50: number, p90: number, p99: number, p999: number, max: number }} latency_us
 * @property {{ publisher: number, channel: number, first: number, last: number, count: number, lost: number, duplicates: number, reordered: number }[]} streams
 * @property {number} cpu_ms
 */

/** @typedef {{ binary: string, compiler: string } | { unavailable: string }} FloorBuild */

/**
 * Compiles pubsub-floor.c with `cc` into a temporary directory (removed at cleanup). A missing
 * compiler, a failed build or a warning makes the floor unavailable, with the reason.
 * @param {Cleanup} cleanup
 * @returns {Promise<FloorBuild>}
 */
export async function buildFloor(cleanup) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-floor-'));
  cleanup.add(() => fs.rmSync(dir, { recursive: true, force: true }));
  const binary = path.join(dir, 'pubsub-floor');
  /** @type {import('../lib/processes.js').Finished} */
  let built;
  try {
    built = await runProcess('cc', [...CC_ARGS, '-o', binary, SOURCE], { cleanup, timeoutMs: 60_000 });
  } catch {
    return { unavailable: 'no C compiler (cc)' };
  }
  if (built.code !== 0) return { unavailable: `cc ${built.exit}: ${built.stderr.trim().slice(0, 300)}` };
  if (built.stderr.trim()) return { unavailable: `cc warned: ${built.stderr.trim().slice(0, 300)}` };
  const version = await runProcess('cc', ['--version'], { cleanup }).catch(() => undefined);
  return { binary, compiler: `${version?.stdout.split('\n')[0]?.trim() || 'cc'} ${CC_ARGS.join(' ')}` };
}

/** The monotonic clock the C programs and bench read (CLOCK_MONOTONIC), in ns as a Number. */
function hrNow() {
  return Number(process.hrtime.bigint());
}

/**
 * A running child's CPU time, read from /proc every 250 ms: `between(a, b)` is the CPU it used
 * between two monotonic times (ns), from the samples nearest inside them, in cores.
 * @param {number | undefined} pid
 */
export function cpuSampler(pid) {
  /** @type {{ ns: number, ms: number }[]} */
  const samples = [];
  const take = () => {
    const ms = processCpuMs(pid);
    if (ms !== undefined) samples.push({ ns: hrNow(), ms });
  };
  take();
  const timer = setInterval(take, CPU_SAMPLE_MS);
  return {
    stop() {
      clearInterval(timer);
    },
    /**
     * Cores used between two monotonic times; undefined without two samples inside them.
     * @param {number} fromNs
     * @param {number} toNs
     */
    between(fromNs, toNs) {
      const inside = samples.filter((s) => s.ns >= fromNs && s.ns <= toNs);
      const a = inside[0];
      const b = inside.at(-1);
      if (!a || !b || b.ns - a.ns < 1e9) return undefined;
      return (b.ms - a.ms) / 1000 / ((b.ns - a.ns) / 1e9);
    },
  };
}

/**
 * @typedef {object} FloorSub
 * @property {number | undefined} pid
 * @property {ReturnType<typeof cpuSampler>} cpu
 * @property {() => number} received  measured messages so far, as it last said (every 200 ms)
 * @property {() => Promise<FloorSubJson>} finish  stops it (SIGTERM) and reads what it printed
 */

/**
 * Starts `pubsub-floor sub` and resolves once the server confirmed its subscription.
 * @param {{ cleanup: Cleanup, binary: string, port: number, name: string, pattern?: boolean, warmupS?: number, measureFromNs?: number, maxSeconds: number }} o
 * @returns {Promise<FloorSub>}
 */
export async function startFloorSub({ cleanup, binary, port, name, pattern = false, warmupS, measureFromNs, maxSeconds }) {
  const args = ['sub', HOST, String(port), name, String(maxSeconds)];
  if (pattern) args.push('--pattern');
  if (warmupS !== undefined) args.push('--warmup', String(warmupS));
  if (measureFromNs !== undefined) args.push('--measure-from-ns', String(measureFromNs));
  const proc = startProcess(binary, args, { cleanup, timeoutMs: maxSeconds * 1000 + GRACE_MS });
  let received = 0;
  await new Promise((resolve, reject) => {
    let said = '';
    proc.child.stderr?.on('data', (/** @type {string} */ t) => {
      said += t;
      const lines = said.split('\n');
      said = lines.pop() ?? '';
      for (const line of lines) {
        if (line === 'ready') resolve(undefined);
        const count = /^count (\d+)$/.exec(line)?.[1];
        if (count !== undefined) received = Number(count);
      }
    });
    proc.finished.then((f) => reject(new Error(`pubsub-floor sub ended before it subscribed (${f.exit}): ${f.stderr.trim().slice(0, 300)}`)), reject);
  });
  const cpu = cpuSampler(proc.child.pid);
  return {
    pid: proc.child.pid,
    cpu,
    received: () => received,
    async finish() {
      await proc.stop('SIGTERM');
      const f = await proc.finished;
      cpu.stop();
      return parseJson(f, 'pubsub-floor sub');
    },
  };
}

/**
 * After a publisher has ended: waits until `received()` reaches `expected`, or stops growing for a
 * second, or `maxMs` have passed. Resolves with how long it waited, in ms.
 * @param {() => number} received
 * @param {number} expected
 * @param {number} [maxMs]
 */
export async function waitForDeliveries(received, expected, maxMs = 15_000) {
  const start = performance.now();
  let last = received();
  let changedAt = start;
  while (received() < expected) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = performance.now();
    if (received() !== last) {
      last = received();
      changedAt = now;
    } else if (now - changedAt > 1000 || now - start > maxMs) break;
  }
  return performance.now() - start;
}

/**
 * Runs `pubsub-floor pub` to its end.
 * @param {{ cleanup: Cleanup, binary: string, port: number, channel: string, rate: number, seconds: number, warmupS: number, size: number, startNs?: number }} o
 * @returns {Promise<{ json: FloorPubJson, cpu: ReturnType<typeof cpuSampler> }>}
 */
export async function runFloorPub({ cleanup, binary, port, channel, rate, seconds, warmupS, size, startNs }) {
  const args = ['pub', HOST, String(port), channel, String(rate), String(seconds), String(warmupS), String(size)];
  if (startNs !== undefined) args.push('--start-ns', String(startNs));
  const proc = startProcess(binary, args, { cleanup, timeoutMs: (seconds + warmupS) * 1000 + GRACE_MS });
  const cpu = cpuSampler(proc.child.pid);
  const f = await proc.finished;
  cpu.stop();
  return { json: parseJson(f, 'pubsub-floor pub'), cpu };
}

/**
 * @template T
 * @param {import('../lib/processes.js').Finished} f
 * @param {string} what
 * @returns {T}
 */
function parseJson(f, what) {
  try {
    return JSON.parse(f.stdout);
  } catch {
    throw new Error(`${what} printed no JSON (${f.exit}): ${(f.stderr || f.stdout).trim().slice(0, 400)}`);
  }
}
