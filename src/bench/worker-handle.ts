// The main thread's side of one bench worker, a thread or a child process on this host (WorkerHandle)
// or one on an agent (agent-pool.ts): keeps its latest reports, and waits on them.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { PublisherReport, SubscriberReport, TallyReport } from '../stats/bench-result.js';
import type { ErrorKind } from '../errors.js';
import type { FromWorker, ToWorker, WorkerInput } from './worker-protocol.js';

const WORKER_FILE = new URL('./worker.js', import.meta.url);

/** What the runner knows of one worker, wherever it runs. */
export abstract class WorkerState {
  sent = 0;
  received = 0;
  /** The latest interval's latencies (sparseCounts), for the live p99. */
  interval?: number[];
  published?: PublisherReport[];
  done?: SubscriberReport[];
  tally?: TallyReport;
  /** The thread's CPU time while measuring (ns), when it could be read. */
  cpuNs?: number;
  /** A child process's own RSS growth while it connected (a thread's is in the parent's). */
  rssGrowth?: number;
  /** A child process's RSS at the end of the run, still connected. */
  rss?: number;
  /** The worker could not do its job for a reason it understood (a refused connection, ...). */
  failed?: { message: string; kind: ErrorKind };
  /** The worker threw something it did not expect: a bug, surfaced as one. */
  crashed?: Error;
  loaded = false;
  ready = false;
  /** Set when the host it ran on (an agent) went silent: why, and when on the run's clock (ns). */
  gone?: { why: string; atNs: number };
  private waiters: Array<() => void> = [];

  protected onMessage(m: FromWorker): void {
    if (m.type === 'loaded') this.loaded = true;
    else if (m.type === 'ready') {
      this.ready = true;
      if (m.rssGrowth !== undefined) this.rssGrowth = m.rssGrowth;
    } else if (m.type === 'failed') this.failed = { message: m.message, kind: m.kind };
    else if (m.type === 'progress') {
      this.sent = m.sent;
      this.received = m.received;
      this.interval = m.interval;
    } else if (m.type === 'published') {
      this.published = m.publishers;
      if (m.cpuNs !== undefined) this.cpuNs = m.cpuNs;
    } else if (m.type === 'done') {
      this.done = m.subscribers;
      this.tally = m.tally;
      if (m.cpuNs !== undefined) this.cpuNs = m.cpuNs;
      if (m.rss !== undefined) this.rss = m.rss;
    }
    this.wake();
  }

  protected onCrash(err: Error): void {
    this.crashed = err;
    this.wake();
  }

  protected onExit(why: string | undefined): void {
    if (!this.done && !this.crashed) this.failed ??= { message: why ?? 'bench worker exited early', kind: 'server' };
    this.wake();
  }

  /** Its host went away: nothing more will come from it. */
  markGone(why: string, atNs: number): void {
    this.gone ??= { why, atNs };
    this.wake();
  }

  protected wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Resolves once `test` holds, the worker failed or is gone, or `signal` aborted. */
  async until(test: () => boolean, signal?: AbortSignal): Promise<void> {
    // Ctrl-C must end a wait even when the worker never says anything again.
    const onAbort = () => this.wake();
    signal?.addEventListener('abort', onAbort);
    try {
      while (!test() && !this.failed && !this.crashed && !this.gone && !signal?.aborted) await new Promise<void>((r) => this.waiters.push(r));
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }

  abstract post(m: ToWorker): void;
  /** Stops it, whatever it is doing. */
  abstract stop(): void;
}

/** A worker thread, or child process, of this process. */
export class WorkerHandle extends WorkerState {
  private readonly thread: Worker | undefined;
  private readonly child: ChildProcess | undefined;

  /**
   * @param asProcess run it in a child process of its own: its connections then count against that
   *   process's open-file limit, not this one's.
   * @param listener hears every message as it comes (an agent passes them on to its coordinator)
   */
  constructor(
    input: WorkerInput,
    asProcess = false,
    private readonly listener?: (m: FromWorker) => void,
  ) {
    super();
    const onMessage = (m: FromWorker) => {
      this.onMessage(m);
      listener?.(m);
    };
    if (asProcess) {
      // Structured clone over IPC ('advanced'), as between threads; the input goes first.
      // Its stderr is kept, not shown: what a dying child prints becomes one line of the failure.
      this.child = fork(fileURLToPath(WORKER_FILE), [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
      let stderr = '';
      this.child.stderr!.on('data', (d: Buffer) => {
        if (stderr.length < 4096) stderr += d.toString('utf8');
      });
      this.child.on('message', onMessage);
      this.child.on('error', (err) => this.onCrash(err));
      this.child.on('exit', (code, sig) => {
        const said = stderr.split('\n').find((l) => /\S/.test(l) && !/^\s+at /.test(l));
        this.onExit(code === 0 ? undefined : `bench worker process exited (${sig ?? `code ${code}`})${said ? `: ${said.trim()}` : ''}`);
      });
      this.child.send({ type: 'input', input });
    } else {
      this.thread = new Worker(WORKER_FILE, { workerData: input });
      this.thread.on('message', onMessage);
      this.thread.on('error', (err) => this.onCrash(err));
      this.thread.on('exit', () => this.onExit(undefined));
    }
  }

  protected override onCrash(err: Error): void {
    super.onCrash(err);
    this.listener?.({ type: 'failed', message: `bench worker crashed: ${err.message}`, kind: 'server' });
  }

  protected override onExit(why: string | undefined): void {
    super.onExit(why);
    if (this.failed && !this.done) this.listener?.({ type: 'failed', message: this.failed.message, kind: this.failed.kind });
  }

  post(m: ToWorker): void {
    if (this.thread) this.thread.postMessage(m);
    else if (this.child?.connected) this.child.send(m);
  }

  stop(): void {
    if (this.thread) void this.thread.terminate();
    else if (this.child && this.child.exitCode === null) this.child.kill('SIGKILL');
  }
}
