// The questions pubsub-mon asks one node, each one function: watch, check, tail and bench all ask through these.
import { rethrowIfBug } from './errors.js';
import type { Redis } from 'ioredis';
import createDebug from 'debug';
import { parseInfo } from '../stats/info.js';
import { parseClientList, type ClientInfo } from '../stats/client-list.js';
import { parseOutputBufferLimits, type OutputBufferLimit } from '../stats/output-buffer-limit.js';
import { parseClusterNodes, parseClusterShards, type ClusterNode } from '../stats/cluster-topology.js';
import { escapeText } from '../render/escape.js';
import { decodeName, encodeName } from '../stats/channel-name.js';

/** `DEBUG=pubsub-mon:*` (or `pubsub-mon:redis`) shows every question asked, per node, on stderr. */
const debug = createDebug('pubsub-mon:redis');

/** NUMSUB arguments per command: large enough to be quick, small enough not to stall the server. */
const NUMSUB_BATCH = 1000;

/** Longer arguments are cut in the debug line, as ioredis' own debug output does. */
const MAX_LOGGED_ARG = 64;

/** Says on the debug stream what is about to be sent to the node at `address`. */
export function logCommand(address: string, words: readonly string[]): void {
  if (!debug.enabled) return;
  const shown = words.map((w) => (w.length > MAX_LOGGED_ARG ? `${w.slice(0, MAX_LOGGED_ARG)}...(${w.length} chars)` : w));
  debug('%s < %s', address, escapeText(shown.join(' ')));
}

/** The same, for the node an ioredis client talks to. */
export function asked(client: Redis, words: readonly string[]): void {
  if (debug.enabled) logCommand(`${client.options.host}:${client.options.port}`, words);
}

/** PUBSUB CHANNELS or SHARDCHANNELS, optionally filtered by the server with a glob. */
export async function listChannels(client: Redis, sub: 'CHANNELS' | 'SHARDCHANNELS', pattern?: string): Promise<string[]> {
  const args = pattern !== undefined ? [pattern] : [];
  asked(client, ['PUBSUB', sub, ...args]);
  // Names are bytes: read as Buffers, kept exactly (channel-name.ts), never through a lossy UTF-8 decode.
  const names = (await client.callBuffer('PUBSUB', sub, ...args.map(encodeName))) as Buffer[];
  return names.map(decodeName);
}

/** PUBSUB NUMPAT on this node. */
export async function countPatterns(client: Redis): Promise<number> {
  asked(client, ['PUBSUB', 'NUMPAT']);
  return Number(await client.call('PUBSUB', 'NUMPAT'));
}

/** PUBSUB NUMSUB or SHARDNUMSUB for `names` on this node, in pipelined batches. */
export async function countSubscribers(client: Redis, sub: 'NUMSUB' | 'SHARDNUMSUB', names: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  if (names.length === 0) return counts;
  asked(client, ['PUBSUB', sub, `(${names.length} names)`]);
  const pipeline = client.pipeline();
  for (let i = 0; i < names.length; i += NUMSUB_BATCH) pipeline.callBuffer('PUBSUB', sub, ...names.slice(i, i + NUMSUB_BATCH).map(encodeName));
  const results = (await pipeline.exec()) ?? [];
  for (const [err, reply] of results) {
    if (err) throw err;
    const flat = reply as Array<Buffer | number>;
    for (let i = 0; i + 1 < flat.length; i += 2) {
      const name = flat[i];
      counts.set(Buffer.isBuffer(name) ? decodeName(name) : String(name), Number(flat[i + 1]));
    }
  }
  return counts;
}

/** INFO (default sections) or one section, parsed into fields. */
export async function readInfo(client: Redis, section?: string): Promise<Record<string, string>> {
  asked(client, section ? ['INFO', section] : ['INFO']);
  return parseInfo(section ? await client.info(section) : await client.info());
}

/** CLIENT LIST: every connection of this node (watch's CLIENTS leaves out pubsub-mon's by name). */
export async function readAllClients(client: Redis): Promise<ClientInfo[]> {
  asked(client, ['CLIENT', 'LIST']);
  return parseClientList(String(await client.call('CLIENT', 'LIST')));
}

/** CLIENT LIST TYPE pubsub: every pub/sub connection of this node. */
export async function readPubsubClients(client: Redis): Promise<ClientInfo[]> {
  asked(client, ['CLIENT', 'LIST', 'TYPE', 'pubsub']);
  return parseClientList(String(await client.call('CLIENT', 'LIST', 'TYPE', 'pubsub')));
}

/** The live `client-output-buffer-limit` for pub/sub clients; undefined when the server sets none. */
export async function readPubsubLimit(client: Redis): Promise<OutputBufferLimit | undefined> {
  asked(client, ['CONFIG', 'GET', 'client-output-buffer-limit']);
  const reply = (await client.call('CONFIG', 'GET', 'client-output-buffer-limit')) as string[];
  const value = reply[1];
  return value ? parseOutputBufferLimits(value).pubsub : undefined;
}

/**
 * How many more clients a node accepts: maxclients less those connected. Undefined when CONFIG is
 * refused (a restricted user, a managed service): the run then finds out by connecting.
 */
export async function readClientRoom(client: Redis): Promise<{ maxclients: number; connected: number; free: number } | undefined> {
  asked(client, ['CONFIG', 'GET', 'maxclients']);
  const reply = (await client.call('CONFIG', 'GET', 'maxclients').catch((err: unknown) => {
    if (err instanceof Error && /NOPERM|unknown (sub)?command|not allowed/i.test(err.message)) return undefined;
    throw err;
  })) as string[] | undefined;
  const maxclients = Number(reply?.[1]);
  if (!Number.isInteger(maxclients) || maxclients <= 0) return undefined;
  asked(client, ['INFO', 'clients']);
  const connected = Number(/connected_clients:(\d+)/.exec(String(await client.info('clients')))?.[1]);
  if (!Number.isInteger(connected)) return undefined;
  return { maxclients, connected, free: Math.max(0, maxclients - connected) };
}

/** Every node of the cluster as this node sees it: CLUSTER SHARDS on 7.0+, CLUSTER NODES before. */
export async function readClusterNodes(client: Redis, sharded: boolean): Promise<ClusterNode[]> {
  if (sharded) {
    asked(client, ['CLUSTER', 'SHARDS']);
    const reply = await client.call('CLUSTER', 'SHARDS');
    const nodes = parseClusterShards(reply);
    if (nodes.length > 0) return nodes;
    // Nothing with an address: a cluster of one node, which leaves its own ip empty. Which one it is
    // only CLUSTER MYID says (refused by a restricted user: then there is no node to show).
    asked(client, ['CLUSTER', 'MYID']);
    const self = await client.call('CLUSTER', 'MYID').then(String, (err: unknown) => {
      rethrowIfBug(err);
      return undefined;
    });
    return parseClusterShards(reply, self);
  }
  asked(client, ['CLUSTER', 'NODES']);
  return parseClusterNodes(String(await client.call('CLUSTER', 'NODES')));
}
