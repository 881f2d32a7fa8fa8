// The `watch --json` document: one line per refresh. This file is the public contract of that output.
import type { ChannelRow, NodeRow, Snapshot } from '../../stats/snapshot.js';
import { known, round2 } from './numbers.js';

/** `client-output-buffer-limit pubsub` as JSON. */
export interface OutputBufferLimitJson {
  hard_bytes: number;
  soft_bytes: number;
  soft_seconds: number;
}

/**
 * One channel. `slot`/`shard` appear only where they apply (shard channels of a cluster) and are
 * null there when unknown; `rate` is null when rates are off or not measured yet.
 */
export interface ChannelJson {
  name: string;
  kind: 'channel' | 'shard';
  subscribers: number;
  slot?: number | null;
  shard?: string | null;
  rate: number | null;
}

/** One node. Every metric key is always present; null means the server did not report it (or the node is down). */
export interface NodeJson {
  address: string;
  role: 'primary' | 'replica';
  up: boolean;
  error?: string;
  /** true for a node the cluster marked failed whose slots a replica took over (not counted, nothing unknown because of it). */
  replaced: boolean;
  version: string | null;
  clients: number | null;
  pubsub_clients: number | null;
  numpat: number | null;
  ops_per_sec: number | null;
  publish_per_sec: number | null;
  publish_replicated: boolean;
  max_subscriber_omem: number | null;
  pubsub_limit: OutputBufferLimitJson | null;
  obuf_disconnections: number | null;
}

/** The stable `watch --json` document. */
export interface SnapshotJson {
  time: string;
  mode: 'standalone' | 'cluster';
  publish_per_sec: number | null;
  patterns_present: boolean;
  channels: ChannelJson[];
  nodes: NodeJson[];
  warnings: string[];
}

/** Rates are measured over about a second: more than two decimals would only be noise. */
function knownRate(n: number | undefined): number | null {
  const v = known(n);
  return v === null ? null : round2(v);
}

function channelJson(c: ChannelRow, mode: Snapshot['mode']): ChannelJson {
  const out: ChannelJson = { name: c.name, kind: c.kind, subscribers: c.subscribers, rate: knownRate(c.rate) };
  if (c.kind === 'shard' && mode === 'cluster') {
    out.slot = known(c.slot);
    out.shard = c.shard ?? null;
  }
  return out;
}

function nodeJson(n: NodeRow): NodeJson {
  const limit = n.pubsubLimit;
  return {
    address: n.address,
    role: n.role,
    up: n.up,
    ...(n.error !== undefined ? { error: n.error } : {}),
    replaced: n.replaced === true,
    version: n.version ?? null,
    clients: known(n.clients),
    pubsub_clients: known(n.pubsubClients),
    numpat: known(n.numpat),
    ops_per_sec: known(n.opsPerSec),
    publish_per_sec: knownRate(n.publishPerSec),
    publish_replicated: n.publishReplicated === true,
    max_subscriber_omem: known(n.maxSubscriberOmem),
    pubsub_limit: limit
      ? { hard_bytes: limit.hardBytes, soft_bytes: limit.softBytes, soft_seconds: limit.softSeconds }
      : null,
    obuf_disconnections: known(n.obufDisconnections),
  };
}

/** The snapshot as the stable JSON shape; strings are raw (JSON escapes control characters itself). */
export function snapshotToJson(s: Snapshot): SnapshotJson {
  return {
    time: new Date(s.time).toISOString(),
    mode: s.mode,
    publish_per_sec: knownRate(s.publishPerSec),
    patterns_present: s.patternsPresent,
    channels: s.channels.map((c) => channelJson(c, s.mode)),
    nodes: s.nodes.map(nodeJson),
    warnings: [...s.warnings],
  };
}
