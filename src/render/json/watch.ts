// The `watch --json` document: one line per refresh. This file is the public contract of that output.
import type { ChannelRow, NodeRow, Snapshot } from '../../stats/snapshot.js';
import type { SubscriberClient } from '../../stats/subscriber-clients.js';
import { jsonName, known, round2, type NameJson } from './numbers.js';

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
export interface ChannelJson extends NameJson {
  kind: 'channel' | 'shard';
  subscribers: number;
  slot?: number | null;
  shard?: string | null;
  rate: number | null;
  /** "bench" for the channels of a pubsub-mon bench run (real subscribers, pubsub-mon's own), "control" for its agents' control channels; absent otherwise. */
  pubsub_mon?: 'bench' | 'control';
  /** With --contract, for the channels it covers: their status and why. */
  contract?: { status: 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN'; reason: string };
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

/**
 * One subscriber connection (`watch --view clients --json`). Every key is always present; null means
 * the server did not report it (`lib_name`/`lib_ver` before Redis 7.2 or when the client library did
 * not set them, `ssub` before 7.0.3), never 0. `age` and `idle` are seconds, `omem` bytes queued for
 * the client, to be read against its node's `pubsub_limit`. `reconnects` counts reconnections of
 * the connection's identity (its name, or its host when unnamed) on its node in the last minute;
 * `flapping` is true from 2 of them.
 */
export interface ClientJson {
  node: string;
  node_role: 'primary' | 'replica';
  /** CLIENT LIST id, unique on its node (what CLIENT KILL ID takes). */
  id: string;
  addr: string;
  /** '' for a connection that set no name (the server reported it: nothing is unknown). */
  name: string;
  lib_name: string | null;
  lib_ver: string | null;
  sub: number | null;
  psub: number | null;
  ssub: number | null;
  omem: number | null;
  age: number | null;
  idle: number | null;
  flapping: boolean;
  reconnects: number;
}

/**
 * The stable `watch --json` document. With the clients view it also carries `clients` (largest
 * output buffer first: pubsub-mon's own connections are never in it, replicas' subscribers are),
 * `clients_unknown_nodes` (nodes that are up but whose CLIENT LIST was refused or not read: `clients`
 * lacks theirs, so an empty list there does not mean "no subscribers") and `flapping` (how many
 * subscriber identities keep reconnecting).
 */
export interface SnapshotJson {
  time: string;
  mode: 'standalone' | 'cluster';
  publish_per_sec: number | null;
  patterns_present: boolean;
  channels: ChannelJson[];
  nodes: NodeJson[];
  clients?: ClientJson[];
  clients_unknown_nodes?: string[];
  flapping?: number;
  warnings: string[];
}

export interface SnapshotJsonOptions {
  /** Add `clients`, `clients_unknown_nodes` and `flapping` (the clients view). @default false */
  clients?: boolean;
}

/** Rates are measured over about a second: more than two decimals would only be noise. */
function knownRate(n: number | undefined): number | null {
  const v = known(n);
  return v === null ? null : round2(v);
}

function channelJson(c: ChannelRow, mode: Snapshot['mode']): ChannelJson {
  const out: ChannelJson = { ...jsonName(c.name), kind: c.kind, subscribers: c.subscribers, rate: knownRate(c.rate), ...(c.pubsubMon ? { pubsub_mon: c.pubsubMon } : {}), ...(c.contract ? { contract: { ...c.contract } } : {}) };
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

function clientJson(c: SubscriberClient): ClientJson {
  return {
    node: c.node,
    node_role: c.nodeRole,
    id: c.id,
    addr: c.addr,
    name: c.name,
    lib_name: c.libName ?? null,
    lib_ver: c.libVer ?? null,
    sub: known(c.sub),
    psub: known(c.psub),
    ssub: known(c.ssub),
    omem: known(c.omem),
    age: known(c.age),
    idle: known(c.idle),
    flapping: c.flapping,
    reconnects: c.reconnects,
  };
}

/** The snapshot as the stable JSON shape; strings are raw (JSON escapes control characters itself). */
export function snapshotToJson(s: Snapshot, options: SnapshotJsonOptions = {}): SnapshotJson {
  return {
    time: new Date(s.time).toISOString(),
    mode: s.mode,
    publish_per_sec: knownRate(s.publishPerSec),
    patterns_present: s.patternsPresent,
    channels: s.channels.map((c) => channelJson(c, s.mode)),
    nodes: s.nodes.map(nodeJson),
    ...(options.clients ? { clients: s.clients.map(clientJson), clients_unknown_nodes: [...s.clientsUnknown], flapping: s.flapping } : {}),
    warnings: [...s.warnings],
  };
}
