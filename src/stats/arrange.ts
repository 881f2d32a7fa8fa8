// Orders and trims channel rows for display: the busiest first, a stable order among equals.
import type { ChannelRow } from './snapshot.js';

export const SORT_KEYS = ['subscribers', 'rate', 'name'] as const;
export type SortKey = (typeof SORT_KEYS)[number];

export interface Arranged {
  rows: ChannelRow[];
  /** Rows left out by the limit. */
  hidden: number;
}

const byName = (a: ChannelRow, b: ChannelRow) => (a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0);

/** Sorts (subscribers and rate descending, name ascending) and keeps the first `limit` rows. */
export function arrangeChannels(rows: readonly ChannelRow[], sort: SortKey, limit?: number): Arranged {
  const compare: Record<SortKey, (a: ChannelRow, b: ChannelRow) => number> = {
    subscribers: (a, b) => b.subscribers - a.subscribers || (b.rate ?? 0) - (a.rate ?? 0) || byName(a, b),
    rate: (a, b) => (b.rate ?? -1) - (a.rate ?? -1) || b.subscribers - a.subscribers || byName(a, b),
    name: byName,
  };
  const sorted = [...rows].sort(compare[sort]);
  if (limit === undefined || limit <= 0 || sorted.length <= limit) return { rows: sorted, hidden: 0 };
  return { rows: sorted.slice(0, limit), hidden: sorted.length - limit };
}
