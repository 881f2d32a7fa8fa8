// A real Prometheus server for integration tests: its own config, data and port in a fresh temp dir, scraping what a test names.
//
// Needs the `prometheus` binary on PATH (Debian: apt-get install prometheus; .ci/run installs it).
// Nothing of a system Prometheus is used: not its config, its data in /var/lib/prometheus, nor its port.
//
// Timing: /-/ready answers within about 0.1 s, but the first scrape comes some 5 s later whatever the
// scrape interval (Prometheus 2.42 hands discovered targets to the scrape manager at most every 5 s),
// so wait for data with waitFor and a timeout of tens of seconds, never a fixed sleep.
//
// Cleanup: call stop() (an afterEach or afterAll). A test that forgets loses nothing for long: like the
// sandbox's redis-servers, each Prometheus is held by a watchdog (src/sandbox/watchdog.ts) that kills
// it and removes its directory when the test process dies, even by SIGKILL, and an exit handler does
// the same when the test process exits normally. Neither the child nor its pipes keep the event loop
// alive, so a forgotten server never holds a worker open either.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { stringify } from 'yaml';
import { findFreePorts } from '../../src/sandbox/ports.js';
import { startWatchdog } from '../../src/sandbox/watchdog.js';

const HOST = '127.0.0.1';
const POLL_MS = 100;
/** How many stderr lines a start failure quotes. */
const STDERR_LINES = 12;

/** One scrape job: Prometheus scrapes `http://<target>/metrics` for each `host:port` target. */
export interface ScrapeJob {
  job: string;
  targets: string[];
}

export interface PrometheusOptions {
  /** One scrape job each, scraped every second. @default [] */
  jobs?: ScrapeJob[];
  /** Absolute paths of existing rule files, evaluated every second. @default [] */
  ruleFiles?: string[];
  /** How long to wait for /-/ready. @default 30000 */
  startTimeoutMs?: number;
  /** @default 'prometheus' */
  binary?: string;
}

/** One element of an instant query's result. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** An alert that is pending or firing (Prometheus lists no others). */
export interface ActiveAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
  /** When it became active (RFC 3339). */
  activeAt: string;
  /** The value of the alert expression's sample, as Prometheus prints it. */
  value: string;
}

export interface ScrapeTarget {
  job: string;
  scrapeUrl: string;
  labels: Record<string, string>;
  health: 'up' | 'down' | 'unknown';
  /** Why the last scrape failed; '' when it did not. */
  lastError: string;
  /** When it was last scraped (RFC 3339; year 0001 before the first scrape). */
  lastScrape: string;
}

export interface PrometheusServer {
  /** http://127.0.0.1:<port>, no trailing slash. */
  readonly url: string;
  readonly port: number;
  readonly pid: number;
  /** The temp dir holding prometheus.yml and data/; gone after stop(). */
  readonly dir: string;
  /** Instant query at the present moment. Throws with Prometheus's error text if it rejects the query. */
  query(promql: string): Promise<Sample[]>;
  /** Pending and firing alerts. */
  alerts(): Promise<ActiveAlert[]>;
  /** Active (not dropped) scrape targets. */
  targets(): Promise<ScrapeTarget[]>;
  /**
   * Polls `fn` until it returns something other than undefined, and returns that. On timeout the
   * error names `what` and the last value `fn` returned. An error thrown by `fn` ends the wait at once.
   */
  waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs?: number): Promise<T>;
  /** SIGTERM, SIGKILL after a grace period, then the temp dir is removed. Safe to call again. */
  stop(): Promise<void>;
}

/** The envelope of every /api/v1 answer. */
interface ApiAnswer<T> {
  status: 'success' | 'error';
  data?: T;
  errorType?: string;
  error?: string;
}

type QueryData =
  | { resultType: 'vector'; result: Array<{ metric: Record<string, string>; value: [number, string] }> }
  | { resultType: 'scalar' | 'string'; result: [number, string] }
  | { resultType: 'matrix'; result: unknown[] };

interface AlertsData {
  alerts: ActiveAlert[];
}

interface TargetsData {
  activeTargets: Array<{
    scrapePool: string;
    scrapeUrl: string;
    labels: Record<string, string>;
    health: ScrapeTarget['health'];
    lastError: string;
    lastScrape: string;
  }>;
}

