// Unit tests for folding per-node PUBSUB readings into deployment-wide channel and node rows.
import { describe, it, expect } from 'vitest';
import {
  attributionWarnings,
  otherPatterns,
  buildNodeRow,
  mergeChannels,
  totalPublishRate,
  type NodeReading,
  type NodeRow,
} from '../../src/stats/snapshot.js';
import { clientName, NO_OWN_SUBSCRIPTIONS, shardRole, type OwnSubscriptions } from '../../src/stats/own-subscriptions.js';
import { slotOwners, type Topology, type TopologyNode } from '../../src/stats/topology.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import type { ClientInfo } from '../../src/stats/client-list.js';

function node(id: string, port: number, role: 'primary' | 'replica', shardId: string, slots: Array<[number, number]> = []): TopologyNode {
  const n: TopologyNode = { id, host: '127.0.0.1', port, address: `127.0.0.1:${port}`, role, slots, shardId };
  if (role === 'replica') n.primaryId = shardId;
  return n;
}

const STANDALONE: Topology = {
  mode: 'standalone',
  nodes: [node('127.0.0.1:6379', 6379, 'primary', '127.0.0.1:6379'), node('127.0.0.1:6380', 6380, 'replica', '127.0.0.1:6379')],
};
const [SA_PRIMARY, SA_REPLICA] = STANDALONE.nodes as [TopologyNode, TopologyNode];

const RANGES: Array<[number, number]> = [
  [0, 5460],
  [5461, 10922],
  [10923, 16383],
];
const CLUSTER: Topology = {
  mode: 'cluster',
  nodes: [
    node('p1', 7000, 'primary', 'p1', [RANGES[0]!]),
    node('p2', 7001, 'primary', 'p2', [RANGES[1]!]),
    node('p3', 7002, 'primary', 'p3', [RANGES[2]!]),
    node('r1', 7003, 'replica', 'p1', [RANGES[0]!]),
    node('r2', 7004, 'replica', 'p2', [RANGES[1]!]),
    node('r3', 7005, 'replica', 'p3', [RANGES[2]!]),
  ],
};
const byId = (id: string): TopologyNode => CLUSTER.nodes.find((n) => n.id === id)!;

function reading(parts: Partial<NodeReading> = {}): NodeReading {
  return { channels: new Map(), numpat: 0, ...parts };
}

function readings(entries: Record<string, Partial<NodeReading>>): Map<string, NodeReading> {
  return new Map(Object.entries(entries).map(([id, r]) => [id, reading(r)]));
}

function own(parts: Partial<OwnSubscriptions>): OwnSubscriptions {
  return { ...NO_OWN_SUBSCRIPTIONS, ...parts };
}

function client(name: string, extra: Partial<ClientInfo> = {}): ClientInfo {
  return { id: String(Math.random()), addr: '127.0.0.1:50000', name, flags: 'P', raw: {}, ...extra };
}

const sorted = <T extends { name: string; kind: string }>(rows: T[]) =>
  [...rows].sort((a, b) => (a.kind + a.name < b.kind + b.name ? -1 : 1));

// Shard channel names whose slots are known: "hello" (866, shard 1), "bar" (5061, shard 1),
// "c" (7365, shard 2), "foo" (12182, shard 3) are the values CLUSTER KEYSLOT gives.
const SHARD1_CHANNEL = 'hello';
const SHARD2_CHANNEL = '{c}:events';
const SHARD3_CHANNEL = 'foo';

describe('slot choice for the fixtures', () => {
  it('puts the fixture channels in the shards the tests rely on', () => {
    expect(hashSlot(SHARD1_CHANNEL)).toBe(866);
    expect(hashSlot(SHARD3_CHANNEL)).toBe(12182);
    const s2 = hashSlot(SHARD2_CHANNEL);
    expect(s2).toBe(hashSlot('c'));
    expect(s2).toBe(7365);
    expect(s2).toBeGreaterThanOrEqual(5461);
    expect(s2).toBeLessThanOrEqual(10922);
  });

  it('slotOwners maps each slot range to its primary', () => {
    const owner = slotOwners(CLUSTER);
    expect(owner(0)?.id).toBe('p1');
    expect(owner(5460)?.id).toBe('p1');
    expect(owner(5461)?.id).toBe('p2');
    expect(owner(10922)?.id).toBe('p2');
    expect(owner(10923)?.id).toBe('p3');
    expect(owner(16383)?.id).toBe('p3');
    expect(slotOwners(STANDALONE)(0)).toBeUndefined();
  });
});

