// One throwaway redis-server child process: start, wait until it answers, stop, kill, restart.
import { setTimeout as sleep } from 'node:timers/promises';
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { EnvironmentError } from '../errors.js';
import type { PidKeeper } from './watchdog.js';

/** How a person gets redis-server when it is missing. */
const INSTALL_HINT =
  'redis-server was not found on PATH; install it (Debian/Ubuntu: sudo apt-get install redis-server, ' +
  'macOS: brew install redis) or start the servers in docker-compose.yml and point pubsub-mon at them';

export interface RedisProcessOptions {
  host: string;
  port: number;
  /** Working directory for this server's files (log, nodes.conf). */
  dir: string;
  /** Extra `--name value` arguments for redis-server. */
  args: string[];
  /** Binary to run. @default 'redis-server' */
  binary?: string;
  /** Told each server pid as it starts and exits (restarts too), so it can kill them if we die. */
  keeper?: PidKeeper;
}

/** Sends PING over a raw socket; resolves with the first reply line, or rejects. */
function ping(host: string, port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let data = '';
    const done = (err: Error | null, line?: string) => {
      socket.destroy();
      if (err) reject(err);
      else resolve(line ?? '');
    };
    socket.setTimeout(timeoutMs, () => done(new Error('timeout')));
    socket.once('error', (err) => done(err));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\r\n');
      if (end >= 0) done(null, data.slice(0, end));
    });
  });
}

export class RedisProcess {
  readonly host: string;
  readonly port: number;
  readonly dir: string;
  private readonly args: string[];
  private readonly binary: string;
  private readonly keeper: PidKeeper | undefined;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  constructor(opts: RedisProcessOptions) {
    this.host = opts.host;
    this.port = opts.port;
    this.dir = opts.dir;
    this.args = opts.args;
    this.binary = opts.binary ?? 'redis-server';
    this.keeper = opts.keeper;
  }

  get address(): string {
    return `${this.host}:${this.port}`;
  }

  get running(): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** Starts the server and resolves once it answers PING (not LOADING). */
  async start(timeoutMs = 15000): Promise<void> {
    fs.mkdirSync(this.dir, { recursive: true });
    const logfile = path.join(this.dir, 'redis.log');
    const args = [
      '--port', String(this.port),
      '--bind', this.host,
      '--dir', this.dir,
      '--logfile', logfile,
      '--save', '',
      '--appendonly', 'no',
      '--daemonize', 'no',
      ...this.args,
    ];
    const child = spawn(this.binary, args, { stdio: 'ignore', cwd: this.dir });
    this.child = child;
    const pid = child.pid;
    if (pid !== undefined) this.keeper?.watch(pid);
    let spawnError: Error | undefined;
    let exitInfo: string | undefined;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        if (pid !== undefined) this.keeper?.forget(pid);
        exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
        resolve();
      });
      child.once('error', (err: NodeJS.ErrnoException) => {
        spawnError = err;
        resolve();
      });
    });
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (spawnError) {
        const code = (spawnError as NodeJS.ErrnoException).code;
        throw new EnvironmentError(code === 'ENOENT' ? INSTALL_HINT : `cannot start ${this.binary}: ${spawnError.message}`);
      }
      if (exitInfo) {
        throw new EnvironmentError(`redis-server on port ${this.port} stopped at start (${exitInfo}); see ${logfile}: ${lastLines(logfile)}`);
      }
      try {
        const reply = await ping(this.host, this.port, 500);
        if (!reply.startsWith('-LOADING')) return;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) {
        await this.kill();
        throw new EnvironmentError(`redis-server on port ${this.port} did not answer within ${timeoutMs} ms; see ${logfile}`);
      }
      await sleep(25);
    }
  }

  /** SIGTERM, then SIGKILL if it has not gone within `graceMs`. */
  async stop(graceMs = 3000): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGTERM');
    const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  /** Kills the server at once, as a crash would. */
  async kill(): Promise<void> {
    if (!this.running) return;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Synchronous best-effort kill, for process 'exit' handlers where nothing async runs. */
  killNow(): void {
    if (this.running) this.child?.kill('SIGKILL');
  }
}

function lastLines(file: string): string {
  try {
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n');
    return lines.slice(-2).join(' | ');
  } catch {
    return '(no log)';
  }
}
