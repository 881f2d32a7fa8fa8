// Unit tests for the clients view's model: which connections are subscribers, and how they sort and group.
import { describe, it, expect } from 'vitest';
import { parseClientList } from '../../src/stats/client-list.js';
import { CLIENT_GROUP_BY, CLIENT_SORT_KEYS, groupClients, libraryOf, sortClients, subscriberClients, type SubscriberClient } from '../../src/stats/subscriber-clients.js';

const MiB = 1024 * 1024;
const LIMIT = { hardBytes: 32 * MiB, softBytes: 8 * MiB, softSeconds: 60 };
const NODE = { address: '127.0.0.1:7001', role: 'primary' as const };

// CLIENT LIST of a Redis 7.2 node: a named subscriber with its library, a pattern subscriber, a shard
// subscriber, pubsub-mon's own sampler and a bench subscriber, a replica link and a plain client.
const CLIENT_LIST_7_2 = [
  'id=7 addr=10.0.0.5:50001 laddr=127.0.0.1:7001 fd=9 name=orders-worker age=120 idle=0 flags=P db=0 sub=3 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=12 omem=5242880 tot-mem=5300000 events=rw cmd=subscribe user=default redir=-1 resp=2 lib-name=redis-py lib-ver=5.0.1',
  'id=8 addr=10.0.0.6:50002 laddr=127.0.0.1:7001 fd=10 name= age=30 idle=30 flags=P db=0 sub=0 psub=2 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22000 events=r cmd=psubscribe user=default redir=-1 resp=3 lib-name= lib-ver=',
  'id=9 addr=10.0.0.6:50003 laddr=127.0.0.1:7001 fd=11 name=inventory age=5 idle=5 flags=P db=0 sub=0 psub=0 ssub=1 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22000 events=r cmd=ssubscribe user=default redir=-1 resp=3 lib-name=ioredis lib-ver=',
  'id=10 addr=127.0.0.1:40000 laddr=127.0.0.1:7001 fd=12 name=pubsub-mon:rates age=3 idle=0 flags=P db=0 sub=0 psub=1 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22000 events=r cmd=psubscribe user=default redir=-1 resp=2',
  'id=11 addr=127.0.0.1:40001 laddr=127.0.0.1:7001 fd=13 name=pubsub-mon:bench-sub age=3 idle=0 flags=P db=0 sub=1 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22000 events=r cmd=subscribe user=default redir=-1 resp=2',
  'id=4 addr=127.0.0.1:52816 laddr=127.0.0.1:7001 fd=23 name= age=47 idle=1 flags=S db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=20474 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=1 omem=20504 tot-mem=42776 events=r cmd=replconf user=default redir=-1 resp=2',
  'id=12 addr=10.0.0.7:50009 laddr=127.0.0.1:7001 fd=14 name=web age=1 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22000 events=r cmd=get user=default redir=-1 resp=2',
].join('\n');

// Redis 6.0: no ssub, no lib-name.
const CLIENT_LIST_6_0 = 'id=3 addr=[::1]:51234 fd=8 name=worker age=12 idle=3 flags=P db=0 sub=1 psub=0 multi=-1 qbuf=0 qbuf-free=32768 obl=0 oll=0 omem=0 events=r cmd=subscribe user=default\n';

function client(over: Partial<SubscriberClient> & { id: string }): SubscriberClient {
  return { node: NODE.address, nodeRole: 'primary', addr: `10.0.0.1:${50000 + Number(over.id)}`, name: '', sub: 1, psub: 0, ssub: 0, omem: 0, age: 10, idle: 10, reconnects: 0, flapping: false, ...over };
}

describe('subscriberClients', () => {
  it('keeps pub/sub connections, bench load included, and leaves out observers, replica links and plain clients', () => {
    const subs = subscriberClients(NODE, parseClientList(CLIENT_LIST_7_2), LIMIT);
    expect(subs.map((c) => c.id)).toEqual(['7', '8', '9', '11']);
  });

  it('carries the node, the fields CLIENT LIST gave, the limit, and no reconnects yet', () => {
    const [orders] = subscriberClients(NODE, parseClientList(CLIENT_LIST_7_2), LIMIT);
    expect(orders).toEqual({
      node: '127.0.0.1:7001',
      nodeRole: 'primary',
      id: '7',
      addr: '10.0.0.5:50001',
      name: 'orders-worker',
      libName: 'redis-py',
      libVer: '5.0.1',
      sub: 3,
      psub: 0,
      ssub: 0,
      omem: 5 * MiB,
      limit: LIMIT,
      age: 120,
      idle: 0,
      reconnects: 0,
      flapping: false,
    });
  });

  it('leaves empty lib-name and lib-ver out, and a library without a version has its name only', () => {
    const subs = subscriberClients(NODE, parseClientList(CLIENT_LIST_7_2));
    expect(subs[1]).not.toHaveProperty('libName');
    expect(subs[1]).not.toHaveProperty('libVer');
    expect(subs[1]).not.toHaveProperty('limit');
    expect(subs[2]).toMatchObject({ libName: 'ioredis' });
    expect(subs[2]).not.toHaveProperty('libVer');
    expect(libraryOf(subs[2]!)).toBe('ioredis');
    expect(libraryOf(subs[0]!)).toBe('redis-py 5.0.1');
    expect(libraryOf(subs[1]!)).toBe('');
  });

  it('leaves fields an older server does not send unknown, never 0', () => {
    const [worker] = subscriberClients({ address: 'h:1', role: 'replica' }, parseClientList(CLIENT_LIST_6_0));
    expect(worker).toMatchObject({ node: 'h:1', nodeRole: 'replica', addr: '[::1]:51234', name: 'worker', sub: 1 });
    expect(worker).not.toHaveProperty('ssub');
    expect(worker).not.toHaveProperty('libName');
  });
});