describe('mergeChannels: classic channels', () => {
  it('sums NUMSUB over every node, replicas included (standalone)', () => {
    const rows = mergeChannels(
      STANDALONE,
      readings({
        [SA_PRIMARY.id]: { channels: new Map([['orders', 2], ['news', 1]]) },
        [SA_REPLICA.id]: { channels: new Map([['orders', 3]]) },
      }),
    );
    expect(sorted(rows)).toEqual([
      { name: 'news', kind: 'channel', subscribers: 1 },
      { name: 'orders', kind: 'channel', subscribers: 5 },
    ]);
  });

  it('sums NUMSUB over all six cluster nodes, primaries and replicas', () => {
    const rows = mergeChannels(
      CLUSTER,
      readings({
        p1: { channels: new Map([['orders', 1]]) },
        p2: { channels: new Map([['orders', 2]]) },
        p3: { channels: new Map([['orders', 0]]) },
        r1: { channels: new Map([['orders', 4]]) },
        r2: { channels: new Map([['orders', 8]]) },
        r3: { channels: new Map([['orders', 16]]) },
      }),
    );
    expect(rows).toEqual([{ name: 'orders', kind: 'channel', subscribers: 31 }]);
  });

  it('keeps a channel known to one node only, with that node\'s count, and no slot or shard', () => {
    const rows = mergeChannels(CLUSTER, readings({ p1: {}, p2: {}, r3: { channels: new Map([['lonely', 3]]) } }));
    expect(rows).toEqual([{ name: 'lonely', kind: 'channel', subscribers: 3 }]);
    expect(rows[0]).not.toHaveProperty('slot');
    expect(rows[0]).not.toHaveProperty('shard');
  });

  it('skips nodes with no reading (down)', () => {
    const rows = mergeChannels(STANDALONE, readings({ [SA_REPLICA.id]: { channels: new Map([['orders', 2]]) } }));
    expect(rows).toEqual([{ name: 'orders', kind: 'channel', subscribers: 2 }]);
  });

  it('takes nothing off classic counts: pubsub-mon never SUBSCRIBEs a classic channel', () => {
    const rows = mergeChannels(
      CLUSTER,
      readings({ p1: { channels: new Map([['shared', 2]]), clients: [client('pubsub-mon:tail', { psub: 1 })] }, r2: { channels: new Map([['shared', 1]]) } }),
    );
    expect(rows).toEqual([{ name: 'shared', kind: 'channel', subscribers: 3 }]);
  });

  it('marks the channels of a bench run as pubsub-mon\'s, and counts their subscribers', () => {
    const rows = mergeChannels(STANDALONE, readings({ [SA_PRIMARY.id]: { channels: new Map([['pubsub-mon:bench:abc123:0', 2], ['orders', 1], ['pubsub-mon:ctl:lobby', 1], ['pubsub-mon:ctlx', 1]]) } }));
    expect(sorted(rows)).toEqual([
      { name: 'orders', kind: 'channel', subscribers: 1 },
      { name: 'pubsub-mon:bench:abc123:0', kind: 'channel', subscribers: 2, pubsubMon: 'bench' },
      // The agents' control channels are marked as such (bench/control.ts); a lookalike is anybody's.
      { name: 'pubsub-mon:ctl:lobby', kind: 'channel', subscribers: 1, pubsubMon: 'control' },
      { name: 'pubsub-mon:ctlx', kind: 'channel', subscribers: 1 },
    ]);
  });

  it('drops channels whose summed count is 0', () => {
    expect(mergeChannels(STANDALONE, readings({ [SA_PRIMARY.id]: { channels: new Map([['gone', 0]]) } }))).toEqual([]);
  });
});

