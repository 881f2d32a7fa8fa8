// What every subscriber on one worker thread adds to: latency (overall, per group, and since the last
// progress tick), deliveries per second and per group, and how long resubscribing took. One per thread,
// not one per subscriber: a histogram is about 140 KiB, and 10,000 subscribers each with their own
// made the bench, not the server, the thing being measured.
import { encodeHistogram, LatencyRecorder } from '../stats/histogram.js';
import type { TallyReport } from '../stats/bench-result.js';

/** Per-group histograms keep 2 significant digits (about 14 KiB each): a profile may have many groups. */
const GROUP_DIGITS = 2;

export class ThreadTally {
  readonly latency = new LatencyRecorder();
  /** Latency since the last progress report, for the live p99: 2 digits, cheap to walk and reset every second. */
  readonly interval = new LatencyRecorder(GROUP_DIGITS);
  private readonly groups: LatencyRecorder[];
  private readonly resubscribe = new LatencyRecorder();
  private readonly perSecond: number[] = [];
  private readonly receivedPerGroup: number[];
  private readonly uniquePerGroup: number[];
  private readonly excusedPerGroup: number[];
  /** On a run over several hosts: latency from this host's own publishers, and from the others'. */
  private readonly sameHost: LatencyRecorder | undefined;
  private readonly crossHost: LatencyRecorder | undefined;
  /** On a run over several hosts: 1 for a publisher on another host, by publisher id. */
  private readonly remote: Uint8Array | undefined;
  /** On a run over several hosts, by publisher id: so that a lost host's publishers can be taken out. */
  private readonly byPublisher: { received: number[]; unique: number[]; excused: number[] } | undefined;

  /**
   * @param hosts on a run over several hosts: how many publishers there are and which are on other
   *   hosts; latency from those is kept apart as well, and every count by publisher
   */
  constructor(groupCount: number, hosts?: { publisherCount: number; remotePublishers: readonly number[] }) {
    if (hosts) {
      this.sameHost = new LatencyRecorder();
      this.crossHost = new LatencyRecorder();
      this.remote = new Uint8Array(hosts.publisherCount);
      for (const p of hosts.remotePublishers) this.remote[p] = 1;
      const zeros = () => new Array<number>(hosts.publisherCount).fill(0);
      this.byPublisher = { received: zeros(), unique: zeros(), excused: zeros() };
    }
    // One group is the whole run: its histogram would only repeat `latency`.
    this.groups = groupCount > 1 ? Array.from({ length: groupCount }, () => new LatencyRecorder(GROUP_DIGITS)) : [];
    this.receivedPerGroup = new Array<number>(groupCount).fill(0);
    this.uniquePerGroup = new Array<number>(groupCount).fill(0);
    this.excusedPerGroup = new Array<number>(groupCount).fill(0);
  }

  /** Deliveries of `group` from `publisher` a subscriber missed while it was away (reconnecting): not lost. */
  excused(group: number, count: number, publisher: number): void {
    this.excusedPerGroup[group] = (this.excusedPerGroup[group] ?? 0) + count;
    if (this.byPublisher) this.byPublisher.excused[publisher] = (this.byPublisher.excused[publisher] ?? 0) + count;
  }

  /** One measured delivery: its latency in ns, its receive time since measuring started, whether it was new, its publisher. */
  record(group: number, latencyNs: number, sinceStartNs: number, unique: boolean, publisher: number): void {
    const us = latencyNs / 1000;
    this.latency.record(us);
    if (this.byPublisher) {
      (this.remote![publisher] === 1 ? this.crossHost : this.sameHost)!.record(us);
      this.byPublisher.received[publisher] = (this.byPublisher.received[publisher] ?? 0) + 1;
      if (unique) this.byPublisher.unique[publisher] = (this.byPublisher.unique[publisher] ?? 0) + 1;
    }
    this.interval.record(us);
    this.groups[group]?.record(us);
    this.receivedPerGroup[group] = (this.receivedPerGroup[group] ?? 0) + 1;
    if (unique) this.uniquePerGroup[group] = (this.uniquePerGroup[group] ?? 0) + 1;
    const second = Math.floor(sinceStartNs / 1e9);
    if (second >= 0) this.perSecond[second] = (this.perSecond[second] ?? 0) + 1;
  }

  /** A connection was closed and its subscriptions confirmed again after `us` microseconds. */
  resubscribed(us: number): void {
    this.resubscribe.record(us);
  }

  report(): TallyReport {
    return {
      histogram: encodeHistogram(this.latency.histogram),
      overflow: this.latency.overflow,
      groupHistograms: this.groups.map((g) => encodeHistogram(g.histogram)),
      receivedPerGroup: [...this.receivedPerGroup],
      uniquePerGroup: [...this.uniquePerGroup],
      excusedPerGroup: [...this.excusedPerGroup],
      perSecond: [...this.perSecond],
      ...(this.sameHost && this.crossHost && this.byPublisher
        ? { hostSplit: { same: encodeHistogram(this.sameHost.histogram), cross: encodeHistogram(this.crossHost.histogram), byPublisher: { received: [...this.byPublisher.received], unique: [...this.byPublisher.unique], excused: [...this.byPublisher.excused] } } }
        : {}),
      ...(this.resubscribe.histogram.totalCount > 0 ? { resubscribe: encodeHistogram(this.resubscribe.histogram) } : {}),
    };
  }
}
