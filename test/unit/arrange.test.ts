// Sorting and limiting channel rows.
import { describe, it, expect } from 'vitest';
import { arrangeChannels } from '../../src/stats/arrange.js';
import type { ChannelRow } from '../../src/stats/snapshot.js';

const rows: ChannelRow[] = [
  { name: 'b', kind: 'channel', subscribers: 2, rate: 10 },
  { name: 'a', kind: 'channel', subscribers: 2, rate: 50 },
  { name: 'c', kind: 'shard', subscribers: 5, rate: 1 },
  { name: 'd', kind: 'channel', subscribers: 0, rate: 99 },
  { name: 'a', kind: 'shard', subscribers: 1 },
];

describe('arrangeChannels', () => {
  it('sorts by subscribers, then rate, then name', () => {
    expect(arrangeChannels(rows, 'subscribers').rows.map((r) => `${r.name}/${r.kind}`)).toEqual(['c/shard', 'a/channel', 'b/channel', 'a/shard', 'd/channel']);
  });
  it('sorts by rate with unknown rates last', () => {
    expect(arrangeChannels(rows, 'rate').rows.map((r) => r.name)).toEqual(['d', 'a', 'b', 'c', 'a']);
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