describe('mergeChannels: shard channels', () => {
  it('sums SHARDNUMSUB over the owning shard\'s primary and replica, with slot and owner address', () => {
    const rows = mergeChannels(
      CLUSTER,
      readings({
        p1: { shardChannels: new Map([[SHARD1_CHANNEL, 2]]) },
        r1: { shardChannels: new Map([[SHARD1_CHANNEL, 3]]) },
        p3: { shardChannels: new Map([[SHARD3_CHANNEL, 1]]) },
        r3: { shardChannels: new Map([[SHARD3_CHANNEL, 1]]) },
        p2: { shardChannels: new Map([[SHARD2_CHANNEL, 4]]) },
      }),
    );
    expect(rows).toHaveLength(3);
    expect(rows).toEqual(
      expect.arrayContaining([
        { name: SHARD1_CHANNEL, kind: 'shard', subscribers: 5, slot: 866, shard: '127.0.0.1:7000' },
        { name: SHARD2_CHANNEL, kind: 'shard', subscribers: 4, slot: 7365, shard: '127.0.0.1:7001' },
        { name: SHARD3_CHANNEL, kind: 'shard', subscribers: 2, slot: 12182, shard: '127.0.0.1:7002' },
      ]),
    );
  });

  it('ignores a stale count reported by a node outside the owning shard', () => {
    const rows = mergeChannels(
      CLUSTER,
      readings({
        p1: { shardChannels: new Map([[SHARD3_CHANNEL, 7]]) },
        r2: { shardChannels: new Map([[SHARD3_CHANNEL, 9]]) },
        r3: { shardChannels: new Map([[SHARD3_CHANNEL, 1]]) },
      }),
    );
    expect(rows).toEqual([{ name: SHARD3_CHANNEL, kind: 'shard', subscribers: 1, slot: 12182, shard: '127.0.0.1:7002' }]);
  });

  it('drops a shard channel reported only by non-owner nodes', () => {
    const rows = mergeChannels(CLUSTER, readings({ p2: { shardChannels: new Map([[SHARD1_CHANNEL, 5]]) } }));
    expect(rows).toEqual([]);
  });

  it('keeps a shard channel and a classic channel of the same name apart', () => {
    const rows = mergeChannels(
      CLUSTER,
      readings({ p1: { channels: new Map([[SHARD1_CHANNEL, 1]]), shardChannels: new Map([[SHARD1_CHANNEL, 2]]) } }),
    );
    expect(sorted(rows)).toEqual([
      { name: SHARD1_CHANNEL, kind: 'channel', subscribers: 1 },
      { name: SHARD1_CHANNEL, kind: 'shard', subscribers: 2, slot: 866, shard: '127.0.0.1:7000' },
    ]);
  });

  it('on standalone sums over every node and sets no slot or shard', () => {
    const rows = mergeChannels(
      STANDALONE,
      readings({
        [SA_PRIMARY.id]: { shardChannels: new Map([['s', 1]]) },
        [SA_REPLICA.id]: { shardChannels: new Map([['s', 2]]) },
      }),
    );
    expect(rows).toEqual([{ name: 's', kind: 'shard', subscribers: 3 }]);
    expect(rows[0]).not.toHaveProperty('slot');
    expect(rows[0]).not.toHaveProperty('shard');
  });

  it('subtracts own SSUBSCRIBEs per node and drops rows left at 0', () => {
    const rows = mergeChannels(
      CLUSTER,
      readings({
        p1: { shardChannels: new Map([[SHARD1_CHANNEL, 1], ['bar', 1]]) },
        r1: { shardChannels: new Map([['bar', 2]]) },
      }),
      own({ shardChannels: new Map([['p1', new Set([SHARD1_CHANNEL, 'bar'])]]) }),
    );
    expect(hashSlot('bar')).toBe(5061);
    expect(rows).toEqual([{ name: 'bar', kind: 'shard', subscribers: 2, slot: 5061, shard: '127.0.0.1:7000' }]);
  });
});

