// A node listing a shard channel its shard does not serve means the topology predates a slot move.
import { describe, it, expect } from 'vitest';
import { shardChannelsElsewhere } from '../../src/stats/shard-placement.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import type { Topology, TopologyNode } from '../../src/stats/topology.js';
import type { NodeReading } from '../../src/stats/snapshot.js';

function node(id: string, role: 'primary' | 'replica', slots: Array<[number, number]>, shardId = id): TopologyNode {
  return { id, host: '127.0.0.1', port: 7000, address: `127.0.0.1:${id}`, role, slots, shardId, ...(role === 'replica' ? { primaryId: shardId } : {}) };
}

const topology: Topology = {
  mode: 'cluster',
  nodes: [node('a', 'primary', [[0, 8191]]), node('a2', 'replica', [[0, 8191]], 'a'), node('b', 'primary', [[8192, 16383]]), node('b2', 'replica', [[8192, 16383]], 'b')],
};

const reading = (shard: Record<string, number>): NodeReading => ({ channels: new Map(), numpat: 0, shardChannels: new Map(Object.entries(shard)) });

/** A channel name whose slot falls in [lo, hi]. */
function nameIn(lo: number, hi: number): string {
  for (let i = 0; ; i++) {
    const s = hashSlot(`{n${i}}`);
    if (s >= lo && s <= hi) return `{n${i}}`;
  }
}

describe('shardChannelsElsewhere', () => {
  const low = nameIn(0, 8191);
  const high = nameIn(8192, 16383);

  it('is empty when every node lists only channels of its own shard, replicas included', () => {
    const readings = new Map([['a', reading({ [low]: 1 })], ['a2', reading({ [low]: 2 })], ['b2', reading({ [high]: 1 })]]);
    expect(shardChannelsElsewhere(topology, readings)).toEqual([]);
  });

  it('names a channel listed on a shard that, by the topology, does not serve its slot', () => {
    const readings = new Map([['b', reading({ [low]: 1, [high]: 1 })]]);
    expect(shardChannelsElsewhere(topology, readings)).toEqual([low]);
  });

  it('ignores standalone deployments, where every node serves every channel', () => {
    const standalone: Topology = { mode: 'standalone', nodes: [node('s', 'primary', [])] };
    expect(shardChannelsElsewhere(standalone, new Map([['s', reading({ [low]: 1 })]]))).toEqual([]);
  });
});
