// Unit tests for cluster discovery from CLUSTER SHARDS and CLUSTER NODES, with replies from a real cluster.
import { describe, it, expect } from 'vitest';
import { Buffer } from 'node:buffer';
import { parseClusterNodes, parseClusterShards, parseMoved } from '../../src/stats/cluster-topology.js';

const P1 = '4292bdb3da907b929ace3a5c7929741ff761832b';
const P2 = '7308cc120b14632352e8331cb5307d4aebbdf0ae';
const P3 = 'd3b8cbf892e0a3bff2d76a07b50fc9c69d55f0ba';
const R1 = 'c86d85a4135e545f1aa31006f4ed9231528fdf70';
const R2 = 'e701d8f398280e7ccc66d895c85c50acd6a6a0b6';
const R3 = 'de4d4f3b0b35879c5eecdc11f13034580d67387c';

function shardNode(id: string, port: number, role: string, health: string): unknown[] {
  return ['id', id, 'port', port, 'ip', '127.0.0.1', 'endpoint', '127.0.0.1', 'role', role,
    'replication-offset', 42, 'health', health];
}

// CLUSTER SHARDS through ioredis from a Redis 7.0.15 cluster of 3 primaries and 3 replicas.
const SHARDS_REPLY: unknown = [
  ['slots', [10923, 16383], 'nodes', [shardNode(P3, 31003, 'master', 'online'), shardNode(R3, 31004, 'replica', 'online')]],
  ['slots', [0, 5460], 'nodes', [shardNode(P1, 31001, 'master', 'online'), shardNode(R1, 31005, 'replica', 'online')]],
  ['slots', [5461, 10922], 'nodes', [shardNode(P2, 31002, 'master', 'online'), shardNode(R2, 31006, 'replica', 'loading')]],
];

// The same cluster after 31003 was killed and 31004 took over: 7.0.15 reports the dead primary as a
// shard of its own with no slots, and spells its health "fail".
const SHARDS_AFTER_FAILOVER: unknown = [
  ['slots', [], 'nodes', [shardNode(P3, 31003, 'master', 'fail')]],
  ['slots', [0, 5460], 'nodes', [shardNode(P1, 31001, 'master', 'online'), shardNode(R1, 31005, 'replica', 'online')]],
  ['slots', [5461, 10922], 'nodes', [shardNode(P2, 31002, 'master', 'online'), shardNode(R2, 31006, 'replica', 'online')]],
  ['slots', [10923, 16383], 'nodes', [shardNode(R3, 31004, 'master', 'online')]],
];

// CLUSTER NODES from 31001 of the same cluster.
const NODES_TEXT = [
  `${P3} 127.0.0.1:31003@41003 master - 0 1795263597193 3 connected 10923-16383`,
  `${P1} 127.0.0.1:31001@41001 myself,master - 0 1795263597000 1 connected 0-5460`,
  `${R2} 127.0.0.1:31006@41006 slave ${P2} 0 1795263598197 2 connected`,
  `${P2} 127.0.0.1:31002@41002 master - 0 1795263594000 2 connected 5461-10922`,
  `${R3} 127.0.0.1:31004@41004 slave ${P3} 0 1795263595186 3 connected`,
  `${R1} 127.0.0.1:31005@41005 slave ${P1} 0 1795263596190 1 connected`,
  '',
].join('\n');

function byId<T extends { id: string }>(nodes: T[]): Map<string, T> {
  return new Map(nodes.map((n) => [n.id, n]));
}

