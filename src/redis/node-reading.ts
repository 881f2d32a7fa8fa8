// Reads everything watch and check need from one node: channels and their counts, patterns, INFO, pub/sub clients.
import type { Redis } from 'ioredis';
import { isKeyspaceChannel, type NodeReading } from '../stats/snapshot.js';
import { describeRedisError } from './errors.js';
import { countPatterns, countSubscribers, listChannels, readAllClients, readInfo, readPubsubClients, readPubsubLimit } from './queries.js';

export interface ReadOptions {
  /** Server-side glob for PUBSUB CHANNELS / SHARDCHANNELS. */
  pattern?: string;
  /** Keep `__keyspace@*` / `__keyevent@*` channels. @default false */
  includeKeyspace?: boolean;
  /** Ask for sharded channels (Redis 7.0+). */
  sharded: boolean;
  /** Read INFO, commandstats and CLIENT LIST TYPE pubsub (watch); check only needs the counts. */
  health: boolean;
  /** Read the pubsub output-buffer limit (the caller caches it). */
  limits: boolean;
}

/** One round of reads against one node. Throws a typed error if the counts themselves cannot be read. */
export async function readNode(client: Redis, address: string, options: ReadOptions, user?: string): Promise<NodeReading> {
  try {
    const [allClassic, numpat, shardNames] = await Promise.all([
      listChannels(client, 'CHANNELS', options.pattern),
      countPatterns(client),
      options.sharded ? listChannels(client, 'SHARDCHANNELS', options.pattern) : Promise.resolve(undefined),
    ]);
    const classicNames = options.includeKeyspace ? allClassic : allClassic.filter((name) => !isKeyspaceChannel(name));
    const [channels, shardChannels, health] = await Promise.all([
      countSubscribers(client, 'NUMSUB', classicNames),
      shardNames ? countSubscribers(client, 'SHARDNUMSUB', shardNames) : Promise.resolve(undefined),
      readHealth(client, options),
    ]);
    const reading: NodeReading = { channels, numpat, ...health };
    if (shardChannels) reading.shardChannels = shardChannels;
    return reading;
  } catch (err) {
    throw describeRedisError(err, address, user);
  }
}

/** INFO, CLIENT LIST and CONFIG: each but INFO may be refused on its own (ACL, managed services) without failing the rest. */
async function readHealth(client: Redis, options: ReadOptions): Promise<Partial<NodeReading>> {
  const out: Partial<NodeReading> = {};
  const skipped = Promise.resolve(undefined);
  // The node table counts every client (CLIENTS); without it the pub/sub ones are enough to tell
  // pubsub-mon's patterns and shard subscriptions from everyone else's.
  const [info, stats, clients, limit] = await Promise.allSettled([
    options.health ? readInfo(client) : skipped,
    options.health ? readInfo(client, 'commandstats') : skipped,
    options.health ? readAllClients(client) : readPubsubClients(client),
    options.limits ? readPubsubLimit(client) : skipped,
  ]);
  if (options.health) {
    if (info.status === 'rejected') throw info.reason;
    out.info = { ...info.value, ...(stats.status === 'fulfilled' ? stats.value : {}) };
  }
  if (clients.status === 'rejected') out.clientsError = firstLine(clients.reason);
  else if (clients.value) {
    out.clients = clients.value;
    if (options.health) out.clientsAll = true;
  }
  if (options.limits) {
    if (limit.status === 'rejected') out.limitsError = firstLine(limit.reason);
    else if (limit.value) out.pubsubLimit = limit.value;
  }
  return out;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
