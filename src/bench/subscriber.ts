// One logical bench subscriber: its connections (reopened now and then with --reconnect-interval), sequence checks per stream, and its share of its thread's tally.
import type { ConnectionTarget } from '../redis/target.js';
import { RawSubscriber } from '../redis/raw-subscriber.js';
import { sharedReadBuffer } from '../redis/raw-socket.js';
import { HEADER_BYTES, isBenchPayload, readChannel, readIntendedNs, readPublisher, readSeq } from './payload-header.js';
import { SequenceTracker } from '../stats/sequence-tracker.js';
import type { SubscriberReport } from '../stats/bench-result.js';
import type { BenchChannel, SubscriberPlan, SubscriptionPlan } from './plan.js';
import { hrNowNs } from './clock.js';
import type { SubscriberOptions, Timing } from './worker-protocol.js';
import type { ThreadTally } from './tally.js';

/** Names per SUBSCRIBE command: long argument lists are fine, but not unbounded. */
const SUBSCRIBE_CHUNK = 1000;

/** A connection of the subscriber, and the streams (publisher × its channels) it carries. */
interface Link {
  plan: SubscriptionPlan;
  sub: RawSubscriber | undefined;
  timer: NodeJS.Timeout | undefined;
  /** The server closed it (not a reconnect of ours): its loss stands, and it is not reopened. */
  dead: boolean;
}

export class SubscriberLoop {
  private readonly links: Link[];
  private readonly tracker: SequenceTracker;
  private readonly warmTracker: SequenceTracker;
  /** The channels this subscriber takes, ascending; undefined when it takes all of them (a pattern). */
  private readonly mine: number[] | undefined;
  private readonly width: number;
  private readonly report: SubscriberReport;
  private measureFromNs = Number.POSITIVE_INFINITY;
  private endNs = Number.POSITIVE_INFINITY;
  private running = false;
  private closing = false;

  constructor(
    private readonly target: ConnectionTarget,
    plan: SubscriberPlan,
    private readonly channels: readonly BenchChannel[],
    private readonly publisherCount: number,
    private readonly tally: ThreadTally,
    /** Where warm-up messages are recorded and forgotten: the thread's second tally. */
    private readonly warmTally: ThreadTally,
    private readonly options: SubscriberOptions = {},
  ) {
    this.links = plan.connections.map((c) => ({ plan: c, sub: undefined, timer: undefined, dead: false }));
    const pattern = plan.connections.some((c) => c.kind === 'psubscribe');
    if (pattern) this.mine = undefined;
    else if (plan.connections.length === 1) this.mine = plan.connections[0]!.channels;
    else this.mine = plan.connections.flatMap((c) => c.channels).sort((a, b) => a - b);
    this.width = this.mine ? this.mine.length : channels.length;
    this.tracker = new SequenceTracker(publisherCount * this.width);
    this.warmTracker = new SequenceTracker(publisherCount * this.width);
    this.report = { id: plan.id, received: 0, unique: 0, duplicates: 0, reordered: 0, foreign: 0, excused: 0, reconnects: 0 };
  }

