// Parsers for flag values people type: durations, counts, byte sizes. Each throws a UsageError naming the flag.
import { UsageError } from './errors.js';

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `500ms`, `2s`, `1.5m`, `1h`; a bare number is seconds. Returns milliseconds. */
export function parseDuration(value: unknown, flag: string): number {
  const text = String(value).trim();
  const m = /^(\d+(?:\.\d+)?|\.\d+)\s*(ms|s|m|h)?$/i.exec(text);
  if (!m) throw new UsageError(`${flag} takes a duration like 500ms, 2s or 1m, got '${text}'`);
  const ms = Number(m[1]) * DURATION_UNITS[(m[2] ?? 's').toLowerCase()]!;
  if (!Number.isFinite(ms)) throw new UsageError(`${flag} is out of range: '${text}'`);
  return ms;
}

/** `MIN[:MAX]` as two durations (`5s:30s`; `10s` alone is MIN = MAX), each at least `minMs`. */
export function parseDurationRange(value: unknown, flag: string, minMs: number): { minMs: number; maxMs: number } {
  const text = String(value).trim();
  const parts = text.split(':');
  if (parts.length > 2 || parts.some((p) => p.trim() === '')) throw new UsageError(`${flag} takes MIN or MIN:MAX, durations like 5s:30s, got '${text}'`);
  const [lo, hi] = parts.map((p) => parseDuration(p, flag)) as [number, number?];
  const max = hi ?? lo;
  if (lo < minMs) throw new UsageError(`${flag}: MIN must be at least ${minMs}ms, got '${text}'`);
  if (max < lo) throw new UsageError(`${flag}: MAX must not be below MIN, got '${text}'`);
  return { minMs: lo, maxMs: max };
}

/** A whole number within [min, max]. */
export function parseInteger(value: unknown, flag: string, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const text = String(value).trim();
  if (!/^-?\d+$/.test(text)) throw new UsageError(`${flag} takes a whole number, got '${text}'`);
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new UsageError(`${flag} is too large: ${text}`);
  if (n < min || n > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `at least ${min}` : `from ${min} to ${max}`;
    throw new UsageError(`${flag} must be ${range}, got ${text}`);
  }
  return n;
}

/**
 * An address to listen on: `HOST:PORT`, `[IPv6]:PORT`, `:PORT` (every interface, said outright) or
 * `PORT` alone (loopback). Port 0 asks the system for a free one.
 */
export function parseListenAddress(value: unknown, flag: string): { host: string; port: number } {
  const text = String(value).trim();
  if (/^\d+$/.test(text)) return { host: '127.0.0.1', port: portOf(text, flag) };
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]*)):(\d+)$/.exec(text);
  if (!m) throw new UsageError(`${flag} takes HOST:PORT (127.0.0.1:9484, [::1]:9484, :9484 for every interface), got '${text}'`);
  const host = m[1] ?? m[2] ?? '';
  return { host: host === '' ? '0.0.0.0' : host, port: portOf(m[3] ?? '', flag) };
}

function portOf(text: string, flag: string): number {
  const port = Number(text);
  if (port > 65535) throw new UsageError(`${flag}: port ${port} is out of range (0-65535)`);
  return port;
}
