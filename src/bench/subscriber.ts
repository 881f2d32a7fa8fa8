// One logical bench subscriber: its connections, sequence checks per stream, and latency in an HDR histogram.
import type { ConnectionTarget } from '../redis/target.js';
import { RawSubscriber } from '../redis/raw-subscriber.js';
import { isBenchPayload, readChannel, readIntendedNs, readPublisher, readSeq } from './payload-header.js';
import { SequenceTracker } from '../stats/sequence-tracker.js';
import { LatencyRecorder, encodeHistogram } from '../stats/histogram.js';
import type { SubscriberPlan } from './plan.js';
import type { SubscriberReport } from '../stats/bench-result.js';
import { hrNowNs } from './clock.js';
import type { Timing } from './worker-protocol.js';

/** Names per SUBSCRIBE command: long argument lists are fine, but not unbounded. */
const SUBSCRIBE_CHUNK = 1000;

export class SubscriberLoop {
  private readonly subs: RawSubscriber[] = [];
  private readonly tracker: SequenceTracker;
  readonly latency = new LatencyRecorder();
  /** Latency since the last progress report, for the live p99. */
  readonly interval = new LatencyRecorder();
  private readonly report: SubscriberReport;
  private measureFromNs = Number.POSITIVE_INFINITY;
  private running = false;

  constructor(
    private readonly target: ConnectionTarget,
    private readonly plan: SubscriberPlan,
    private readonly channelCount: number,
    publisherCount: number,
  ) {
    this.tracker = new SequenceTracker(publisherCount * channelCount);
    this.report = { id: plan.id, received: 0, unique: 0, duplicates: 0, reordered: 0, foreign: 0, histogram: '', overflow: 0, perSecond: [] };
  }

  /** Connects and subscribes; resolves once the server confirmed every subscription. */
  async connect(): Promise<void> {
    for (const c of this.plan.connections) {
      const sub = new RawSubscriber(this.target, c.node, 'bench-sub', hrNowNs);
      sub.onMessage = (_kind, _pattern, _channel, payload, receivedAt) => this.onMessage(payload, receivedAt);
      sub.onClose = (reason) => {
        if (this.running) this.report.lost ??= { address: c.node.address, reason, atNs: hrNowNs() };
      };
      // The server ends shard subscriptions by itself when their slot leaves the node: say so in the result.
      sub.onServerUnsubscribe = (kind) => {
        if (!this.running || kind !== 'ssubscribe') return;
        this.report.ended ??= { address: c.node.address, channels: 0, atNs: hrNowNs() };
        this.report.ended.channels++;
      };
      await sub.connect();
      this.subs.push(sub);
      if (c.kind === 'ssubscribe') {
        // Several channels in one SSUBSCRIBE must share a slot: one per command, pipelined.
        await Promise.all(c.names.map((name) => sub.subscribe('ssubscribe', [name])));
      } else {
        for (let k = 0; k < c.names.length; k += SUBSCRIBE_CHUNK) await sub.subscribe(c.kind, c.names.slice(k, k + SUBSCRIBE_CHUNK));
      }
    }
  }

  start(timing: Timing): void {
    this.measureFromNs = timing.measureFromNs;
    this.running = true;
  }

  private onMessage(payload: Buffer, receivedAt: number): void {
    if (!isBenchPayload(payload)) {
      this.report.foreign++;
      return;
    }
    const intended = readIntendedNs(payload);
    if (intended < this.measureFromNs) return;
    const r = this.report;
    r.received++;
    const stream = readPublisher(payload) * this.channelCount + readChannel(payload);
    this.tracker.observe(stream, readSeq(payload));
    const us = (receivedAt - intended) / 1000;
    this.latency.record(us);
    this.interval.record(us);
    const second = Math.floor((receivedAt - this.measureFromNs) / 1e9);
    if (second >= 0) r.perSecond[second] = (r.perSecond[second] ?? 0) + 1;
  }

  /** Measured deliveries so far, for the live line. */
  get received(): number {
    return this.report.received;
  }

  finish(): SubscriberReport {
    this.running = false;
    const r = this.report;
    r.unique = this.tracker.unique;
    r.duplicates = this.tracker.duplicates;
    r.reordered = this.tracker.reordered;
    r.histogram = encodeHistogram(this.latency.histogram);
    r.overflow = this.latency.overflow;
    return r;
  }

  close(): void {
    this.running = false;
    for (const s of this.subs) s.close();
  }
}
