// The skeleton of every benchmark script: options, the built library, cleanup on every exit path, Ctrl-C, a watchdog.
// @ts-check
import { Cleanup } from './cleanup.js';
import { parseNumberOptions } from './options.js';

/**
 * @template {Record<string, import('./options.js').NumberOption>} O
 * @template L
 * @typedef {object} BenchScript
 * @property {string} name  prefixes the script's own messages on stderr
 * @property {O} options
 * @property {number} watchdogMs  the whole script must finish within this, or it cleans up and fails
 * @property {() => Promise<L>} library  imports what the script uses from dist/
 * @property {(settings: import('./options.js').NumberSettings<O>, lib: L, cleanup: Cleanup) => Promise<number>} run  the measurements and the report; returns the exit code
 */

/**
 * A benchmark script from start to exit: a bad option ends it with exit code 2 and the options
 * listed; then dist/ is loaded (a missing build says so), `run` runs, and whatever it left in
 * `cleanup` is released before the process exits with the code `run` returned.
 * @template {Record<string, import('./options.js').NumberOption>} O
 * @template L
 * @param {BenchScript<O, L>} script
 * @returns {Promise<void>}
 */
export async function runBenchScript({ name, options, watchdogMs, library, run }) {
  const settings = parseNumberOptions(process.argv.slice(2), options);
  if (settings instanceof Error) {
    process.stderr.write(`${name}: ${settings.message}\n`);
    process.exit(2);
  }
  await runWithCleanup({ name, watchdogMs, body: async (cleanup) => run(settings, await loadBuilt(library), cleanup) });
}

/**
 * @template L
 * @param {() => Promise<L>} load
 * @returns {Promise<L>}
 */
async function loadBuilt(load) {
  try {
    return await load();
  } catch (err) {
    throw new Error(`cannot load dist/ (run \`npm run build\` first): ${messageOf(err)}`);
  }
}

/**
 * Runs `body(cleanup)` and exits the process with its exit code. Whatever way the script ends
 * (normally, by an error, Ctrl-C, SIGTERM, or the watchdog), what `body` put in `cleanup` is
 * released exactly once before exit, so no sandbox server or child process is left behind.
 * @param {{ name: string, watchdogMs: number, body: (cleanup: Cleanup) => Promise<number> }} script
 * @returns {Promise<void>}
 */
async function runWithCleanup({ name, watchdogMs, body }) {
  const held = new Cleanup();
  /** @type {Promise<void> | undefined} */
  let cleaning;
  const cleanup = () => (cleaning ??= held.releaseAll((err) => process.stderr.write(`${name}: while cleaning up: ${messageOf(err)}\n`)));
  // Once aborting, whatever the run was doing fails as the servers go away: that is not news.
  /** @type {number | undefined} */
  let abortCode;
  /** @param {string} why @param {number} code */
  const abort = async (why, code) => {
    if (abortCode !== undefined) return;
    abortCode = code;
    held.aborted = true;
    process.stderr.write(`${name}: ${why}; cleaning up\n`);
    await cleanup();
    process.exit(code);
  };
  process.once('SIGINT', () => void abort('interrupted', 130));
  process.once('SIGTERM', () => void abort('terminated', 143));
  const watchdog = setTimeout(() => void abort(`still running after ${watchdogMs / 1000} s`, 1), watchdogMs);
  watchdog.unref();

  let exitCode = 1;
  try {
    exitCode = await body(held);
  } catch (err) {
    if (abortCode === undefined) process.stderr.write(`${name}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    exitCode = 1;
  } finally {
    await cleanup();
    clearTimeout(watchdog);
  }
  process.exit(abortCode ?? exitCode);
}

/** Progress for the person waiting: on stderr, so that stdout carries only the report. */
export function log(/** @type {string} */ line) {
  process.stderr.write(`${line}\n`);
}

/** @param {unknown} err */
function messageOf(err) {
  return err instanceof Error ? err.message : String(err);
}
