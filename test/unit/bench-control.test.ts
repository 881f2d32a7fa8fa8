// The control protocol between a bench coordinator and its agents: message encoding both ways, what
// decodeControl makes of anything else on the channel, the run's names and their one hash slot, and
// which agent names are allowed (pure, no network).
import v8 from 'node:v8';
import { describe, it, expect } from 'vitest';
import {
  AGENT_NAME,
  CONTROL_PREFIX,
  AGENTS_CHANNEL,
  COORDINATOR_CHANNEL,
  LOBBY_CHANNEL,
  PROTOCOL_VERSION,
  decodeControl,
  readAddressed,
  readCall,
  readFromAgent,
  encodeControl,
  fromWire,
  runNames,
  toWire,
  type AgentMessage,
  type CallMessage,
  type Addressed,
  type HelloMessage,
  type RefuseMessage,
} from '../../src/bench/control.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import type { FromWorker, ToWorker } from '../../src/bench/worker-protocol.js';
import { rng } from '../helpers/bench-fixtures.js';

type Message = CallMessage | HelloMessage | RefuseMessage | AgentMessage | Addressed;


function randomBytes(r: () => number, n: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = Math.floor(r() * 256);
  return b;
}

const wireClock = toWire({ offsetNs: 1_700_000_000_123_456_789n, boundNs: 1234.5, rttNs: 1469 });

const call: CallMessage = { t: 'call', run: 'a1b2c3', version: PROTOCOL_VERSION, coordinator: 'coordinator@box', control: { kind: 'node', host: '10.0.0.7', port: 7003 } };
const hello: HelloMessage = { t: 'hello', run: 'a1b2c3', id: 'f00d', name: 'host-1.example_x@y', version: PROTOCOL_VERSION, host: 'box-1', pid: 4242, threads: 4, processes: 0, clock: wireClock };
const refuse: RefuseMessage = { t: 'refuse', run: 'a1b2c3', name: 'old', version: '0.0.1', why: 'another version: 0.0.1 here, 0.1.0 there' };
const accept: Addressed = { t: 'accept', index: 2, run: 'a1b2c3', to: 'host-1', id: 'f00d' };
const decline: Addressed = { t: 'decline', why: 'enough agents already', run: 'a1b2c3', to: 'late', id: 'f00e' };

const done: FromWorker = {
  type: 'done',
  subscribers: [
    { id: 3, received: 300, unique: 299, duplicates: 1, reordered: 0, foreign: 0, excused: 0, reconnects: 0 },
    { id: 7, received: 10, unique: 10, duplicates: 0, reordered: 2, foreign: 1, excused: 4, reconnects: 1, lost: { address: '127.0.0.1:7001', reason: 'reset', atNs: 12_345 } },
  ],
  tally: {
    histogram: 'HISTFAAAAB...',
    overflow: 0,
    groupHistograms: ['a', 'b'],
    receivedPerGroup: [200, 110],
    uniquePerGroup: [199, 110],
    excusedPerGroup: [0, 4],
    perSecond: [150, 160, 0],
    hostSplit: { same: 'S', cross: 'C', byPublisher: { received: [100, 0, 210], unique: [99, 0, 210], excused: [0, 0, 4] } },
  },
  cpuNs: 123_456_789,
};
const published: FromWorker = {
  type: 'published',
  publishers: [{ id: 1, measuredSent: 5, okPerChannel: [2, 3], errors: 0, errorSamples: [], perSecond: [5], lastSendNs: 1.5e12, lastSeq: [-1, 4], unanswered: 0 }],
};
const start: ToWorker = { type: 'start', timing: { startNs: 1e12, measureFromNs: 1.002e12, endNs: 1.012e12 } };
const finish: ToWorker = { type: 'finish', lastSent: [[1, 2, 3], [], [-1]] };

