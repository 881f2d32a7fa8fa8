// Sorting and limiting channel rows.
import { describe, it, expect } from 'vitest';
import { arrangeChannels, filterChannels, StickyChannels } from '../../src/stats/arrange.js';
import type { ChannelRow } from '../../src/stats/snapshot.js';

const rows: ChannelRow[] = [
  { name: 'b', kind: 'channel', subscribers: 2, rate: 60 },
  { name: 'a', kind: 'channel', subscribers: 2, rate: 50 },
  { name: 'c', kind: 'shard', subscribers: 5, rate: 1 },
  { name: 'd', kind: 'channel', subscribers: 0, rate: 99 },
  { name: 'a', kind: 'shard', subscribers: 1 },
];

describe('arrangeChannels', () => {
  it('sorts by subscribers, ties by name: never by a rate that changes each refresh', () => {
    expect(arrangeChannels(rows, 'subscribers').rows.map((r) => `${r.name}/${r.kind}`)).toEqual(['c/shard', 'a/channel', 'b/channel', 'a/shard', 'd/channel']);
  });
  it('sorts by rate with unknown rates last', () => {
    expect(arrangeChannels(rows, 'rate').rows.map((r) => r.name)).toEqual(['d', 'b', 'a', 'c', 'a']);
  });
  it('sorts by name, classic before shard for the same name', () => {
    expect(arrangeChannels(rows, 'name').rows.map((r) => `${r.name}/${r.kind}`)).toEqual(['a/channel', 'a/shard', 'b/channel', 'c/shard', 'd/channel']);
  });
  it('limits and counts what it hid, leaving the input alone', () => {
    const out = arrangeChannels(rows, 'subscribers', 2);
    expect(out.rows).toHaveLength(2);
    expect(out.hidden).toBe(3);
    expect(rows[0]!.name).toBe('b');
    expect(arrangeChannels(rows, 'name', 0).hidden).toBe(0);
  });
});

describe('filterChannels', () => {
  it('keeps the names a Redis glob matches, over their bytes', () => {
    const named: ChannelRow[] = ['news:sport', 'news:weather', 'orders', 'caf\u00e9', 'a*b'].map((name) => ({ name, kind: 'channel', subscribers: 1 }));
    expect(filterChannels(named, 'news:*').map((r) => r.name)).toEqual(['news:sport', 'news:weather']);
    // As PUBSUB CHANNELS matches: é is two bytes in UTF-8, so `?` alone does not cover it.
    expect(filterChannels(named, 'caf??').map((r) => r.name)).toEqual(['caf\u00e9']);
    expect(filterChannels(named, 'caf?')).toEqual([]);
    expect(filterChannels(named, 'a\\*b').map((r) => r.name)).toEqual(['a*b']);
    expect(filterChannels(named, undefined)).toHaveLength(5);
    expect(filterChannels(named, '')).toHaveLength(5);
  });
});

describe('StickyChannels', () => {
  it('keeps a channel that drops out for a moment, as what is true now, then lets it go', () => {
    const sticky = new StickyChannels(5000);
    const busy: ChannelRow = { name: 'burst', kind: 'channel', subscribers: 0, rate: 12 };
    const shard: ChannelRow = { name: 's', kind: 'shard', subscribers: 2, slot: 1, shard: 'n1', rate: 3 };
    expect(sticky.apply([busy, shard], 1000, true)).toEqual([busy, shard]);
    // Missing a second later: still listed, with no subscriber and (classic, sampled) no message.
    const later = sticky.apply([], 2000, true);
    expect(later).toEqual([
      { name: 'burst', kind: 'channel', subscribers: 0, rate: 0 },
      // A shard channel nobody subscribes to is not sampled: its rate is unknown, not 0.
      { name: 's', kind: 'shard', subscribers: 0, slot: 1, shard: 'n1' },
    ]);
    // Without rates nothing claims a rate.
    expect(sticky.apply([], 3000, false)[0]).toEqual({ name: 'burst', kind: 'channel', subscribers: 0 });
    // Past the grace it is gone, and forgotten.
    expect(sticky.apply([], 6500, true)).toEqual([]);
    expect(sticky.apply([], 6600, true)).toEqual([]);
    // Back with subscribers: the live row wins.
    expect(sticky.apply([{ ...busy, subscribers: 4 }], 7000, true)).toEqual([{ ...busy, subscribers: 4 }]);
  });
});
