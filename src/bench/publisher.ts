// One bench publisher: pre-encoded PUBLISH/SPUBLISH frames written in batches, each lane on its own open-loop schedule.
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionTarget } from '../redis/target.js';
import { openRawSocket, sharedReadBuffer } from '../redis/raw-socket.js';
import { FrameBatch, countReplies, newReplyScanState, payloadTail, publishHead, type ReplyScanState } from './frames.js';
import { writeHeader } from './payload-header.js';
import { OpenLoopSchedule } from './schedule.js';
import { hrNowNs } from './clock.js';
import type { BenchChannel, NodeRef, PublisherLane, PublisherPlan } from './plan.js';
import type { SizeClass } from '../stats/traffic-mix.js';
import type { PublisherReport } from '../stats/bench-result.js';
import type { Timing } from './worker-protocol.js';

/** Frames per write in as-fast-as-possible mode, and how many may await replies per connection. */
const MAX_MODE_BATCH = 256;
const MAX_INFLIGHT = 32 * 1024;
/** In scheduled mode, stop writing to a connection whose unsent bytes pile up past this. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** ... or whose batch for the next write is already this large. */
const MAX_BATCH_BYTES = 16 * 1024 * 1024;
/** The longest the loop sleeps between looks at the schedule: a bound on the added send delay. */
const MAX_SLEEP_MS = 0.1;
/**
 * The shortest: messages due sooner wait for the next write. A paced C publisher sleeping to the
 * next message's time wakes about 50 µs late anyway (the kernel's timer slack), so it writes every
 * 50-100 µs; a futex wait of a few µs returned in about 12, and at 300k messages/s the publisher made
 * 80,000 writes a second of 3-4 messages each, spending more than half its time in write() and
 * taking the cores the server and the subscribers needed. With this pause a tick takes about 130 µs
 * here (7,600 writes a second at 100k/s; 0.05 ms gave 180 µs and a higher p50).
 */
const MIN_SLEEP_MS = 0.02;
/**
 * When the next message is further away than this, the loop yields to the event loop with a timer
 * (woken this early) instead of waking every MAX_SLEEP_MS: at 10 messages/s, 10,000 wake-ups a
 * second would take a core's worth of time slices from the subscribers being measured.
 */
const TIMER_SLEEP_MS = 3;

interface Conn {
  node: NodeRef;
  socket: net.Socket;
  batch: FrameBatch;
  scan: ReplyScanState;
  /** Ring of in-flight frames: channel index, negated minus one for warm-up frames. */
  ring: Int32Array;
  head: number;
  tail: number;
  inflight: number;
}

/** The payload tails of one size distribution, and its cumulative weights for drawing one. */
interface Sizes {
  tails: Array<{ tail: Buffer; payloadOffset: number }>;
  /** Cumulative weights, the last one the total. */
  cumulative: number[];
}

interface Lane {
  channels: number[];
  conns: Conn[];
  heads: Buffer[];
  sizes: Sizes;
  schedule: OpenLoopSchedule | undefined;
  /** Next message index of the lane, and when it is due (ns). */
  i: number;
  due: number;
}

/** xorshift32: a size class per message must cost nothing and need not be more random than this. */
function nextRandom(state: Uint32Array): number {
  let x = state[0]!;
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  state[0] = x;
  return (x >>> 0) / 4294967296;
}

