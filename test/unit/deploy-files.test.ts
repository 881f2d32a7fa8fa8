// The Prometheus rules, their promtool tests and the Grafana dashboard under deploy/: promtool accepts the rules
// and their tests pass, every alert has tests, and every metric they query is one the exporter serves.
import { describe, it, expect } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Registry, collectDefaultMetrics } from 'prom-client';
import YAML from 'yaml';
import { EXPORTER_METRICS, type MetricSpec } from '../../src/render/metric-catalog.js';
import { promqlMetricNames } from '../helpers/promql-names.js';

const DEPLOY = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../deploy');
const RULES = path.join(DEPLOY, 'prometheus/pubsub-mon.rules.yml');
const RULES_TEST = path.join(DEPLOY, 'prometheus/pubsub-mon.rules.test.yml');
const DASHBOARD = path.join(DEPLOY, 'grafana/pubsub-mon.dashboard.json');

interface Rule {
  alert?: string;
  record?: string;
  expr: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RulesFile {
  groups: { name: string; rules: Rule[] }[];
}
interface AlertRuleTest {
  eval_time: string;
  alertname: string;
  exp_alerts?: unknown[] | null;
}
interface RulesTestFile {
  tests: { input_series: { series: string }[]; alert_rule_test?: AlertRuleTest[] }[];
}
interface Target {
  expr?: string;
}
interface Panel {
  type: string;
  title?: string;
  targets?: Target[];
  panels?: Panel[];
}
interface Dashboard {
  panels: Panel[];
  templating: { list: { type: string; name: string; query?: string | { query?: string } }[] };
}

const execFileP = promisify(execFile);

/** Runs promtool; a missing promtool fails the test (these files ship, so they must be checked) rather than skipping. */
async function promtool(...args: string[]): Promise<string> {
  try {
    const { stdout, stderr } = await execFileP('promtool', args, { timeout: 30_000 });
    return stdout + stderr;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stdout?: string; stderr?: string };
    if (e.code === 'ENOENT') {
      throw new Error("promtool is not on PATH: install Debian's `prometheus` package (apt-get install prometheus), which provides /usr/bin/promtool");
    }
    throw new Error(`promtool ${args.join(' ')} failed (${String(e.code ?? e.message)}):\n${e.stdout ?? ''}${e.stderr ?? ''}`);
  }
}

async function readYaml<T>(file: string): Promise<T> {
  return YAML.parse(await readFile(file, 'utf8')) as T;
}

const HISTOGRAM_SUFFIXES = ['_bucket', '_sum', '_count'];

function familySeries(name: string, type: string): string[] {
  return type === 'histogram' ? [name, ...HISTOGRAM_SUFFIXES.map((s) => name + s)] : [name];
}

/**
 * Series names the exporter's /metrics can hold: its catalog (EXPORTER_METRICS, not CHECK_METRICS, which also holds
 * check-only names the exporter never serves) and prom-client's defaults, read from prom-client itself.
 */
async function servedSeries(): Promise<Set<string>> {
  const register = new Registry();
  collectDefaultMetrics({ register });
  // prom-client declares `type` as a numeric enum, but the objects carry the type's name ('histogram').
  const defaults = (await register.getMetricsAsJSON()).map((m) => familySeries(m.name, String(m.type)));
  const ours = Object.values(EXPORTER_METRICS).map((m: MetricSpec) => familySeries(m.name, m.type));
  return new Set([...ours, ...defaults].flat());
}

/** Prometheus records `up` for every target it scrapes; the exporter-down alert is built on it. */
const SCRAPE_SERIES = new Set(['up']);

function unserved(names: Iterable<string>, served: Set<string>): string[] {
  return [...names].filter((n) => !served.has(n) && !SCRAPE_SERIES.has(n));
}

function alerts(rules: RulesFile): Rule[] {
  return rules.groups.flatMap((g) => g.rules).filter((r) => r.alert !== undefined);
}

function allPanels(panels: Panel[]): Panel[] {
  return panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
}

function dashboardExprs(d: Dashboard): string[] {
  return allPanels(d.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr ?? '').filter((e) => e !== ''));
}

function templatingQueries(d: Dashboard): string[] {
  return d.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => (typeof v.query === 'string' ? v.query : (v.query?.query ?? '')))
    .filter((q) => q !== '');
}

