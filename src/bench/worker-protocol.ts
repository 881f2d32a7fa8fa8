// The messages between the bench runner (main thread) and its worker threads, and the timing they share.
import type { ConnectionTarget } from '../redis/target.js';
import type { PublishMode } from '../stats/bench-config.js';
import type { PublisherReport, SubscriberReport } from '../stats/bench-result.js';
import type { WorkerPlan } from './plan.js';
import type { ErrorKind } from '../errors.js';

/** When each phase begins, in process.hrtime nanoseconds (shared by every thread and process). */
export interface Timing {
  startNs: number;
  /** Messages intended before this are warm-up: sent, not counted. */
  measureFromNs: number;
  /** No message is intended at or after this (duration runs); undefined with --messages. */
  endNs?: number;
}

/** What a worker is started with (its workerData). */
export interface WorkerInput {
  target: ConnectionTarget;
  plan: WorkerPlan;
  channels: string[];
  size: number;
  mode: PublishMode;
  publisherCount: number;
}

/**
 * Main thread to worker: `start` at the shared instant, `stop` publishing early (Ctrl-C), `finish`
 * to report the subscribers and exit.
 */
export type ToWorker = { type: 'start'; timing: Timing } | { type: 'finish' } | { type: 'stop' };
/**
 * Worker to main thread: `ready` once connected and subscribed (or `failed`), `progress` every
 * PROGRESS_MS with an interval histogram, `published` when its publishers are done, `done` last.
 */
export type FromWorker =
  | { type: 'ready' }
  | { type: 'failed'; message: string; kind: ErrorKind }
  | { type: 'progress'; sent: number; received: number; interval: string }
  | { type: 'published'; publishers: PublisherReport[] }
  | { type: 'done'; subscribers: SubscriberReport[] };

/** How often the worker tells the main thread how far it got. */
export const PROGRESS_MS = 1000;