const jsonMessages: Message[] = [call, hello, refuse, accept, decline, { ...call, control: { kind: 'own' } }];
const v8Messages: Message[] = [
  { t: 'worker', run: 'a1b2c3', name: 'a', w: 0, m: done },
  { t: 'worker', run: 'a1b2c3', name: 'a', w: 3, m: published },
  { t: 'worker', run: 'a1b2c3', name: 'b', w: 1, m: { type: 'progress', sent: 10, received: 20, interval: [0, 3, 1] } },
  { t: 'worker', run: 'a1b2c3', name: 'b', w: 1, m: { type: 'failed', message: 'NOAUTH', kind: 'auth' } },
  { t: 'beat', run: 'a1b2c3', name: 'a' },
  { t: 'clock', run: 'a1b2c3', name: 'a', clock: wireClock },
  { t: 'failed', run: 'a1b2c3', name: 'a', message: 'could not connect' },
  { t: 'to', w: 2, m: start, run: 'a1b2c3', to: 'a', id: 'f00d' },
  { t: 'to', w: 0, m: finish, run: 'a1b2c3', to: 'a', id: 'f00d' },
  { t: 'to', w: 0, m: { type: 'connect' }, run: 'a1b2c3', to: 'a', id: 'f00d' },
  { t: 'to', w: 0, m: { type: 'stop' }, run: 'a1b2c3', to: 'a', id: 'f00d' },
  { t: 'work', run: 'a1b2c3', to: 'a', id: 'f00d' },
  { t: 'clock', run: 'a1b2c3', to: 'a', id: 'f00d' },
  { t: 'end', run: 'a1b2c3', to: 'b', id: 'f00d' },
];

describe('encodeControl / decodeControl', () => {
  it.each(jsonMessages.map((m) => [m.t, m] as const))('sends %s as JSON text starting with "{" and reads it back', (_, m) => {
    const buf = encodeControl(m);
    expect(buf[0]).toBe(0x7b);
    // Plain JSON: a pubsub-mon of another version (or a person with redis-cli) can read it.
    expect(JSON.parse(buf.toString('utf8'))).toEqual(m);
    expect(decodeControl(buf)).toEqual(m);
  });

  it.each(v8Messages.map((m) => [m.t, m] as const))('sends %s in V8\'s serialization and reads it back whole', (_, m) => {
    const buf = encodeControl(m);
    expect(buf[0]).not.toBe(0x7b);
    expect(buf[0]).toBe(0xff); // V8's version tag
    expect(decodeControl(buf)).toEqual(m);
  });

  it('keeps a worker\'s done report intact: arrays, nested reports, the optional fields', () => {
    const back = decodeControl(encodeControl({ t: 'worker', run: 'a1b2c3', name: 'agent-2', w: 5, m: done })) as { t: 'worker'; name: string; w: number; m: FromWorker };
    expect(back.m).toEqual(done);
    const m = back.m as Extract<FromWorker, { type: 'done' }>;
    expect(Array.isArray(m.subscribers)).toBe(true);
    expect(m.subscribers[1]!.lost).toEqual({ address: '127.0.0.1:7001', reason: 'reset', atNs: 12_345 });
    expect(m.tally.hostSplit?.byPublisher.received).toEqual([100, 0, 210]);
    expect(m.subscribers[0]!.lost).toBeUndefined();
    expect('lost' in m.subscribers[0]!).toBe(false);
  });

  it('carries an epoch-scale clock offset exactly, through the wire form', () => {
    const hi = decodeControl(encodeControl(hello)) as unknown as HelloMessage;
    expect(fromWire(hi.clock).offsetNs).toBe(1_700_000_000_123_456_789n);
    const ck = decodeControl(encodeControl({ t: 'clock', run: 'a1b2c3', name: 'a', clock: wireClock })) as unknown as { clock: typeof wireClock };
    expect(fromWire(ck.clock)).toEqual({ offsetNs: 1_700_000_000_123_456_789n, boundNs: 1234.5, rttNs: 1469 });
    expect(toWire(fromWire(wireClock))).toEqual(wireClock);
  });

  it('reads JSON from another version that has fields this one does not know', () => {
    const future = Buffer.from(JSON.stringify({ t: 'hello', name: 'x', version: '9.9.9', extra: { nested: [1, 2] } }));
    expect(decodeControl(future)).toEqual({ t: 'hello', name: 'x', version: '9.9.9', extra: { nested: [1, 2] } });
    // A message type it has never heard of is still a message: the caller decides to ignore it.
    expect(decodeControl(Buffer.from('{"t":"quit"}'))).toEqual({ t: 'quit' });
  });

  it('accepts whitespace-free and multi-byte JSON (UTF-8 names and reasons)', () => {
    const m: RefuseMessage = { t: 'refuse', run: 'a1b2c3', name: 'ö', version: '1', why: 'zu alt — ünd 日本' };
    expect(decodeControl(encodeControl(m))).toEqual(m);
  });
});

