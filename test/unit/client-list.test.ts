// Unit tests for CLIENT LIST parsing and the pub/sub client test.
import { describe, it, expect } from 'vitest';
import { isPubsubClient, parseClientList } from '../../src/stats/client-list.js';

// CLIENT LIST of a Redis 7.0.15 cluster primary: its replica link, a SUBSCRIBE client,
// a PSUBSCRIBE client and the connection that asked.
const CLIENT_LIST_7_0 = [
  'id=4 addr=127.0.0.1:52816 laddr=127.0.0.1:31001 fd=23 name= age=47 idle=1 flags=S db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=20474 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=1 omem=20504 tot-mem=42776 events=r cmd=replconf user=default redir=-1 resp=2',
  'id=15 addr=127.0.0.1:46566 laddr=127.0.0.1:31001 fd=22 name=pubsub-mon:sampler age=1 idle=1 flags=P db=0 sub=2 psub=0 ssub=0 multi=-1 qbuf=0 qbuf-free=20474 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22352 events=r cmd=subscribe user=default redir=-1 resp=2',
  'id=16 addr=127.0.0.1:46578 laddr=127.0.0.1:31001 fd=24 name= age=1 idle=1 flags=P db=0 sub=0 psub=1 ssub=0 multi=-1 qbuf=0 qbuf-free=20474 argv-mem=0 multi-mem=0 rbs=1024 rbp=0 obl=0 oll=0 omem=0 tot-mem=22296 events=r cmd=psubscribe user=default redir=-1 resp=2',
  'id=17 addr=127.0.0.1:46592 laddr=127.0.0.1:31001 fd=25 name= age=0 idle=0 flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=26 qbuf-free=20448 argv-mem=10 multi-mem=0 rbs=16384 rbp=16384 obl=0 oll=0 omem=0 tot-mem=37658 events=r cmd=client|list user=default redir=-1 resp=2',
  '',
].join('\n');

// Redis 6.0: no ssub, no tot-mem.
const CLIENT_LIST_6_0 =
  'id=3 addr=[::1]:51234 fd=8 name=worker age=12 idle=3 flags=N db=0 sub=0 psub=0 multi=-1 qbuf=0 qbuf-free=32768 obl=0 oll=0 omem=0 events=r cmd=ping user=default\r\n';

describe('parseClientList', () => {
  it('returns one entry per non-empty line', () => {
    expect(parseClientList(CLIENT_LIST_7_0)).toHaveLength(4);
    expect(parseClientList('')).toEqual([]);
    expect(parseClientList('\n\r\n')).toEqual([]);
  });

  it('reads the named fields, numbers as numbers', () => {
    const [replica, subscriber] = parseClientList(CLIENT_LIST_7_0);
    expect(replica).toMatchObject({
      id: '4',
      addr: '127.0.0.1:52816',
      name: '',
      flags: 'S',
      age: 47,
      idle: 1,
      sub: 0,
      psub: 0,
      ssub: 0,
      omem: 20504,
      totMem: 42776,
    });
    expect(subscriber?.name).toBe('pubsub-mon:sampler');
    expect(subscriber?.sub).toBe(2);
  });

  it('keeps every field in raw, splitting each on its first =', () => {
    const clients = parseClientList(CLIENT_LIST_7_0);
    const asker = clients[3];
    expect(asker?.raw['cmd']).toBe('client|list');
    expect(asker?.raw['qbuf-free']).toBe('20448');
    expect(asker?.raw['multi']).toBe('-1');
    expect(asker?.raw['name']).toBe('');
    expect(Object.keys(asker?.raw ?? {})).toHaveLength(28);
    expect(parseClientList('id=1 lib-name= lib-ver=1.0=rc x=a=b=c')[0]?.raw).toEqual({
      id: '1',
      'lib-name': '',
      'lib-ver': '1.0=rc',
      x: 'a=b=c',
    });
  });

  it('leaves fields an older server does not send undefined', () => {
    const [client] = parseClientList(CLIENT_LIST_6_0);
    expect(client?.addr).toBe('[::1]:51234');
    expect(client?.name).toBe('worker');
    expect(client?.sub).toBe(0);
    expect(client?.ssub).toBeUndefined();
    expect(client?.totMem).toBeUndefined();
    expect(client?.raw['user']).toBe('default');
  });

  it('does not turn a non-numeric value into a number', () => {
    const [client] = parseClientList('id=9 addr=x:1 name=a flags=N age= idle=abc omem=12');
    expect(client?.age).toBeUndefined();
    expect(client?.idle).toBeUndefined();
    expect(client?.omem).toBe(12);
  });

  it('joins a stray word without = to the field before it', () => {
    const [client] = parseClientList('id=9 name=odd name flags=N sub=1');
    expect(client?.name).toBe('odd name');
    expect(client?.flags).toBe('N');
    expect(client?.sub).toBe(1);
  });
});

describe('isPubsubClient', () => {
  it('finds subscribers by flag P', () => {
    const flags = parseClientList(CLIENT_LIST_7_0).map(isPubsubClient);
    expect(flags).toEqual([false, true, true, false]);
  });

  it('finds subscribers by their counts even without flag P', () => {
    const [sub, psub, ssub, none] = parseClientList(
      ['id=1 flags=N sub=1', 'id=2 flags=N psub=3', 'id=3 flags=N ssub=1', 'id=4 flags=N sub=0 psub=0'].join('\n'),
    );
    expect(sub && isPubsubClient(sub)).toBe(true);
    expect(psub && isPubsubClient(psub)).toBe(true);
    expect(ssub && isPubsubClient(ssub)).toBe(true);
    expect(none && isPubsubClient(none)).toBe(false);
  });
});
