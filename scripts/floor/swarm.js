// The fan-out floor: N bare subscriber sockets in one process and a paced publisher, as little client as
// a fan-out can have, so that what remains is the server's time to write one message to everybody.
//
//   node scripts/floor/swarm.js PORT SUBSCRIBERS RATE SECONDS
//
// Each socket reads into one shared buffer (no allocation per read) and takes the send time from the
// payload (`T` and 16 hex digits of process.hrtime, the clock bench uses); latency = receive time of
// the read - send time, as bench measures it. Prints one JSON line: deliveries, p50/p99/p999/max in
// µs, and the server's CPU per message (INFO before and after).
// @ts-check
import net from 'node:net';

const [port = 0, subscribers = 0, rate = 0, seconds = 0] = process.argv.slice(2).map(Number);
if (!port || !subscribers || !rate || !seconds) {
  process.stderr.write('usage: swarm.js PORT SUBSCRIBERS RATE SECONDS\n');
  process.exit(2);
}
const CHANNEL = 'pubsub-mon:floor:swarm';
const shared = Buffer.allocUnsafe(64 * 1024);
const hrNow = () => Number(process.hrtime.bigint());
/** Latencies in µs, one per delivery. */
const latencies = new Float64Array(subscribers * Math.ceil(rate * seconds + 1));
let deliveries = 0;
let confirmed = 0;

/**
 * One read: a subscribe confirmation first, then message pushes; the send time follows the `T`.
 * @param {number} n
 * @param {Buffer} buf
 */
function onRead(n, buf) {
  const at = hrNow();
  let from = 0;
  for (;;) {
    const t = buf.indexOf(0x54, from); // 'T'
    if (t < 0 || t + 17 > n) break;
    const sent = parseInt(buf.toString('latin1', t + 1, t + 17), 16);
    if (Number.isFinite(sent) && deliveries < latencies.length) latencies[deliveries++] = (at - sent) / 1000;
    from = t + 17;
  }
  return true;
}

/** @returns {Promise<number>} the server's user+sys CPU seconds */
function serverCpu() {
  return new Promise((resolve, reject) => {
    const c = net.connect({ host: '127.0.0.1', port }, () => c.write('INFO cpu\r\n'));
    let text = '';
    c.on('data', (d) => {
      text += d.toString('latin1');
      const u = /used_cpu_user:([\d.]+)/.exec(text);
      const s = /used_cpu_sys:([\d.]+)/.exec(text);
      if (u && s && text.includes('used_cpu_user_children')) {
        c.destroy();
        resolve(Number(u[1]) + Number(s[1]));
      }
    });
    c.on('error', reject);
  });
}

const sockets = [];
for (let i = 0; i < subscribers; i++) {
  // As bench does: past 20,000 connections, the others from 127.0.0.2, ... (local ports run out).
  const source = i >= 20_000 ? { localAddress: `127.0.0.${1 + Math.floor(i / 20_000)}` } : {};
  const s = net.connect({ host: '127.0.0.1', port, ...source, onread: { buffer: shared, callback: (n, buf) => (confirmed++, onRead(n, /** @type {Buffer} */ (buf))) } });
  s.setNoDelay(true);
  s.write(`SUBSCRIBE ${CHANNEL}\r\n`);
  sockets.push(s);
  // Connect in batches, so the server's backlog does not overflow.
  if (i % 500 === 499) await new Promise((r) => setTimeout(r, 20));
}
while (confirmed < subscribers) await new Promise((r) => setTimeout(r, 50));
const pub = net.connect({ host: '127.0.0.1', port });
pub.setNoDelay(true);
pub.on('data', () => undefined);
await new Promise((r) => pub.once('connect', r));
const cpuBefore = await serverCpu();
const count = Math.round(rate * seconds);
const startNs = hrNow() + 50e6;
for (let i = 0; i < count; i++) {
  const due = startNs + (i * 1e9) / rate;
  const wait = (due - hrNow()) / 1e6;
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  // The intended time, as bench stamps it: lateness of the timer counts as latency.
  pub.write(`PUBLISH ${CHANNEL} T${Math.floor(due).toString(16).padStart(16, '0')}${'x'.repeat(111)}\r\n`);
}
// The last deliveries: until every subscriber heard every message, or a few seconds without news.
const want = count * subscribers;
let last = -1;
let quiet = 0;
while (deliveries < want && quiet < 30) {
  await new Promise((r) => setTimeout(r, 100));
  quiet = deliveries === last ? quiet + 1 : 0;
  last = deliveries;
}
const cpuAfter = await serverCpu();
const sorted = latencies.subarray(0, deliveries).sort();
/** @param {number} p */
const at = (p) => (deliveries > 0 ? Math.round(sorted[Math.min(deliveries - 1, Math.ceil((p / 100) * deliveries) - 1)] ?? NaN) : null);
process.stdout.write(
  `${JSON.stringify({ subscribers, messages: count, deliveries, expected: want, p50: at(50), p99: at(99), p999: at(99.9), max: at(100), server_ms_per_message: ((cpuAfter - cpuBefore) * 1000) / count })}\n`,
);
for (const s of sockets) s.destroy();
pub.destroy();