describe('sortClients', () => {
  it('puts the largest output buffer first and unknown ones last', () => {
    const sorted = sortClients([client({ id: '1', omem: 10 }), client({ id: '2', omem: undefined }), client({ id: '3', omem: 5 * MiB }), client({ id: '4', omem: 0 })], 'omem');
    expect(sorted.map((c) => c.id)).toEqual(['3', '1', '4', '2']);
  });

  it('breaks ties by node (in the order given, else by address), then by address, then id', () => {
    const list = [
      client({ id: '5', node: '127.0.0.1:7010', addr: '10.0.0.1:1' }),
      client({ id: '4', node: '127.0.0.1:7002', addr: '10.0.0.2:1' }),
      client({ id: '3', node: '127.0.0.1:7002', addr: '10.0.0.1:20000' }),
      client({ id: '2', node: '127.0.0.1:7002', addr: '10.0.0.1:3000' }),
      client({ id: '1', node: '127.0.0.1:7002', addr: '10.0.0.1:3000' }),
    ];
    expect(sortClients(list, 'omem').map((c) => c.id)).toEqual(['1', '2', '3', '4', '5']);
    expect(sortClients(list, 'omem', ['127.0.0.1:7010', '127.0.0.1:7002']).map((c) => c.id)).toEqual(['5', '1', '2', '3', '4']);
    // The same order whatever order the rows came in: rows keep their place between refreshes.
    expect(sortClients([...list].reverse(), 'omem').map((c) => c.id)).toEqual(['1', '2', '3', '4', '5']);
  });

  it('sorts by name (unnamed last), age (youngest first), idle and subscriptions (most first)', () => {
    const list = [
      client({ id: '1', name: 'b', age: 100, idle: 1, sub: 1, psub: 0, ssub: 0 }),
      client({ id: '2', name: '', age: 5, idle: 50, sub: 0, psub: 3, ssub: 1 }),
      client({ id: '3', name: 'a', age: undefined, idle: undefined, sub: undefined, psub: undefined, ssub: undefined }),
    ];
    expect(sortClients(list, 'name').map((c) => c.id)).toEqual(['3', '1', '2']);
    expect(sortClients(list, 'age').map((c) => c.id)).toEqual(['2', '1', '3']);
    expect(sortClients(list, 'idle').map((c) => c.id)).toEqual(['2', '1', '3']);
    expect(sortClients(list, 'subscriptions').map((c) => c.id)).toEqual(['2', '1', '3']);
  });

  it('has a key for every sort it offers, and leaves its input alone', () => {
    const list = [client({ id: '2', omem: 1 }), client({ id: '1', omem: 2 })];
    for (const key of CLIENT_SORT_KEYS) expect(sortClients(list, key)).toHaveLength(2);
    expect(list.map((c) => c.id)).toEqual(['2', '1']);
  });
});

describe('groupClients', () => {
  const list = [
    client({ id: '1', name: 'orders', addr: '10.0.0.5:1', node: 'n:1', sub: 2, omem: 100, libName: 'redis-py', libVer: '5.0.1' }),
    client({ id: '2', name: 'orders', addr: '10.0.0.5:2', node: 'n:2', sub: 3, psub: 1, omem: 300, libName: 'redis-py', libVer: '5.0.1', flapping: true, reconnects: 2 }),
    client({ id: '3', name: 'orders', addr: '10.0.0.6:1', node: 'n:2', sub: 1, omem: 50, flapping: true, reconnects: 2 }),
    client({ id: '4', name: '', addr: '10.0.0.6:2', node: 'n:1', sub: 0, psub: 4, ssub: undefined, omem: undefined }),
  ];

  it('by name: connections, nodes, subscription and buffer totals, flapping identities', () => {
    expect(groupClients(list, 'name')).toEqual([
      { key: 'orders', connections: 3, nodes: 2, sub: 6, psub: 1, ssub: 0, omem: 450, maxOmem: 300, flapping: 1, incomplete: [] },
      { key: '', connections: 1, nodes: 1, sub: 0, psub: 4, ssub: 0, omem: 0, maxOmem: 0, flapping: 0, incomplete: ['ssub', 'omem'] },
    ]);
  });

  it('by library, with unknown libraries together under an empty key', () => {
    expect(groupClients(list, 'lib').map((g) => [g.key, g.connections])).toEqual([['', 2], ['redis-py 5.0.1', 2]]);
  });

  it('by host, without the port: how many connections one machine holds', () => {
    expect(groupClients(list, 'addr').map((g) => [g.key, g.connections, g.nodes])).toEqual([['10.0.0.5', 2, 2], ['10.0.0.6', 2, 2]]);
  });

  it('offers every grouping, and an empty list has no groups', () => {
    expect(CLIENT_GROUP_BY).toEqual(['name', 'lib', 'addr']);
    for (const by of CLIENT_GROUP_BY) expect(groupClients([], by)).toEqual([]);
  });
});