describe('decodeControl: anything that is not a control message', () => {
  it('is undefined for an empty buffer', () => {
    expect(decodeControl(Buffer.alloc(0))).toBeUndefined();
  });

  it.each([
    ['a plain string', 'hello world'],
    ['a number', '42'],
    ['JSON null', 'null'],
    ['a JSON string', '"call"'],
    ['a JSON array', '[{"t":"call"}]'],
    ['JSON true', 'true'],
    ['an empty object', '{}'],
    ['an object with a numeric t', '{"t":1}'],
    ['an object with a null t', '{"t":null}'],
    ['an object with an object t', '{"t":{"t":"call"}}'],
    ['an object with an array t', '{"t":["call"]}'],
    ['an object without t', '{"type":"call"}'],
    ['truncated JSON', '{"t":"call","run":"ab'],
    ['a lone brace', '{'],
    ['brace then text', '{not json at all}'],
    ['JSON with trailing garbage', '{"t":"call"} and more'],
    ['a bench payload-like binary string', 'PMB\u0001\u0000\u0000'],
    ['a lone V8 version byte', '\u00ff'],
    ['a newline', '\n'],
    // Tags of V8's headerless (legacy) format, as plain text: they parse, to things that are no message.
    ['"ok"', 'ok'],
    ['"o{" (an empty object in the legacy format)', 'o{'],
    ['"T" (true in the legacy format)', 'T'],
    ['"0" (null in the legacy format)', '0'],
    ['"_" (undefined in the legacy format)', '_'],
  ])('is undefined for %s', (_, text) => {
    expect(() => decodeControl(Buffer.from(text, 'utf8'))).not.toThrow();
    expect(decodeControl(Buffer.from(text, 'utf8'))).toBeUndefined();
  });

  it.each([
    ['a string', 'call'],
    ['null', null],
    ['undefined', undefined],
    ['a number', 7],
    ['an array', ['t', 'call']],
    ['an object with a numeric t', { t: 3 }],
    ['an object without t', { name: 'a' }],
    ['a Map with t', new Map([['t', 'call']])],
    ['a Date', new Date(0)],
    ['a BigInt', 12n],
  ])('is undefined for V8-serialized %s', (_, value) => {
    expect(decodeControl(v8.serialize(value))).toBeUndefined();
  });

  it('is undefined, never a throw, for every truncation of a V8 message', () => {
    for (const m of v8Messages) {
      const full = encodeControl(m);
      for (let k = 0; k < full.length; k++) {
        const cut = full.subarray(0, k);
        let got: unknown;
        expect(() => (got = decodeControl(cut))).not.toThrow();
        expect(got, `${m.t} cut at ${k} of ${full.length}`).toBeUndefined();
      }
    }
  });

  it('is undefined, never a throw, for every truncation of a JSON message', () => {
    for (const m of jsonMessages) {
      const full = encodeControl(m);
      for (let k = 0; k < full.length; k++) expect(decodeControl(full.subarray(0, k))).toBeUndefined();
    }
  });

  it('never throws on random bytes, with or without a V8 header in front, and finds no message in them', () => {
    const r = rng(12345);
    const header = v8.serialize({}).subarray(0, 2);
    for (let i = 0; i < 3000; i++) {
      const body = randomBytes(r, Math.floor(r() * 64));
      for (const buf of [body, Buffer.concat([header, body]), Buffer.concat([Buffer.from('{'), body])]) {
        let got: ReturnType<typeof decodeControl> | 'threw' = 'threw';
        try {
          got = decodeControl(buf);
        } catch {
          /* left as 'threw' */
        }
        expect(got === 'threw' ? `threw on ${buf.toString('hex')}` : 'ok').toBe('ok');
        // Random bytes that happen to parse must still have a string t to count as a message.
        if (got !== undefined && got !== 'threw') expect(typeof got.t).toBe('string');
      }
    }
  });

  it('is undefined for V8 data with flipped bytes in the middle, or never throws at least', () => {
    const r = rng(777);
    const full = encodeControl({ t: 'worker', run: 'a1b2c3', name: 'a', w: 0, m: done });
    for (let i = 0; i < 2000; i++) {
      const buf = Buffer.from(full);
      const at = 2 + Math.floor(r() * (buf.length - 2));
      buf[at] = Math.floor(r() * 256);
      let got: ReturnType<typeof decodeControl> | 'threw' = 'threw';
      try {
        got = decodeControl(buf);
      } catch {
        /* left as 'threw' */
      }
      expect(got).not.toBe('threw');
      if (got !== undefined && got !== 'threw') expect(typeof got.t).toBe('string');
    }
  });
});

