// Turns CLUSTER SHARDS (7.0+) or CLUSTER NODES (older servers) into every node of a cluster, replicas too.
import { Buffer } from 'node:buffer';
import type { TopologyNode } from './topology.js';
import { MalformedReplyError } from './malformed-reply.js';

/** A node as the cluster describes it, with the server's own view of its health. */
export type ClusterNode = TopologyNode & {
  /** `online`, `failed` or `loading`; CLUSTER NODES only tells `online` from `failed`. */
  health?: string;
};

/** A scalar from the reply as text; ioredis hands back Buffers when asked to, so accept them too. */
function asText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}

function asInteger(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isInteger(value) ? value : undefined;
  const text = asText(value);
  return text !== undefined && /^\d+$/.test(text) ? Number(text) : undefined;
}

/** A RESP2 map arrives as `[key, value, key, value...]`. */
function flatPairs(value: unknown): Map<string, unknown> | undefined {
  if (!Array.isArray(value)) return undefined;
  const pairs = new Map<string, unknown>();
  for (let i = 0; i + 1 < value.length; i += 2) {
    const key = asText(value[i]);
    if (key !== undefined) pairs.set(key, value[i + 1]);
  }
  return pairs;
}

function slotPairs(values: number[]): Array<[number, number]> {
  const pairs: Array<[number, number]> = [];
  for (let i = 0; i + 1 < values.length; i += 2) {
    pairs.push([values[i] ?? 0, values[i + 1] ?? 0]);
  }
  return pairs;
}

/** CLUSTER SHARDS says `fail` (7.0.15) where its documentation says `failed`: report one spelling. */
function normaliseHealth(health: string | undefined): string | undefined {
  return health === 'fail' ? 'failed' : health;
}

interface ShardMember {
  id: string;
  host: string;
  port: number;
  isPrimary: boolean;
  health?: string;
}

function parseShardMember(value: unknown, selfId: string | undefined): ShardMember | undefined {
  const fields = flatPairs(value);
  if (fields === undefined) return undefined;
  const id = asText(fields.get('id'));
  const ip = asText(fields.get('ip'));
  const host = ip !== undefined && ip !== '' ? ip : asText(fields.get('endpoint'));
  // `port` is the plain-text port; a TLS-only node lists just `tls-port`.
  const port = asInteger(fields.get('port')) || asInteger(fields.get('tls-port'));
  // The node asked leaves its own address empty until a peer has told it (a cluster of one node):
  // kept with an empty host, which the caller fills with the address it reached that node at.
  const self = id !== undefined && id === selfId && (host === undefined || host === '');
  if (id === undefined || id === '' || ((host === undefined || host === '') && !self) || host === '?' || !port) {
    return undefined;
  }
  const member: ShardMember = { id, host: host ?? '', port, isPrimary: asText(fields.get('role')) === 'master' };
  const health = normaliseHealth(asText(fields.get('health')));
  if (health !== undefined) member.health = health;
  return member;
}

/**
 * Every node from the raw reply of CLUSTER SHARDS. Nodes without a usable address are left out.
 * A shard caught mid-failover may have no primary: its replicas then stand as shards of their own
 * (shardId = their id, no primaryId) rather than being dropped.
 */
export function parseClusterShards(reply: unknown, selfId?: string): ClusterNode[] {
  if (!Array.isArray(reply)) throw new MalformedReplyError('CLUSTER SHARDS reply is not an array');
  const nodes: ClusterNode[] = [];
  for (const shardValue of reply) {
    const shard = flatPairs(shardValue);
    if (shard === undefined) continue;
    const rawSlots = shard.get('slots');
    const slotNumbers = Array.isArray(rawSlots)
      ? rawSlots.map(asInteger).filter((n): n is number => n !== undefined)
      : [];
    const slots = slotPairs(slotNumbers);
    const rawMembers = shard.get('nodes');
    const members = (Array.isArray(rawMembers) ? rawMembers : [])
      .map((m) => parseShardMember(m, selfId))
      .filter((m): m is ShardMember => m !== undefined);
    const primary = members.find((m) => m.isPrimary);
    for (const member of members) {
      const node: ClusterNode = {
        id: member.id,
        host: member.host,
        port: member.port,
        address: `${member.host}:${member.port}`,
        role: member.isPrimary ? 'primary' : 'replica',
        slots: slots.map(([start, end]): [number, number] => [start, end]),
        shardId: primary?.id ?? member.id,
      };
      if (!member.isPrimary && primary !== undefined) node.primaryId = primary.id;
      if (member.health !== undefined) node.health = member.health;
      nodes.push(node);
    }
  }
  return nodes;
}

