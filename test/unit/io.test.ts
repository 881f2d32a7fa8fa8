// The command helpers' sleep: prompt on abort, and no listener left behind after many refreshes.
import { describe, it, expect } from 'vitest';
import { sleep, useColor, type Io } from '../../src/commands/io.js';
import { PassThrough } from 'node:stream';
import { getEventListeners } from 'node:events';

describe('sleep', () => {
  it('leaves no abort listener behind when it simply times out', async () => {
    const controller = new AbortController();
    for (let i = 0; i < 20; i++) await sleep(1, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
    // While a sleep is pending it does listen, so an abort can cut it short.
    const pending = sleep(50, controller.signal);
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(1);
    await pending;
    expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0);
  });

  it('ends early when the signal aborts, and at once when it already has', async () => {
    const controller = new AbortController();
    const started = Date.now();
    const waiting = sleep(10_000, controller.signal);
    setTimeout(() => controller.abort(), 20);
    await waiting;
    expect(Date.now() - started).toBeLessThan(2000);
    const t = Date.now();
    await sleep(10_000, controller.signal);
    expect(Date.now() - t).toBeLessThan(100);
  });
});

describe('useColor', () => {
  const io = (isTTY: boolean, env: Record<string, string> = {}): Io => {
    const stdout = Object.assign(new PassThrough(), { isTTY });
    return { stdout, stderr: new PassThrough(), env };
  };
  it('colours only a terminal, and never against --no-color or NO_COLOR', () => {
    expect(useColor(io(true), undefined)).toBe(true);
    expect(useColor(io(false), undefined)).toBe(false);
    expect(useColor(io(true), false)).toBe(false);
    expect(useColor(io(true, { NO_COLOR: '1' }), undefined)).toBe(false);
    expect(useColor(io(false, { FORCE_COLOR: '1' }), undefined)).toBe(true);
  });
});
