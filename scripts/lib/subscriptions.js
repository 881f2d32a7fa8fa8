// A 3+3 sandbox cluster's shards, a plan of who subscribes to what (the ground truth every tool's counts are checked against), and the helper side that subscribes it.
// @ts-check
import { Redis } from 'ioredis';
import { HOST } from './admin.js';

/** Names per SUBSCRIBE call when setting up (and per PUBSUB NUMSUB line where a peer batches as a person would). */
export const NAMES_PER_CALL = 1000;
/** Subscriber connections per node. */
const CONNECTIONS_PER_NODE = 2;

/** @typedef {{ port: number, classic: string[], shard: string[] }} ConnectionPlan */
/** @typedef {{ ranges: [number, number][], primaryPort: number, replicaPorts: number[] }} Shard */
/**
 * Subscribers per channel, keyed `classic\0name` or `shard\0name`, and the totals.
 * @typedef {{ perChannel: Map<string, number>, classicRows: number, shardRows: number, subscribers: number }} Counts
 */
/** @typedef {Counts & { channelRows: number }} Expected */
/** @typedef {{ connections: ConnectionPlan[], expected: Expected, classicNames: string[], shardNames: string[] }} Plan */

/**
 * Each shard of the cluster as the server sees it: slot ranges, the primary's port, the replicas' ports.
 * From CLUSTER NODES, not CLUSTER SLOTS: on 7.0 SLOTS leaves out a replica whose replication offset
 * is still 0, which is every replica of a freshly formed cluster that has not been written to.
 * @param {Redis} admin
 * @returns {Promise<Shard[]>}
 */
export async function readShards(admin) {
  const text = String(await admin.call('CLUSTER', 'NODES'));
  /** @type {Map<string, Shard>} */
  const byId = new Map();
  /** @type {Map<string, number[]>} */
  const replicasOf = new Map();
  for (const line of text.trim().split('\n')) {
    const [id = '', addr = '', flags = '', primaryId = '', , , , , ...slots] = line.split(' ');
    const port = Number(/:(\d+)/.exec(addr)?.[1]);
    if (flags.includes('master')) {
      const ranges = slots.filter((s) => /^\d/.test(s)).map((s) => {
        const [a = NaN, b = a] = s.split('-').map(Number);
        return /** @type {[number, number]} */ ([a, b]);
      });
      byId.set(id, { ranges, primaryPort: port, replicaPorts: [] });
    } else if (flags.includes('slave')) {
      replicasOf.set(primaryId, [...(replicasOf.get(primaryId) ?? []), port]);
    }
  }
  for (const [id, ports] of replicasOf) byId.get(id)?.replicaPorts.push(...ports);
  const shards = [...byId.values()].filter((s) => s.ranges.length > 0);
  if (shards.length === 0 || shards.some((s) => s.replicaPorts.length === 0)) throw new Error(`CLUSTER NODES shows a shard with no replica:\n${text}`);
  return shards;
}

/**
 * The shard serving a slot, if any.
 * @param {Shard[]} shards
 * @param {number} slot
 */
export function shardOf(shards, slot) {
  return shards.find((s) => s.ranges.some(([a, b]) => slot >= a && slot <= b));
}

/**
 * Who subscribes to what. Classic channel i goes to connection i % C; every 10th also to a
 * connection on the node three places on (so NUMSUB must be summed over nodes), every 25th also to
 * the other connection of its own node (NUMSUB 2 on one node). Shard channels go to the owning
 * shard's primary (even i) or replica (odd i); every 5th to both.
 * @param {{ port: number }[]} nodes
 * @param {Shard[]} shards
 * @param {{ channels: number, shardChannels: number }} sizes
 * @param {(name: string) => number} keyHashSlot
 * @returns {Plan}
 */
