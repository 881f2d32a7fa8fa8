// Reads everything watch and check need from one node: channels and their counts, patterns, INFO, pub/sub clients.
import type { Redis } from 'ioredis';
import { parseInfo } from '../stats/info.js';
import { parseClientList } from '../stats/client-list.js';
import { parseOutputBufferLimits } from '../stats/output-buffer-limit.js';
import { isKeyspaceChannel, type NodeReading } from '../stats/snapshot.js';
import { describeRedisError } from './errors.js';

/** NUMSUB arguments per command: large enough to be quick, small enough not to stall the server. */
export const NUMSUB_BATCH = 1000;

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

/** Runs `PUBSUB <sub> ch...` in batches, pipelined, and folds the `[name, count, ...]` replies. */
async function countSubscribers(client: Redis, sub: 'NUMSUB' | 'SHARDNUMSUB', names: string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (names.length === 0) return counts;
  const pipeline = client.pipeline();
  for (let i = 0; i < names.length; i += NUMSUB_BATCH) pipeline.call('PUBSUB', sub, ...names.slice(i, i + NUMSUB_BATCH));
  const results = (await pipeline.exec()) ?? [];
  for (const [err, reply] of results) {
    if (err) throw err;
    const flat = reply as Array<string | number>;
    for (let i = 0; i + 1 < flat.length; i += 2) counts.set(String(flat[i]), Number(flat[i + 1]));
  }
  return counts;
}

/** One round of reads against one node. Throws a typed error if the counts themselves cannot be read. */
export async function readNode(client: Redis, address: string, options: ReadOptions, user?: string): Promise<NodeReading> {
  const channelArgs = options.pattern ? [options.pattern] : [];
  try {
    const listing = client.pipeline();
    listing.call('PUBSUB', 'CHANNELS', ...channelArgs);
    listing.call('PUBSUB', 'NUMPAT');
    if (options.sharded) listing.call('PUBSUB', 'SHARDCHANNELS', ...channelArgs);
    const replies = (await listing.exec()) ?? [];
    for (const [err] of replies) if (err) throw err;
    const keep = (name: string) => options.includeKeyspace || !isKeyspaceChannel(name);
    const classicNames = (replies[0]?.[1] as string[]).filter(keep);
    const numpat = Number(replies[1]?.[1]);
    const shardNames = options.sharded ? (replies[2]?.[1] as string[]) : undefined;

    const [channels, shardChannels, health] = await Promise.all([
      countSubscribers(client, 'NUMSUB', classicNames),
      shardNames ? countSubscribers(client, 'SHARDNUMSUB', shardNames) : Promise.resolve(undefined),
      options.health || options.limits ? readHealth(client, options) : Promise.resolve({}),
    ]);
    const reading: NodeReading = { channels, numpat, ...health };
    if (shardChannels) reading.shardChannels = shardChannels;
    return reading;
  } catch (err) {
    throw describeRedisError(err, address, user);
  }
}

/** INFO, CLIENT LIST and CONFIG: each may be refused on its own (ACL, managed services) without failing the rest. */
async function readHealth(client: Redis, options: ReadOptions): Promise<Partial<NodeReading>> {
  const out: Partial<NodeReading> = {};
  const pipeline = client.pipeline();
  if (options.health) {
    pipeline.info();
    pipeline.info('commandstats');
    pipeline.call('CLIENT', 'LIST', 'TYPE', 'pubsub');
  }
  if (options.limits) pipeline.call('CONFIG', 'GET', 'client-output-buffer-limit');
  const replies = (await pipeline.exec()) ?? [];
  let i = 0;
  if (options.health) {
    const [infoErr, infoText] = replies[i++] ?? [];
    const [statsErr, statsText] = replies[i++] ?? [];
    const [listErr, listText] = replies[i++] ?? [];
    if (infoErr) throw infoErr;
    out.info = { ...parseInfo(String(infoText)), ...(statsErr ? {} : parseInfo(String(statsText))) };
    if (listErr) out.clientsError = firstLine(listErr);
    else out.clients = parseClientList(String(listText));
  }
  if (options.limits) {
    const [cfgErr, cfg] = replies[i++] ?? [];
    if (cfgErr) out.limitsError = firstLine(cfgErr);
    else {
      const value = (cfg as string[] | undefined)?.[1];
      const limit = value ? parseOutputBufferLimits(value).pubsub : undefined;
      if (limit) out.pubsubLimit = limit;
    }
  }
  return out;
}

function firstLine(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
}
