// Worker thread of a bench run: hosts publisher and subscriber loops and reports to the main thread (see worker-protocol.ts).
import { parentPort, workerData } from 'node:worker_threads';
import type { ConnectionTarget } from '../redis/target.js';
import { PubsubMonError } from '../errors.js';
import { encodeHistogram } from '../stats/histogram.js';
import { PublisherLoop } from './publisher.js';
import { SubscriberLoop } from './subscriber.js';
import { PROGRESS_MS, type FromWorker, type ToWorker, type WorkerInput } from './worker-protocol.js';

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

async function main(): Promise<void> {
  const port = parentPort!;
  const input = workerData as WorkerInput;
  const target = revive(input.target);
  const send = (m: FromWorker) => port.postMessage(m);
  const subscribers = input.plan.subscribers.map((p) => new SubscriberLoop(target, p, input.channels.length, input.publisherCount));
  const publishers = input.plan.publishers.map((p) => new PublisherLoop(target, p, input.channels, input.size, input.mode));
  try {
    for (const s of subscribers) await s.connect();
    for (const p of publishers) await p.connect();
  } catch (err) {
    subscribers.forEach((s) => s.close());
    publishers.forEach((p) => p.close());
    // Anything but a typed error is a bug: rethrown, it reaches the main thread as the worker's 'error'.
    if (!(err instanceof PubsubMonError)) throw err;
    send({ type: 'failed', message: err.message, kind: err.kind });
    return;
  }
  let progress: NodeJS.Timeout | undefined;
  port.on('message', (m: ToWorker) => {
    if (m.type === 'start') {
      subscribers.forEach((s) => s.start(m.timing));
      progress = setInterval(() => {
        let sent = 0;
        let received = 0;
        for (const p of publishers) sent += p.measuredSent;
        let interval: string = '';
        for (const s of subscribers) received += s.received;
        // One interval histogram per worker: merge the subscribers' here, reset for the next second.
        const first = subscribers[0];
        if (first) {
          for (const s of subscribers.slice(1)) first.interval.histogram.add(s.interval.histogram);
          interval = encodeHistogram(first.interval.histogram);
          subscribers.forEach((s) => s.interval.reset());
        }
        send({ type: 'progress', sent, received, interval });
      }, PROGRESS_MS);
      void Promise.all(publishers.map((p) => p.run(m.timing))).then((reports) => send({ type: 'published', publishers: reports }));
    } else if (m.type === 'stop') {
      publishers.forEach((p) => p.stop());
    } else if (m.type === 'finish') {
      if (progress) clearInterval(progress);
      const reports = subscribers.map((s) => s.finish());
      send({ type: 'done', subscribers: reports });
      subscribers.forEach((s) => s.close());
      publishers.forEach((p) => p.close());
      port.close();
    }
  });
  send({ type: 'ready' });
}

void main();