export class PublisherLoop {
  private readonly conns: Conn[] = [];
  private readonly lanes: Lane[] = [];
  private readonly report: PublisherReport;
  private stopped = false;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));
  private readonly random: Uint32Array;
  /** Warm-up replies, counted the way measured ones are so that path is compiled before it counts. */
  private readonly warmOk: number[];
  private readonly warmSeconds: number[] = [];

  constructor(
    private readonly target: ConnectionTarget,
    private readonly plan: PublisherPlan,
    private readonly channels: readonly BenchChannel[],
  ) {
    this.report = { id: plan.id, measuredSent: 0, okPerChannel: new Array<number>(channels.length).fill(0), errors: 0, errorSamples: [], perSecond: [], lastSendNs: 0, lastSeq: new Array<number>(channels.length).fill(-1), unanswered: 0 };
    this.random = new Uint32Array([0x9e3779b9 ^ (plan.id + 1)]);
    this.warmOk = new Array<number>(channels.length).fill(0);
  }

  /** Opens one connection per node the lanes use and builds their frame templates. */
  async connect(): Promise<void> {
    const byAddress = new Map<string, Conn>();
    const sizesCache = new Map<SizeClass[], Sizes>();
    for (const lane of this.plan.lanes) {
      for (const node of lane.routes) {
        if (byAddress.has(node.address)) continue;
        byAddress.set(node.address, await this.open(node));
      }
      let sizes = sizesCache.get(lane.sizes);
      if (!sizes) {
        let total = 0;
        sizes = { tails: lane.sizes.map((c) => payloadTail(c.bytes)), cumulative: lane.sizes.map((c) => (total += c.weight)) };
        sizesCache.set(lane.sizes, sizes);
      }
      this.lanes.push(this.laneOf(lane, byAddress, sizes));
    }
  }

  private laneOf(lane: PublisherLane, byAddress: Map<string, Conn>, sizes: Sizes): Lane {
    return {
      channels: lane.channels,
      conns: lane.routes.map((n) => byAddress.get(n.address)!),
      heads: lane.channels.map((c) => publishHead(this.channels[c]!.kind === 'shard' ? 'SPUBLISH' : 'PUBLISH', this.channels[c]!.name)),
      sizes,
      schedule: undefined,
      i: 0,
      due: 0,
    };
  }

  private async open(node: NodeRef): Promise<Conn> {
    // Replies are counted as they are read, nothing kept: they can land in the thread's shared buffer.
    const socket = await openRawSocket(this.target, node, 'bench-pub', sharedReadBuffer());
    const conn: Conn = { node, socket, batch: new FrameBatch(), scan: newReplyScanState(), ring: new Int32Array(1024), head: 0, tail: 0, inflight: 0 };
    conn.scan.onReply = (ok) => this.replied(conn, ok);
    socket.on('data', (chunk: Buffer) => countReplies(chunk, conn.scan));
    socket.on('error', (err) => {
      this.failed(node, `publisher ${this.plan.id} lost its connection to ${node.address}: ${err.message}`);
    });
    socket.on('close', () => {
      if (!this.stopped) this.failed(node, `publisher ${this.plan.id}: ${node.address} closed the connection`);
    });
    this.conns.push(conn);
    return conn;
  }

  /** The first connection that broke, and how. */
  private failed(node: NodeRef, message: string): void {
    if (this.report.failure !== undefined) return;
    this.report.failure = message;
    this.report.failedNode = node.address;
  }

  private replied(conn: Conn, ok: boolean): void {
    if (conn.inflight === 0) return;
    const entry = conn.ring[conn.head]!;
    conn.head = (conn.head + 1) % conn.ring.length;
    conn.inflight--;
    // Warm-up replies go through the same counting, into counters nobody reads (see append).
    const warm = entry < 0;
    const counts = warm ? this.warmOk : this.report.okPerChannel;
    if (ok) counts[warm ? -entry - 1 : entry]!++;
    else if (!warm) this.report.errors++;
  }

  private remember(conn: Conn, value: number): void {
    if (conn.inflight === conn.ring.length) {
      // Grow the ring, keeping order.
      const bigger = new Int32Array(conn.ring.length * 2);
      for (let k = 0; k < conn.inflight; k++) bigger[k] = conn.ring[(conn.head + k) % conn.ring.length]!;
      conn.ring = bigger;
      conn.head = 0;
      conn.tail = conn.inflight;
    }
    conn.ring[conn.tail] = value;
    conn.tail = (conn.tail + 1) % conn.ring.length;
    conn.inflight++;
  }

  /**
   * Appends message `i` of `lane` to its connection's batch: its channel is lane.channels[i mod n],
   * its sequence in that (publisher, channel) stream i div n, its size drawn from the lane's classes.
   */
  private append(lane: Lane, i: number, intendedNs: number, timing: Timing): void {
    const n = lane.channels.length;
    const k = i % n;
    const channel = lane.channels[k]!;
    const conn = lane.conns[k]!;
    const { tails, cumulative } = lane.sizes;
    let s = 0;
    if (tails.length > 1) {
      const r = nextRandom(this.random) * cumulative[cumulative.length - 1]!;
      while (s < tails.length - 1 && r >= cumulative[s]!) s++;
    }
    const t = tails[s]!;
    conn.batch.append(lane.heads[k]!);
    const at = conn.batch.append(t.tail);
    const seq = Math.floor(i / n);
    writeHeader(conn.batch.buffer, at + t.payloadOffset, this.plan.id, channel, seq, intendedNs);
    this.report.lastSeq[channel] = seq;
    const measured = intendedNs >= timing.measureFromNs;
    this.remember(conn, measured ? channel : -channel - 1);
    // Warm-up messages count into a throwaway second, so this path too is compiled before it counts.
    const perSecond = measured ? this.report.perSecond : this.warmSeconds;
    const second = measured ? Math.floor((intendedNs - timing.measureFromNs) / 1e9) : 0;
    perSecond[second] = (perSecond[second] ?? 0) + 1;
    if (measured) this.report.measuredSent++;
  }

  private flush(): void {
    for (const conn of this.conns) {
      if (conn.batch.length === 0) continue;
      const { data, done } = conn.batch.takeForWrite();
      conn.socket.write(data, done);
    }
  }

  /** Runs the schedules to their end, waits for the last replies, and reports. */
  async run(timing: Timing): Promise<PublisherReport> {
    const quota = this.plan.messages;
    const finished = () => this.stopped || this.report.failure !== undefined || (quota !== undefined && this.report.measuredSent >= quota);
    const paced = (this.plan.lanes[0]?.rate ?? 0) > 0;
    if (paced) {
      this.plan.lanes.forEach((l, k) => {
        const lane = this.lanes[k]!;
        lane.schedule = new OpenLoopSchedule(l.rate, timing.startNs + l.offsetNs);
        lane.due = lane.schedule.intendedNs(0);
      });
    }
    if (this.lanes.length > 0) {
      await new Promise<void>((resolve) => {
        const step = paced ? () => this.paced(timing, finished) : () => this.asFastAsPossible(this.lanes[0]!, timing, finished);
        const tick = () => {
          if (finished()) return resolve();
          const t = hrNowNs();
          const wait = t < timing.startNs ? (timing.startNs - t) / 1e6 : step();
          if (wait === true) {
            this.flush();
            return resolve();
          }
          if (wait > TIMER_SLEEP_MS) return void setTimeout(tick, wait - TIMER_SLEEP_MS + 1);
          // After a write, always a pause: what falls due meanwhile goes in the next write (a 0 from
          // asFastAsPossible means go on at once).
          if (wait > 0 || (wait < 0 && paced)) Atomics.wait(this.sleeper, 0, 0, Math.min(MAX_SLEEP_MS, Math.max(MIN_SLEEP_MS, wait)));
          setImmediate(tick);
        };
        tick();
      });
    }
    await this.drainReplies();
    return this.report;
  }

  /**
   * Writes every message now due, lane by lane. Returns the milliseconds until the next is due, or
   * true once every lane has reached the end of the run.
   */
  private paced(timing: Timing, finished: () => boolean): number | true {
    const t = hrNowNs();
    const lanes = this.lanes;
    let open = 0;
    let next = Number.POSITIVE_INFINITY;
    for (const lane of lanes) {
      const schedule = lane.schedule!;
      while (lane.due <= t) {
        if (timing.endNs !== undefined && lane.due >= timing.endNs) break;
        const conn = lane.conns[lane.i % lane.channels.length]!;
        // Behind schedule with large payloads: the rest waits for the next write, so neither the
        // socket's queue nor one batch grows without bound (a batch is one Buffer).
        if (conn.socket.writableLength > MAX_QUEUED_BYTES || conn.batch.length > MAX_BATCH_BYTES) break;
        this.append(lane, lane.i, lane.due, timing);
        lane.i++;
        lane.due = schedule.intendedNs(lane.i);
        if (finished()) break;
      }
      if (timing.endNs === undefined || lane.due < timing.endNs) {
        open++;
        if (lane.due < next) next = lane.due;
      }
    }
    this.flush();
    if (this.report.measuredSent > 0) this.report.lastSendNs = t;
    if (open === 0) return true;
    return (next - hrNowNs()) / 1e6;
  }

  /** Fills the connection up to its in-flight bound, in batches. True once the run's end has come, else 0 (go on at once). */
  private asFastAsPossible(lane: Lane, timing: Timing, finished: () => boolean): number | true {
    const t = hrNowNs();
    if (timing.endNs !== undefined && t >= timing.endNs) return true;
    let wrote = false;
    for (let n = 0; n < MAX_MODE_BATCH; n++) {
      const conn = lane.conns[lane.i % lane.channels.length]!;
      if (conn.inflight >= MAX_INFLIGHT || conn.socket.writableLength > 0) break;
      this.append(lane, lane.i++, t, timing);
      wrote = true;
      if (finished()) break;
    }
    this.flush();
    if (wrote && t >= timing.measureFromNs) this.report.lastSendNs = t;
    if (!wrote) Atomics.wait(this.sleeper, 0, 0, 0.02);
    return 0;
  }

  /** Waits (at most 5 s) for the replies to everything written. */
  private async drainReplies(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.conns.some((c) => c.inflight > 0 && !c.socket.destroyed) && Date.now() < deadline) {
      await sleep(5);
    }
    for (const c of this.conns) {
      for (const s of c.scan.errorSamples) if (!this.report.errorSamples.includes(s)) this.report.errorSamples.push(s);
      // Measured frames still waiting for their reply on a connection that is still up: neither
      // published nor refused, as far as anyone knows (a broken connection is reported as such).
      if (c.socket.destroyed) continue;
      for (let k = 0; k < c.inflight; k++) if (c.ring[(c.head + k) % c.ring.length]! >= 0) this.report.unanswered++;
    }
  }

  /** Measured messages written so far, for the live line. */
  get measuredSent(): number {
    return this.report.measuredSent;
  }

  stop(): void {
    this.stopped = true;
  }

  close(): void {
    this.stopped = true;
    for (const c of this.conns) c.socket.destroy();
  }
}
