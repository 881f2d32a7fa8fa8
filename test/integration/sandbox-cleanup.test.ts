// Nothing outlives a sandbox or the demo, however it ends: Ctrl-C, SIGTERM, a closed terminal (SIGHUP),
// or SIGKILL of pubsub-mon or of any process that called startSandbox. Real processes, seen through /proc.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, it, expect, afterEach } from 'vitest';
import { RunningCli } from '../helpers/cli.js';
import { childrenOf, commandLine, isAlive, workingDir } from '../helpers/processes.js';
import { isPortFree } from '../../src/sandbox/ports.js';
import { startWatchdog } from '../../src/sandbox/watchdog.js';

const DIST_SANDBOX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../dist/sandbox/sandbox.js');

/** What one run of a sandbox consists of, besides the process that started it. */
interface SandboxRun {
  servers: number[];
  watchdog: number;
  dir: string;
}

// Everything a test started or found, killed and removed after it whether it passed or not.
let ours: number[] = [];
let dirs: string[] = [];
afterEach(() => {
  for (const pid of ours) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
  ours = [];
  dirs = [];
});

function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

/** The sandbox `parent` runs: its redis-server children, its watchdog, and their directory. */
async function sandboxOf(parent: number, serverCount: number): Promise<SandboxRun> {
  const servers = () => childrenOf(parent).filter((p) => p.comm === 'redis-server').map((p) => p.pid);
  await expect.poll(() => servers().length, { timeout: 30_000 }).toBe(serverCount);
  const watchdog = childrenOf(parent).find((p) => p.comm === 'sh' && commandLine(p.pid).includes('pubsub-mon-watchdog'))?.pid;
  const run = { servers: servers(), watchdog: watchdog ?? 0, dir: path.dirname(workingDir(servers()[0]!)) };
  ours.push(...run.servers, ...(watchdog ? [watchdog] : []));
  dirs.push(run.dir);
  expect(watchdog).toBeDefined();
  expect(path.basename(run.dir)).toMatch(/^pubsub-mon-sandbox-/);
  return run;
}

/** Waits until no server or watchdog of the run is alive and its directory is gone. */
async function expectNothingLeft(run: SandboxRun, timeout = 10_000): Promise<void> {
  const left = () => ({ alive: [...run.servers, run.watchdog].filter(isAlive), dir: fs.existsSync(run.dir) });
  await expect.poll(left, { timeout, interval: 100 }).toEqual({ alive: [], dir: false });
}

/** `pubsub-mon sandbox --json`, once it has printed its servers. */
async function startCliSandbox(args: string[], serverCount: number) {
  const cli = new RunningCli(['sandbox', '--json', ...args]);
  const ended = exitOf(cli.child);
  ours.push(cli.child.pid!);
  const doc = JSON.parse(await cli.waitForLine((l) => l.startsWith('{'), 60_000)) as { dir: string; nodes: Array<{ address: string }> };
  const run = await sandboxOf(cli.child.pid!, serverCount);
  // The processes found are the ones it printed (redis-server shows its address in its title).
  expect(run.dir).toBe(doc.dir);
  for (const { address } of doc.nodes) expect(run.servers.some((pid) => commandLine(pid).includes(address))).toBe(true);
  const ports = doc.nodes.map((n) => Number(n.address.split(':')[1]));
  return { cli, ended, run, ports };
}

async function expectPortsFree(ports: number[]): Promise<void> {
  for (const port of ports) expect(await isPortFree(port)).toBe(true);
}

describe('pubsub-mon sandbox leaves nothing behind', () => {
  it('when its terminal closes (SIGHUP): a 3+3 cluster', async () => {
    const { cli, ended, run, ports } = await startCliSandbox(['--cluster', '3', '--replicas', '1'], 6);
    cli.child.kill('SIGHUP');
    // It cleans up, then ends as a hang-up would have ended it.
    expect(await ended).toEqual({ code: null, signal: 'SIGHUP' });
    await expectNothingLeft(run);
    await expectPortsFree(ports);
  });

  it('when it is killed outright (SIGKILL)', async () => {
    const { cli, ended, run, ports } = await startCliSandbox(['--replicas', '1'], 2);
    cli.child.kill('SIGKILL');
    expect((await ended).signal).toBe('SIGKILL');
    await expectNothingLeft(run, 5_000);
    await expectPortsFree(ports);
  });

  it('when it is asked to stop (SIGTERM)', async () => {
    const { cli, ended, run, ports } = await startCliSandbox(['--replicas', '1'], 2);
    cli.child.kill('SIGTERM');
    expect(await ended).toEqual({ code: 0, signal: null });
    await expectNothingLeft(run);
    await expectPortsFree(ports);
  });
});