describe('otherPatterns', () => {
  it('sums psub of every client but pubsub-mon\'s observers, whichever process holds them', () => {
    const clients = [
      client('pubsub-mon:rates', { psub: 1 }),
      client('pubsub-mon:tail', { psub: 3 }),
      client('pubsub-mon:rates-keyspace', { psub: 1 }),
      client('app', { psub: 2 }),
      client('', { psub: 1 }),
      client('pubsub-mon:bench-sub', { psub: 1 }),
    ];
    expect(otherPatterns(byId('p1'), reading({ numpat: 9, clients }), NO_OWN_SUBSCRIPTIONS)).toEqual({ count: 4, estimated: false });
  });

  it('is 0 when only pubsub-mon holds patterns, whatever NUMPAT says', () => {
    const clients = [client('pubsub-mon:rates', { psub: 1 }), client('pubsub-mon:tail', { psub: 1 })];
    expect(otherPatterns(byId('p1'), reading({ numpat: 2, clients }), NO_OWN_SUBSCRIPTIONS).count).toBe(0);
  });

  it('falls back to NUMPAT less this process\'s own patterns, and says it is an estimate, when CLIENT LIST was refused', () => {
    const o = own({ patterns: new Map([['p1', 2]]) });
    expect(otherPatterns(byId('p1'), reading({ numpat: 3 }), o)).toEqual({ count: 1, estimated: true });
    expect(otherPatterns(byId('p2'), reading({ numpat: 3 }), o)).toEqual({ count: 3, estimated: true });
    expect(otherPatterns(byId('p1'), reading({ numpat: 0 }), o).count).toBe(0);
  });
});

describe('mergeChannels: pubsub-mon\'s shard subscriptions, from any process', () => {
  const sampler = (channels: string[], ssub = channels.length) => client(clientName(shardRole('rates-shard', channels)), { ssub });

  it('takes one off for each observer connection whose name lists the channel, on each node of the shard', () => {
    const rows = mergeChannels(
      CLUSTER,
      readings({
        // Two watch processes sample the channel on the primary; one real subscriber on the replica.
        p1: { shardChannels: new Map([[SHARD1_CHANNEL, 2]]), clients: [sampler([SHARD1_CHANNEL]), sampler([SHARD1_CHANNEL, 'other'])] },
        r1: { shardChannels: new Map([[SHARD1_CHANNEL, 1]]), clients: [client('app', { ssub: 1 })] },
      }),
    );
    expect(rows).toEqual([expect.objectContaining({ name: SHARD1_CHANNEL, kind: 'shard', subscribers: 1 })]);
  });

  it('drops a shard channel that only pubsub-mon processes hold', () => {
    const rows = mergeChannels(CLUSTER, readings({ p1: { shardChannels: new Map([[SHARD1_CHANNEL, 2]]), clients: [sampler([SHARD1_CHANNEL]), sampler([SHARD1_CHANNEL])] } }));
    expect(rows).toEqual([]);
  });

  it('keys names by their bytes: a channel with dots, braces and non-ASCII round-trips through the name', () => {
    const odd = '{u.1}:événements.ß';
    expect(client(clientName(shardRole('tail-shard', [odd, 'x.y'])), {}).name).not.toContain(' ');
    const rows = mergeChannels(STANDALONE, readings({ [SA_PRIMARY.id]: { shardChannels: new Map([[odd, 1], ['x.y', 2]]), clients: [sampler([odd, 'x.y'])] } }));
    expect(sorted(rows)).toEqual([{ name: 'x.y', kind: 'shard', subscribers: 1 }]);
  });

  it('trusts a connection only while its ssub agrees with its name, and warns about the others', () => {
    const stale = sampler([SHARD1_CHANNEL, 'gone'], 1);
    const topo = CLUSTER;
    const r = readings({ p1: { shardChannels: new Map([[SHARD1_CHANNEL, 2]]), clients: [stale] } });
    expect(mergeChannels(topo, r)).toEqual([expect.objectContaining({ name: SHARD1_CHANNEL, subscribers: 2 })]);
    expect(attributionWarnings(topo, r).join('\n')).toMatch(/lost some of its shard subscriptions/);
  });

  it('uses this process\'s own knowledge when CLIENT LIST was refused', () => {
    const o = own({ shardChannels: new Map([['p1', new Set([SHARD1_CHANNEL])]]) });
    const rows = mergeChannels(CLUSTER, readings({ p1: { shardChannels: new Map([[SHARD1_CHANNEL, 2]]), clientsError: 'NOPERM' } }), o);
    expect(rows).toEqual([expect.objectContaining({ name: SHARD1_CHANNEL, subscribers: 1 })]);
  });
});

