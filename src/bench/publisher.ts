// One bench publisher: pre-encoded PUBLISH/SPUBLISH frames written in batches on an open-loop schedule.
import type net from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ConnectionTarget } from '../redis/target.js';
import { openRawSocket } from '../redis/raw-socket.js';
import { FrameBatch, countReplies, newReplyScanState, publishFrame, type ReplyScanState } from './frames.js';
import { writeHeader } from './payload-header.js';
import { OpenLoopSchedule } from './schedule.js';
import { hrNowNs } from './clock.js';
import type { NodeRef, PublisherPlan } from './plan.js';
import type { PublishMode } from '../stats/bench-config.js';
import type { PublisherReport } from '../stats/bench-result.js';
import type { Timing } from './worker-protocol.js';

/** Frames per write in as-fast-as-possible mode, and how many may await replies per connection. */
const MAX_MODE_BATCH = 256;
const MAX_INFLIGHT = 32 * 1024;
/** In scheduled mode, stop writing to a connection whose unsent bytes pile up past this. */
const MAX_QUEUED_BYTES = 64 * 1024 * 1024;
/** The longest the loop sleeps between looks at the schedule: a bound on the added send delay. */
const MAX_SLEEP_MS = 0.1;


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

export class PublisherLoop {
  private readonly conns: Conn[] = [];
  /** Connection per channel index. */
  private route: Conn[] = [];
  private readonly templates: Array<{ frame: Buffer; payloadOffset: number }>;
  private readonly report: PublisherReport;
  private stopped = false;
  private readonly sleeper = new Int32Array(new SharedArrayBuffer(4));

  constructor(
    private readonly target: ConnectionTarget,
    private readonly plan: PublisherPlan,
    private readonly channels: string[],
    size: number,
    mode: PublishMode,
  ) {
    const command = mode === 'spublish' ? 'SPUBLISH' : 'PUBLISH';
    this.templates = channels.map((name) => publishFrame(command, name, size));
    this.report = { id: plan.id, measuredSent: 0, okPerChannel: new Array<number>(channels.length).fill(0), errors: 0, errorSamples: [], perSecond: [], lastSendNs: 0 };
  }

  /** Opens one connection per node the routes use. */
  async connect(): Promise<void> {
    const byAddress = new Map<string, Conn>();
    for (const node of this.plan.routes) {
      if (byAddress.has(node.address)) continue;
      const socket = await openRawSocket(this.target, node, 'bench-pub');
      const conn: Conn = { node, socket, batch: new FrameBatch(), scan: newReplyScanState(), ring: new Int32Array(1024), head: 0, tail: 0, inflight: 0 };
      conn.scan.onReply = (ok) => this.replied(conn, ok);
      socket.on('data', (chunk: Buffer) => countReplies(chunk, conn.scan));
      socket.on('error', (err) => {
        this.failed(node, `publisher ${this.plan.id} lost its connection to ${node.address}: ${err.message}`);
      });
      socket.on('close', () => {
        if (!this.stopped) this.failed(node, `publisher ${this.plan.id}: ${node.address} closed the connection`);
      });
      byAddress.set(node.address, conn);
      this.conns.push(conn);
    }
    this.route = this.plan.routes.map((n) => byAddress.get(n.address)!);
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
    if (entry < 0) return;
    if (ok) this.report.okPerChannel[entry]!++;
    else this.report.errors++;
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

  /** Appends message `i` (its channel is i mod channels, its sequence i div channels) to its connection's batch. */
  private append(i: number, intendedNs: number, timing: Timing): void {
    const channels = this.channels.length;
    const channel = i % channels;
    const conn = this.route[channel]!;
    const t = this.templates[channel]!;
    const at = conn.batch.append(t.frame);
    writeHeader(conn.batch.buffer, at + t.payloadOffset, this.plan.id, channel, Math.floor(i / channels), intendedNs);
    const measured = intendedNs >= timing.measureFromNs;
    this.remember(conn, measured ? channel : -channel - 1);
    if (measured) {
      this.report.measuredSent++;
      const second = Math.floor((intendedNs - timing.measureFromNs) / 1e9);
      this.report.perSecond[second] = (this.report.perSecond[second] ?? 0) + 1;
    }
  }

  private flush(): void {
    for (const conn of this.conns) {
      if (conn.batch.length === 0) continue;
      const { data, done } = conn.batch.takeForWrite();
      conn.socket.write(data, done);
    }
  }

  /** Runs the schedule to its end, waits for the last replies, and reports. */
  async run(timing: Timing): Promise<PublisherReport> {
    const rate = this.plan.rate;
    const schedule = rate > 0 ? new OpenLoopSchedule(rate, timing.startNs + this.plan.offsetNs) : undefined;
    const quota = this.plan.messages;
    let i = 0;
    await new Promise<void>((resolve) => {
      const finished = () => this.stopped || this.report.failure !== undefined || (quota !== undefined && this.report.measuredSent >= quota);
      const tick = () => {
        if (finished()) return resolve();
        const t = hrNowNs();
        if (t < timing.startNs) {
          Atomics.wait(this.sleeper, 0, 0, Math.min(MAX_SLEEP_MS, (timing.startNs - t) / 1e6));
          setImmediate(tick);
          return;
        }
        if (schedule) {
          const due = schedule.dueBy(t);
          while (i < due) {
            const intended = schedule.intendedNs(i);
            if (timing.endNs !== undefined && intended >= timing.endNs) return this.flushAndResolve(resolve);
            if (this.route[i % this.channels.length]!.socket.writableLength > MAX_QUEUED_BYTES) break;
            this.append(i++, intended, timing);
            if (finished()) break;
          }
          this.flush();
          if (this.report.measuredSent > 0) this.report.lastSendNs = t;
          const wait = (schedule.intendedNs(i) - hrNowNs()) / 1e6;
          if (wait > 0) Atomics.wait(this.sleeper, 0, 0, Math.min(MAX_SLEEP_MS, wait));
        } else {
          if (timing.endNs !== undefined && t >= timing.endNs) return this.flushAndResolve(resolve);
          // As fast as possible: fill every connection up to its in-flight bound, in batches.
          let wrote = false;
          for (let n = 0; n < MAX_MODE_BATCH; n++) {
            const conn = this.route[i % this.channels.length]!;
            if (conn.inflight >= MAX_INFLIGHT || conn.socket.writableLength > 0) break;
            this.append(i++, t, timing);
            wrote = true;
            if (finished()) break;
          }
          this.flush();
          if (wrote && t >= timing.measureFromNs) this.report.lastSendNs = t;
          if (!wrote) Atomics.wait(this.sleeper, 0, 0, 0.02);
        }
        setImmediate(tick);
      };
      tick();
    });
    await this.drainReplies();
    return this.report;
  }

  private flushAndResolve(resolve: () => void): void {
    this.flush();
    resolve();
  }

  /** Waits (at most 5 s) for the replies to everything written. */
  private async drainReplies(): Promise<void> {
    const deadline = Date.now() + 5000;
    while (this.conns.some((c) => c.inflight > 0 && !c.socket.destroyed) && Date.now() < deadline) {
      await sleep(5);
    }
    for (const c of this.conns) {
      for (const s of c.scan.errorSamples) if (!this.report.errorSamples.includes(s)) this.report.errorSamples.push(s);
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
