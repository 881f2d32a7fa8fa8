// The small things a user trips over: a closed pipe, a password in ps, absurd durations, a sort with nothing to sort by.
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { Clients } from '../helpers/redis.js';
import { runCli, stackTraceLines } from '../helpers/cli.js';
import type { WatchJson } from '../helpers/watch.js';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../bin/pubsub-mon.js');
const SECRET = 'ps-can-see-me';

/** Runs the CLI with its stdout read by a reader that stops after the first line, as `| head -n 1` does. */
function firstLineThenClose(args: string[]): Promise<{ code: number | null; first: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
    let out = '';
    let first = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0 && first === '') {
        first = out.slice(0, nl);
        child.stdout.destroy();
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, first, stderr });
    });
  });
}

describe('small things, against a real server', () => {
  let sb: Sandbox;
  let locked: Sandbox;
  const clients = new Clients();
  beforeAll(async () => {
    [sb, locked] = await Promise.all([startSandbox(), startSandbox({ password: SECRET })]);
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await Promise.all([sb?.stop(), locked?.stop()]);
  });

  it('watch --json | head -n 1: the first snapshot, then a quiet exit 0, no EPIPE stack trace', async () => {
    const r = await firstLineThenClose(['watch', '-u', sb.url, '--json', '--interval', '100ms']);
    expect(JSON.parse(r.first)).toHaveProperty('channels');
    expect(r.code).toBe(0);
    expect(stackTraceLines(r.stderr)).toEqual([]);
    expect(r.stderr).toBe('');
  });

  it('warns, as redis-cli does, when the password is on the command line, and never shows it', async () => {
    const port = String(locked.nodes[0]!.port);
    const flag = await runCli(['check', '-p', port, '-a', SECRET, '-c', 'x', '-m', '0']);
    expect(flag.code).toBe(0);
    expect(flag.stderr).toMatch(/^pubsub-mon: warning: a password given with -a\/--password can be read by other users .*REDISCLI_AUTH/);
    expect(flag.stderr.trim().split('\n')).toHaveLength(1);
    const inUrl = await runCli(['check', '-u', `redis://:${SECRET}@127.0.0.1:${port}`, '-c', 'x', '-m', '0']);
    expect(inUrl.code).toBe(0);
    expect(inUrl.stderr).toMatch(/password given with --url .*REDISCLI_AUTH/);
    for (const r of [flag, inUrl]) expect(r.stderr + r.stdout).not.toContain(SECRET);
    // From the environment nobody else can read it: no warning. And --no-auth-warning silences it.
    const env = await runCli(['check', '-p', port, '-c', 'x', '-m', '0'], { env: { REDISCLI_AUTH: SECRET } });
    expect(env.code).toBe(0);
    expect(env.stderr).toBe('');
    const quiet = await runCli(['check', '-p', port, '-a', SECRET, '--no-auth-warning', '-c', 'x', '-m', '0']);
    expect(quiet.code).toBe(0);
    expect(quiet.stderr).toBe('');
  });

  it('warns for a password inside --control-url too, naming that flag, and never shows it', async () => {
    const control = `redis://:${SECRET}@127.0.0.1:${locked.nodes[0]!.port}`;
    // No agent comes: bench gives up after --agent-wait, which is all this needs.
    const r = await runCli(['bench', '-u', sb.url, '--agents', '1', '--agent-wait', '300ms', '--control-url', control], { timeoutMs: 20_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^pubsub-mon: warning: a password given with --control-url can be read by other users .*REDISCLI_AUTH/);
    expect(r.stderr + r.stdout).not.toContain(SECRET);
    const quiet = await runCli(['agent', '-u', sb.url, '--control-url', control, '--no-auth-warning', '--once', '--name', 'x'], { timeoutMs: 3_000 });
    expect(quiet.stderr).toContain('waiting for a coordinator');
    expect(quiet.stderr).not.toContain('warning');
    expect(quiet.stderr).not.toContain(SECRET);
  });

  it('refuses a duration no timer can hold, instead of refreshing as fast as it can', async () => {
    for (const args of [
      ['watch', '-u', sb.url, '--interval', '99999h'],
      ['tail', '-u', sb.url, '--idle', '999h'],
      ['bench', '-u', sb.url, '--duration', '25h'],
    ]) {
      const r = await runCli(args, { timeoutMs: 10_000 });
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/must be at most 24h/);
      expect(r.stderr).not.toMatch(/TimeoutOverflowWarning/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });

  it('refuses --sort rate without --rates rather than ignoring it', async () => {
    const r = await runCli(['watch', '-u', sb.url, '--once', '--sort', 'rate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--sort rate needs --rates/);
    const ok = await runCli(['watch', '-u', sb.url, '--once', '--json', '--interval', '200ms', '--sort', 'rate', '--rates']);
    expect(ok.code).toBe(0);
  });

  it('says "1 more channel", not "1 more channels"', async () => {
    await clients.subscribe(sb.nodes[0]!, 'a', 'b');
    await expect.poll(async () => (await runCli(['watch', '-u', sb.url, '--once', '--json', '--interval', '100ms'])).stdout, { timeout: 10_000 }).toContain('"b"');
    const r = await runCli(['watch', '-u', sb.url, '--once', '--json', '--interval', '100ms', '--limit', '1']);
    const w = JSON.parse(r.stdout) as WatchJson;
    expect(w.warnings).toContain('1 more channel not shown (--limit, --pattern or --sort choose which)');
  });
});
