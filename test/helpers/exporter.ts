// A running `pubsub-mon exporter` for tests: started on a free loopback port, scraped over HTTP, its exposition parsed.
import { RunningCli } from './cli.js';

/** One sample of the exposition: `name{a="1",b="2"}` (labels as written) and its value. */
export type Samples = Map<string, number>;

/** Parses the text format's sample lines (comments and blank lines skipped); values as numbers, +Inf and NaN included. */
export function parseExposition(text: string): Samples {
  const out: Samples = new Map();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const cut = line.lastIndexOf(' ');
    if (cut < 0) throw new Error(`not a sample line: ${line}`);
    const raw = line.slice(cut + 1);
    out.set(line.slice(0, cut), raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : Number(raw));
  }
  return out;
}

export class ExporterProcess {
  readonly cli: RunningCli;
  url = '';

  private constructor(args: string[]) {
    this.cli = new RunningCli(['exporter', '--listen', '127.0.0.1:0', ...args]);
  }

  /** Starts the exporter and waits for the address it says it serves on. */
  static async start(args: string[], timeoutMs = 20_000): Promise<ExporterProcess> {
    const e = new ExporterProcess(args);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = /serving (http:\/\/[^\s,]+)\/metrics/.exec(e.cli.stderr);
      if (m) {
        e.url = m[1]!;
        return e;
      }
      if (e.cli.child.exitCode !== null) throw new Error(`exporter exited (${e.cli.child.exitCode}): ${e.cli.stderr}`);
      if (Date.now() > deadline) {
        await e.cli.interrupt();
        throw new Error(`exporter did not start listening: ${e.cli.stderr}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async get(path: string): Promise<{ status: number; body: string; type: string }> {
    const res = await fetch(`${this.url}${path}`);
    return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
  }

  async scrape(): Promise<Samples> {
    const r = await this.get('/metrics');
    if (r.status !== 200) throw new Error(`/metrics answered ${r.status}: ${r.body}`);
    return parseExposition(r.body);
  }

  /** Scrapes until `test` holds (polls come every --interval), and returns that scrape. */
  async until(what: string, test: (s: Samples) => boolean, timeoutMs = 20_000): Promise<Samples> {
    const deadline = Date.now() + timeoutMs;
    let last: Samples | undefined;
    for (;;) {
      last = await this.scrape();
      if (test(last)) return last;
      if (Date.now() > deadline) {
        const dump = [...last].filter(([k]) => k.startsWith('pubsub_mon_') && !k.includes('_bucket')).map(([k, v]) => `${k} ${v}`).join('\n');
        throw new Error(`timed out waiting for ${what}; last scrape:\n${dump}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** SIGTERM, as a service manager stops it; resolves with the exit code. */
  async terminate(timeoutMs = 10_000): Promise<number | null> {
    if (this.cli.child.exitCode !== null) return this.cli.child.exitCode;
    const closed = new Promise<number | null>((resolve) => this.cli.child.once('close', (code) => resolve(code)));
    this.cli.child.kill('SIGTERM');
    const timer = setTimeout(() => this.cli.child.kill('SIGKILL'), timeoutMs);
    const code = await closed;
    clearTimeout(timer);
    return code;
  }
}

/** `name{labels}` as the exposition writes it, labels in the given order. */
export function series(name: string, labels: Record<string, string> = {}): string {
  const l = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  return l.length === 0 ? name : `${name}{${l.join(',')}}`;
}