  /** The position of channel `c` among this subscriber's channels (binary search), or -1. */
  private local(c: number): number {
    const mine = this.mine;
    if (!mine) return c;
    let lo = 0;
    let hi = mine.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = mine[mid]!;
      if (v === c) return mid;
      if (v < c) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  /** Connects and subscribes; resolves once the server confirmed every subscription. */
  async connect(): Promise<void> {
    for (const link of this.links) link.sub = await this.open(link);
  }

  private async open(link: Link): Promise<RawSubscriber> {
    const c = link.plan;
    // Reads land in the thread's one buffer: no allocation per read, and so no garbage collection
    // of read buffers pausing the thread (onMessage is done with each payload when it returns).
    const sub = new RawSubscriber(this.target, c.node, 'bench-sub', hrNowNs, sharedReadBuffer());
    sub.onMessage = (_kind, _pattern, _channel, payload, receivedAt) => this.onMessage(payload, 0, payload.length, receivedAt);
    sub.onPayload = (buf, start, end, receivedAt) => this.onMessage(buf, start, end, receivedAt);
    sub.onClose = (reason) => {
      if (!this.running || link.sub !== sub) return;
      this.report.lost ??= { address: c.node.address, reason, atNs: hrNowNs() };
      // Closed by the server, not by a reconnect: what it misses from now on is lost, not excused.
      link.dead = true;
      if (link.timer) clearTimeout(link.timer);
    };
    // The server ends shard subscriptions by itself when their slot leaves the node: say so in the result.
    sub.onServerUnsubscribe = (kind) => {
      if (!this.running || kind !== 'ssubscribe') return;
      this.report.ended ??= { address: c.node.address, channels: 0, atNs: hrNowNs() };
      this.report.ended.channels++;
    };
    try {
      await sub.connect();
      if (c.kind === 'psubscribe') await sub.subscribe('psubscribe', [c.pattern!]);
      else if (c.kind === 'ssubscribe') {
        // Several channels in one SSUBSCRIBE must share a slot: one per command, pipelined.
        await Promise.all(c.channels.map((i) => sub.subscribe('ssubscribe', [this.channels[i]!.name])));
      } else {
        for (let k = 0; k < c.channels.length; k += SUBSCRIBE_CHUNK) {
          await sub.subscribe('subscribe', c.channels.slice(k, k + SUBSCRIBE_CHUNK).map((i) => this.channels[i]!.name));
        }
      }
    } catch (err) {
      sub.close();
      throw err;
    }
    return sub;
  }

  start(timing: Timing): void {
    this.measureFromNs = timing.measureFromNs;
    this.endNs = timing.endNs ?? Number.POSITIVE_INFINITY;
    this.running = true;
    if (this.options.reconnect) {
      const firstAt = Math.max(0, (timing.measureFromNs - hrNowNs()) / 1e6);
      for (const link of this.links) this.scheduleReconnect(link, firstAt);
    }
  }

  private scheduleReconnect(link: Link, afterMs = 0): void {
    const { minMs, maxMs } = this.options.reconnect!;
    const delay = afterMs + minMs + Math.random() * (maxMs - minMs);
    link.timer = setTimeout(() => void this.reconnect(link), delay);
    link.timer.unref();
  }

  /**
   * Closes the connection as a client that goes away would, opens a new one and subscribes again;
   * what its streams skip meanwhile is excused, not lost. No reconnect starts after publishing ended.
   */
  private async reconnect(link: Link): Promise<void> {
    link.timer = undefined;
    if (!this.running || this.closing || link.dead || hrNowNs() >= this.endNs) return;
    const old = link.sub;
    link.sub = undefined;
    old?.close();
    const leftAt = hrNowNs();
    // Marked now, not once resubscribed: the confirmation and the first messages can arrive in one
    // read, and those messages are dispatched before the code after `await` runs.
    const streams = link.plan.kind === 'psubscribe' ? this.channels.map((_, i) => i) : link.plan.channels;
    const mark = (on: boolean) => {
      for (const c of streams) {
        const at = this.local(c);
        for (let p = 0; p < this.publisherCount; p++) {
          if (on) this.tracker.rejoin(p * this.width + at);
          else this.tracker.unmark(p * this.width + at);
        }
      }
    };
    mark(true);
    try {
      const sub = await this.open(link);
      if (this.closing) return sub.close();
      link.sub = sub;
    } catch (err) {
      // Could not come back: a lost connection, and what its streams miss from now on is lost.
      mark(false);
      link.dead = true;
      this.report.lost ??= { address: link.plan.node.address, reason: `reconnecting failed: ${(err as Error).message}`, atNs: hrNowNs() };
      return;
    }
    this.report.reconnects++;
    this.tally.resubscribed((hrNowNs() - leftAt) / 1000);
    this.scheduleReconnect(link);
  }

  /** A message whose payload is `buf[start, end)`. */
  private onMessage(buf: Buffer, start: number, end: number, receivedAt: number): void {
    if (end - start < HEADER_BYTES || !isBenchPayload(buf, start)) {
      this.report.foreign++;
      return;
    }
    const intended = readIntendedNs(buf, start);
    // A warm-up message takes the very same path into throwaway counters: the code that records a
    // measured message must be compiled by the time measuring starts, or the first measured second
    // pays for the interpreter and the deoptimisations (it showed as a p99 of 7-13 ms there).
    const warm = intended < this.measureFromNs;
    const tracker = warm ? this.warmTracker : this.tracker;
    const tally = warm ? this.warmTally : this.tally;
    if (!warm) this.report.received++;
    const channel = readChannel(buf, start);
    const group = this.channels[channel]?.group ?? 0;
    const { unique, excused } = tracker;
    const publisher = readPublisher(buf, start);
    tracker.observe(publisher * this.width + this.local(channel), readSeq(buf, start));
    if (tracker.excused > excused) tally.excused(group, tracker.excused - excused, publisher);
    tally.record(group, receivedAt - intended, receivedAt - this.measureFromNs, tracker.unique > unique, publisher);
  }

  /** Measured deliveries so far, for the live line. */
  get received(): number {
    return this.report.received;
  }

  /**
   * The report; `lastSent[p][c]` is the last sequence publisher p sent on channel c (-1 for none), for
   * streams the subscriber rejoined and heard nothing on since.
   */
  finish(lastSent: readonly (readonly number[])[]): SubscriberReport {
    this.running = false;
    const r = this.report;
    for (let p = 0; p < (this.options.reconnect ? this.publisherCount : 0); p++) {
      const sent = lastSent[p];
      if (!sent) continue;
      for (let k = 0; k < this.width; k++) {
        const c = this.mine ? this.mine[k]! : k;
        const before = this.tracker.excused;
        this.tracker.excuseUnheard(p * this.width + k, sent[c] ?? -1);
        if (this.tracker.excused > before) this.tally.excused(this.channels[c]?.group ?? 0, this.tracker.excused - before, p);
      }
    }
    r.unique = this.tracker.unique;
    r.duplicates = this.tracker.duplicates;
    r.reordered = this.tracker.reordered;
    r.excused = this.tracker.excused;
    return r;
  }

  close(): void {
    this.running = false;
    this.closing = true;
    for (const l of this.links) {
      if (l.timer) clearTimeout(l.timer);
      l.sub?.close();
    }
  }
}