describe('control names', () => {
  const names = runNames('a1b2c3');

  it('puts every channel and key under pubsub-mon:ctl:, the channels fixed (an ACL can name them)', () => {
    expect(CONTROL_PREFIX).toBe('pubsub-mon:ctl:');
    expect([LOBBY_CHANNEL, COORDINATOR_CHANNEL, AGENTS_CHANNEL]).toEqual(['pubsub-mon:ctl:lobby', 'pubsub-mon:ctl:coordinator', 'pubsub-mon:ctl:agents']);
    for (const n of [names.work('x'), names.alive]) expect(n.startsWith(CONTROL_PREFIX)).toBe(true);
  });

  it('gives every key of a run its {runId} hash tag, so they share one slot with slotKey', () => {
    expect(names.slotKey).toBe('{a1b2c3}');
    const slot = hashSlot(names.slotKey);
    expect(slot).toBe(hashSlot('a1b2c3'));
    for (const agent of ['a', 'host-1.example_x@y', 'z'.repeat(64)]) {
      expect(names.work(agent)).toContain('{a1b2c3}');
      expect(hashSlot(names.work(agent))).toBe(slot);
    }
    expect(hashSlot(names.alive)).toBe(slot);
  });

  it('keeps runs apart: another run id, other keys in another slot', () => {
    const other = runNames('ffffff');
    expect(other.alive).not.toBe(names.alive);
    expect(other.work('a')).not.toBe(names.work('a'));
    expect(hashSlot(other.slotKey)).not.toBe(hashSlot(names.slotKey));
    expect(hashSlot(other.work('a'))).toBe(hashSlot(other.slotKey));
  });

  it('names each agent\'s work key apart', () => {
    const all = [names.alive, names.work('a'), names.work('b'), LOBBY_CHANNEL, COORDINATOR_CHANNEL, AGENTS_CHANNEL];
    expect(new Set(all).size).toBe(all.length);
    expect(names.work('a')).toBe('pubsub-mon:ctl:{a1b2c3}:work:a');
    expect(names.alive).toBe('pubsub-mon:ctl:{a1b2c3}:alive');
  });

  it('holds for the run ids bench makes (six hex digits), many of them', () => {
    const r = rng(5);
    for (let i = 0; i < 500; i++) {
      const id = Math.floor(r() * 0x1000000).toString(16).padStart(6, '0');
      const n = runNames(id);
      const slot = hashSlot(n.slotKey);
      expect([n.work('agent-1'), n.alive].map((k) => hashSlot(k))).toEqual([slot, slot]);
    }
  });
});

describe('AGENT_NAME', () => {
  it.each(['host-1.example_x@y', 'a', 'A', '0', 'x'.repeat(64), 'a.b.c', 'user@host', '-', '_._'])('accepts %j', (name) => {
    expect(AGENT_NAME.test(name)).toBe(true);
  });

  it.each([
    ['empty', ''],
    ['65 characters', 'x'.repeat(65)],
    ['a space', 'host 1'],
    ['a leading space', ' host'],
    ['a star', 'host*'],
    ['a question mark', 'host?'],
    ['a bracket', 'host[1]'],
    ['an opening brace', 'host{1'],
    ['a closing brace', 'host}1'],
    ['a trailing newline', 'host\n'],
    ['a newline inside', 'ho\nst'],
    ['a tab', 'ho\tst'],
    ['a colon', 'host:1'],
    ['a slash', 'a/b'],
    ['a non-ASCII letter', 'hôst'],
    ['a NUL', 'ho\u0000st'],
  ])('rejects %s', (_, name) => {
    expect(AGENT_NAME.test(name)).toBe(false);
  });

  it('has no global or sticky flag (test() would keep state between calls)', () => {
    expect(AGENT_NAME.global).toBe(false);
    expect(AGENT_NAME.sticky).toBe(false);
    expect(AGENT_NAME.multiline).toBe(false);
    // The same answer twice in a row.
    expect([AGENT_NAME.test('ok'), AGENT_NAME.test('ok')]).toEqual([true, true]);
  });
});

