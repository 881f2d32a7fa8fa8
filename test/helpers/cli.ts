// Runs the built CLI as a user would (node bin/pubsub-mon.js ...) and collects what it printed.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI, for tests that must start it through another program (prlimit, tmux). */
export const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/pubsub-mon.js');

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Env for the CLI under test: no REDIS_URL or colour leaking in from the developer's shell. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.REDISCLI_AUTH;
  delete env.FORCE_COLOR;
  return { ...env, NO_COLOR: '1', ...extra };
}

/** Runs to completion (killed after `timeoutMs`). */
export function runCli(args: string[], opts: { env?: Record<string, string>; timeoutMs?: number; input?: string } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(opts.env), stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 30_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

/** A long-running CLI (watch, sandbox) whose stdout lines can be awaited one by one. */
export class RunningCli {
  readonly child: ChildProcess;
  stdout = '';
  stderr = '';
  private readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];

  constructor(args: string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => {
      this.stdout += d.toString();
      this.wake();
    });
    this.child.stderr!.on('data', (d: Buffer) => {
      this.stderr += d.toString();
      this.wake();
    });
    this.exited = new Promise((resolve) => this.child.on('close', (code) => {
      this.wake();
      resolve(code);
    }));
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  lines(): string[] {
    return this.stdout.split('\n').filter((l) => l.trim() !== '');
  }

  /** Waits until some complete stdout line satisfies `test`, and returns it. */
  async waitForLine(test: (line: string) => boolean, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const complete = this.stdout.slice(0, this.stdout.lastIndexOf('\n') + 1);
      const hit = complete.split('\n').find((l) => l && test(l));
      if (hit !== undefined) return hit;
      if (this.child.exitCode !== null) throw new Error(`CLI exited (${this.child.exitCode}) before the expected line; stderr: ${this.stderr}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for a line; stdout so far:\n${this.stdout.slice(-2000)}\nstderr:\n${this.stderr}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 500));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Waits for the CLI to end by itself (e.g. after --count), then returns its exit code. */
  async finished(timeoutMs = 15_000): Promise<number | null> {
    const timer = setTimeout(() => this.child.kill('SIGINT'), timeoutMs);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }

  /** Sends SIGINT (Ctrl-C) and waits for the exit code. */
  async interrupt(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGINT');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    const code = await this.exited;
    clearTimeout(timer);
    return code;
  }
}

/** Lines of stderr that look like a stack trace: none may appear, whatever went wrong. */
export function stackTraceLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => /^\s+at .+\(.*:\d+:\d+\)$|^\s+at .+:\d+:\d+$|node:internal|Error: .*\n\s+at /.test(l));
}
