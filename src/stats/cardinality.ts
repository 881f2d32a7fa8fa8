// Bounding the exporter's per-channel series: the channels kept, the rest counted.
import type { ChannelRow } from './snapshot.js';

/** By name (then kind), so the cut is the same on every poll. */
function byName(a: ChannelRow, b: ChannelRow): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : a.kind < b.kind ? -1 : a.kind > b.kind ? 1 : 0;
}

/**
 * At most `max` rows: every row `keep` says must stay (a contract's channels, even past the bound),
 * then the most subscribed, ties broken by name. Returns them in that order, and how many were left out.
 */
export function boundChannels(rows: readonly ChannelRow[], max: number, keep: (row: ChannelRow) => boolean): { kept: ChannelRow[]; omitted: number } {
  const required = rows.filter(keep);
  const rest = rows.filter((r) => !keep(r)).sort((a, b) => b.subscribers - a.subscribers || byName(a, b));
  const room = Math.max(0, max - required.length);
  const kept = [...required, ...rest.slice(0, room)];
  return { kept, omitted: rows.length - kept.length };
}