describe('buildNodeRow', () => {
  it('marks a node with no reading as down, with the error given', () => {
    const row = buildNodeRow(byId('p2'), 'cluster', undefined, 'cannot connect to 127.0.0.1:7001: connection refused', NO_OWN_SUBSCRIPTIONS, {});
    expect(row).toEqual({ address: '127.0.0.1:7001', role: 'primary', up: false, error: 'cannot connect to 127.0.0.1:7001: connection refused' });
  });

  it('gives a down node a default error when none is known', () => {
    const row = buildNodeRow(byId('r1'), 'cluster', undefined, undefined, NO_OWN_SUBSCRIPTIONS, {});
    expect(row.up).toBe(false);
    expect(row.error).toEqual(expect.any(String));
    expect(row.error).not.toBe('');
  });

  it('leaves fields the server did not report undefined, not 0', () => {
    const row = buildNodeRow(SA_PRIMARY, 'standalone', reading({ numpat: 0, info: { redis_version: '6.0.16' } }), undefined, NO_OWN_SUBSCRIPTIONS, {});
    expect(row.up).toBe(true);
    expect(row.version).toBe('6.0.16');
    expect(row.pubsubClients).toBeUndefined();
    expect(row.clients).toBeUndefined();
    expect(row.opsPerSec).toBeUndefined();
    expect(row.maxSubscriberOmem).toBeUndefined();
    expect(row.publishPerSec).toBeUndefined();
    expect(row.obufDisconnections).toBeUndefined();
    expect(row.pubsubLimit).toBeUndefined();
    expect(row.numpat).toBe(0);
  });

  it('leaves version undefined without INFO at all', () => {
    const row = buildNodeRow(SA_PRIMARY, 'standalone', reading(), undefined, NO_OWN_SUBSCRIPTIONS, {});
    expect(row.up).toBe(true);
    expect(row.version).toBeUndefined();
    expect(row.clients).toBeUndefined();
    expect(row.pubsubClients).toBeUndefined();
  });

  it('takes pubsub_clients from INFO minus own pub/sub connections when CLIENT LIST is missing', () => {
    const o = own({ connections: new Map([[SA_PRIMARY.id, { total: 3, pubsub: 1 }]]) });
    const row = buildNodeRow(SA_PRIMARY, 'standalone', reading({ info: { pubsub_clients: '5', connected_clients: '10' }, clientsError: 'NOPERM' }), undefined, o, {});
    expect(row.pubsubClients).toBe(4);
    expect(row.clients).toBe(7);
  });

  it('counts pub/sub clients from CLIENT LIST without pubsub-mon:* ones; omem max over the others', () => {
    const clients = [
      client('pubsub-mon:rates', { psub: 1, omem: 999_999 }),
      client('pubsub-mon:tail', { sub: 1, omem: 500_000 }),
      client('worker', { sub: 1, omem: 0 }),
      client('', { sub: 2, omem: 16_384 }),
      client('slow', { sub: 1, omem: 2048 }),
    ];
    const o = own({ connections: new Map([[SA_PRIMARY.id, { total: 2, pubsub: 2 }]]) });
    const row = buildNodeRow(SA_PRIMARY, 'standalone', reading({ clients, info: { pubsub_clients: '5' } }), undefined, o, {});
    expect(row.pubsubClients).toBe(3);
    expect(row.maxSubscriberOmem).toBe(16_384);
  });

  it('gives maxSubscriberOmem 0 and pubsubClients 0 when only pubsub-mon subscribes', () => {
    const row = buildNodeRow(SA_PRIMARY, 'standalone', reading({ clients: [client('pubsub-mon:rates', { psub: 1, omem: 10 })] }), undefined, NO_OWN_SUBSCRIPTIONS, {});
    expect(row.pubsubClients).toBe(0);
    expect(row.maxSubscriberOmem).toBe(0);
  });

  it('subtracts own pub/sub connections by number when a restricted user left them unnamed', () => {
    const clients = [client(''), client(''), client('')];
    const o = own({ connections: new Map([['p1', { total: 2, pubsub: 1 }]]) });
    const row = buildNodeRow(byId('p1'), 'cluster', reading({ clients }), undefined, o, {});
    expect(row.pubsubClients).toBe(2);
    expect(buildNodeRow(byId('p1'), 'cluster', reading({ clients: [] }), undefined, o, {}).pubsubClients).toBe(0);
  });

  it('subtracts own total connections from connected_clients', () => {
    const o = own({ connections: new Map([['p1', { total: 3, pubsub: 1 }]]) });
    expect(buildNodeRow(byId('p1'), 'cluster', reading({ info: { connected_clients: '12' } }), undefined, o, {}).clients).toBe(9);
    expect(buildNodeRow(byId('p2'), 'cluster', reading({ info: { connected_clients: '12' } }), undefined, o, {}).clients).toBe(12);
    expect(buildNodeRow(byId('p1'), 'cluster', reading({ info: { connected_clients: '1' } }), undefined, o, {}).clients).toBe(0);
  });

  it('shows valkey_version as "valkey X", redis_version as is', () => {
    const valkey = buildNodeRow(byId('p1'), 'cluster', reading({ info: { redis_version: '7.2.4', valkey_version: '8.0.1' } }), undefined, NO_OWN_SUBSCRIPTIONS, {});
    expect(valkey.version).toBe('valkey 8.0.1');
    const redis = buildNodeRow(byId('p1'), 'cluster', reading({ info: { redis_version: '7.4.1' } }), undefined, NO_OWN_SUBSCRIPTIONS, {});
    expect(redis.version).toBe('7.4.1');
  });

  it('copies ops/s, counters, limit and the adjusted NUMPAT', () => {
    const limit = { hardBytes: 33_554_432, softBytes: 8_388_608, softSeconds: 60 };
    const row = buildNodeRow(
      byId('p1'),
      'cluster',
      reading({ numpat: 2, info: { instantaneous_ops_per_sec: '1500' }, pubsubLimit: limit }),
      undefined,
      own({ patterns: new Map([['p1', 1]]) }),
      { publishPerSec: 250, obufDisconnections: 0 },
    );
    expect(row.opsPerSec).toBe(1500);
    expect(row.publishPerSec).toBe(250);
    expect(row.obufDisconnections).toBe(0);
    expect(row.pubsubLimit).toEqual(limit);
    expect(row.numpat).toBe(1);
  });

  it('marks publishReplicated only on standalone replicas', () => {
    const r = (n: TopologyNode, mode: Topology['mode']) => buildNodeRow(n, mode, reading(), undefined, NO_OWN_SUBSCRIPTIONS, {}).publishReplicated;
    expect(r(SA_REPLICA, 'standalone')).toBe(true);
    expect(r(SA_PRIMARY, 'standalone')).toBeUndefined();
    expect(r(byId('r1'), 'cluster')).toBeUndefined();
    expect(r(byId('p1'), 'cluster')).toBeUndefined();
  });
});

