// Child processes of a benchmark script: run one and collect what it printed, stop one, fork a helper.
// @ts-check
import { fork, spawn } from 'node:child_process';
import fs from 'node:fs';
import { performance } from 'node:perf_hooks';

/** @typedef {import('node:child_process').ChildProcess} ChildProcess */
/** @typedef {import('./cleanup.js').Cleanup} Cleanup */

/** What is kept of a child's stderr: enough for its error message and a summary line. */
const STDERR_KEPT = 64 * 1024;
/** A child asked to stop (SIGTERM, or its IPC channel closed) that is still there after this is killed. */
const STOP_GRACE_MS = 3000;

/**
 * @typedef {object} Finished
 * @property {number | null} code
 * @property {NodeJS.Signals | null} signal
 * @property {string} exit  how it ended, for messages: `exit 2`, `SIGTERM`
 * @property {string} stdout  empty when stdout went elsewhere
 * @property {string} stderr  the first 64 KiB
 * @property {number} ms  from just before spawn to its exit: start-up, work and exit, as a person waits for it
 */

/**
 * @typedef {object} ProcessOptions
 * @property {Cleanup} cleanup  stops the child if the script ends first
 * @property {string} [input]  written to its stdin; without it stdin is /dev/null
 * @property {'collect' | 'devnull' | ((chunk: Buffer) => void)} [stdout]  collected (the default), to /dev/null, or handed over chunk by chunk
 * @property {number} [timeoutMs]  stopped after this long, which its stderr then says
 * @property {string} [cwd]
 * @property {NodeJS.ProcessEnv} [env]
 */

/**
 * @typedef {object} Started
 * @property {ChildProcess} child
 * @property {Promise<Finished>} finished  rejects only when the command cannot be started at all
 * @property {(signal?: NodeJS.Signals) => Promise<void>} stop  asks it to stop (SIGTERM unless told), then kills it
 */

/**
 * Starts a command; the caller awaits `finished` or calls `stop`.
 * @param {string} command
 * @param {string[]} args
 * @param {ProcessOptions} options
 * @returns {Started}
 */
export function startProcess(command, args, { cleanup, input, stdout = 'collect', timeoutMs, cwd, env }) {
  cleanup.throwIfAborted();
  const devNull = stdout === 'devnull' ? fs.openSync('/dev/null', 'w') : undefined;
  const spawnedAt = performance.now();
  /** @type {ChildProcess} */
  let child;
  try {
    child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', devNull ?? 'pipe', 'pipe'], cwd, env });
  } finally {
    if (devNull !== undefined) fs.closeSync(devNull);
  }
  /** @param {NodeJS.Signals} [signal] */
  const stop = (signal) => stopProcess(child, signal);
  const released = cleanup.add(() => stopProcess(child, 'SIGKILL'));

  /** @type {Buffer[]} */
  const out = [];
  if (typeof stdout === 'function') child.stdout?.on('data', stdout);
  else child.stdout?.on('data', (/** @type {Buffer} */ b) => out.push(b));
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (/** @type {string} */ t) => {
    if (stderr.length < STDERR_KEPT) stderr += t;
  });
  if (input !== undefined) child.stdin?.end(input);

  let exitedAt = spawnedAt;
  child.once('exit', () => (exitedAt = performance.now()));
  const timer = timeoutMs === undefined
    ? undefined
    : setTimeout(() => {
      stderr += `\n(stopped: still running after ${timeoutMs / 1000} s)`;
      void stop();
    }, timeoutMs);
  /** @type {Promise<Finished>} */
  const finished = new Promise((resolve, reject) => {
    child.once('error', (err) => {
      clearTimeout(timer);
      void released();
      reject(new Error(`cannot run ${command}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      void released();
      resolve({ code, signal, exit: signal ?? `exit ${code}`, stdout: Buffer.concat(out).toString('utf8'), stderr, ms: exitedAt - spawnedAt });
    });
  });
  return { child, finished, stop };
}

/**
 * Runs a command to its end and returns what it printed and how it ended.
 * @param {string} command
 * @param {string[]} args
 * @param {ProcessOptions} options
 * @returns {Promise<Finished>}
 */
export function runProcess(command, args, options) {
  return startProcess(command, args, options).finished;
}

/**
 * Asks a child to stop and waits until it has: a forked helper by closing its IPC channel (it leaves
 * with the channel, see asHelper), any other by `signal`; SIGKILL if it is still there after a grace.
 * @param {ChildProcess} child
 * @param {NodeJS.Signals} [signal]
 * @returns {Promise<void>}
 */
async function stopProcess(child, signal = 'SIGTERM') {
  // No pid: it never started. An exit or signal code: it is gone already.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  if (child.connected && signal !== 'SIGKILL') child.disconnect();
  else child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

/**
 * Forks the script at `scriptUrl` (normally the caller's own import.meta.url) with `args` that
 * select its helper role, sends it `instructions` if any, and resolves once it sends
 * `{ type: 'ready' }`. A helper that says `{ type: 'error', error }` or exits first rejects.
 * @param {Cleanup} cleanup  stops the helper if the script ends first
 * @param {string} scriptUrl
 * @param {string[]} args
 * @param {import('node:child_process').Serializable} [instructions]
 * @returns {Promise<ChildProcess>}
 */
export function forkHelper(cleanup, scriptUrl, args, instructions) {
  cleanup.throwIfAborted();
  const child = fork(new URL(scriptUrl).pathname, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  cleanup.add(() => stopProcess(child));
  return new Promise((resolve, reject) => {
    /** @param {Error} err */
    const fail = (err) => {
      child.kill('SIGKILL');
      reject(err);
    };
    child.once('error', fail);
    child.once('exit', (code, signal) => reject(new Error(`helper process ended early (${signal ?? `exit ${code}`})`)));
    child.once('message', (msg) => {
      const m = /** @type {HelperMessage} */ (msg);
      if (m.type === 'ready') resolve(child);
      else fail(new Error(`helper process failed: ${m.error ?? JSON.stringify(m)}`));
    });
    if (instructions !== undefined) child.send(instructions);
  });
}

/** @typedef {{ type: string, error?: string }} HelperMessage */

/**
 * In a forked helper: leave when the parent does (its IPC channel closes when it stops us, ends or
 * crashes), and leave Ctrl-C to the parent, which stops its helpers in order. Returns how to send
 * messages to the parent.
 * @returns {(message: import('node:child_process').Serializable) => void}
 */
export function asHelper() {
  const send = process.send?.bind(process);
  if (!send) throw new Error('this role runs only as a helper forked by its benchmark script');
  process.on('disconnect', () => process.exit(0));
  process.on('SIGINT', () => {});
  return (message) => void send(message);
}
