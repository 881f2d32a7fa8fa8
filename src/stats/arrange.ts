// Orders, filters and steadies channel rows for display: the busiest first, a fixed order among equals.
import { channelKey, type ChannelRow } from './snapshot.js';
import { globMatch } from './glob.js';
import { byteString } from './channel-name.js';

export const SORT_KEYS = ['subscribers', 'rate', 'name'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface Arranged {
  rows: ChannelRow[];
  /** Rows left out by the limit. */
  hidden: number;
}

const byName = (a: ChannelRow, b: ChannelRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);

const CONTRACT_RANK = { CRITICAL: 3, UNKNOWN: 2, WARNING: 1, OK: 0 } as const;

function contractRank(row: ChannelRow): number {
  return row.contract ? CONTRACT_RANK[row.contract.status] : 0;
}

/**
 * Sorts (subscribers and rate descending, name ascending) and keeps the first `limit` rows. Ties
 * go by name, never by a value that changes each refresh, so equal rows keep their places.
 */
export function arrangeChannels(rows: readonly ChannelRow[], sort: SortKey, limit?: number): Arranged {
  const compare: Record<SortKey, (a: ChannelRow, b: ChannelRow) => number> = {
    subscribers: (a, b) => b.subscribers - a.subscribers || byName(a, b),
    rate: (a, b) => (b.rate ?? -1) - (a.rate ?? -1) || byName(a, b),
    name: byName,
  };
  // Channels that break the contract come first whatever the sort: on a small terminal they must not scroll out of sight.
  const sorted = [...rows].sort((a, b) => contractRank(b) - contractRank(a) || compare[sort](a, b));
  if (limit === undefined || limit <= 0 || sorted.length <= limit) return { rows: sorted, hidden: 0 };
  return { rows: sorted.slice(0, limit), hidden: sorted.length - limit };
}

/** Rows whose name matches a glob typed by the user (Redis syntax, over the name's bytes). */
export function filterChannels(rows: readonly ChannelRow[], glob: string | undefined): ChannelRow[] {
  if (glob === undefined || glob === '') return [...rows];
  const pattern = byteString(glob);
  return rows.filter((r) => globMatch(pattern, byteString(r.name)));
}

/** How long a channel that drops out of a snapshot keeps its row. @default 5000 */
const DEFAULT_STICKY_MS = 5000;

/**
 * Keeps a channel that is briefly idle on screen: one that was shown a moment ago and is missing
 * now stays for `graceMs`, with what is true of it now: no subscriber (it would be listed
 * otherwise) and, when classic rates are measured, no message in the last sample.
 */
export class StickyChannels {
  private readonly seen = new Map<string, { row: ChannelRow; at: number }>();

  constructor(private readonly graceMs = DEFAULT_STICKY_MS) {}

  /** The rows of this refresh plus the recently seen ones it lacks. */
  apply(rows: readonly ChannelRow[], now: number, ratesMeasured: boolean): ChannelRow[] {
    const present = new Set<string>();
    for (const row of rows) {
      const key = channelKey(row);
      present.add(key);
      this.seen.set(key, { row, at: now });
    }
    const out = [...rows];
    for (const [k, { row, at }] of this.seen) {
      if (present.has(k)) continue;
      if (now - at > this.graceMs) {
        this.seen.delete(k);
        continue;
      }
      // Its rate and contract mark belonged to the refresh that saw it; the caller judges it again.
      const { rate: _rate, contract: _contract, ...rest } = row;
      // Only classic channels are sampled whether anyone subscribes or not: a shard channel's rate is unknown.
      out.push({ ...rest, subscribers: 0, ...(ratesMeasured && row.kind === 'channel' ? { rate: 0 } : {}) });
    }
    return out;
  }
}
