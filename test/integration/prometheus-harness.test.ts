// The Prometheus harness itself, against a tiny exposition server the test controls: no Redis involved.
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startPrometheus, type PrometheusOptions, type PrometheusServer } from '../helpers/prometheus.js';
import { childrenOf, commandLine, isAlive } from '../helpers/processes.js';
import { findFreePorts } from '../../src/sandbox/ports.js';

// Generous: two cores, and other test files may be starting servers at the same time.
const SEEN_MS = 30_000;

/** Serves `body` at /metrics as the text exposition format; the test changes `body` at will. */
interface Exposition {
  body: string;
  /** host:port, as a scrape target. */
  target: string;
  close(): Promise<void>;
}

async function startExposition(body: string): Promise<Exposition> {
  const state = { body };
  const server = http.createServer((req, res) => {
    if (req.url !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(state.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    get body() {
      return state.body;
    },
    set body(text: string) {
      state.body = text;
    },
    target: `127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Prometheus keeps its scrape connection open: close it, or close() waits for it.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const demo = (value: number) => `# TYPE demo_value gauge\ndemo_value{x="a"} ${value}\n`;

// Everything a test started, stopped after it whether it passed or not.
const servers: PrometheusServer[] = [];
const expositions: Exposition[] = [];
const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await Promise.all(expositions.splice(0).map((e) => e.close()));
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

async function prometheus(options: PrometheusOptions): Promise<PrometheusServer> {
  const server = await startPrometheus(options);
  servers.push(server);
  return server;
}

async function exposition(body: string): Promise<Exposition> {
  const e = await startExposition(body);
  expositions.push(e);
  return e;
}

/** A rules file in a temp dir of its own, removed after the test. */
function rulesFile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-rules-test-'));
  dirs.push(dir);
  const file = path.join(dir, 'rules.yml');
  fs.writeFileSync(file, text);
  return file;
}

/** The single value of `promql` once it has one equal to `want`, else undefined (for waitFor). */
function valueIs(prom: PrometheusServer, promql: string, want: number) {
  return async () => {
    const samples = await prom.query(promql);
    return samples.length === 1 && samples[0]!.value === want ? samples : undefined;
  };
}

/** The Prometheus children of this process (the servers a test started). */
function prometheusChildren(): number[] {
  return childrenOf(process.pid)
    .filter((p) => p.comm === 'prometheus')
    .map((p) => p.pid);
}

describe('startPrometheus', () => {
  it('scrapes a target within seconds and sees its value change', async () => {
    const expo = await exposition(demo(3));
    const prom = await prometheus({ jobs: [{ job: 'demo', targets: [expo.target] }] });
    expect(prom.url).toBe(`http://127.0.0.1:${prom.port}`);

    const first = await prom.waitFor('demo_value 3', valueIs(prom, 'demo_value', 3), SEEN_MS);
    expect(first).toEqual([{ metric: { __name__: 'demo_value', x: 'a', job: 'demo', instance: expo.target }, value: 3 }]);

    expo.body = demo(5);
    const second = await prom.waitFor('demo_value 5', valueIs(prom, 'demo_value', 5), SEEN_MS);
    expect(second[0]!.metric.x).toBe('a');
  });

  it('evaluates rule files: an alert is inactive while the value is low, and active once it rises', async () => {
    const expo = await exposition(demo(3));
    // Rules of a group run in order: once the recording rule shows 3, the alert has been evaluated on 3.
    const rules = rulesFile(`groups:
  - name: demo
    rules:
      - alert: DemoHigh
        expr: demo_value > 4
        for: 0s
        labels:
          severity: test
      - record: demo_value:evaluated
        expr: demo_value
`);
    const prom = await prometheus({ jobs: [{ job: 'demo', targets: [expo.target] }], ruleFiles: [rules] });

    await prom.waitFor('the rules to run on demo_value 3', valueIs(prom, 'demo_value:evaluated', 3), SEEN_MS);
    expect(await prom.alerts()).toEqual([]);
    expect(await prom.query('ALERTS')).toEqual([]);

    expo.body = demo(5);
    const alerts = await prom.waitFor(
      'DemoHigh to be pending or firing',
      async () => {
        const active = (await prom.alerts()).filter((a) => a.labels.alertname === 'DemoHigh');
        return active.length > 0 ? active : undefined;
      },
      SEEN_MS,
    );
    expect(alerts).toHaveLength(1);
    expect(['pending', 'firing']).toContain(alerts[0]!.state);
    expect(alerts[0]!.labels).toMatchObject({ alertname: 'DemoHigh', severity: 'test', x: 'a', job: 'demo' });
  });

  it('reports a live target up and one on a closed port down, with the reason', async () => {
    const expo = await exposition(demo(1));
    const [closedPort] = (await findFreePorts(1)) as [number];
    const closed = `127.0.0.1:${closedPort}`;
    const prom = await prometheus({
      jobs: [
        { job: 'demo', targets: [expo.target] },
        { job: 'nothing-there', targets: [closed] },
      ],
    });
    const targets = await prom.waitFor(
      'both targets scraped',
      async () => {
        const all = await prom.targets();
        return all.length === 2 && all.every((t) => t.health !== 'unknown') ? all : undefined;
      },
      SEEN_MS,
    );
    const byJob = Object.fromEntries(targets.map((t) => [t.job, t]));
    expect(byJob.demo).toMatchObject({ health: 'up', lastError: '', scrapeUrl: `http://${expo.target}/metrics` });
    expect(byJob['nothing-there']).toMatchObject({ health: 'down', scrapeUrl: `http://${closed}/metrics` });
    expect(byJob['nothing-there']!.lastError).toMatch(/connection refused/);
  });

  it('rejects a bad query with what Prometheus said', async () => {
    const prom = await prometheus({});
    await expect(prom.query('sum(')).rejects.toThrow(/query "sum\(" failed: .*bad_data: .*parse error/);
    // A scalar answer is a sample without labels.
    expect(await prom.query('1 + 1')).toEqual([{ metric: {}, value: 2 }]);
  });

  it('stops its process and removes its directory, and stopping twice is fine', async () => {
    const prom = await prometheus({});
    expect(prometheusChildren()).toContain(prom.pid);
    expect(commandLine(prom.pid)).toContain(`--storage.tsdb.path=${prom.dir}/data`);
    expect(fs.existsSync(path.join(prom.dir, 'prometheus.yml'))).toBe(true);
    // The watchdog that would kill it if this process died first.
    const watchdog = childrenOf(process.pid).find((p) => p.comm === 'sh' && commandLine(p.pid).includes(prom.dir));
    expect(watchdog).toBeDefined();

    await prom.stop();
    await prom.stop();
    expect(() => process.kill(prom.pid, 0)).toThrow(expect.objectContaining({ code: 'ESRCH' }));
    expect(fs.existsSync(prom.dir)).toBe(false);
    await expect.poll(() => isAlive(watchdog!.pid), { timeout: 5000 }).toBe(false);
    await expect(fetch(`${prom.url}/-/ready`)).rejects.toThrow();
  });

  it('fails fast on an invalid rules file, quoting Prometheus, and leaves no process behind', async () => {
    const rules = rulesFile(`groups:
  - name: broken
    rules:
      - alert: Broken
        expr: demo_value >
`);
    const started = Date.now();
    const failure = startPrometheus({ ruleFiles: [rules] });
    await expect(failure).rejects.toThrow(/stopped at start \(exit code 1\)[\s\S]*could not parse expression/);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(prometheusChildren()).toEqual([]);
  });

  it('refuses a relative or missing rules path before starting anything', async () => {
    await expect(startPrometheus({ ruleFiles: ['rules.yml'] })).rejects.toThrow(/absolute path/);
    // Prometheus itself would start and evaluate nothing: rule_files are globs, and this one matches nothing.
    await expect(startPrometheus({ ruleFiles: [path.join(os.tmpdir(), 'pubsub-mon-no-such-rules.yml')] })).rejects.toThrow(/no rule file at/);
    expect(prometheusChildren()).toEqual([]);
  });
});
