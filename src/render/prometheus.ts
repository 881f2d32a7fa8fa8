// Prometheus exposition through prom-client: families from the metric catalog, label values made safe, check results as metrics.
import { Counter, Gauge, Registry } from 'prom-client';
import { EXIT_CODES, type ChannelVerdict, type CheckResult } from '../stats/check.js';
import type { PatternOutcome } from '../stats/contract.js';
import { escapeText } from './escape.js';
import { CHECK_METRICS, type MetricSpec } from './metric-catalog.js';

/**
 * A label value from a server (a channel or client name): shown as people see it everywhere else
 * (escapeText: bytes that are not UTF-8 as \xNN, no control, bidi or invisible character), so the
 * exposition stays valid UTF-8 and a name copied from it names the same bytes again. prom-client
 * then escapes `\`, `"` and newline as the format asks.
 */
export function labelValue(value: string): string {
  return escapeText(value);
}

export function gauge(registry: Registry, spec: MetricSpec): Gauge {
  if (spec.type !== 'gauge') throw new Error(`${spec.name} is a ${spec.type}, not a gauge`);
  return new Gauge({ name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] });
}

export function counter(registry: Registry, spec: MetricSpec): Counter {
  if (spec.type !== 'counter') throw new Error(`${spec.name} is a ${spec.type}, not a counter`);
  return new Counter({ name: spec.name, help: spec.help, labelNames: [...spec.labels], registers: [registry] });
}

function channelLabels(v: Pick<ChannelVerdict, 'name' | 'kind'>): { channel: string; kind: string } {
  return { channel: labelValue(v.name), kind: v.kind };
}

/** The contract series of judged channels (those with their own thresholds) and of pattern entries. */
export function addContractMetrics(registry: Registry, verdicts: readonly ChannelVerdict[], patterns: readonly PatternOutcome[]): void {
  const judged = verdicts.filter((v) => v.ownThresholds);
  if (judged.length === 0 && patterns.length === 0) return;
  const min = gauge(registry, CHECK_METRICS.contractMinSubscribers);
  const warn = gauge(registry, CHECK_METRICS.contractWarnSubscribers);
  const minRate = gauge(registry, CHECK_METRICS.contractMinRate);
  const status = gauge(registry, CHECK_METRICS.contractStatus);
  for (const v of judged) {
    const labels = channelLabels(v);
    min.set(labels, v.thresholds.min);
    if (v.thresholds.warn !== undefined) warn.set(labels, v.thresholds.warn);
    if (v.thresholds.minRate !== undefined) minRate.set(labels, v.thresholds.minRate);
    status.set(labels, EXIT_CODES[v.status]);
  }
  const matches = gauge(registry, CHECK_METRICS.contractPatternMatches);
  const patternStatus = gauge(registry, CHECK_METRICS.contractPatternStatus);
  for (const p of patterns) {
    const labels = { pattern: labelValue(p.pattern), kind: p.kind };
    matches.set(labels, p.matches);
    patternStatus.set(labels, EXIT_CODES[p.status]);
  }
}

/** `check --format prometheus`: for node_exporter's textfile collector or a Pushgateway. */
export async function checkMetricsText(result: CheckResult, patterns: readonly PatternOutcome[] = []): Promise<string> {
  const registry = new Registry();
  gauge(registry, CHECK_METRICS.checkStatus).set(EXIT_CODES[result.status]);
  gauge(registry, CHECK_METRICS.checkMinSubscribers).set(result.minSubscribers);
  // NaN is the exposition's "no value": the count is unknown, and 0 would claim there are none.
  gauge(registry, CHECK_METRICS.patternSubscriptions).set(result.patternsUnknown ? NaN : result.patternSubscriptions);
  const subscribers = gauge(registry, CHECK_METRICS.channelSubscribers);
  const status = gauge(registry, CHECK_METRICS.channelStatus);
  for (const v of result.verdicts) {
    subscribers.set(channelLabels(v), v.subscribers);
    status.set(channelLabels(v), EXIT_CODES[v.status]);
  }
  addContractMetrics(registry, result.verdicts, patterns);
  return registry.metrics();
}