describe('the demo (npm start) leaves nothing behind', () => {
  /** `pubsub-mon demo`, once watch has printed. */
  async function startDemo(args: string[], serverCount: number) {
    const cli = new RunningCli(['demo', ...args]);
    const ended = exitOf(cli.child);
    ours.push(cli.child.pid!);
    await cli.waitForLine(() => true, 90_000);
    return { cli, ended, run: await sandboxOf(cli.child.pid!, serverCount) };
  }

  it('when its terminal closes (SIGHUP): the cluster', async () => {
    const { cli, ended, run } = await startDemo([], 6);
    cli.child.kill('SIGHUP');
    expect(await ended).toEqual({ code: null, signal: 'SIGHUP' });
    await expectNothingLeft(run);
    expect(cli.stderr).toContain('Stopping the demo servers');
  });

  it('when it is killed outright (SIGKILL)', async () => {
    const { cli, ended, run } = await startDemo(['--standalone'], 2);
    cli.child.kill('SIGKILL');
    expect((await ended).signal).toBe('SIGKILL');
    await expectNothingLeft(run, 5_000);
  });

  it('on Ctrl-C (SIGINT)', async () => {
    const { cli, ended, run } = await startDemo(['--standalone'], 2);
    cli.child.kill('SIGINT');
    expect((await ended).signal).toBeNull();
    await expectNothingLeft(run);
  });
});

describe('a process that called startSandbox and was SIGKILLed leaves nothing behind', () => {
  it('including a server restarted under a new pid', async () => {
    // A crashed test run: a vitest worker is such a process. The built library, as tsx is not at hand.
    const script = `
      const { startSandbox } = await import(${JSON.stringify(pathToFileURL(DIST_SANDBOX).href)});
      const sb = await startSandbox({ replicas: 1 });
      const first = sb.nodes[0].process.pid;
      await sb.nodes[0].process.kill();
      await sb.nodes[0].process.start();
      console.log(JSON.stringify({ dir: sb.dir, first, restarted: sb.nodes[0].process.pid }));
      setInterval(() => {}, 60_000);
    `;
    const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: os.tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    ours.push(child.pid!);
    const ended = exitOf(child);
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    await expect.poll(() => out, { timeout: 30_000 }).toContain('\n');
    const started = JSON.parse(out) as { dir: string; first: number; restarted: number };
    const run = await sandboxOf(child.pid!, 2);
    expect(run.dir).toBe(started.dir);
    expect(started.restarted).not.toBe(started.first);
    expect(run.servers).toContain(started.restarted);
    child.kill('SIGKILL');
    await ended;
    await expectNothingLeft(run, 5_000);
  });
});

describe('the watchdog', () => {
  it('kills only the pids it still holds, outlives signals meant for a terminal, and removes the directory', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-watchdog-test-'));
    dirs.push(dir);
    const held = spawn('sleep', ['60'], { stdio: 'ignore' });
    const released = spawn('sleep', ['60'], { stdio: 'ignore' });
    ours.push(held.pid!, released.pid!);
    const watchdog = startWatchdog(dir);
    ours.push(watchdog.pid!);
    watchdog.watch(held.pid!);
    watchdog.watch(released.pid!);
    watchdog.forget(released.pid!);
    // The shell ignores them from its first line on: wait for that line to have run (bits 1, 2 and
    // 15 of SigIgn), or a signal sent in the first instant would test the shell's start-up instead.
    const ignored = () => BigInt(`0x${/SigIgn:\s*([0-9a-f]+)/.exec(fs.readFileSync(`/proc/${watchdog.pid!}/status`, 'latin1'))?.[1] ?? '0'}`);
    await expect.poll(() => ignored() & 0x4003n, { timeout: 5_000 }).toBe(0x4003n);
    for (const sig of ['SIGHUP', 'SIGINT', 'SIGTERM'] as const) process.kill(watchdog.pid!, sig);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(isAlive(watchdog.pid!)).toBe(true);
    expect(isAlive(held.pid!)).toBe(true);
    watchdog.close();
    await expect.poll(() => [held.pid!, watchdog.pid!].filter(isAlive), { timeout: 5_000 }).toEqual([]);
    expect(fs.existsSync(dir)).toBe(false);
    expect(isAlive(released.pid!)).toBe(true);
  });
});
