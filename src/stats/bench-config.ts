// What a bench run is asked to do, its defaults, and which combinations make sense on which server.
import { mixTotals, type TrafficMix } from './traffic-mix.js';

export type PublishMode = 'publish' | 'spublish';
export type SubscribeMode = 'channel' | 'pattern' | 'shard';

export interface BenchConfig {
  /** Total messages per second over all publishers; 0 = as fast as possible. @default 0 */
  rate: number;
  /** Measured time, after the warm-up. @default 10000 */
  durationMs: number;
  /** Time before measuring starts (sent, not counted). @default 2000 */
  warmupMs: number;
  /** Measured messages in total (instead of a duration). */
  messages?: number;
  /** @default 1 */
  channels: number;
  /** @default 1 */
  publishers: number;
  /** @default 1 */
  subscribers: number;
  /** Payload bytes, header included. @default 128 */
  size: number;
  /** @default 'publish' */
  mode: PublishMode;
  /** @default 'shard' with spublish, else 'channel' */
  subscribe: SubscribeMode;
  /** Shard subscribers on replicas of the owning shard. @default false */
  replicas: boolean;
  /** Worker threads the connections are spread over. @default 2 (1 when there is nothing to split) */
  threads: number;
  /** Channels each subscriber takes (undefined: every channel). */
  channelsPerSubscriber?: number;
  /** Which channels each subscriber takes with channelsPerSubscriber. @default 'sparse' */
  placement: Placement;
  /** Subscriber connections close and reopen after a time drawn from [minMs, maxMs]. */
  reconnect?: { minMs: number; maxMs: number };
  /** A recorded traffic profile's channels, rates, sizes and fan-out, replacing the uniform flags. */
  mix?: TrafficMix;
  /** Where the mix came from, for the report: the profile file and its rate multiplier. */
  profile?: { file: string; scale: number };
  /** Publish to the mix's own channel names instead of copies prefixed with the run's. @default false */
  sameNames?: boolean;
  /** Agents (`pubsub-mon agent` on other hosts) the run is shared with. @default 0 */
  agents: number;
  /** This process takes a share too (false: --no-local, only the agents do). @default true */
  local: boolean;
  /** How long to wait for the agents to join. @default 60000 */
  agentWaitMs: number;
  /** Spread this host's share over this many child processes instead of threads (--processes). */
  processes?: number;
}

export type Placement = 'dense' | 'sparse';
export const PLACEMENTS: readonly Placement[] = ['dense', 'sparse'];

export const DEFAULT_BENCH = {
  rate: 0,
  durationMs: 10_000,
  warmupMs: 2_000,
  channels: 1,
  publishers: 1,
  subscribers: 1,
  size: 128,
  mode: 'publish',
  threads: 2,
  placement: 'sparse',
  agents: 0,
  local: true,
  agentWaitMs: 60_000,
} as const;

/** What the server offers, as far as the combinations care. */
export interface ServerFacts {
  cluster: boolean;
  /** Redis 7.0+: SPUBLISH and SSUBSCRIBE exist. */
  sharded: boolean;
  version: string;
  /** Some primary has a replica. */
  hasReplicas: boolean;
}

/** The most a replayed profile may ask for in all: the same as --rate allows, and payload bytes a second. */
const MAX_MIX_RATE = 100_000_000;
const MAX_MIX_BYTES_PER_SECOND = 4 * 2 ** 30;

/** One sentence saying why the combination cannot run, or undefined when it can. */
export function combinationProblem(c: BenchConfig, server?: ServerFacts): string | undefined {
  if (c.mode === 'publish' && c.subscribe === 'shard') return '--subscribe shard needs --mode spublish: PUBLISH never reaches SSUBSCRIBE subscribers';
  if (c.mode === 'spublish' && c.subscribe !== 'shard') return `--subscribe ${c.subscribe} needs --mode publish: SPUBLISH reaches only SSUBSCRIBE subscribers (--subscribe shard)`;
  if (c.replicas && c.subscribe !== 'shard') return '--replicas places shard subscribers on replicas: it goes with --subscribe shard';
  if (c.publishers === 0) return '--publishers must be at least 1';
  if (!c.local && c.agents === 0) return '--no-local needs --agents N: with neither, nobody would publish or subscribe';
  // SPUBLISH with no subscriber is a publish-only run like PUBLISH with none: its subscribe mode is only the default.
  if (c.subscribers === 0 && c.subscribe === 'pattern') return `--subscribe ${c.subscribe} needs at least one --subscribers`;
  if (server && !server.sharded && (c.mode === 'spublish' || c.subscribe === 'shard')) {
    return `--mode spublish needs sharded pub/sub (Redis 7.0+); this server is ${server.version || 'older'}`;
  }
  if (c.mix) {
    const scale = c.profile && c.profile.scale !== 1 ? ` (with --scale ${c.profile.scale})` : '';
    const { rate, bytesPerSecond: bytes } = mixTotals(c.mix);
    if (rate > MAX_MIX_RATE) return `the profile asks for ${Math.round(rate)} messages/s in all${scale}; bench publishes at most ${MAX_MIX_RATE}`;
    if (bytes > MAX_MIX_BYTES_PER_SECOND) return `the profile asks for ${(bytes / 2 ** 30).toFixed(1)} GiB/s of payloads in all${scale}; bench publishes at most ${MAX_MIX_BYTES_PER_SECOND / 2 ** 30} GiB/s`;
  }
  if (server && !server.sharded && c.mix?.channels.some((m) => m.kind === 'shard')) {
    return `the profile has shard channels, which need sharded pub/sub (Redis 7.0+); this server is ${server.version || 'older'}`;
  }
  if (server && c.replicas && !server.hasReplicas) return '--replicas was given but no primary has a replica';
  if (c.channelsPerSubscriber !== undefined && c.subscribe === 'pattern') return '--channels-per-subscriber does not go with --subscribe pattern: a pattern subscriber hears every channel';
  if (c.channelsPerSubscriber !== undefined && c.channelsPerSubscriber > c.channels) {
    return `--channels-per-subscriber ${c.channelsPerSubscriber} is more than the ${c.channels} --channels there are`;
  }
  if (c.reconnect && c.reconnect.maxMs < c.reconnect.minMs) return '--reconnect-interval MIN:MAX needs MIN <= MAX';
  if (c.publishers * c.channels > 50_000_000) return '--publishers × --channels is too large to track per stream (at most 50 million)';
  return undefined;
}
