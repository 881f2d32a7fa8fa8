// What every benchmark script needs around its measurements: cleanup on every exit path, Ctrl-C, a watchdog.

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
