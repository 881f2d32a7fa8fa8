// A bench run's traffic channel by channel: what the plan lays out, whether it came from the flags
// (every channel alike) or from a recorded traffic profile (bench --profile).

/** Classic channels go with PUBLISH and SUBSCRIBE, shard channels with SPUBLISH and SSUBSCRIBE. */
export type MixKind = 'channel' | 'shard';

/** One payload size and how often it is drawn, relative to the other classes of its channel. */
export interface SizeClass {
  /** Payload bytes, at least the 24-byte bench header. */
  bytes: number;
  /** > 0; the weights of a channel need not sum to 1. */
  weight: number;
}

export interface MixChannel {
  /** The channel's name, in pubsub-mon's byte-keeping string form (stats/channel-name.ts). */
  name: string;
  kind: MixKind;
  /** Messages per second published to it (> 0; may be fractional). */
  rate: number;
  /** How many subscriber connections subscribe to it (its fan-out); 0 is allowed. */
  subscribers: number;
  /** At least one class. */
  sizes: SizeClass[];
  /** The report's group for this channel (a profile's group, or the channel's own name). */
  group: string;
}

/** The whole mix: channels in the order the report lists their groups. */
export interface TrafficMix {
  channels: MixChannel[];
}

/** A mix's messages a second in all, and payload bytes a second (each channel's sizes weighted). */
export function mixTotals(mix: TrafficMix): { rate: number; bytesPerSecond: number } {
  let rate = 0;
  let bytesPerSecond = 0;
  for (const c of mix.channels) {
    const weights = c.sizes.reduce((s, k) => s + k.weight, 0);
    const mean = weights > 0 ? c.sizes.reduce((s, k) => s + k.bytes * k.weight, 0) / weights : 0;
    rate += c.rate;
    bytesPerSecond += c.rate * mean;
  }
  return { rate, bytesPerSecond };
}
