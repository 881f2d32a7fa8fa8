// What tail has lost and not yet got back: one `gap` marker per loss on a node, one `resumed` per node it came back on.
import { noun } from './plural.js';

/** A gap as the `gap` marker shows it: the node it happened on (never a channel) and why. */
export interface GapNotice {
  node: string;
  reason: string;
}

/** A gap closed: the node its subscriptions are held on now, and how long they were missing. */
export interface Resumption {
  node: string;
  downMs: number;
}

interface Gap {
  node: string;
  since: number;
  /** Set when a connection ended; otherwise the server ended the shard channels in `ended`. */
  closedReason?: string;
  ended: string[];
  /** What this gap took away: a caller's names for its subscriptions (`classic`, `shard:NAME`). */
  keys: Set<string>;
  announced: boolean;
}

/** Shard channel names in a sentence: the first three, then how many more. */
function someNames(names: readonly string[]): string {
  const shown = names.slice(0, 3);
  const rest = names.length - shown.length;
  return rest > 0 ? `${shown.join(', ')} and ${rest} more` : shown.length > 1 ? `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)!}` : shown.join('');
}

function reasonOf(g: Gap): string {
  if (g.closedReason !== undefined) return g.closedReason;
  const n = g.ended.length;
  return `the server ended the ${noun(n, 'subscription')} to shard ${noun(n, 'channel')} ${someNames(g.ended)} on ${g.node} (${noun(n, 'its slot is', 'their slots are')} now served by another node)`;
}

/**
 * The open gaps. Losses that arrive together (one node's connections closing, or the server
 * ending several shard channels in one go) are announced as one gap; a subscription already
 * missing is not counted again. A gap is closed when everything it took is held again.
 */
export class GapBook {
  private readonly gaps: Gap[] = [];
  /** Key -> the open gap that took it. */
  private readonly missing = new Map<string, Gap>();

  constructor(private readonly clock: () => number = Date.now) {}

  /** The connection to `node` ended, taking `keys` (those already missing stay in their own gap). */
  connectionLost(node: string, keys: Iterable<string>, reason: string): void {
    const gap = this.gapFor(node, (g) => g.closedReason !== undefined, () => ({ closedReason: reason }));
    this.take(gap, keys);
  }

  /** The server on `node` ended the subscription to shard channel `name`, held as `key`. */
  subscriptionEnded(node: string, key: string, name: string): void {
    if (this.missing.has(key)) return;
    const gap = this.gapFor(node, (g) => g.closedReason === undefined, () => ({}));
    gap.ended.push(name);
    this.take(gap, [key]);
  }

  /** Gaps not announced yet, oldest first; from now on they are announced. */
  announce(): GapNotice[] {
    const out: GapNotice[] = [];
    for (const g of this.gaps) {
      if (g.announced || g.keys.size === 0) continue;
      g.announced = true;
      out.push({ node: g.node, reason: reasonOf(g) });
    }
    return out;
  }

  /**
   * Closes every announced gap whose keys are all held again, as `heldOn` says (the address of the
   * node holding a key, or undefined): one resumption per node they are held on.
   */
  resolve(heldOn: (key: string) => string | undefined): Resumption[] {
    const now = this.clock();
    const out: Resumption[] = [];
    for (let i = 0; i < this.gaps.length; i++) {
      const g = this.gaps[i]!;
      if (!g.announced) continue;
      const nodes = [...g.keys].map(heldOn);
      if (nodes.some((n) => n === undefined)) continue;
      for (const node of new Set(nodes as string[])) out.push({ node, downMs: now - g.since });
      for (const k of g.keys) this.missing.delete(k);
      this.gaps.splice(i--, 1);
    }
    return out;
  }

  /** An unannounced gap on `node` of the same sort, or a new one. */
  private gapFor(node: string, sameSort: (g: Gap) => boolean, fields: () => Partial<Gap>): Gap {
    const open = this.gaps.find((g) => !g.announced && g.node === node && sameSort(g));
    if (open) return open;
    const gap: Gap = { node, since: this.clock(), ended: [], keys: new Set(), announced: false, ...fields() };
    this.gaps.push(gap);
    return gap;
  }

  private take(gap: Gap, keys: Iterable<string>): void {
    for (const k of keys) {
      if (this.missing.has(k)) continue;
      gap.keys.add(k);
      this.missing.set(k, gap);
    }
    // A gap that took nothing new is no gap at all.
    if (gap.keys.size === 0) this.gaps.splice(this.gaps.indexOf(gap), 1);
  }
}
