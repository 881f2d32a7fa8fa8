// A sandbox's watchdog: a small sh process that kills its servers and removes its directory if this process dies first.
import { spawn } from 'node:child_process';

/** Told about each server while it runs, so that something outside this process can kill it. */
export interface PidKeeper {
  /** A server started with this pid. */
  watch(pid: number): void;
  /** The server with this pid has exited: its pid may now go to some unrelated process. */
  forget(pid: number): void;
}

export interface Watchdog extends PidKeeper {
  /** The pid of the sh process, if it started. */
  readonly pid: number | undefined;
  /**
   * Ends the watchdog the way a dead parent would (end of its stdin), so it kills whatever it still
   * holds and removes the directory; after a clean stop() that is nothing.
   */
  close(): void;
}

/**
 * The watchdog's script. Its stdin is a pipe from us: lines `watch PID` and `forget PID`; end of
 * input means we closed it or died (the kernel closes the pipe even on SIGKILL), and then every pid
 * still held is killed and the directory removed. It ignores HUP, INT and TERM: those reach a whole
 * terminal or process group, and the watchdog must be the one thing still standing afterwards.
 * Only pids it was told about, and not yet told are gone, are killed: a pid of an exited server may
 * belong to another process by then. rm runs twice because a server being killed may still be
 * writing its log when the first one runs.
 */
const SCRIPT = `
trap '' HUP INT TERM
pids=
while read -r verb pid; do
  case $pid in ''|*[!0-9]*) continue ;; esac
  case $verb in
    watch) pids="$pids $pid" ;;
    forget) kept=; for p in $pids; do [ "$p" = "$pid" ] || kept="$kept $p"; done; pids=$kept ;;
  esac
done
for p in $pids; do kill -s KILL "$p" 2>/dev/null; done
[ -n "$1" ] || exit 0
rm -rf -- "$1" 2>/dev/null || { sleep 1; rm -rf -- "$1"; }
`;

/**
 * Starts the watchdog for `dir`. An inline script rather than a file, so that it runs the same from
 * src/ under vitest and from dist/. Without sh (Windows) there is no watchdog and the sandbox relies
 * on its own stop() and exit handler.
 */
export function startWatchdog(dir: string): Watchdog {
  // detached: its own session, so neither a closed terminal (SIGHUP) nor Ctrl-C reaches it.
  // stdout and stderr ignored: an inherited pipe would keep a caller reading our output waiting for it.
  const child = spawn('sh', ['-c', SCRIPT, 'pubsub-mon-watchdog', dir], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  const stdin = child.stdin;
  // A watchdog that is missing or was killed must never take the sandbox down with it (ENOENT, EPIPE).
  child.on('error', () => undefined);
  stdin.on('error', () => undefined);
  // Neither the process nor the pipe may keep our event loop alive; the pipe stays open until we exit.
  child.unref();
  (stdin as typeof stdin & { unref?: () => void }).unref?.();
  const send = (line: string) => {
    if (stdin.writable) stdin.write(`${line}\n`);
  };
  return {
    pid: child.pid,
    watch: (pid) => send(`watch ${pid}`),
    forget: (pid) => send(`forget ${pid}`),
    close: () => {
      if (stdin.writable) stdin.end();
    },
  };
}
