// The one place commands write to the terminal: stdout for data, stderr for everything else.
import type { Readable, Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { passwordOnCommandLine, targetFromArgs, type ConnectionValues } from '../options.js';
import { parseRedisUrl, resolveTarget, type ConnectionTarget } from '../redis/target.js';
import { UsageError } from '../errors.js';
import { escapeText } from '../render/escape.js';

/** A terminal's keyboard: raw mode hands watch each key as it is pressed. */
export type KeyboardInput = Readable & { isTTY?: boolean; setRawMode?(mode: boolean): unknown };

export interface Io {
  stdout: Writable & { isTTY?: boolean; columns?: number; rows?: number };
  stderr: Writable & { isTTY?: boolean };
  /** Keys for watch on a terminal; absent in tests that drive commands directly. */
  stdin?: KeyboardInput;
  env: NodeJS.ProcessEnv;
  /** Lines a caller keeps on a refreshing screen under its title (the demo: what it started, how to stop it). */
  banner?: readonly string[];
}

/** Resolves the connection flags, with redis-cli's warning for a password on the command line. */
export function targetFor(args: ConnectionValues, io: Io): ConnectionTarget {
  const target = targetFromArgs(args, io.env);
  const warning = passwordOnCommandLine(args);
  if (warning) complain(io, warning);
  return target;
}

/** The server of --control-url (bench --agents, agent): checked as that flag, then resolved as a target. */
export function controlTargetFor(url: string | undefined, timeoutMs: number, io: Io, authWarning: boolean): ConnectionTarget | undefined {
  if (url === undefined) return undefined;
  if (url.trim() === '') throw new UsageError('--control-url needs a redis:// or rediss:// URL, got an empty one');
  parseRedisUrl(url, '--control-url');
  const target = resolveTarget({ url, timeoutMs }, io.env);
  const warning = passwordOnCommandLine({ url, authWarning, password: undefined }, '--control-url');
  if (warning) complain(io, warning);
  return target;
}

export const processIo = (): Io => ({
  stdout: process.stdout,
  stderr: process.stderr,
  // Touched only by watch on a terminal: creating the stream costs time every other command would pay.
  get stdin() {
    return process.stdin;
  },
  env: process.env,
});

/** Colour only on a terminal, and never when --no-color or NO_COLOR says otherwise. */
export function useColor(io: Io, flag: boolean | undefined): boolean {
  if (flag === false) return false;
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  if (io.env.FORCE_COLOR !== undefined && io.env.FORCE_COLOR !== '0') return true;
  return Boolean(io.stdout.isTTY);
}

/** One line on stderr, prefixed with the tool's name; escaped, since it may quote a server or a channel. */
export function complain(io: Io, message: string): void {
  io.stderr.write(`pubsub-mon: ${escapeText(message)}\n`);
}

/**
 * Signals that end a command with its cleanup run. SIGHUP is a closed terminal (or `tmux
 * kill-session`): left to its default, node would die at once and leave a sandbox's servers running.
 */
const INTERRUPTS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Resolves when SIGINT, SIGTERM or SIGHUP arrives (or `signal` aborts); removes its handlers after. */
export function untilInterrupted(signal?: AbortSignal): { promise: Promise<string>; dispose(): void } {
  let dispose = () => {};
  const promise = new Promise<string>((resolve) => {
    const onSig = (sig: NodeJS.Signals) => resolve(sig);
    const onAbort = () => resolve('abort');
    // `on`, not `once`, until disposed: a library that also listens (ora's cursor restorer, through
    // signal-exit) re-raises the signal when it finds itself the only listener, and a once-handler
    // is gone by then: Ctrl-C during bench killed the process before any cleanup ran.
    for (const sig of INTERRUPTS) process.on(sig, onSig);
    signal?.addEventListener('abort', onAbort);
    dispose = () => {
      for (const sig of INTERRUPTS) process.removeListener(sig, onSig);
      signal?.removeEventListener('abort', onAbort);
    };
  });
  return { promise, dispose: () => dispose() };
}

/** Waits `ms`, or less if `signal` aborts (watch's refresh loop ends that way); never rejects for the abort. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await delay(ms, undefined, signal ? { signal } : undefined).catch((err: unknown) => {
    if (!signal?.aborted) throw err;
  });
}