/** Polls `fn` until it returns something other than undefined; see PrometheusServer.waitFor. */
async function waitFor<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T | undefined;
  for (;;) {
    last = await fn();
    if (last !== undefined) return last;
    if (Date.now() > deadline) break;
    await sleep(POLL_MS);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}; last seen: ${show(last)}`);
}

function show(value: unknown): string {
  if (value === undefined) return 'undefined';
  try {
    return JSON.stringify(value);
  } catch {
    return String(value);
  }
}

/** Prometheus prints sample values as strings, infinities as +Inf and -Inf. */
function sampleValue(text: string): number {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  return Number(text);
}

/** The config file: every interval one second, so a test sees a change within a few. */
function configText(jobs: readonly ScrapeJob[], ruleFiles: readonly string[]): string {
  return stringify({
    global: { scrape_interval: '1s', evaluation_interval: '1s', scrape_timeout: '900ms' },
    rule_files: [...ruleFiles],
    scrape_configs: jobs.map((j) => ({
      job_name: j.job,
      scrape_interval: '1s',
      scrape_timeout: '900ms',
      static_configs: [{ targets: [...j.targets] }],
    })),
  });
}

/** The last lines a process wrote, kept as they arrive. */
class Tail {
  private lines: string[] = [];
  private partial = '';

  push(chunk: Buffer): void {
    const parts = (this.partial + chunk.toString('utf8')).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts.filter((l) => l.trim() !== ''));
    if (this.lines.length > STDERR_LINES) this.lines.splice(0, this.lines.length - STDERR_LINES);
  }

  text(): string {
    const all = this.partial.trim() ? [...this.lines, this.partial] : this.lines;
    return all.length > 0 ? all.join('\n') : '(no output)';
  }
}

/** Starts Prometheus and resolves once it answers /-/ready. */
export async function startPrometheus(options: PrometheusOptions = {}): Promise<PrometheusServer> {
  const jobs = options.jobs ?? [];
  const ruleFiles = options.ruleFiles ?? [];
  for (const file of ruleFiles) {
    if (!path.isAbsolute(file)) throw new Error(`startPrometheus: rule file must be an absolute path, got ${file}`);
    // Prometheus reads rule_files as globs, and a glob that matches nothing is no error to it.
    if (!fs.existsSync(file)) throw new Error(`startPrometheus: no rule file at ${file}`);
  }
  const binary = options.binary ?? 'prometheus';
  const timeoutMs = options.startTimeoutMs ?? 30_000;

  // A port free a moment ago may be taken by another test before Prometheus binds it: then retry.
  for (let attempt = 1; ; attempt++) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-prometheus-'));
    const configFile = path.join(dir, 'prometheus.yml');
    fs.writeFileSync(configFile, configText(jobs, ruleFiles));
    try {
      const [port] = (await findFreePorts(1)) as [number];
      // A failed launch has stopped its process and removed the directory.
      return await launch({ binary, dir, configFile, dataDir: path.join(dir, 'data'), port, timeoutMs });
    } catch (err) {
      fs.rmSync(dir, { recursive: true, force: true });
      if (attempt < 3 && err instanceof PortTakenError) continue;
      throw err;
    }
  }
}

class PortTakenError extends Error {}

interface LaunchOptions {
  binary: string;
  dir: string;
  configFile: string;
  dataDir: string;
  port: number;
  timeoutMs: number;
}

async function launch({ binary, dir, configFile, dataDir, port, timeoutMs }: LaunchOptions): Promise<PrometheusServer> {
  const url = `http://${HOST}:${port}`;
  const args = [
    `--config.file=${configFile}`,
    `--storage.tsdb.path=${dataDir}`,
    `--web.listen-address=${HOST}:${port}`,
    '--log.level=warn',
    // Nothing lives long enough for the default 15 days to matter; say so rather than rely on it.
    '--storage.tsdb.retention.time=1h',
  ];
  // The watchdog removes the directory too, if we die before stop() does.
  const watchdog = startWatchdog(dir);
  const child = spawn(binary, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  const stderr = new Tail();
  child.stderr.on('data', (d: Buffer) => stderr.push(d));
  // Read stdout too (it stays empty at warn level), so a full pipe can never block Prometheus.
  child.stdout.on('data', () => undefined);
  for (const stream of [child.stdout, child.stderr]) (stream as typeof stream & { unref?: () => void }).unref?.();
  child.unref();

  let spawnError: NodeJS.ErrnoException | undefined;
  let exitInfo: string | undefined;
  const pid = child.pid;
  if (pid !== undefined) watchdog.watch(pid);
  // 'close', not 'exit': by then all of stderr has been read, so a failure can quote it.
  const closed = new Promise<void>((resolve) => {
    child.once('close', (code, signal) => {
      if (pid !== undefined) watchdog.forget(pid);
      exitInfo = signal ? `signal ${signal}` : `exit code ${code}`;
      resolve();
    });
    child.once('error', (err: NodeJS.ErrnoException) => {
      spawnError = err;
      resolve();
    });
  });

  const killNow = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    try {
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // exiting: the watchdog tries again
    }
  };
  process.once('exit', killNow);

  let stopping: Promise<void> | undefined;
  const stop = (graceMs = 5000): Promise<void> => {
    stopping ??= (async () => {
      process.removeListener('exit', killNow);
      try {
        if (spawnError === undefined && exitInfo === undefined) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
          await closed;
          clearTimeout(timer);
        }
        fs.rmSync(dir, { recursive: true, force: true });
      } finally {
        watchdog.close();
      }
    })();
    return stopping;
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) {
      await stop();
      throw new Error(
        spawnError.code === 'ENOENT'
          ? `${binary} was not found on PATH; install it (Debian/Ubuntu: sudo apt-get install prometheus; .ci/run does)`
          : `cannot start ${binary}: ${spawnError.message}`,
      );
    }
    if (exitInfo !== undefined) {
      const said = stderr.text();
      await stop();
      const message = `prometheus on port ${port} stopped at start (${exitInfo}); its last stderr lines:\n${said}`;
      throw /address already in use/.test(said) ? new PortTakenError(message) : new Error(message);
    }
    if (await isReady(url)) break;
    if (Date.now() > deadline) {
      const said = stderr.text();
      await stop();
      throw new Error(`prometheus on port ${port} was not ready within ${timeoutMs} ms; its last stderr lines:\n${said}`);
    }
    await sleep(POLL_MS);
  }

  async function api<T>(pathAndQuery: string): Promise<T> {
    const res = await fetch(`${url}${pathAndQuery}`, { signal: AbortSignal.timeout(10_000) });
    const text = await res.text();
    let answer: ApiAnswer<T>;
    try {
      answer = JSON.parse(text) as ApiAnswer<T>;
    } catch {
      throw new Error(`prometheus ${pathAndQuery}: HTTP ${res.status}, not JSON: ${text.slice(0, 200)}`);
    }
    if (answer.status !== 'success' || answer.data === undefined) {
      throw new Error(`prometheus ${pathAndQuery}: ${answer.errorType ?? `HTTP ${res.status}`}: ${answer.error ?? text.slice(0, 200)}`);
    }
    return answer.data;
  }

  return {
    url,
    port,
    pid: pid!,
    dir,
    async query(promql) {
      let data: QueryData;
      try {
        data = await api<QueryData>(`/api/v1/query?query=${encodeURIComponent(promql)}`);
      } catch (err) {
        throw new Error(`query ${JSON.stringify(promql)} failed: ${(err as Error).message}`);
      }
      switch (data.resultType) {
        case 'vector':
          return data.result.map((r) => ({ metric: r.metric, value: sampleValue(r.value[1]) }));
        case 'scalar':
          return [{ metric: {}, value: sampleValue(data.result[1]) }];
        default:
          throw new Error(`query ${JSON.stringify(promql)} gave a ${data.resultType}, not an instant vector or scalar`);
      }
    },
    async alerts() {
      return (await api<AlertsData>('/api/v1/alerts')).alerts.map((a) => ({
        labels: a.labels,
        annotations: a.annotations,
        state: a.state,
        activeAt: a.activeAt,
        value: a.value,
      }));
    },
    async targets() {
      return (await api<TargetsData>('/api/v1/targets?state=active')).activeTargets.map((t) => ({
        job: t.scrapePool,
        scrapeUrl: t.scrapeUrl,
        labels: t.labels,
        health: t.health,
        lastError: t.lastError,
        lastScrape: t.lastScrape,
      }));
    },
    waitFor,
    stop: () => stop(),
  };
}

/** True once /-/ready answers 200 (503 while it starts, no connection before it listens). */
async function isReady(url: string): Promise<boolean> {
  try {
    const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}
