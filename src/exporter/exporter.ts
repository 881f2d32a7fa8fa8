// The exporter's state: one poll loop feeding a cached exposition, and what a scrape or a health check is told.
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { channelKey, type Snapshot } from '../stats/snapshot.js';
import { evaluateCheck, snapshotFacts } from '../stats/check.js';
import { contractTargets, patternOutcomes, type Contract } from '../stats/contract.js';
import { boundChannels } from '../stats/cardinality.js';
import { EXPORTER_METRICS as M } from '../render/metric-catalog.js';
import { exporterMetricsText, type ExporterView } from '../render/exporter-metrics.js';

export interface ExporterOptions {
  contract?: Contract;
  /** Per-channel series at most (contract channels always included). @default 1000 */
  maxChannels: number;
  /** Subscriber connections exported by output buffer, the largest first. @default 10 */
  topClients: number;
  /** Time between polls, in ms. @default 15000 */
  intervalMs: number;
  /** Count messages per channel (the monitor samples rates). */
  rates: boolean;
  clock?: () => number;
}

/** What the exporter needs of a monitor: a snapshot per poll. */
export interface SnapshotSource {
  snapshot(): Promise<Snapshot>;
}

/** prom-client defaults that break the Prometheus naming rules (a gauge ending in _total). */
const LINT_FAILING_DEFAULTS = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

/** A snapshot older than this many poll intervals makes /healthz fail. */
const STALE_INTERVALS = 3;

export class Exporter {
  /** The exposition built from the last good snapshot (empty before the first). */
  private text = '';
  private snapshotAt: number | undefined;
  private readonly startedAt: number;
  private readonly clock: () => number;
  /** Messages counted per exported channel: a counter's running total. Channels no longer exported are forgotten, so memory stays flat. */
  private totals = new Map<string, number>();
  private lastProblem: string | undefined;
  /** Self-metrics, live at every scrape. */
  readonly registry = new Registry();
  private readonly pollDuration: Histogram;
  private readonly pollErrors: Counter;
  private readonly lastSuccess: Gauge;

  constructor(
    private readonly source: SnapshotSource,
    private readonly opts: ExporterOptions,
  ) {
    this.clock = opts.clock ?? Date.now;
    this.startedAt = this.clock();
    const registers = [this.registry];
    this.pollDuration = new Histogram({ name: M.pollDuration.name, help: M.pollDuration.help, buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers });
    this.pollErrors = new Counter({ name: M.pollErrors.name, help: M.pollErrors.help, labelNames: [...M.pollErrors.labels], registers });
    this.lastSuccess = new Gauge({ name: M.lastSuccess.name, help: M.lastSuccess.help, registers });
    const age = (): number => this.snapshotAgeSeconds();
    new Gauge({
      name: M.snapshotAge.name,
      help: M.snapshotAge.help,
      registers,
      collect() {
        this.set(age());
      },
    });
    new Gauge({ name: M.pollInterval.name, help: M.pollInterval.help, registers }).set(opts.intervalMs / 1000);
    collectDefaultMetrics({ register: this.registry });
    // Gauges named like counters: `promtool check metrics` rejects them, and the handle counts say little here.
    for (const name of LINT_FAILING_DEFAULTS) this.registry.removeSingleMetric(name);
  }

  snapshotAgeSeconds(): number {
    return (this.clock() - (this.snapshotAt ?? this.startedAt)) / 1000;
  }

  /** One poll: a snapshot of every node, folded into the exposition scrapes are served from. */
  async poll(): Promise<void> {
    const endTimer = this.pollDuration.startTimer();
    try {
      const snapshot = await this.source.snapshot();
      for (const n of snapshot.nodes) if (!n.up && !n.replaced) this.pollErrors.inc({ node: n.address });
      const anyUp = snapshot.nodes.some((n) => n.up);
      // With no node read, every node is up 0 and every count unknown: served, but not a successful poll.
      this.text = await exporterMetricsText(anyUp ? this.view(snapshot) : this.view({ ...snapshot, channels: [], clients: [] }, false));
      if (!anyUp) throw new Error('no node answered');
      this.snapshotAt = this.clock();
      this.lastSuccess.set(this.snapshotAt / 1000);
      this.lastProblem = undefined;
    } catch (err) {
      // The last good exposition keeps being served; its age says how old it is.
      this.pollErrors.inc({ node: '' });
      this.lastProblem = (err as Error).message;
      throw err;
    } finally {
      endTimer();
    }
  }

  /** The view of a snapshot; `counting` false leaves the message counters untouched (and unserved) for a poll that read nothing. */
  private view(s: Snapshot, counting = true): ExporterView {
    const contract = this.opts.contract;
    let judged: ExporterView['contract'];
    const mustKeep = new Set<string>();
    if (contract) {
      const targets = contractTargets(s, contract);
      const result = evaluateCheck({ targets: targets.targets, minSubscribers: 1, ...snapshotFacts(s), unmatchedPatterns: targets.unmatched });
      judged = { verdicts: result.verdicts, patterns: patternOutcomes(targets, result.verdicts, 'CRITICAL', s) };
      for (const t of targets.targets) mustKeep.add(channelKey(t));
    }
    const { kept, omitted } = boundChannels(s.channels, this.opts.maxChannels, (r) => mustKeep.has(channelKey(r)));
    const view: ExporterView = {
      channels: kept,
      known: { channel: s.channels.filter((r) => r.kind === 'channel').length, shard: s.channels.filter((r) => r.kind === 'shard').length },
      omitted,
      nodes: s.nodes,
      topClients: s.clients.slice(0, this.opts.topClients),
      ...(judged ? { contract: judged } : {}),
    };
    if (this.opts.rates && counting) {
      const totals = new Map<string, number>();
      for (const row of kept) {
        const key = channelKey(row);
        const before = this.totals.get(key);
        // A channel is counted from the first window its sampling subscription covered: before that its count is unknown.
        if (row.messages !== undefined) totals.set(key, (before ?? 0) + row.messages);
        else if (before !== undefined) totals.set(key, before);
      }
      this.totals = totals;
      view.messageTotals = totals;
    }
    return view;
  }

  /** The exposition of a scrape: the last poll's series and the live self-metrics. No server is asked. */
  async scrape(): Promise<string> {
    return this.text + (await this.registry.metrics());
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  /** For /healthz: healthy once a poll succeeded, while the snapshot is younger than a few poll intervals. */
  health(): { healthy: boolean; message: string } {
    const age = this.snapshotAgeSeconds();
    const limit = (STALE_INTERVALS * this.opts.intervalMs) / 1000;
    if (this.snapshotAt === undefined) {
      return { healthy: false, message: `no successful poll yet${this.lastProblem !== undefined ? ` (${this.lastProblem})` : ''}` };
    }
    if (age >= limit) return { healthy: false, message: `snapshot is ${age.toFixed(1)} s old (over ${STALE_INTERVALS} intervals)${this.lastProblem !== undefined ? `: ${this.lastProblem}` : ''}` };
    return { healthy: true, message: `ok: snapshot ${age.toFixed(1)} s old` };
  }
}
