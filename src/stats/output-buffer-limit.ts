// The `client-output-buffer-limit` setting: its model, and its parser (the CONFIG GET value, or a redis.conf line with size units).
import { MalformedReplyError } from './malformed-reply.js';

/** The three numbers of `client-output-buffer-limit pubsub <hard> <soft> <seconds>`. */
export interface OutputBufferLimit {
  hardBytes: number;
  softBytes: number;
  softSeconds: number;
}

/** The limits per client class; a class the value does not mention stays undefined. */
export interface OutputBufferLimits {
  normal?: OutputBufferLimit;
  replica?: OutputBufferLimit;
  pubsub?: OutputBufferLimit;
}

/** Redis size units: the bare letter is decimal, the letter with `b` binary (redis.conf documents this). */
const UNIT_BYTES: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1000,
  kb: 1024,
  m: 1000 * 1000,
  mb: 1024 * 1024,
  g: 1000 * 1000 * 1000,
  gb: 1024 * 1024 * 1024,
};

const CLASS_NAMES: Readonly<Record<string, keyof OutputBufferLimits>> = {
  normal: 'normal',
  // `slave` is what the server itself prints, `replica` the spelling accepted since 5.0.
  slave: 'replica',
  replica: 'replica',
  pubsub: 'pubsub',
};

function malformed(value: string, why: string): MalformedReplyError {
  return new MalformedReplyError(`Malformed client-output-buffer-limit "${value}": ${why}`);
}

function parseSize(token: string, value: string): number {
  const match = /^(\d+)([a-z]*)$/i.exec(token);
  const multiplier = match === null ? undefined : UNIT_BYTES[(match[2] ?? '').toLowerCase()];
  if (match === null || multiplier === undefined) {
    throw malformed(value, `"${token}" is not a size (a whole number, optionally with k, kb, m, mb, g or gb)`);
  }
  const bytes = Number(match[1]) * multiplier;
  if (!Number.isSafeInteger(bytes)) throw malformed(value, `"${token}" is too large`);
  return bytes;
}

function parseSeconds(token: string, value: string): number {
  if (!/^\d+$/.test(token)) throw malformed(value, `"${token}" is not a whole number of seconds`);
  return Number(token);
}

/**
 * Parses `normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60`: groups of
 * `<class> <hard> <soft> <soft-seconds>`. A later group for the same class wins, as it does in the
 * server. Throws an Error naming the bad token on anything else.
 */
export function parseOutputBufferLimits(value: string): OutputBufferLimits {
  const tokens = value.trim().split(/\s+/).filter((token) => token !== '');
  if (tokens.length === 0) throw malformed(value, 'the value is empty');
  if (tokens.length % 4 !== 0) {
    throw malformed(value, `expected groups of <class> <hard> <soft> <seconds>, got ${tokens.length} words`);
  }
  const limits: OutputBufferLimits = {};
  for (let i = 0; i < tokens.length; i += 4) {
    const [className = '', hard = '', soft = '', seconds = ''] = tokens.slice(i, i + 4);
    const key = CLASS_NAMES[className.toLowerCase()];
    if (key === undefined) {
      throw malformed(value, `unknown client class "${className}" (expected normal, replica, slave or pubsub)`);
    }
    limits[key] = {
      hardBytes: parseSize(hard, value),
      softBytes: parseSize(soft, value),
      softSeconds: parseSeconds(seconds, value),
    };
  }
  return limits;
}
