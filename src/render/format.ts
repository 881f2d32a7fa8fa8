// The one formatter for numbers and times shown to people: counts, rates, bytes, durations, percentages, clock times.

/**
 * What every formatter prints for a value the server did not report. A missing value must never
 * read as 0: "0 subscribers" and "we could not tell" lead to opposite conclusions.
 */
export const UNKNOWN = '–';

/** Decimal prefixes for counts and rates; a space separates number and prefix, as in `1.23 M/s`. */
const SI_PREFIXES = ['', ' k', ' M', ' G', ' T', ' P'] as const;
/** Binary units for memory sizes, which Redis reports (and configures) in powers of 1024. */
const BINARY_UNITS = [' B', ' KiB', ' MiB', ' GiB', ' TiB', ' PiB'] as const;
const TIME_UNITS = [' µs', ' ms', ' s'] as const;

function isKnown(n: number | undefined): n is number {
  return n !== undefined && Number.isFinite(n);
}

/** Three significant digits, but never more decimals than two (`1.23`, `45.6`, `789`). */
function threeDigits(v: number): string {
  // Decide on the rounded text: 9.999 is `10.0`, not `10.00`; 99.98 is `100`, not `100.0`.
  let text = v.toFixed(2);
  if (Number(text) >= 10) text = v.toFixed(1);
  if (Number(text) >= 100) text = v.toFixed(0);
  return text;
}

/**
 * Scales `abs` down by `base` until it fits the unit, deciding on the rounded text so that 999.7
 * becomes `1.00 k` rather than `1000`. Whole numbers below `base` keep no decimals: `3`, not `3.00`.
 */
function scaled(abs: number, base: number, units: readonly string[], limit: number): string {
  let unit = 0;
  let v = abs;
  while (unit < units.length - 1 && v >= limit) {
    v /= base;
    unit++;
  }
  let text = unit === 0 && Number.isInteger(v) ? String(v) : threeDigits(v);
  if (Number(text) >= limit && unit < units.length - 1) {
    v /= base;
    unit++;
    text = threeDigits(v);
  }
  return `${text}${units[unit] ?? ''}`;
}

function signed(n: number, body: (abs: number) => string): string {
  return n < 0 ? `-${body(-n)}` : body(n);
}

/** A count: `0`, `999`, `1.23 k`, `45.6 k`, `1.23 M`. */
export function formatCount(n: number | undefined): string {
  if (!isKnown(n)) return UNKNOWN;
  return signed(n, (abs) => scaled(abs, 1000, SI_PREFIXES, 1000));
}

/**
 * Events per second: `0/s`, `5.00/s`, `40.0/s`, `1.23 k/s`. Always three digits, whole or not, so
 * a refreshing column keeps its width (`40/s` then `40.5/s` would shift it).
 */
export function formatRate(perSec: number | undefined): string {
  if (!isKnown(perSec)) return UNKNOWN;
  if (perSec === 0) return '0/s';
  return `${signed(perSec, (abs) => (abs < 1000 ? threeDigits(abs) : scaled(abs, 1000, SI_PREFIXES, 1000)))}/s`;
}

/** Seconds as the two largest units: `42s`, `3m05s`, `2h07m`, `4d03h`. */
export function formatAge(seconds: number | undefined): string {
  if (!isKnown(seconds) || seconds < 0) return UNKNOWN;
  const s = Math.floor(seconds);
  const two = (n: number) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${two(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${two(Math.floor((s % 3600) / 60))}m`;
  return `${Math.floor(s / 86400)}d${two(Math.floor((s % 86400) / 3600))}h`;
}

/** A size in bytes, in powers of 1024: `0 B`, `512 B`, `1.50 KiB`, `32.0 MiB`, `1.00 GiB`. */
export function formatBytes(n: number | undefined): string {
  if (!isKnown(n)) return UNKNOWN;
  return signed(n, (abs) => scaled(abs, 1024, BINARY_UNITS, 1024));
}

/** A duration given in microseconds: `412 µs`, `1.23 ms`, `2.50 s`. */
export function formatMicros(us: number | undefined): string {
  if (!isKnown(us)) return UNKNOWN;
  return signed(us, (abs) => scaled(abs, 1000, TIME_UNITS, 1000));
}

/** A ratio shown as a percentage: `0%`, `3.1%`, `25%`, `100%`. */
export function formatPercent(ratio: number | undefined): string {
  if (!isKnown(ratio)) return UNKNOWN;
  return signed(ratio * 100, (pct) => {
    if (pct === 0) return '0%';
    // One decimal below 10% because 0.4% and 4% tell different stories; above 10% it is noise.
    const oneDecimal = pct.toFixed(1);
    return Number(oneDecimal) < 10 ? `${oneDecimal}%` : `${pct.toFixed(0)}%`;
  });
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

function pad3(n: number): string {
  return n < 10 ? `00${n}` : n < 100 ? `0${n}` : String(n);
}

export interface LocalTimeParts {
  /** Lead with `YYYY-MM-DD `. @default false */
  date?: boolean;
  /** End with `.mmm`. @default false */
  millis?: boolean;
}

/**
 * Local wall-clock time, because that is what the person watching compares it with:
 * `HH:MM:SS`, with `YYYY-MM-DD ` before it and `.mmm` after it when asked.
 */
export function formatLocalTime(ms: number, parts: LocalTimeParts = {}): string {
  const d = new Date(ms);
  let text = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  if (parts.date) text = `${d.getFullYear()}-${pad2(d.getMonth() + 1)}-${pad2(d.getDate())} ${text}`;
  if (parts.millis) text += `.${pad3(d.getMilliseconds())}`;
  return text;
}

/** ISO 8601 UTC with milliseconds, for machines. */
export function formatIsoTime(ms: number): string {
  return new Date(ms).toISOString();
}

/**
 * Remembers the last formatted time: at high rates many messages share a millisecond, and building
 * a Date per message would dominate the cost of a line.
 */
export function cachedTime(format: (ms: number) => string): (ms: number) => string {
  let lastMs = Number.NaN;
  let last = '';
  return (ms) => {
    if (ms !== lastMs) {
      lastMs = ms;
      last = format(ms);
    }
    return last;
  };
}