describe('parseClusterShards', () => {
  it('lists every node of a 3 x 2 cluster with roles, shards and slots', () => {
    const nodes = parseClusterShards(SHARDS_REPLY);
    expect(nodes).toHaveLength(6);
    const map = byId(nodes);
    expect(map.get(P1)).toEqual({
      id: P1,
      host: '127.0.0.1',
      port: 31001,
      address: '127.0.0.1:31001',
      role: 'primary',
      slots: [[0, 5460]],
      shardId: P1,
      health: 'online',
    });
    expect(map.get(R1)).toEqual({
      id: R1,
      host: '127.0.0.1',
      port: 31005,
      address: '127.0.0.1:31005',
      role: 'replica',
      primaryId: P1,
      slots: [[0, 5460]],
      shardId: P1,
      health: 'online',
    });
    expect(map.get(R2)?.health).toBe('loading');
    expect(map.get(R3)?.shardId).toBe(P3);
    expect(nodes.filter((n) => n.role === 'primary').map((n) => n.port).sort()).toEqual([31001, 31002, 31003]);
    expect(nodes.filter((n) => n.role === 'primary')).not.toContainEqual(expect.objectContaining({ primaryId: expect.anything() }));
  });

  it('reports a failed primary as failed, and its promoted replica as a primary', () => {
    const map = byId(parseClusterShards(SHARDS_AFTER_FAILOVER));
    expect(map.get(P3)).toMatchObject({ role: 'primary', slots: [], shardId: P3, health: 'failed' });
    expect(map.get(R3)).toMatchObject({ role: 'primary', slots: [[10923, 16383]], shardId: R3 });
    expect(map.get(R3)?.primaryId).toBeUndefined();
  });

  it('gives replicas of a shard without a primary their own id as shardId', () => {
    const nodes = parseClusterShards([
      ['slots', [0, 100], 'nodes', [shardNode(R1, 31005, 'replica', 'online'), shardNode(R2, 31006, 'replica', 'failed')]],
    ]);
    expect(nodes.map((n) => [n.id, n.shardId, n.primaryId, n.role])).toEqual([
      [R1, R1, undefined, 'replica'],
      [R2, R2, undefined, 'replica'],
    ]);
  });

  it('pairs several slot ranges of one shard', () => {
    const [node] = parseClusterShards([
      ['slots', [0, 99, 200, 200, 300, 16383], 'nodes', [shardNode(P1, 7000, 'master', 'online')]],
    ]);
    expect(node?.slots).toEqual([[0, 99], [200, 200], [300, 16383]]);
  });

  it('falls back to endpoint when ip is empty, and to tls-port when there is no port', () => {
    const nodes = parseClusterShards([
      ['slots', [0, 16383], 'nodes', [
        ['id', P1, 'port', 7000, 'ip', '', 'endpoint', 'redis-0.example', 'hostname', 'redis-0', 'role', 'master', 'health', 'online'],
        ['id', R1, 'tls-port', 7443, 'ip', '10.0.0.2', 'endpoint', '10.0.0.2', 'role', 'replica', 'health', 'online'],
      ]],
    ]);
    expect(nodes.map((n) => n.address)).toEqual(['redis-0.example:7000', '10.0.0.2:7443']);
    expect(nodes[1]?.primaryId).toBe(P1);
  });

  it('accepts Buffers and numeric strings, and skips nodes without an address', () => {
    const nodes = parseClusterShards([
      [Buffer.from('slots'), ['0', '16383'], Buffer.from('nodes'), [
        [Buffer.from('id'), Buffer.from(P1), 'port', '7000', 'ip', Buffer.from('10.0.0.1'), 'role', 'master'],
        ['id', R1, 'port', 7001, 'ip', '', 'endpoint', '', 'role', 'replica'],
        ['id', R2, 'port', 0, 'ip', '10.0.0.3', 'role', 'replica'],
        'not a node',
      ]],
      'not a shard',
    ]);
    expect(nodes).toHaveLength(1);
    expect(nodes[0]).toMatchObject({ id: P1, address: '10.0.0.1:7000', slots: [[0, 16383]] });
    expect(nodes[0]?.health).toBeUndefined();
  });

  it('keeps the node asked when it does not know its own ip yet (a cluster of one), by its id, with an empty host', () => {
    const reply = [['slots', [0, 16383], 'nodes', [['id', P1, 'port', 7000, 'ip', '', 'endpoint', '', 'role', 'master', 'health', 'online']]]];
    expect(parseClusterShards(reply)).toEqual([]);
    expect(parseClusterShards(reply, P1)).toMatchObject([{ id: P1, host: '', port: 7000, role: 'primary', slots: [[0, 16383]] }]);
    // Another node's empty address is still unknown: only the one asked is ours to fill in.
    expect(parseClusterShards(reply, P2)).toEqual([]);
  });

  it('throws on a reply that is not an array', () => {
    expect(() => parseClusterShards('ERR This instance has cluster support disabled')).toThrow(/not an array/);
    expect(parseClusterShards([])).toEqual([]);
  });
});

