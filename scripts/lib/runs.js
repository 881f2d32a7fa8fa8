// Timing and ordering of measured runs: a clock child processes share, waiting for a condition, alternating order.
// @ts-check
import { performance } from 'node:perf_hooks';

/** Wall-clock milliseconds with sub-millisecond resolution, comparable between this process and its children. */
export function now() {
  return performance.timeOrigin + performance.now();
}

/** @param {number} ms */
export function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls `check` every 50 ms until it returns true; throws after `timeoutMs`, saying what it waited for.
 * @param {() => Promise<boolean>} check
 * @param {number} timeoutMs
 * @param {string} what
 */
export async function waitFor(check, timeoutMs, what) {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
    await sleep(50);
  }
}

/**
 * The order of round `round`: as given in even rounds, reversed in odd ones (A B C, C B A, ...), so
 * that a machine that speeds up or slows down over the run does not favour whoever goes first.
 * @template T
 * @param {T[]} items
 * @param {number} round
 * @returns {T[]}
 */
export function alternating(items, round) {
  return round % 2 === 0 ? items : [...items].reverse();
}

/**
 * Runs `work` and says how long it took.
 * @template T
 * @param {() => Promise<T>} work
 * @returns {Promise<{ ms: number, result: T }>}
 */
export async function timed(work) {
  const start = performance.now();
  const result = await work();
  return { ms: performance.now() - start, result };
}
