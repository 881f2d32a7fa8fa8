// What every benchmark script needs around its measurements: cleanup on every exit path, Ctrl-C, a watchdog.
import { parseArgs } from 'node:util';

/**
 * Runs `body(resources)` and exits the process with its exit code. Whatever way the script ends
 * (normally, by an error, Ctrl-C, SIGTERM, or the watchdog), `release(resources)` runs exactly once
 * before exit, so no sandbox server or child process is left behind.
 */
export async function runWithCleanup({ name, watchdogMs, resources, release, body }) {
  let cleaning;
  const cleanup = () => (cleaning ??= release(resources));
  // Once aborting, whatever the run was doing fails as the servers go away: that is not news.
  let abortCode;
  const abort = async (why, code) => {
    if (abortCode !== undefined) return;
    abortCode = code;
    resources.aborted = true;
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
    exitCode = await body(resources);
  } catch (err) {
    if (abortCode === undefined) process.stderr.write(`${name}: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    exitCode = 1;
  } finally {
    await cleanup();
    clearTimeout(watchdog);
  }
  process.exit(abortCode ?? exitCode);
}

/**
 * Parses `--name N` options declared as `{ name: { default, describe, min } }` into whole numbers,
 * keyed by camelCase name. Returns an Error (with the options listed) instead of throwing.
 */
export function parseNumberOptions(argv, options) {
  let values;
  try {
    ({ values } = parseArgs({ args: argv, options: Object.fromEntries(Object.keys(options).map((k) => [k, { type: 'string', default: String(options[k].default) }])), strict: true }));
  } catch (err) {
    const help = Object.entries(options).map(([k, o]) => `  --${k} N  ${o.describe} (default ${o.default})`).join('\n');
    return new Error(`${err instanceof Error ? err.message : String(err)}\n${help}`);
  }
  const out = {};
  for (const [name, o] of Object.entries(options)) {
    const v = Number(values[name]);
    const min = o.min ?? 1;
    if (!Number.isInteger(v) || v < min) return new Error(`--${name} must be a whole number from ${min}, got ${values[name]}`);
    out[name.replace(/-([a-z])/g, (_m, c) => c.toUpperCase())] = v;
  }
  return out;
}