describe('Prometheus rules', () => {
  it('pass promtool check rules', async () => {
    const rules = await readYaml<RulesFile>(RULES);
    const count = rules.groups.reduce((n, g) => n + g.rules.length, 0);
    const out = await promtool('check', 'rules', RULES);
    expect(out).toContain(`SUCCESS: ${count} rules found`);
  });

  it('pass their promtool unit tests', async () => {
    const out = await promtool('test', 'rules', RULES_TEST);
    expect(out).toMatch(/^\s*SUCCESS\s*$/m);
    expect(out).not.toContain('FAILED');
  });

  it('query only served metrics', async () => {
    const rules = await readYaml<RulesFile>(RULES);
    const served = await servedSeries();
    const exprs = rules.groups.flatMap((g) => g.rules.map((r) => r.expr));
    const used = new Set(exprs.flatMap((e) => [...promqlMetricNames(e)]));
    expect(used).toContain('pubsub_mon_contract_status');
    expect(unserved(used, served)).toEqual([]);
  });

  it('give every alert a severity, a summary and a description', async () => {
    const list = alerts(await readYaml<RulesFile>(RULES));
    expect(list.length).toBeGreaterThan(0);
    for (const a of list) {
      expect(a.labels?.severity, a.alert).toMatch(/^(critical|warning|info)$/);
      expect(a.annotations?.summary, a.alert).toBeTruthy();
      expect(a.annotations?.description, a.alert).toBeTruthy();
    }
  });

  it('have tests that see every alert fire and stay quiet', async () => {
    const names = alerts(await readYaml<RulesFile>(RULES)).map((a) => a.alert ?? '');
    const cases = (await readYaml<RulesTestFile>(RULES_TEST)).tests.flatMap((t) => t.alert_rule_test ?? []);
    const firing = new Set(cases.filter((c) => (c.exp_alerts ?? []).length > 0).map((c) => c.alertname));
    const quiet = new Set(cases.filter((c) => (c.exp_alerts ?? []).length === 0).map((c) => c.alertname));
    expect(names.filter((n) => !firing.has(n))).toEqual([]);
    expect(names.filter((n) => !quiet.has(n))).toEqual([]);
    // A test of a misspelt alert expects nothing and passes whatever the rules say.
    expect(cases.map((c) => c.alertname).filter((n) => !names.includes(n))).toEqual([]);
  });

  it('are tested with served series only', async () => {
    const served = await servedSeries();
    const series = (await readYaml<RulesTestFile>(RULES_TEST)).tests.flatMap((t) => t.input_series.map((s) => s.series));
    const used = new Set(series.flatMap((s) => [...promqlMetricNames(s)]));
    expect(used.size).toBeGreaterThan(5);
    expect(unserved(used, served)).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  async function dashboard(): Promise<Dashboard> {
    return JSON.parse(await readFile(DASHBOARD, 'utf8')) as Dashboard;
  }

  it('has a query on every panel, including those inside collapsed rows', async () => {
    const d = await dashboard();
    const panels = allPanels(d.panels).filter((p) => p.type !== 'row');
    const nested = d.panels.flatMap((p) => p.panels ?? []);
    expect(nested.length).toBeGreaterThan(0);
    for (const p of panels) expect((p.targets ?? []).some((t) => (t.expr ?? '') !== ''), p.title).toBe(true);
  });

  it('queries only served metrics', async () => {
    const d = await dashboard();
    const served = await servedSeries();
    const used = new Set([...dashboardExprs(d), ...templatingQueries(d)].flatMap((e) => [...promqlMetricNames(e)]));
    expect(used).toContain('pubsub_mon_channel_subscribers');
    expect(used).toContain('pubsub_mon_exporter_poll_duration_seconds_bucket');
    expect(unserved(used, served)).toEqual([]);
  });

  it('has PromQL that promtool parses', async () => {
    // Grafana variables replaced by plausible values, each expression a recording rule for promtool check rules.
    const exprs = dashboardExprs(await dashboard()).map((e) =>
      e.replace(/\$__(rate_interval|interval|range)\b/g, '5m').replace(/\$\{\w+\}|\$\w+/g, 'x'),
    );
    const file = { groups: [{ name: 'dashboard', rules: exprs.map((expr, i) => ({ record: `dashboard:expr_${i}`, expr })) }] };
    const dir = await mkdtemp(path.join(os.tmpdir(), 'pubsub-mon-dashboard-'));
    try {
      const rulesFile = path.join(dir, 'dashboard.rules.yml');
      await writeFile(rulesFile, YAML.stringify(file));
      expect(await promtool('check', 'rules', rulesFile)).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