describe('totalPublishRate', () => {
  const row = (role: 'primary' | 'replica', up: boolean, publishPerSec?: number): NodeRow => {
    const r: NodeRow = { address: 'x', role, up };
    if (publishPerSec !== undefined) r.publishPerSec = publishPerSec;
    return r;
  };

  it('sums every up node on a cluster, replicas included', () => {
    expect(totalPublishRate([row('primary', true, 10), row('replica', true, 5), row('primary', true, 1)], 'cluster')).toBe(16);
  });

  it('skips down nodes', () => {
    expect(totalPublishRate([row('primary', true, 10), row('primary', false)], 'cluster')).toBe(10);
  });

  it('leaves standalone replicas out (they repeat the primary\'s)', () => {
    expect(totalPublishRate([row('primary', true, 100), row('replica', true, 100)], 'standalone')).toBe(100);
    expect(totalPublishRate([row('primary', true, 100), row('replica', true)], 'standalone')).toBe(100);
  });

  it('is undefined while an up node has no rate yet', () => {
    expect(totalPublishRate([row('primary', true, 10), row('replica', true)], 'cluster')).toBeUndefined();
    expect(totalPublishRate([row('primary', true)], 'standalone')).toBeUndefined();
  });

  it('is 0 with nothing up', () => {
    expect(totalPublishRate([row('primary', false)], 'cluster')).toBe(0);
    expect(totalPublishRate([], 'cluster')).toBe(0);
  });
});
