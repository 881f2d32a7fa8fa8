// Folds the snapshots of one recording window (watch --record, exporter --record) into what a traffic profile is built from.
import { channelKey, type Snapshot } from './snapshot.js';
import { ownChannelKind } from './own-subscriptions.js';
import { PayloadSizes } from './payload-sizes.js';
import { buildProfile, type BuiltProfile, type ChannelObservation, type RecordGroup } from './profile.js';

/** How the monitor's warning about a refused or missing sampling subscription starts. */
const RATES_INCOMPLETE = 'message rates incomplete';

/**
 * One window. The first snapshot starts it: its message counts cover time before the window (or
 * nothing, before the sampling subscriptions exist), so only its subscriber counts are kept. Each
 * later snapshot adds the messages heard since the one before, and the time they cover.
 * Subscribers are the most seen at once in the window: a consumer reconnecting at the wrong moment
 * does not take its fan-out out of the profile.
 */
export class TrafficRecording {
  private startedAt: number | undefined;
  private lastAt: number | undefined;
  private readonly channels = new Map<string, ChannelObservation>();
  private patternSubscriptions: number | undefined;
  /** The last snapshot's word on why message rates were incomplete (a refused subscription), if it had one. */
  ratesProblem: string | undefined;

  constructor(
    /** How long the window lasts, in ms. */
    readonly windowMs: number,
  ) {}

  observe(s: Snapshot): void {
    const first = this.startedAt === undefined;
    this.startedAt ??= s.time;
    this.lastAt = s.time;
    let patterns: number | undefined;
    for (const n of s.nodes) if (n.numpat !== undefined) patterns = (patterns ?? 0) + n.numpat;
    if (patterns !== undefined) this.patternSubscriptions = Math.max(this.patternSubscriptions ?? 0, patterns);
    this.ratesProblem = s.warnings.find((w) => w.startsWith(RATES_INCOMPLETE));
    for (const row of s.channels) {
      // A bench run's traffic is pubsub-mon's own: replaying it would benchmark a benchmark.
      if (row.pubsubMon !== undefined || ownChannelKind(row.name) !== undefined) continue;
      const key = channelKey(row);
      let c = this.channels.get(key);
      if (!c) this.channels.set(key, (c = { name: row.name, kind: row.kind, messages: 0, sampledMs: 0, subscribers: 0, sizes: new PayloadSizes() }));
      c.subscribers = Math.max(c.subscribers, row.subscribers);
      if (first || row.messages === undefined || row.sampledMs === undefined) continue;
      c.messages += row.messages;
      c.sampledMs += row.sampledMs;
      if (row.payloadSizes) c.sizes.merge(row.payloadSizes);
    }
  }

  /** Time from the first snapshot to the last, in ms. */
  get elapsedMs(): number {
    return this.startedAt === undefined || this.lastAt === undefined ? 0 : this.lastAt - this.startedAt;
  }

  /** How long until the window is complete, counted from `now` (0 once it is). */
  remainingMs(now: number): number {
    return this.startedAt === undefined ? this.windowMs : Math.max(0, this.startedAt + this.windowMs - now);
  }

  /** True once the snapshots cover the whole window. */
  get complete(): boolean {
    return this.startedAt !== undefined && this.elapsedMs >= this.windowMs;
  }

  /** The profile of the window so far. */
  profile(source: string, groups: readonly RecordGroup[] = []): BuiltProfile {
    return buildProfile({
      channels: this.channels.values(),
      groups,
      startedAt: this.startedAt ?? 0,
      windowMs: this.elapsedMs,
      source,
      ...(this.patternSubscriptions !== undefined ? { patternSubscriptions: this.patternSubscriptions } : {}),
    });
  }
}