describe('what the control channels are checked for before anything acts on them', () => {
  const own = { t: 'call', run: 'a1b2c3', version: '1.0.0', coordinator: 'box:1', control: { kind: 'own' } };

  it('takes a well-formed call, and nothing missing a field, with a run id bench would not make, or a bad control node', () => {
    expect(readCall(own)).toEqual(own);
    expect(readCall({ ...own, control: { kind: 'node', host: '10.0.0.5', port: 7000 } })).toMatchObject({ control: { kind: 'node', host: '10.0.0.5', port: 7000 } });
    for (const bad of [
      { t: 'call' },
      { ...own, control: undefined },
      { ...own, control: null },
      { ...own, control: { kind: 'node', host: '', port: 7000 } },
      { ...own, control: { kind: 'node', host: 'x', port: 70000 } },
      { ...own, control: { kind: 'node', host: 'x', port: '7000' } },
      { ...own, control: { kind: 'elsewhere' } },
      { ...own, run: '../../x' },
      { ...own, run: 'ABC' },
      { ...own, version: 1 },
      { ...own, coordinator: 'x'.repeat(201) },
      { ...own, t: 'hello' },
    ]) {
      expect(readCall(bad as { t: string })).toBeUndefined();
    }
  });

  it('passes a coordinator message on only to the agent instance it names, with what its kind needs', () => {
    const to = { run: 'r1', to: 'a', id: 'i1' };
    expect(readAddressed({ t: 'to', w: 0, m: { type: 'start' }, ...to }, 'r1', 'a', 'i1')).toBeDefined();
    expect(readAddressed({ t: 'accept', index: 2, ...to }, 'r1', 'a', 'i1')).toBeDefined();
    for (const bad of [
      { t: 'to', w: 0, m: { type: 'start' }, ...to, id: 'i2' },
      { t: 'to', w: 0, m: { type: 'start' }, ...to, to: 'b' },
      { t: 'to', w: 0, m: { type: 'start' }, ...to, run: 'r2' },
      { t: 'to', w: '__proto__', m: {}, ...to },
      { t: 'to', w: -1, m: { type: 'start' }, ...to },
      { t: 'to', w: 0, m: null, ...to },
      { t: 'to', w: 0, m: { type: 3 }, ...to },
      { t: 'accept', index: 'x', ...to },
      { t: 'decline', ...to },
      { t: 'mystery', ...to },
    ]) {
      expect(readAddressed(bad, 'r1', 'a', 'i1')).toBeUndefined();
    }
  });

  it('takes an agent message for this run only, from a name an agent can have, with what its kind needs', () => {
    const from = { run: 'r1', name: 'agent-1' };
    expect(readFromAgent({ t: 'worker', w: 1, m: { type: 'progress' }, ...from }, 'r1')).toBeDefined();
    expect(readFromAgent({ t: 'beat', ...from }, 'r1')).toBeDefined();
    expect(readFromAgent({ t: 'hello', version: '1', id: 'x', clock: wireClock, ...from }, 'r1')).toBeDefined();
    for (const bad of [
      { t: 'beat', ...from, run: 'r2' },
      { t: 'beat', ...from, name: 'a b' },
      { t: 'beat', ...from, name: '\u001b[2J' },
      { t: 'worker', w: 0, m: null, ...from },
      { t: 'worker', w: 'x', m: { type: 'done' }, ...from },
      { t: 'clock', clock: { offsetNs: 'abc', boundNs: 1, rttNs: 1 }, ...from },
      { t: 'hello', version: '1', clock: wireClock, ...from },
      { t: 'refuse', version: '1', ...from },
      { t: 'failed', message: 7, ...from },
    ]) {
      expect(readFromAgent(bad, 'r1')).toBeUndefined();
    }
  });
});