export function planSubscriptions(nodes, shards, sizes, keyHashSlot) {
  /** @type {ConnectionPlan[]} */
  const connections = [];
  /** @type {Map<number, ConnectionPlan[]>} */
  const connectionsOf = new Map();
  for (const node of nodes) {
    const mine = [];
    for (let k = 0; k < CONNECTIONS_PER_NODE; k++) {
      const c = { port: node.port, classic: [], shard: [] };
      connections.push(c);
      mine.push(c);
    }
    connectionsOf.set(node.port, mine);
  }
  /** @type {Map<string, number>} */
  const expected = new Map();
  /**
   * @param {'classic' | 'shard'} kind
   * @param {string} name
   * @param {ConnectionPlan | undefined} connection
   */
  const add = (kind, name, connection) => {
    if (!connection) throw new Error(`no connection planned for ${kind} channel ${name}`);
    connection[kind].push(name);
    const key = `${kind}\0${name}`;
    expected.set(key, (expected.get(key) ?? 0) + 1);
  };

  const width = String(Math.max(sizes.channels, sizes.shardChannels)).length;
  const total = connections.length;
  const classicNames = [];
  for (let i = 0; i < sizes.channels; i++) {
    const name = `bench:ch:${String(i).padStart(width, '0')}`;
    classicNames.push(name);
    const c = i % total;
    add('classic', name, connections[c]);
    if (i % 10 === 0) add('classic', name, connections[(c + 3 * CONNECTIONS_PER_NODE) % total]);
    if (i % 25 === 0) add('classic', name, connections[c % CONNECTIONS_PER_NODE === 0 ? c + 1 : c - 1]);
  }

  const shardNames = [];
  for (let i = 0; i < sizes.shardChannels; i++) {
    const name = `bench:sh:${String(i).padStart(width, '0')}`;
    shardNames.push(name);
    const shard = shardOf(shards, keyHashSlot(name));
    if (!shard) throw new Error(`no shard serves the slot of ${name}`);
    const ports = [shard.primaryPort, shard.replicaPorts[0] ?? NaN];
    /** @param {number} port */
    const pick = (port) => connectionsOf.get(port)?.[(i >> 1) % CONNECTIONS_PER_NODE];
    add('shard', name, pick(ports[i % 2] ?? NaN));
    if (i % 5 === 0) add('shard', name, pick(ports[(i + 1) % 2] ?? NaN));
  }

  let subscribers = 0;
  for (const n of expected.values()) subscribers += n;
  const classicRows = sizes.channels;
  const shardRows = sizes.shardChannels;
  return { connections, expected: { perChannel: expected, classicRows, shardRows, channelRows: classicRows + shardRows, subscribers }, classicNames, shardNames };
}

/**
 * Compares one tool's result with the plan; returns one line per problem found, none when all agree.
 * @param {Counts} got
 * @param {Counts} expected
 */
export function compareCounts(got, expected) {
  const problems = [];
  if (got.classicRows !== expected.classicRows) problems.push(`classic channel rows: got ${got.classicRows}, expected ${expected.classicRows}`);
  if (got.shardRows !== expected.shardRows) problems.push(`shard channel rows: got ${got.shardRows}, expected ${expected.shardRows}`);
  if (got.subscribers !== expected.subscribers) problems.push(`sum of subscribers: got ${got.subscribers}, expected ${expected.subscribers}`);
  let wrong = 0;
  const examples = [];
  for (const [key, want] of expected.perChannel) {
    const have = got.perChannel.get(key) ?? 0;
    if (have !== want) {
      wrong++;
      if (examples.length < 5) examples.push(`${key.replace('\0', ' ')} ${have} (expected ${want})`);
    }
  }
  for (const key of got.perChannel.keys()) {
    if (!expected.perChannel.has(key)) {
      wrong++;
      if (examples.length < 5) examples.push(`${key.replace('\0', ' ')} is not one of ours (${got.perChannel.get(key)})`);
    }
  }
  if (wrong > 0) problems.push(`${wrong} channels with a wrong count, e.g. ${examples.join('; ')}`);
  return problems;
}

/**
 * The totals of a per-channel map, as compareCounts takes them.
 * @param {Map<string, number>} perChannel
 * @returns {Counts}
 */
export function countsOf(perChannel) {
  let classicRows = 0;
  let shardRows = 0;
  let subscribers = 0;
  for (const [key, n] of perChannel) {
    if (key.startsWith('shard\0')) shardRows++;
    else classicRows++;
    subscribers += n;
  }
  return { perChannel, classicRows, shardRows, subscribers };
}

/**
 * In a helper process: opens the planned connections and subscribes each its channels; resolves once
 * every subscription is confirmed. The connections stay open until the process ends.
 * @param {ConnectionPlan[]} connections
 * @param {string} connectionName  what CLIENT LIST shows for them
 */
export async function subscribePlan(connections, connectionName) {
  await Promise.all(connections.map(async ({ port, classic, shard }) => {
    const client = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectionName });
    // A lost connection fails the subscribe that needed it, or shows in the parent's counts.
    client.on('error', () => {});
    await client.connect();
    const calls = [];
    for (let i = 0; i < classic.length; i += NAMES_PER_CALL) calls.push(client.subscribe(...classic.slice(i, i + NAMES_PER_CALL)));
    // Names in one SSUBSCRIBE must share a slot: one per call, all sent at once (ioredis pipelines them).
    for (const name of shard) calls.push(client.ssubscribe(name));
    await Promise.all(calls);
  }));
}
