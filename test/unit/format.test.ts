// Unit tests for the number formatter every human-facing figure goes through.
import { describe, it, expect } from 'vitest';
import {
  formatBytes,
  formatCount,
  formatMicros,
  formatPercent,
  formatRate,
  UNKNOWN,
} from '../../src/render/format.js';

describe('unknown values', () => {
  it('print the placeholder, never 0, for undefined and non-finite input', () => {
    for (const f of [formatCount, formatRate, formatBytes, formatMicros, formatPercent]) {
      expect(f(undefined)).toBe(UNKNOWN);
      expect(f(Number.NaN)).toBe(UNKNOWN);
      expect(f(Number.POSITIVE_INFINITY)).toBe(UNKNOWN);
      expect(f(undefined)).not.toMatch(/0/);
    }
  });
  it('still print a real zero as zero', () => {
    expect(formatCount(0)).toBe('0');
    expect(formatRate(0)).toBe('0/s');
    expect(formatBytes(0)).toBe('0 B');
    expect(formatMicros(0)).toBe('0 µs');
    expect(formatPercent(0)).toBe('0%');
  });
});

describe('formatCount', () => {
  it.each([
    [1, '1'],
    [999, '999'],
    [1000, '1.00 k'],
    [1234, '1.23 k'],
    [45_600, '45.6 k'],
    [999_000, '999 k'],
    [1_234_567, '1.23 M'],
    [2.5e9, '2.50 G'],
    [12.34, '12.3'],
    [-1500, '-1.50 k'],
  ])('%s -> %s', (n, text) => {
    expect(formatCount(n)).toBe(text);
  });
  it('carries a value that rounds up to the next prefix', () => {
    expect(formatCount(999.7)).toBe('1.00 k');
    expect(formatCount(999_999)).toBe('1.00 M');
  });
});

describe('formatRate', () => {
  it.each([
    [12.3, '12.3/s'],
    // Three digits even when whole: a refreshing column keeps its width.
    [5, '5.00/s'],
    [40, '40.0/s'],
    [40.04, '40.0/s'],
    [0.5, '0.50/s'],
    [1234, '1.23 k/s'],
    [1_230_000, '1.23 M/s'],
  ])('%s -> %s', (n, text) => {
    expect(formatRate(n)).toBe(text);
  });
});

describe('formatBytes', () => {
  it.each([
    [512, '512 B'],
    [1023, '1023 B'],
    [1024, '1.00 KiB'],
    [1536, '1.50 KiB'],
    [32 * 1024 * 1024, '32.0 MiB'],
    [8 * 1024 * 1024, '8.00 MiB'],
    [1024 ** 3, '1.00 GiB'],
    [300 * 1024, '300 KiB'],
  ])('%s -> %s', (n, text) => {
    expect(formatBytes(n)).toBe(text);
  });
  it('moves to the next unit when rounding reaches 1024', () => {
    expect(formatBytes(1024 * 1024 - 1)).toBe('1.00 MiB');
  });
});

describe('formatMicros', () => {
  it.each([
    [412, '412 µs'],
    [0.5, '0.50 µs'],
    [1234, '1.23 ms'],
    [2_500_000, '2.50 s'],
    [999.9, '1.00 ms'],
  ])('%s -> %s', (n, text) => {
    expect(formatMicros(n)).toBe(text);
  });
});

describe('formatPercent', () => {
  it.each([
    [0.25, '25%'],
    [0.031, '3.1%'],
    [1, '100%'],
    [0.0996, '10%'],
    [0.004, '0.4%'],
  ])('%s -> %s', (n, text) => {
    expect(formatPercent(n)).toBe(text);
  });
});

describe('rounding at decade edges', () => {
  it('decides the decimals on the rounded value', () => {
    expect(formatRate(99998.7)).toBe('100 k/s');
    expect(formatRate(9999.876)).toBe('10.0 k/s');
    expect(formatRate(9.999)).toBe('10.0/s');
    expect(formatCount(99.96)).toBe('100');
  });
});
