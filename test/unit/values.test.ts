// Unit tests for the flag-value parsers: durations and whole numbers, with errors that name the flag.
import { describe, it, expect } from 'vitest';
import { parseDuration, parseDurationRange, parseInteger } from '../../src/values.js';
import { UsageError } from '../../src/errors.js';

function errorOf(fn: () => unknown): UsageError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('expected a UsageError');
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['1.5m', 90_000],
    ['1h', 3_600_000],
    ['0.25s', 250],
    ['.5s', 500],
    ['.5', 500],
    ['3', 3000],
    ['1.5', 1500],
    ['0', 0],
    ['2S', 2000],
    ['100MS', 100],
    [' 5s ', 5000],
    ['5 s', 5000],
  ])('reads %j as %d ms', (text, ms) => {
    expect(parseDuration(text, '--interval')).toBe(ms);
  });

  it('takes a bare number (not a string) as seconds', () => {
    expect(parseDuration(2, '--interval')).toBe(2000);
  });

  it.each(['soon', '-1s', '', '   ', '1d', 's', '1.s', '1..5s', '1e3', '5sec', '2 s s', 'ms'])('rejects %j, naming the flag', (text) => {
    const err = errorOf(() => parseDuration(text, '--interval'));
    expect(err.message).toContain('--interval');
    expect(err.message).toContain(`'${text.trim()}'`);
    expect(err.exitCode).toBe(2);
  });

  it('rejects a duration too large to represent', () => {
    const err = errorOf(() => parseDuration(`${'9'.repeat(400)}h`, '--timeout'));
    expect(err.message).toContain('--timeout');
  });

  it('rejects undefined rather than returning NaN', () => {
    expect(() => parseDuration(undefined, '--interval')).toThrow(UsageError);
  });
});

describe('parseInteger', () => {
  it('reads whole numbers, trimming spaces', () => {
    expect(parseInteger('0', '--limit')).toBe(0);
    expect(parseInteger('42', '--limit')).toBe(42);
    expect(parseInteger(' 7 ', '--limit')).toBe(7);
    expect(parseInteger(12, '--limit')).toBe(12);
  });

  it('defaults to a minimum of 0', () => {
    const err = errorOf(() => parseInteger('-1', '--replicas'));
    expect(err.message).toContain('--replicas');
    expect(err.message).toContain('at least 0');
  });

  it('accepts the ends of its range and rejects just outside them', () => {
    expect(parseInteger('1', '--cluster', 1, 100)).toBe(1);
    expect(parseInteger('100', '--cluster', 1, 100)).toBe(100);
    const low = errorOf(() => parseInteger('0', '--cluster', 1, 100));
    expect(low.message).toContain('--cluster');
    expect(low.message).toContain('from 1 to 100');
    const high = errorOf(() => parseInteger('101', '--cluster', 1, 100));
    expect(high.message).toContain('from 1 to 100');
    expect(high.message).toContain('101');
  });

  it('accepts negatives when the range allows them', () => {
    expect(parseInteger('-5', '--offset', -10, 10)).toBe(-5);
  });

  it.each(['1.5', 'abc', '', '1e3', '0x10', '5 6', '+', '--1'])('rejects %j as not a whole number, naming the flag', (text) => {
    const err = errorOf(() => parseInteger(text, '--min-subscribers'));
    expect(err.message).toContain('--min-subscribers');
    expect(err.message).toContain('whole number');
    expect(err.exitCode).toBe(2);
  });
});

describe('parseDurationRange', () => {
  it('reads MIN:MAX and MIN alone', () => {
    expect(parseDurationRange('5s:30s', '--reconnect-interval', 100)).toEqual({ minMs: 5000, maxMs: 30_000 });
    expect(parseDurationRange('250ms', '--reconnect-interval', 100)).toEqual({ minMs: 250, maxMs: 250 });
  });
  it.each([
    ['1s:', /MIN or MIN:MAX/],
    [':1s', /MIN or MIN:MAX/],
    ['1s:2s:3s', /MIN or MIN:MAX/],
    ['soon', /takes a duration/],
    ['50ms', /MIN must be at least 100ms/],
    ['2s:1s', /MAX must not be below MIN/],
  ])('refuses %s in one line naming the flag', (text, message) => {
    expect(() => parseDurationRange(text, '--reconnect-interval', 100)).toThrow(message);
    expect(() => parseDurationRange(text, '--reconnect-interval', 100)).toThrow(/--reconnect-interval/);
  });
});
