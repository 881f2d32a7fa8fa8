// The terminal harness itself: how it reads an exit the CLI made, and what it says when the CLI exits under a wait.
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { paneExit, startTerminal, zombieExit, type PaneExit, type Terminal } from '../helpers/tmux.js';

/**
 * A process that exits with `script` and is never reaped: its parent execs `sleep`, which never
 * waits. Returns the zombie's pid and a way to end its parent (init then reaps it).
 */
async function zombie(script: string): Promise<{ pid: number; end: () => void }> {
  // The child ends only once its parent has become `sleep`: a shell that had not exec'd yet could reap it.
  const child = `until [ "$(cat /proc/$PPID/comm)" = sleep ]; do sleep 0.01; done; ${script}`;
  const parent = spawn('sh', ['-c', `sh -c '${child}' & echo $!; exec sleep 30`], { stdio: ['ignore', 'pipe', 'ignore'] });
  const pid = await new Promise<number>((resolve) => parent.stdout.once('data', (d: Buffer) => resolve(Number(String(d).trim()))));
  return { pid, end: () => parent.kill('SIGKILL') };
}

describe('zombieExit', () => {
  const ends: Array<() => void> = [];
  afterEach(() => {
    for (const end of ends.splice(0)) end();
  });

  it('reads the exit status of a process nobody reaped, and the signal that ended one', async () => {
    const exited = await zombie('exit 3');
    ends.push(exited.end);
    await expect.poll(() => zombieExit(exited.pid), { timeout: 5000 }).toEqual({ status: 3, signal: null });
    const killed = await zombie('kill -TERM $$');
    ends.push(killed.end);
    await expect.poll(() => zombieExit(killed.pid), { timeout: 5000 }).toEqual({ status: null, signal: 'SIGTERM' });
  });

  it('says nothing of a process that runs, or of one that is gone', async () => {
    expect(zombieExit(process.pid)).toBeUndefined();
    expect(zombieExit(2 ** 22 + 7)).toBeUndefined();
  });
});

describe('paneExit', () => {
  it('reads tmux\'s status or signal, and asks the kernel when tmux has neither yet', () => {
    const asked: number[] = [];
    const zombie = (pid: number): PaneExit => {
      asked.push(pid);
      return { status: 7, signal: null };
    };
    expect(paneExit('0|||4242', zombie)).toBeUndefined();
    expect(paneExit('1|3||4242', zombie)).toEqual({ status: 3, signal: null });
    expect(paneExit('1||15|4242', zombie)).toEqual({ status: null, signal: 'SIGTERM' });
    expect(asked).toEqual([]);
    expect(paneExit('1|||4242', zombie)).toEqual({ status: 7, signal: null });
    expect(asked).toEqual([4242]);
    // The default asks /proc: a pid that does not exist has no exit to tell.
    expect(paneExit(`1|||${2 ** 22 + 7}`)).toBeUndefined();
  });
});

describe('Terminal', () => {
  let term: Terminal | undefined;
  afterEach(async () => {
    await term?.kill();
    term = undefined;
  });

  it('says so when a CLI that keeps running does not exit within the wait, and ends it on kill', async () => {
    // A sandbox runs until Ctrl-C, which kill() sends before it ends the tmux server.
    const running = await startTerminal({ width: 80, height: 24, args: ['sandbox'] });
    try {
      await expect(running.waitForExit(500)).rejects.toThrow(/the CLI did not exit within 500 ms/);
    } finally {
      await running.kill();
    }
    // The tmux server went with it: nothing is left to ask.
    expect(await running.exitStatus().catch(() => 'server gone')).toBe('server gone');
  });

  it('reports the exit of a CLI that ended, and a wait that can no longer succeed fails at once, saying so', async () => {
    term = await startTerminal({ width: 80, height: 24, args: ['--version'] });
    expect(await term.waitForExit(5000)).toEqual({ status: 0, signal: null });
    const started = Date.now();
    await expect(term.waitFor((s) => s.rows.includes('never printed'), 'a line that never comes', 20_000)).rejects.toThrow(/the CLI exited \(status 0, signal null\) waiting for a line that never comes/);
    // It did not sit out its 20 s: a dead pane ends the wait.
    expect(Date.now() - started).toBeLessThan(10_000);
    // Ending a terminal whose CLI is already gone is safe, and so is ending it twice.
    expect(await term.exitStatus()).toEqual({ status: 0, signal: null });
    await term.kill();
    await term.kill();
  });
});
