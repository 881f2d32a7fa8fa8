// A real terminal for tests: the built CLI runs in a tmux pane on a private server, and the test reads the screen.
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BIN = path.join(REPO, 'bin/pubsub-mon.js');
/** tmux's name for the session (and so the pane) every command below targets. */
const SESSION = 'cli';
const POLL_MS = 100;

/** What the pane shows at one moment. */
export interface Screen {
  width: number;
  height: number;
  /** Every row of the pane, top to bottom, trailing spaces trimmed: always `height` of them. */
  rows: string[];
  /**
   * Rows that tmux wrapped: a line longer than the pane continued on the next row. Empty when none.
   * Each entry is the whole line as tmux joins it back, for the failure message.
   */
  wrapped: string[];
  /** The pane's process has exited (the screen stays: remain-on-exit). */
  dead: boolean;
}

export interface TerminalOptions {
  width: number;
  height: number;
  /** Arguments for `node bin/pubsub-mon.js`. */
  args: string[];
  /** Give the CLI /dev/null as stdin, as `producer | pubsub-mon ...` would give it a pipe: the terminal is then only stdout. */
  stdinNotTerminal?: boolean;
  /** Environment variables for the CLI beyond the clean terminal's (`CI: 'true'`, say). */
  env?: Record<string, string>;
}

/** tmux holds `remain-on-exit` panes open, so after the CLI ends its exit status can still be read. */
export interface PaneExit {
  status: number | null;
  signal: string | null;
}

/**
 * Starts `node bin/pubsub-mon.js <args>` in a `width`x`height` tmux pane. The tmux server is private
 * to this terminal (its own socket in a fresh temp dir), so a developer's tmux is never touched and
 * `kill()` can end the server outright.
 */
export async function startTerminal(opts: TerminalOptions): Promise<Terminal> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-tmux-'));
  const term = new Terminal(path.join(dir, 'socket'), dir);
  // One tmux invocation starts the server, sets the options and only then starts the CLI, so the
  // CLI can never exit before remain-on-exit is on. -f /dev/null: no user configuration. pipe-pane
  // in the same invocation runs before tmux reads anything from the pane, so it records every byte.
  await term.tmux(
    '-f', '/dev/null', 'start-server', ';',
    'set-option', '-g', 'remain-on-exit', 'on', ';',
    'set-option', '-g', 'status', 'off', ';',
    'set-option', '-g', 'default-terminal', 'xterm-256color', ';',
    'new-session', '-d', '-s', SESSION, '-x', String(opts.width), '-y', String(opts.height), '-c', REPO, '--',
    // Several arguments: tmux runs them directly, no shell, so nothing needs quoting. The CLI sees a
    // colour terminal as a user's shell would give it, and nothing from the developer's environment
    // (nor CI's: where CI is set, ora draws no spinner, so the screen would depend on the machine).
    // exec keeps the CLI the pane's own process (its pid, its exit status) with stdin redirected.
    ...(opts.stdinNotTerminal ? ['sh', '-c', 'exec "$@" </dev/null', 'sh'] : []),
    'env', '-u', 'NO_COLOR', '-u', 'FORCE_COLOR', '-u', 'REDIS_URL', '-u', 'REDISCLI_AUTH', '-u', 'TMUX', '-u', 'CI', 'TERM=xterm-256color',
    ...Object.entries(opts.env ?? {}).map(([k, v]) => `${k}=${v}`),
    process.execPath, BIN, ...opts.args, ';',
    'pipe-pane', '-O', '-t', SESSION, `cat >> '${outputFileIn(dir)}'`,
  );
  return term;
}

