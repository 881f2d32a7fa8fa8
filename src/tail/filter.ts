// Which messages `tail` prints: keyspace notifications only on request, --exclude globs, --grep on the payload.
import { globMatch } from '../stats/glob.js';
import { byteString } from '../stats/channel-name.js';
import type { PushKind } from '../redis/raw-subscriber.js';

export interface FilterOptions {
  /** Keep `__keyspace@*` / `__keyevent@*` messages heard through a pattern. */
  includeKeyspace: boolean;
  /** Channel globs to leave out. */
  exclude: string[];
  /** Keep only payloads this matches (tested on the payload as UTF-8 text). */
  grep?: RegExp;
}

export type MessageFilter = (kind: PushKind, pattern: Buffer | undefined, channel: Buffer, payload: Buffer) => boolean;

/** `__key` at the start of a buffer, compared byte by byte. */
function startsWithKeyPrefix(b: Buffer): boolean {
  return b.length > 5 && b[0] === 95 && b[1] === 95 && b[2] === 107 && b[3] === 101 && b[4] === 121;
}

/**
 * Returns undefined when nothing is filtered, so the hot path skips the call altogether. Keyspace
 * notifications are left out only when a pattern caught them by accident: a pattern that itself
 * starts with `__key`, or an exact subscription, asked for them.
 */
export function makeFilter(opts: FilterOptions): MessageFilter | undefined {
  const { includeKeyspace, exclude, grep } = opts;
  if (includeKeyspace && exclude.length === 0 && !grep) return undefined;
  const excludeBytes = exclude.map(byteString);
  return (kind, pattern, channel, payload) => {
    if (!includeKeyspace && kind === 'pmessage' && startsWithKeyPrefix(channel) && !(pattern && startsWithKeyPrefix(pattern))) {
      const text = channel.toString('latin1');
      if (text.startsWith('__keyspace@') || text.startsWith('__keyevent@')) return false;
    }
    if (exclude.length > 0) {
      // Byte for byte, as Redis matches: one character per byte on both sides.
      const name = channel.toString('latin1');
      for (const glob of excludeBytes) if (globMatch(glob, name)) return false;
    }
    if (grep) {
      grep.lastIndex = 0;
      if (!grep.test(payload.toString())) return false;
    }
    return true;
  };
}
