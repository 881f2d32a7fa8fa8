// pubsub-mon's own subscriber path (RawSubscriber -> SubscriberLoop, wired as src/bench/subscriber.ts wires them) in a helper
// process, fed by the C floor publisher: tells whether a latency tail is the subscriber's or the publisher's.
// @ts-check
import { HOST } from '../lib/admin.js';
import { asHelper, forkHelper } from '../lib/processes.js';

/** The argument that makes a benchmark script run this helper instead of itself. */
export const NODE_SUB_HELPER_FLAG = '--node-subscriber-helper';

/** How often the helper tells its parent how many measured messages it has. */
const PROGRESS_MS = 200;

/** @typedef {{ port: number, channel: string }} NodeSubInstructions */
/** @typedef {{ type: 'start', startNs: number, measureFromNs: number } | { type: 'finish' }} NodeSubOrder */
/**
 * What the helper reports: SubscriberLoop's counts and its latency histogram's summary (µs).
 * @typedef {object} NodeSubResult
 * @property {'result'} type
 * @property {number} received
 * @property {number} unique
 * @property {number} duplicates
 * @property {number} reordered
 * @property {number} foreign
 * @property {import('../../dist/stats/histogram.js').LatencySummary | undefined} latency
 * @property {number} cpuMs  the helper's whole CPU time (process.cpuUsage), start-up included
 */

/**
 * In the helper: subscribes with the bench's SubscriberLoop, says ready, starts measuring when told
 * the publisher's timing, and on `finish` answers with a NodeSubResult.
 */
export function runNodeSubscriberHelper() {
  const send = asHelper();
  process.once('message', async (msg) => {
    try {
      const { port, channel } = /** @type {NodeSubInstructions} */ (msg);
      const { SubscriberLoop } = await import('../../dist/bench/subscriber.js');
      const { ThreadTally } = await import('../../dist/bench/tally.js');
      const { resolveTarget } = await import('../../dist/redis/target.js');
      const { summarize } = await import('../../dist/stats/histogram.js');
      const target = resolveTarget({ url: `redis://${HOST}:${port}` }, {});
      const node = { host: HOST, port, address: `${HOST}:${port}` };
      // As bench lays one channel out: index 0 (the C publisher stamps channel 0), one report group.
      const tally = new ThreadTally(1);
      const loop = new SubscriberLoop(target, { id: 0, connections: [{ node, kind: 'subscribe', channels: [0] }] }, [{ name: channel, kind: 'channel', group: 0 }], 1, tally, new ThreadTally(1));
      await loop.connect();
      /** @type {NodeJS.Timeout | undefined} */
      let progress;
      process.on('message', (m) => {
        const order = /** @type {NodeSubOrder} */ (m);
        if (order.type === 'start') {
          loop.start({ startNs: order.startNs, measureFromNs: order.measureFromNs });
          // As the C subscriber does: measured messages so far, for the parent's drain.
          progress = setInterval(() => send({ type: 'progress', received: loop.received }), PROGRESS_MS);
          return;
        }
        clearInterval(progress);
        const r = loop.finish([]);
        const cpu = process.cpuUsage();
        /** @type {NodeSubResult} */
        const result = { type: 'result', received: r.received, unique: r.unique, duplicates: r.duplicates, reordered: r.reordered, foreign: r.foreign, latency: summarize(tally.latency.histogram), cpuMs: (cpu.user + cpu.system) / 1000 };
        loop.close();
        send(result);
      });
      send({ type: 'ready' });
    } catch (err) {
      send({ type: 'error', error: err instanceof Error ? err.message : String(err) });
    }
  });
}

/**
 * In the benchmark script: forks `scriptUrl` (which must call runNodeSubscriberHelper when given
 * NODE_SUB_HELPER_FLAG) and resolves once it is subscribed to `channel`.
 * @param {import('../lib/cleanup.js').Cleanup} cleanup
 * @param {string} scriptUrl
 * @param {NodeSubInstructions} instructions
 */
export async function startNodeSub(cleanup, scriptUrl, instructions) {
  const child = await forkHelper(cleanup, scriptUrl, [NODE_SUB_HELPER_FLAG], instructions);
  let received = 0;
  /** @type {((r: NodeSubResult) => void) | undefined} */
  let onResult;
  child.on('message', (m) => {
    const r = /** @type {NodeSubResult | { type: 'progress', received: number }} */ (m);
    if (r.type === 'progress') received = r.received;
    else onResult?.(r);
  });
  return {
    pid: child.pid,
    /** Measured messages so far, as it last said (every 200 ms). */
    received: () => received,
    /** @param {number} startNs @param {number} measureFromNs */
    start(startNs, measureFromNs) {
      /** @type {NodeSubOrder} */
      const order = { type: 'start', startNs, measureFromNs };
      child.send(order);
    },
    /** @returns {Promise<NodeSubResult>} */
    finish() {
      return new Promise((resolve, reject) => {
        onResult = resolve;
        child.once('exit', (code, signal) => reject(new Error(`node subscriber ended before it reported (${signal ?? `exit ${code}`})`)));
        /** @type {NodeSubOrder} */
        const order = { type: 'finish' };
        child.send(order);
      });
    },
    /** Closes its IPC channel, which it leaves with, and waits until it has gone. */
    stop() {
      if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.connected) child.disconnect();
      return exited;
    },
  };
}
