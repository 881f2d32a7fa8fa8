// Unit tests for the clients part of the `watch --json` document (the clients view's public contract).
import { describe, it, expect } from 'vitest';
import type { Snapshot } from '../../src/stats/snapshot.js';
import type { SubscriberClient } from '../../src/stats/subscriber-clients.js';
import { snapshotToJson } from '../../src/render/json/watch.js';

const MiB = 1024 * 1024;

function snapshot(clients: SubscriberClient[], over: Partial<Snapshot> = {}): Snapshot {
  return {
    time: Date.UTC(2024, 4, 1, 12, 0, 0),
    mode: 'standalone',
    channels: [],
    nodes: [{ address: '127.0.0.1:6379', role: 'primary', up: true }],
    patternsPresent: false,
    warnings: [],
    clients,
    clientsUnknown: [],
    flapping: 0,
    ...over,
  };
}

const SLOW: SubscriberClient = {
  node: '127.0.0.1:6379',
  nodeRole: 'primary',
  id: '42',
  addr: '10.0.0.5:50001',
  name: 'slow-consumer',
  libName: 'redis-py',
  libVer: '5.0.1',
  sub: 1,
  psub: 0,
  ssub: 0,
  omem: 6 * MiB,
  limit: { hardBytes: 32 * MiB, softBytes: 8 * MiB, softSeconds: 60 },
  age: 300,
  idle: 2,
  reconnects: 2,
  flapping: true,
};

describe('snapshotToJson, clients', () => {
  it('leaves clients out unless the clients view asks for them', () => {
    const json = snapshotToJson(snapshot([SLOW]));
    expect(json).not.toHaveProperty('clients');
    expect(json).not.toHaveProperty('clients_unknown_nodes');
    expect(json).not.toHaveProperty('flapping');
  });

  it('writes every client key, in the order given', () => {
    const json = snapshotToJson(snapshot([SLOW, { ...SLOW, id: '43', omem: 0, flapping: false, reconnects: 0 }], { flapping: 1 }), { clients: true });
    expect(json.clients?.[0]).toEqual({
      node: '127.0.0.1:6379',
      node_role: 'primary',
      id: '42',
      addr: '10.0.0.5:50001',
      name: 'slow-consumer',
      lib_name: 'redis-py',
      lib_ver: '5.0.1',
      sub: 1,
      psub: 0,
      ssub: 0,
      omem: 6 * MiB,
      age: 300,
      idle: 2,
      flapping: true,
      reconnects: 2,
    });
    expect(json.clients?.map((c) => c.id)).toEqual(['42', '43']);
    expect(json.flapping).toBe(1);
    expect(json.clients_unknown_nodes).toEqual([]);
  });

  it('writes null for what the server did not report, never 0, and keeps an unnamed client\'s name empty', () => {
    const bare: SubscriberClient = { node: 'h:1', nodeRole: 'replica', id: '7', addr: '[::1]:5', name: '', reconnects: 0, flapping: false };
    const json = JSON.parse(JSON.stringify(snapshotToJson(snapshot([bare]), { clients: true }))) as { clients: unknown[] };
    expect(json.clients[0]).toEqual({
      node: 'h:1',
      node_role: 'replica',
      id: '7',
      addr: '[::1]:5',
      name: '',
      lib_name: null,
      lib_ver: null,
      sub: null,
      psub: null,
      ssub: null,
      omem: null,
      age: null,
      idle: null,
      flapping: false,
      reconnects: 0,
    });
  });

  it('names the nodes whose CLIENT LIST is missing, so an empty list is not read as "no subscribers"', () => {
    const json = snapshotToJson(snapshot([], { clientsUnknown: ['127.0.0.1:6380'] }), { clients: true });
    expect(json.clients).toEqual([]);
    expect(json.clients_unknown_nodes).toEqual(['127.0.0.1:6380']);
  });
});
