// A bench worker, a thread or a child process: hosts publisher and subscriber loops and reports to the main thread (see worker-protocol.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { ConnectionTarget } from '../redis/target.js';
import { PubsubMonError } from '../errors.js';
import { sparseCounts } from '../stats/histogram.js';
import { PublisherLoop } from './publisher.js';
import { SubscriberLoop } from './subscriber.js';
import { ThreadTally } from './tally.js';
import { hrNowNs, setRunClockShift, threadCpuNs } from './clock.js';
import { PROGRESS_MS, type FromWorker, type Timing, type ToWorker, type WorkerInput } from './worker-protocol.js';

/** Structured clone turns Buffers into plain Uint8Arrays: TLS wants them back as Buffers. */
function revive(target: ConnectionTarget): ConnectionTarget {
  if (!target.tls) return target;
  const b = (u: Uint8Array | undefined) => (u ? Buffer.from(u.buffer, u.byteOffset, u.byteLength) : undefined);
  const tls = { ...target.tls };
  const ca = b(target.tls.ca);
  const cert = b(target.tls.cert);
  const key = b(target.tls.key);
  if (ca) tls.ca = ca;
  if (cert) tls.cert = cert;
  if (key) tls.key = key;
  return { ...target, tls };
}

/** Connections opened at once per thread: thousands of simultaneous connects only queue in the server's backlog. */
const CONNECT_CONCURRENCY = 256;

async function connectAll(subscribers: readonly SubscriberLoop[]): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < subscribers.length) await subscribers[next++]!.connect();
  };
  await Promise.all(Array.from({ length: Math.min(CONNECT_CONCURRENCY, subscribers.length) }, lane));
}

/** The way back to the main thread, the same whether this is a thread or a child process. */
interface Port {
  send(m: FromWorker): void;
  on(listener: (m: ToWorker) => void): void;
  /** Called after the last message: a thread's port closes, a child process's channel once it is sent. */
  close(): void;
  /** Called if the main thread goes away first (a child process whose parent died). */
  onGone(listener: () => void): void;
}

/** The input and the port: a thread's workerData and parentPort, or a child process's first IPC message and its channel. */
async function attach(): Promise<{ input: WorkerInput; port: Port }> {
  if (parentPort) {
    const p = parentPort;
    // A thread ends with its process: nothing to watch for.
    return { input: workerData as WorkerInput, port: { send: (m) => p.postMessage(m), on: (l) => p.on('message', l), close: () => p.close(), onGone: () => undefined } };
  }
  // A child process: it ends when nothing is left to do, its IPC channel and connections closed.
  const input = await new Promise<WorkerInput>((resolve) => process.once('message', (m: { input: WorkerInput }) => resolve(m.input)));
  return {
    input,
    port: {
      send: (m) => process.send!(m),
      on: (l) => process.on('message', l),
      close: () => process.send!({ type: 'bye' }, () => process.disconnect()),
      onGone: (listener) => process.on('disconnect', listener),
    },
  };
}

async function main(): Promise<void> {
  const { input, port } = await attach();
  const target = revive(input.target);
  setRunClockShift(input.clockShiftNs ?? 0);
  const send = (m: FromWorker) => port.send(m);
  const remotePublishers = input.subscriber.remotePublishers;
  const tally = new ThreadTally(input.groups, remotePublishers ? { publisherCount: input.publisherCount, remotePublishers } : undefined);
  const warmTally = new ThreadTally(input.groups);
  const subscribers = input.plan.subscribers.map((p) => new SubscriberLoop(target, p, input.channels, input.publisherCount, tally, warmTally, input.subscriber));
  const publishers = input.plan.publishers.map((p) => new PublisherLoop(target, p, input.channels));
  let progress: NodeJS.Timeout | undefined;
  // If the parent dies, its child lets go of every connection, so that nothing keeps it alive.
  port.onGone(() => {
    if (progress) clearInterval(progress);
    subscribers.forEach((s) => s.close());
    publishers.forEach((p) => p.close());
  });
  // Loaded, not yet connected: the main thread reads its memory here, so that what the connections
  // add can be told from what the thread itself costs.
  let connect!: () => void;
  const connectAsked = new Promise<void>((resolve) => (connect = resolve));
  port.on((m) => {
    if (m.type === 'connect') connect();
  });
  send({ type: 'loaded' });
  await connectAsked;
  const rssLoaded = process.memoryUsage.rss();
  try {
    await connectAll(subscribers);
    for (const p of publishers) await p.connect();
  } catch (err) {
    subscribers.forEach((s) => s.close());
    publishers.forEach((p) => p.close());
    // Anything but a typed error is a bug: rethrown, it reaches the main thread as the worker's 'error'.
    if (!(err instanceof PubsubMonError)) throw err;
    send({ type: 'failed', message: err.message, kind: err.kind });
    return;
  }
  // The thread's CPU time from the start of measuring: per message, the client's own cost.
  let cpuAtMeasure: number | undefined;
  const cpuSince = () => {
    const now = threadCpuNs();
    return now !== undefined && cpuAtMeasure !== undefined ? now - cpuAtMeasure : undefined;
  };
  const onStart = (timing: Timing) => {
    subscribers.forEach((s) => s.start(timing));
    setTimeout(() => (cpuAtMeasure = threadCpuNs()), Math.max(0, (timing.measureFromNs - hrNowNs()) / 1e6));
    progress = setInterval(() => {
      let sent = 0;
      let received = 0;
      for (const p of publishers) sent += p.measuredSent;
      for (const s of subscribers) received += s.received;
      send({ type: 'progress', sent, received, interval: sparseCounts(tally.interval.histogram) });
      tally.interval.reset();
    }, PROGRESS_MS);
    void Promise.all(publishers.map((p) => p.run(timing))).then((reports) => {
      // A thread that only publishes is done working here; one that also subscribes is read at the end.
      const cpuNs = subscribers.length === 0 ? cpuSince() : undefined;
      send({ type: 'published', publishers: reports, ...(cpuNs !== undefined ? { cpuNs } : {}) });
    });
  };
  port.on((m: ToWorker) => {
    if (m.type === 'start') onStart(m.timing);
    else if (m.type === 'stop') publishers.forEach((p) => p.stop());
    else if (m.type === 'finish') {
      if (progress) clearInterval(progress);
      const reports = subscribers.map((s) => s.finish(m.lastSent));
      const cpuNs = subscribers.length > 0 ? cpuSince() : undefined;
      // A thread's memory is its process's; a child process reports its own, read while still connected.
      send({ type: 'done', subscribers: reports, tally: tally.report(), ...(cpuNs !== undefined ? { cpuNs } : {}), ...(parentPort ? {} : { rss: process.memoryUsage.rss() }) });
      subscribers.forEach((s) => s.close());
      publishers.forEach((p) => p.close());
      port.close();
    }
  });
  // A thread's memory is its process's, read by the main thread; a child process reads its own.
  send(parentPort ? { type: 'ready' } : { type: 'ready', rssGrowth: Math.max(0, process.memoryUsage.rss() - rssLoaded) });
}

void main();
