// The exporter's view of one snapshot as Prometheus exposition text: channels, nodes, top subscribers and the contract.
import { Registry } from 'prom-client';
import { channelKey, type ChannelRow, type NodeRow } from '../stats/snapshot.js';
import type { SubscriberClient } from '../stats/subscriber-clients.js';
import type { ChannelVerdict } from '../stats/check.js';
import type { PatternOutcome } from '../stats/contract.js';
import { EXPORTER_METRICS as M } from './metric-catalog.js';
import { addContractMetrics, counter, gauge, labelValue } from './prometheus.js';

export interface ExporterView {
  /** The channels exported (already bounded by --max-channels). */
  channels: readonly ChannelRow[];
  /** Messages counted per exported channel since the exporter began following it (key: channelKey); only with --rates. */
  messageTotals?: ReadonlyMap<string, number>;
  /** Channels known per kind, exported or not. */
  known: { channel: number; shard: number };
  omitted: number;
  nodes: readonly NodeRow[];
  topClients: readonly SubscriberClient[];
  contract?: { verdicts: readonly ChannelVerdict[]; patterns: readonly PatternOutcome[] };
}

/** Redis writes 0 for "no limit"; +Inf says that to a comparison (`obuf > 0.5 * limit` never fires). */
function limitBytes(bytes: number): number {
  return bytes === 0 ? Infinity : bytes;
}

function addNodeMetrics(registry: Registry, nodes: readonly NodeRow[]): void {
  const up = gauge(registry, M.nodeUp);
  const info = gauge(registry, M.nodeInfo);
  const clients = gauge(registry, M.nodePubsubClients);
  const patterns = gauge(registry, M.nodePatterns);
  const publishes = counter(registry, M.nodePublishCalls);
  const maxObuf = gauge(registry, M.nodeMaxOutputBuffer);
  const soft = gauge(registry, M.nodeSoftLimit);
  const hard = gauge(registry, M.nodeHardLimit);
  const disconnections = counter(registry, M.nodeObufDisconnections);
  for (const n of nodes) {
    const labels = { node: n.address, role: n.role };
    up.set(labels, n.up ? 1 : 0);
    // A node that is down has no other series: its numbers are unknown, not 0.
    if (!n.up) continue;
    if (n.version !== undefined) info.set({ ...labels, version: labelValue(n.version) }, 1);
    if (n.pubsubClients !== undefined) clients.set(labels, n.pubsubClients);
    if (n.numpat !== undefined) patterns.set(labels, n.numpat);
    if (n.maxSubscriberOmem !== undefined) maxObuf.set(labels, n.maxSubscriberOmem);
    if (n.pubsubLimit) {
      soft.set(labels, limitBytes(n.pubsubLimit.softBytes));
      hard.set(labels, limitBytes(n.pubsubLimit.hardBytes));
    }
    // The server's own counters, as it counts them: Prometheus' rate() and increase() handle its restarts.
    if (n.serverCounters) {
      publishes.inc(labels, n.serverCounters.publishCalls);
      if (n.serverCounters.obufDisconnections !== undefined) disconnections.inc(labels, n.serverCounters.obufDisconnections);
    }
  }
}

/** Series set between two turns of the event loop while an exposition is built. */
const SERIES_PER_TURN = 500;

/**
 * Everything a scrape serves from one poll; built once per poll, so a scrape costs one string copy.
 * Ten thousand channels take tens of milliseconds to set: the build lets the event loop turn every
 * few hundred series, so a scrape that arrives meanwhile is served the previous exposition at once.
 */
export async function exporterMetricsText(view: ExporterView): Promise<string> {
  const registry = new Registry();
  let set = 0;
  const breathe = async (): Promise<void> => {
    if (++set % SERIES_PER_TURN === 0) await nextTurn();
  };
  const subscribers = gauge(registry, M.channelSubscribers);
  for (const row of view.channels) {
    subscribers.set({ channel: labelValue(row.name), kind: row.kind }, row.subscribers);
    await breathe();
  }
  if (view.messageTotals) {
    const messages = counter(registry, M.channelMessages);
    for (const row of view.channels) {
      const total = view.messageTotals.get(channelKey(row));
      if (total !== undefined) messages.inc({ channel: labelValue(row.name), kind: row.kind }, total);
      await breathe();
    }
  }
  const known = gauge(registry, M.channels);
  known.set({ kind: 'channel' }, view.known.channel);
  known.set({ kind: 'shard' }, view.known.shard);
  gauge(registry, M.channelsOmitted).set(view.omitted);
  addNodeMetrics(registry, view.nodes);
  const obuf = gauge(registry, M.clientOutputBuffer);
  for (const c of view.topClients) {
    if (c.omem !== undefined) obuf.set({ node: c.node, addr: labelValue(c.addr), name: labelValue(c.name) }, c.omem);
  }
  if (view.contract) addContractMetrics(registry, view.contract.verdicts, view.contract.patterns);
  // Written family by family, with a turn of the event loop between them (registry.metrics() writes all in one go).
  const families: string[] = [];
  for (const metric of registry.getMetricsAsArray()) {
    families.push(await registry.getSingleMetricAsString(metric.name));
    await nextTurn();
  }
  return `${families.join('\n\n')}\n`;
}

function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