describe('parseClusterNodes', () => {
  it('lists every node of a 3 x 2 cluster; replicas take slots and shard from their primary', () => {
    const nodes = parseClusterNodes(NODES_TEXT);
    expect(nodes).toHaveLength(6);
    const map = byId(nodes);
    expect(map.get(P1)).toEqual({
      id: P1,
      host: '127.0.0.1',
      port: 31001,
      address: '127.0.0.1:31001',
      role: 'primary',
      slots: [[0, 5460]],
      shardId: P1,
      health: 'online',
    });
    expect(map.get(R2)).toEqual({
      id: R2,
      host: '127.0.0.1',
      port: 31006,
      address: '127.0.0.1:31006',
      role: 'replica',
      primaryId: P2,
      slots: [[5461, 10922]],
      shardId: P2,
      health: 'online',
    });
    expect(map.get(R3)?.slots).toEqual([[10923, 16383]]);
  });

  it('agrees with CLUSTER SHARDS on the same cluster', () => {
    const key = (n: { id: string; role: string; shardId: string; slots: unknown; address: string }): string =>
      JSON.stringify([n.id, n.role, n.shardId, n.slots, n.address]);
    const fromNodes = parseClusterNodes(NODES_TEXT).map(key).sort();
    const fromShards = parseClusterShards(SHARDS_REPLY).map(key).sort();
    expect(fromNodes).toEqual(fromShards);
  });

  it('marks fail and fail? nodes as failed after a failover', () => {
    // CLUSTER NODES from 31001 after 31003 died and 31004 was promoted (Redis 7.0.15); 31006's
    // `fail?` (suspected by this node only) is added to cover that flag too.
    const text = [
      `${P3} 127.0.0.1:31003@41003 master,fail - 1795263610252 1795263606000 3 disconnected`,
      `${P1} 127.0.0.1:31001@41001 myself,master - 0 1795263624000 1 connected 0-5460`,
      `${R2} 127.0.0.1:31006@41006 slave,fail? ${P2} 0 1795263626000 2 connected`,
      `${P2} 127.0.0.1:31002@41002 master - 0 1795263628000 2 connected 5461-10922`,
      `${R3} 127.0.0.1:31004@41004 master - 0 1795263627374 7 connected 10923-16383`,
      `${R1} 127.0.0.1:31005@41005 slave ${P1} 0 1795263628383 1 connected`,
    ].join('\r\n');
    const map = byId(parseClusterNodes(text));
    expect(map.get(P3)).toMatchObject({ role: 'primary', slots: [], health: 'failed' });
    expect(map.get(R2)?.health).toBe('failed');
    expect(map.get(R3)).toMatchObject({ role: 'primary', slots: [[10923, 16383]], shardId: R3, health: 'online' });
    expect(map.get(R1)?.health).toBe('online');
  });

  it('reads single slots and several ranges, and ignores slots in migration', () => {
    const [node] = parseClusterNodes(
      `${P1} 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-92 93 [93->-${P2}] [94-<-${P3}] 95-100 16383`,
    );
    expect(node?.slots).toEqual([[0, 92], [93, 93], [95, 100], [16383, 16383]]);
  });

  it('skips handshake and noaddr nodes and malformed lines', () => {
    const nodes = parseClusterNodes([
      `${P1} 10.0.0.1:7000@17000 myself,master - 0 0 1 connected 0-16383`,
      `${P2} :0@0 master,noaddr - 0 0 2 disconnected`,
      `${P3} 10.0.0.3:7002@17002 handshake - 0 0 0 disconnected`,
      'garbage line',
      '',
    ].join('\n'));
    expect(nodes.map((n) => n.id)).toEqual([P1]);
  });

  it('keeps the myself line with an empty address (a cluster of one node), and no other empty one', () => {
    const nodes = parseClusterNodes([`${P1} :7000@17000 myself,master - 0 0 1 connected 0-16383`, `${P2} :7001@17001 master - 0 0 2 connected`].join('\n'));
    expect(nodes).toMatchObject([{ id: P1, host: '', port: 7000, slots: [[0, 16383]] }]);
  });

  it('reads hostnames after a comma and IPv6 addresses', () => {
    const nodes = parseClusterNodes([
      `${P1} ::1:7000@17000 myself,master - 0 0 1 connected 0-16383`,
      `${R1} 10.0.0.2:7001@17001,redis-1.example slave ${P1} 0 0 1 connected`,
      `${R2} [fe80::1]:7002@17002 slave ${P1} 0 0 1 connected`,
    ].join('\n'));
    expect(nodes.map((n) => [n.host, n.port])).toEqual([
      ['::1', 7000],
      ['10.0.0.2', 7001],
      ['fe80::1', 7002],
    ]);
    expect(nodes[0]?.address).toBe('::1:7000');
  });

  it('gives a replica of an unnamed primary its own id as shardId', () => {
    const [node] = parseClusterNodes(`${R1} 10.0.0.2:7001@17001 myself,slave - 0 0 1 connected`);
    expect(node).toMatchObject({ role: 'replica', shardId: R1, slots: [] });
    expect(node?.primaryId).toBeUndefined();
  });

  it('keeps primaryId for a replica whose primary is not listed, with no slots', () => {
    const [node] = parseClusterNodes(`${R1} 10.0.0.2:7001@17001 slave ${P1} 0 0 1 connected`);
    expect(node).toMatchObject({ primaryId: P1, shardId: P1, slots: [] });
  });
});

describe('parseMoved', () => {
  it('reads the slot and the address a MOVED reply sends it to, as describeRedisError words it', () => {
    expect(parseMoved('127.0.0.1:7000: MOVED 4748 127.0.0.1:7001')).toEqual({ slot: 4748, address: '127.0.0.1:7001' });
    expect(parseMoved('MOVED 0 ::1:7002')).toEqual({ slot: 0, address: '::1:7002' });
  });

  it('is undefined for any other error', () => {
    expect(parseMoved('127.0.0.1:7000: CROSSSLOT Keys in request don\'t hash to the same slot')).toBeUndefined();
    expect(parseMoved('ASK 12 127.0.0.1:7001')).toBeUndefined();
  });
});
