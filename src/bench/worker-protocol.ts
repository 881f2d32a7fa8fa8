// The messages between the bench runner (main thread) and its worker threads, and the timing they share.
import type { ConnectionTarget } from '../redis/target.js';
import type { PublisherReport, SubscriberReport, TallyReport } from '../stats/bench-result.js';
import type { BenchChannel, WorkerPlan } from './plan.js';
import type { ErrorKind } from '../errors.js';

/** When each phase begins, in process.hrtime nanoseconds (shared by every thread and process). */
export interface Timing {
  startNs: number;
  /** Messages intended before this are warm-up: sent, not counted. */
  measureFromNs: number;
  /** No message is intended at or after this (duration runs); undefined with --messages. */
  endNs?: number;
}

/** How the subscribers of a run behave besides subscribing. */
export interface SubscriberOptions {
  /** Close and reopen each connection after a time drawn from [minMs, maxMs]. */
  reconnect?: { minMs: number; maxMs: number };
  /**
   * On a run over several hosts: the publishers on other hosts. Their messages' latency crosses two
   * clocks and is kept apart too, so the report can give it with the clock's error bound.
   */
  remotePublishers?: number[];
}

/** What a worker is started with: a thread's workerData, a child process's first message ({ type: 'input' }). */
export interface WorkerInput {
  target: ConnectionTarget;
  plan: WorkerPlan;
  channels: BenchChannel[];
  groups: number;
  publisherCount: number;
  subscriber: SubscriberOptions;
  /** What this host adds to its clock to read the run's (the coordinator's): 0 unless it is an agent. */
  clockShiftNs?: number;
}

/**
 * Main thread to worker: `connect` once every thread is loaded, `start` at the shared instant, `stop` publishing early (Ctrl-C), `finish`
 * to report the subscribers and exit, with the last sequence each publisher sent per channel.
 */
export type ToWorker = { type: 'connect' } | { type: 'start'; timing: Timing } | { type: 'finish'; lastSent: number[][] } | { type: 'stop' };
/**
 * Worker to main thread: `loaded` before it connects, `ready` once connected and subscribed (or `failed`), `progress` every
 * PROGRESS_MS with the last interval's latencies (histogram.ts sparseCounts), `published` when its publishers are done (with the
 * thread's CPU time while measuring, when it only publishes), `done` last (with a child process's own RSS).
 */
export type FromWorker =
  | { type: 'loaded' }
  | { type: 'ready'; rssGrowth?: number }
  | { type: 'failed'; message: string; kind: ErrorKind }
  | { type: 'progress'; sent: number; received: number; interval: number[] }
  | { type: 'published'; publishers: PublisherReport[]; cpuNs?: number }
  | { type: 'done'; subscribers: SubscriberReport[]; tally: TallyReport; cpuNs?: number; rss?: number }
  /** A child process's last word: it exits once this is written. */
  | { type: 'bye' };

/** How often the worker tells the main thread how far it got. */
export const PROGRESS_MS = 1000;
