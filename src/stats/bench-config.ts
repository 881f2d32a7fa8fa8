// What a bench run is asked to do, its defaults, and which combinations make sense on which server.

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
}

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

/** One sentence saying why the combination cannot run, or undefined when it can. */
export function combinationProblem(c: BenchConfig, server?: ServerFacts): string | undefined {
  if (c.mode === 'publish' && c.subscribe === 'shard') return '--subscribe shard needs --mode spublish: PUBLISH never reaches SSUBSCRIBE subscribers';
  if (c.mode === 'spublish' && c.subscribe !== 'shard') return `--subscribe ${c.subscribe} needs --mode publish: SPUBLISH reaches only SSUBSCRIBE subscribers (--subscribe shard)`;
  if (c.replicas && c.subscribe !== 'shard') return '--replicas places shard subscribers on replicas: it goes with --subscribe shard';
  if (c.publishers === 0) return '--publishers must be at least 1';
  if (c.subscribers === 0 && c.subscribe !== 'channel') return `--subscribe ${c.subscribe} needs at least one --subscribers`;
  if (server && !server.sharded && (c.mode === 'spublish' || c.subscribe === 'shard')) {
    return `--mode spublish needs sharded pub/sub (Redis 7.0+); this server is ${server.version || 'older'}`;
  }
  if (server && c.replicas && !server.hasReplicas) return '--replicas was given but no primary has a replica';
  if (c.publishers * c.channels > 50_000_000) return '--publishers × --channels is too large to track per stream (at most 50 million)';
  return undefined;
}
