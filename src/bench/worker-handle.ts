// The main thread's side of one bench worker thread: starts it, keeps its latest reports, and waits on them.
import { Worker } from 'node:worker_threads';
import type { PublisherReport, SubscriberReport } from '../stats/bench-result.js';
import type { ErrorKind } from '../errors.js';
import type { FromWorker, ToWorker, WorkerInput } from './worker-protocol.js';

export class WorkerHandle {
  readonly worker: Worker;
  sent = 0;
  received = 0;
  /** The latest interval histogram (encoded), for the live p99. */
  interval?: string;
  published?: PublisherReport[];
  done?: SubscriberReport[];
  /** The worker could not do its job for a reason it understood (a refused connection, ...). */
  failed?: { message: string; kind: ErrorKind };
  /** The worker threw something it did not expect: a bug, surfaced as one. */
  crashed?: Error;
  ready = false;
  private waiters: Array<() => void> = [];

  constructor(input: WorkerInput) {
    this.worker = new Worker(new URL('./worker.js', import.meta.url), { workerData: input });
    this.worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') this.ready = true;
      else if (m.type === 'failed') this.failed = { message: m.message, kind: m.kind };
      else if (m.type === 'progress') {
        this.sent = m.sent;
        this.received = m.received;
        this.interval = m.interval;
      } else if (m.type === 'published') this.published = m.publishers;
      else if (m.type === 'done') this.done = m.subscribers;
      this.wake();
    });
    this.worker.on('error', (err) => {
      this.crashed = err;
      this.wake();
    });
    this.worker.on('exit', () => {
      if (!this.done && !this.crashed) this.failed ??= { message: 'bench worker exited early', kind: 'server' };
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Resolves once `test` holds, the worker failed, or `signal` aborted. */
  async until(test: () => boolean, signal?: AbortSignal): Promise<void> {
    while (!test() && !this.failed && !this.crashed && !signal?.aborted) await new Promise<void>((r) => this.waiters.push(r));
  }

  post(m: ToWorker): void {
    this.worker.postMessage(m);
  }
}