export class Terminal {
  private killed = false;
  private readonly onExit = () => {
    try {
      execFileSync('tmux', ['-S', this.socket, 'kill-server'], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  };

  /** Every byte the CLI wrote to the terminal. */
  private readonly outputFile: string;

  constructor(
    private readonly socket: string,
    private readonly dir: string,
  ) {
    this.outputFile = outputFileIn(dir);
    // A test runner that dies without afterEach must not leave the server and the CLI behind.
    process.once('exit', this.onExit);
  }

  /** Runs one tmux command line against this terminal's server. */
  async tmux(...args: string[]): Promise<string> {
    const env = { ...process.env };
    delete env.TMUX;
    const { stdout } = await run('tmux', ['-S', this.socket, ...args], { env });
    return stdout;
  }

  private async format(fmt: string): Promise<string> {
    return (await this.tmux('display-message', '-p', '-t', SESSION, fmt)).replace(/\n$/, '');
  }

  /**
   * The pane as it is now. How wrapping is detected: when a line runs past the right edge, tmux
   * moves to the next row and marks the row it left as wrapped; `capture-pane -J` joins marked
   * rows back into one line, plain `capture-pane` does not. So the two captures differ in length by
   * exactly the number of wrapped rows, whatever the text is, wide characters and written spaces
   * included. Comparing text with the pane width instead would miss a line whose last cell is a
   * space and would flag a line that is exactly as wide as the pane, which does not wrap.
   * The mark stays until the row is cleared whole (ED, a clear screen); writing over it with a
   * shorter line plus EL keeps it, and scrolling moves it with the row. So once a frame has wrapped
   * or scrolled, rows drawn over marked ones are reported too (a failure can list a few good lines
   * beside the bad ones), and a screen the CLI draws right is reported right. Only tmux's own reflow
   * on resize marks rows the CLI did not wrap, which is why `resize()` resets the screen.
   */
  async capture(): Promise<Screen> {
    const [plain, joined, info] = await Promise.all([
      this.tmux('capture-pane', '-p', '-t', SESSION),
      this.tmux('capture-pane', '-p', '-J', '-t', SESSION),
      this.format('#{pane_width} #{pane_height} #{pane_dead}'),
    ]);
    const [width, height, dead] = info.split(' ').map(Number) as [number, number, number];
    const rows = toRows(plain);
    const lines = toRows(joined).map((l) => l.trimEnd());
    const wrappedRows = rows.length - lines.length;
    // For the message only: the joined lines longer than a row (wide characters aside, these are they).
    const long = lines.filter((l) => Array.from(l).length > width);
    const wrapped = wrappedRows > 0 ? (long.length > 0 ? long : [`(${wrappedRows} wrapped rows)`]) : [];
    return { width, height, rows, wrapped, dead: dead === 1 };
  }

  /**
   * Polls the screen until `check` finds nothing wrong with it (returns no problems) and returns that
   * screen. Every assertion on a frame goes through here: the CLI redraws in pieces, so a single
   * capture may catch the first frame half drawn, or none yet. Fails at once if the CLI has exited,
   * with the problems of the last capture and the screen itself.
   */
  async until(check: (s: Screen) => string[], opts: { timeoutMs?: number; what?: string } = {}): Promise<Screen> {
    const deadline = Date.now() + (opts.timeoutMs ?? 8000);
    for (;;) {
      const screen = await this.capture();
      const problems = check(screen);
      if (problems.length === 0) return screen;
      if (screen.dead || Date.now() > deadline) {
        const exit = screen.dead ? await this.exitWithin(2000) : undefined;
        const why = screen.dead ? `the CLI exited (status ${exit?.status}, signal ${exit?.signal})` : 'timed out';
        throw new Error(`${why} waiting for ${opts.what ?? 'the screen'}:\n- ${problems.join('\n- ')}\n${show(screen)}`);
      }
      await sleep(POLL_MS);
    }
  }

  /** `until` for a yes/no question about the screen. */
  waitFor(test: (s: Screen) => boolean, what: string, timeoutMs?: number): Promise<Screen> {
    return this.until((s) => (test(s) ? [] : [`not yet: ${what}`]), { what, ...(timeoutMs === undefined ? {} : { timeoutMs }) });
  }

  /** Key names as tmux spells them: `q`, `Tab`, `Escape`, `Enter`, `Down`, `C-c`. */
  async sendKeys(...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', SESSION, ...keys);
  }

  /** Text typed as is (`-l`: no key-name lookup, so `news:*` is seven characters). */
  async type(text: string): Promise<void> {
    await this.tmux('send-keys', '-t', SESSION, '-l', text);
  }

  /**
   * Whether the terminal shows its cursor (the CLI hides it while drawing frames). While the CLI runs,
   * tmux says. Once it has exited tmux cannot: it hides the cursor of every dead pane itself (3.3
   * does), so the answer is the last thing the CLI told the terminal, read from what it wrote: a
   * DECTCEM set or reset (CSI ? 25 h / l, alone or among other modes) or a full reset (ESC c).
   */
  async cursorVisible(): Promise<boolean> {
    if ((await this.exitStatus()) === undefined) return (await this.format('#{cursor_flag}')) === '1';
    // tmux hands the last bytes to pipe-pane's cat as it reads them; give cat a moment to write them.
    await sleep(200);
    const output = fs.readFileSync(this.outputFile, 'latin1');
    let visible = true;
    for (const m of output.matchAll(/\x1b\[\?([\d;]*)([hl])|\x1bc/g)) {
      if (m[0] === '\x1bc') visible = true;
      else if (m[1]!.split(';').includes('25')) visible = m[2] === 'h';
    }
    return visible;
  }

  /** Everything the CLI has written to the terminal, escape sequences included (latin1). */
  async output(): Promise<string> {
    // As in cursorVisible: pipe-pane's cat may still be writing the last bytes.
    await sleep(200);
    return fs.readFileSync(this.outputFile, 'latin1');
  }

  /** The pid of the CLI (the pane's process: `env` execs node). */
  async pid(): Promise<number> {
    return Number(await this.format('#{pane_pid}'));
  }

  /**
   * The exit of the pane's process, or undefined while it runs. tmux marks the pane dead when the
   * terminal closes, which can be before it has reaped the process: until the status or the signal
   * is known, the process counts as still running.
   */
  async exitStatus(): Promise<PaneExit | undefined> {
    return paneExit(await this.format(PANE_EXIT_FORMAT));
  }

  /** How the CLI ended, once it has within `timeoutMs`; undefined if it has not. */
  private async exitWithin(timeoutMs: number): Promise<PaneExit | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const exit = await this.exitStatus();
      if (exit || Date.now() > deadline) return exit;
      await sleep(POLL_MS);
    }
  }

  /** Waits for the CLI to exit by itself and returns how it ended. */
  async waitForExit(timeoutMs = 8000): Promise<PaneExit> {
    const exit = await this.exitWithin(timeoutMs);
    if (!exit) throw new Error(`the CLI did not exit within ${timeoutMs} ms:\n${show(await this.capture())}`);
    return exit;
  }

  /**
   * Resizes the terminal, as dragging a window's corner does; the CLI gets SIGWINCH. tmux then
   * reflows the old frame into the new width and marks the rows it split as wrapped; the CLI's
   * next frame overwrites them but, unless it clears the screen, not the marks (see `capture`). So
   * the screen is reset right after the resize: what `capture` reports as wrapped is then only what
   * the CLI drew afterwards. The CLI must redraw the whole frame at its next refresh for anything to
   * show again, which is what the test is after.
   */
  async resize(width: number, height: number): Promise<void> {
    await this.tmux('resize-window', '-t', SESSION, '-x', String(width), '-y', String(height));
    await this.tmux('send-keys', '-R', '-t', SESSION);
  }

  /**
   * Ends the CLI and the server. The CLI gets SIGINT first, as Ctrl-C would send, and a few seconds to
   * stop what it started (the demo's servers): the SIGHUP of kill-server alone would end node
   * without its cleanup. Safe to call twice.
   */
  async kill(): Promise<void> {
    if (this.killed) return;
    this.killed = true;
    try {
      if ((await this.exitStatus()) === undefined) {
        const pid = await this.pid();
        try {
          process.kill(pid, 'SIGINT');
        } catch {
          // exited meanwhile
        }
        const deadline = Date.now() + 10_000;
        while ((await this.exitStatus()) === undefined && Date.now() < deadline) await sleep(POLL_MS);
      }
    } catch {
      // the server is already gone: nothing to stop
    } finally {
      this.onExit();
      process.removeListener('exit', this.onExit);
      fs.rmSync(this.dir, { recursive: true, force: true });
    }
  }
}

/** What `paneExit` reads: tmux's view of the pane's process. */
const PANE_EXIT_FORMAT = '#{pane_dead}|#{pane_dead_status}|#{pane_dead_signal}|#{pane_pid}';

/**
 * The exit `PANE_EXIT_FORMAT` describes, or undefined while the process runs. tmux marks the pane
 * dead when the terminal closes, which can be before it has reaped the process: with neither a
 * status nor a signal yet, the kernel is asked (`zombie`).
 */
export function paneExit(format: string, zombie: (pid: number) => PaneExit | undefined = zombieExit): PaneExit | undefined {
  const [dead, status, signal, pid] = format.split('|');
  if (dead !== '1') return undefined;
  if (!status && !signal) return zombie(Number(pid));
  return { status: status ? Number(status) : null, signal: signal ? signalName(Number(signal)) : null };
}

/**
 * How a process that has exited but was not reaped yet ended, from /proc/<pid>/stat's last field
 * (the status waitpid would give). tmux 3.3a now and then leaves a dead pane's process a zombie for
 * good, its status never reported: the kernel still knows it.
 */
export function zombieExit(pid: number): PaneExit | undefined {
  let stat: string;
  try {
    stat = fs.readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name is in parentheses and may hold spaces: fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(' ');
  if (fields[0] !== 'Z') return undefined;
  const code = Number(fields.at(-1));
  const sig = code & 0x7f;
  return sig === 0 ? { status: (code >> 8) & 0xff, signal: null } : { status: null, signal: signalName(sig) };
}

/** tmux gives the number; a person reads SIGINT. */
function signalName(n: number): string {
  return Object.entries(os.constants.signals).find(([, v]) => v === n)?.[0] ?? String(n);
}

function outputFileIn(dir: string): string {
  return path.join(dir, 'output');
}

function toRows(capture: string): string[] {
  return capture.replace(/\n$/, '').split('\n');
}

/** The screen inside a frame, for failure messages. */
function show(s: Screen): string {
  const edge = `+${'-'.repeat(s.width)}+`;
  return [`${s.width}x${s.height}${s.dead ? ' (exited)' : ''}`, edge, ...s.rows.map((r) => `|${r}`), edge].join('\n');
}
