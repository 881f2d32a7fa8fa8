// Unit tests for the order of node rows: shard by shard, primary first, whatever order discovery listed them in.
import { describe, it, expect } from 'vitest';
import { compareAddress, orderNodes, standaloneNode, type TopologyNode } from '../../src/stats/topology.js';

function clusterNode(id: string, port: number, role: 'primary' | 'replica', slots: Array<[number, number]>, primaryId?: string): TopologyNode {
  return { id, host: '127.0.0.1', port, address: `127.0.0.1:${port}`, role, slots, shardId: primaryId ?? id, ...(primaryId ? { primaryId } : {}) };
}

describe('compareAddress', () => {
  it('orders hosts as text and ports as numbers', () => {
    expect(['127.0.0.1:7010', '127.0.0.1:7002', '10.0.0.1:9000'].sort(compareAddress)).toEqual(['10.0.0.1:9000', '127.0.0.1:7002', '127.0.0.1:7010']);
    expect(compareAddress('[::1]:80', '[::1]:80')).toBe(0);
    expect(compareAddress('/tmp/a.sock:0', '/tmp/b.sock:0')).toBeLessThan(0);
  });
});

describe('orderNodes', () => {
  it('cluster: shards by their primary\'s lowest slot, each primary before its replicas, replicas by address', () => {
    const a = clusterNode('a', 7003, 'primary', [[10923, 16383]]);
    const b = clusterNode('b', 7001, 'primary', [[5461, 10922]]);
    const c = clusterNode('c', 7002, 'primary', [[100, 200], [0, 5460]]);
    const nodes = [
      a,
      clusterNode('ra', 7004, 'replica', [[10923, 16383]], 'a'),
      b,
      clusterNode('rc2', 7010, 'replica', [[0, 5460]], 'c'),
      clusterNode('rc1', 7005, 'replica', [[0, 5460]], 'c'),
      c,
      clusterNode('rb', 7006, 'replica', [[5461, 10922]], 'b'),
    ];
    expect(orderNodes(nodes).map((n) => n.id)).toEqual(['c', 'rc1', 'rc2', 'b', 'rb', 'a', 'ra']);
  });

  it('cluster: a primary left without slots after those with, an orphan replica last', () => {
    const nodes = [
      clusterNode('orphan', 7009, 'replica', [], 'gone'),
      clusterNode('failed', 7000, 'primary', []),
      clusterNode('p', 7001, 'primary', [[0, 16383]]),
    ];
    expect(orderNodes(nodes).map((n) => n.id)).toEqual(['p', 'failed', 'orphan']);
  });

  it('standalone: the primary, then its replicas by address (a replica seed listed first changes nothing)', () => {
    const primary = standaloneNode('127.0.0.1', 6390, 'primary');
    const nodes = [standaloneNode('127.0.0.1', 6400, 'replica', primary.id), standaloneNode('127.0.0.1', 6392, 'replica', primary.id), primary];
    expect(orderNodes(nodes).map((n) => n.port)).toEqual([6390, 6392, 6400]);
  });

  it('leaves its input alone', () => {
    const nodes = [clusterNode('b', 7001, 'primary', [[100, 200]]), clusterNode('a', 7000, 'primary', [[0, 99]])];
    orderNodes(nodes);
    expect(nodes.map((n) => n.id)).toEqual(['b', 'a']);
  });
});