/**
 * `127.0.0.1:7000@17000,host.example` or `::1:7000@17000`: host and port come before the '@'. With
 * `self`, an empty host is kept (the node asked, before any peer told it its address).
 */
function parseNodeAddress(field: string, self = false): { host: string; port: number } | undefined {
  const comma = field.indexOf(',');
  const withBusPort = comma === -1 ? field : field.slice(0, comma);
  const at = withBusPort.indexOf('@');
  const hostPort = at === -1 ? withBusPort : withBusPort.slice(0, at);
  // IPv6 hosts contain ':' themselves; the port is always after the last one.
  const colon = hostPort.lastIndexOf(':');
  if (colon === -1) return undefined;
  let host = hostPort.slice(0, colon);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  const port = asInteger(hostPort.slice(colon + 1));
  if ((host === '' && !self) || !port) return undefined;
  return { host, port };
}

/** `N` or `N-M`; `[slot->-id]` and `[slot-<-id]` mark slots in migration and are not owned ranges. */
function parseSlotRanges(fields: string[]): Array<[number, number]> {
  const ranges: Array<[number, number]> = [];
  for (const field of fields) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(field);
    if (match === null) continue;
    const start = Number(match[1]);
    ranges.push([start, match[2] === undefined ? start : Number(match[2])]);
  }
  return ranges;
}

interface NodesLine {
  id: string;
  host: string;
  port: number;
  isPrimary: boolean;
  masterId?: string;
  failed: boolean;
  slots: Array<[number, number]>;
}

function parseNodesLine(line: string): NodesLine | undefined {
  const fields = line.split(' ').filter((f) => f !== '');
  const [id, addressField, flagsField, masterField] = fields;
  if (fields.length < 8 || id === undefined || addressField === undefined || flagsField === undefined) {
    return undefined;
  }
  const flags = new Set(flagsField.split(','));
  // Nodes still in handshake or without an address cannot be connected to yet.
  if (flags.has('noaddr') || flags.has('handshake')) return undefined;
  const isPrimary = flags.has('master');
  if (!isPrimary && !flags.has('slave')) return undefined;
  const address = parseNodeAddress(addressField, flags.has('myself'));
  if (address === undefined) return undefined;
  const parsed: NodesLine = {
    ...address,
    id,
    isPrimary,
    failed: flags.has('fail') || flags.has('fail?'),
    slots: parseSlotRanges(fields.slice(8)),
  };
  if (!isPrimary && masterField !== undefined && masterField !== '-') parsed.masterId = masterField;
  return parsed;
}

/**
 * Every node from the text of CLUSTER NODES. A replica takes its slots and shardId from its primary;
 * one whose primary is not named gets its own id as shardId.
 */
export function parseClusterNodes(text: string): ClusterNode[] {
  const lines: NodesLine[] = [];
  for (const rawLine of text.split('\n')) {
    const parsed = parseNodesLine(rawLine.trim());
    if (parsed !== undefined) lines.push(parsed);
  }
  const slotsById = new Map(lines.filter((l) => l.isPrimary).map((l) => [l.id, l.slots]));
  return lines.map((line): ClusterNode => {
    const shardId = line.masterId ?? line.id;
    const node: ClusterNode = {
      id: line.id,
      host: line.host,
      port: line.port,
      address: `${line.host}:${line.port}`,
      role: line.isPrimary ? 'primary' : 'replica',
      slots: (line.isPrimary ? line.slots : slotsById.get(shardId) ?? []).map(
        ([start, end]): [number, number] => [start, end],
      ),
      shardId,
      health: line.failed ? 'failed' : 'online',
    };
    if (line.masterId !== undefined) node.primaryId = line.masterId;
    return node;
  });
}

/** Where a `MOVED <slot> <host>:<port>` error reply sends a slot, or undefined for any other error. */
export function parseMoved(message: string): { slot: number; address: string } | undefined {
  const m = /\bMOVED (\d+) (\S+:\d+)/.exec(message);
  return m ? { slot: Number(m[1]), address: m[2]! } : undefined;
}
