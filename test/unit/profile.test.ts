// Unit tests for traffic profiles: the size histogram, parsing (every malformed input one line), the file text round trip, profileToMix, buildProfile and the recording fold.
import { describe, it, expect } from 'vitest';
import fs from 'node:fs';
import { PayloadSizes, sizeBucket } from '../../src/stats/payload-sizes.js';
import { buildProfile, MAX_PROFILE_CHANNELS, MIN_REPLAY_BYTES, parseProfile, profileToMix, type ChannelObservation, type Profile } from '../../src/stats/profile.js';
import { profileText } from '../../src/render/json/profile.js';
import { TrafficRecording } from '../../src/stats/traffic-recording.js';
import { HEADER_BYTES } from '../../src/bench/payload-header.js';
import { decodeName, encodeName } from '../../src/stats/channel-name.js';
import type { ChannelRow, NodeRow, Snapshot } from '../../src/stats/snapshot.js';

function parsed(text: string): Profile {
  const r = parseProfile(text, 'p.json');
  if (!r.ok) throw new Error(`expected a profile, got: ${r.problem}`);
  return r.profile;
}

function problem(value: unknown): string {
  const r = parseProfile(typeof value === 'string' ? value : JSON.stringify(value), 'p.json');
  if (r.ok) throw new Error('expected a problem, got a profile');
  return r.problem;
}

/** The README's hand-written example (the first JSON block under "### The format"), so the two never drift apart. */
const EXAMPLE = (() => {
  const readme = fs.readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('### The format'));
  const block = /```json\n([\s\S]*?)```/.exec(section);
  if (!block) throw new Error('no JSON example under "### The format" in README.md');
  return block[1]!;
})();

/** A valid profile to break one piece at a time. */
function base(): { pubsub_mon_profile: number; groups: Array<Record<string, unknown>> } & Record<string, unknown> {
  return {
    pubsub_mon_profile: 1,
    groups: [
      { name: 'a', kind: 'channel', channels: [{ name: 'a', rate: 10, subscribers: 1 }], sizes: [{ bytes: 100, weight: 1 }] },
      { name: 'b', kind: 'shard', channels: [{ name: 'b', rate: 1, subscribers: 0 }], sizes: [{ bytes: 10, weight: 1 }] },
    ],
  };
}

function withGroup(g: number, patch: Record<string, unknown>): unknown {
  const p = base();
  p.groups[g] = { ...p.groups[g], ...patch };
  return p;
}

function withChannel(patch: Record<string, unknown>): unknown {
  return withGroup(0, { channels: [{ name: 'a', rate: 10, subscribers: 1, ...patch }] });
}

describe('sizeBucket and PayloadSizes', () => {
  it('puts sizes in log-spaced buckets: 0, 1, 2-3, 4-7, ... 64-127, 512-1023', () => {
    expect([0, 1, 2, 3, 4, 7, 8, 64, 100, 127, 128, 512, 1000, 1023, 1024].map(sizeBucket)).toEqual([0, 1, 2, 2, 3, 3, 4, 7, 7, 7, 8, 10, 10, 10, 11]);
    expect(sizeBucket(512 * 1024 * 1024)).toBe(30);
  });

  it('gives each bucket its mean size, so one size comes back exactly and bytes add up', () => {
    const h = new PayloadSizes();
    for (let i = 0; i < 7; i++) h.add(100);
    for (let i = 0; i < 3; i++) h.add(1000);
    h.add(90);
    expect(h.classes()).toEqual([{ bytes: 99, count: 8 }, { bytes: 1000, count: 3 }]);
    expect(h.count).toBe(11);
  });

  it('merges histograms bucket by bucket', () => {
    const a = new PayloadSizes();
    const b = new PayloadSizes();
    a.add(0);
    a.add(64);
    b.add(127);
    b.add(5000);
    a.merge(b);
    expect(a.classes()).toEqual([{ bytes: 0, count: 1 }, { bytes: 96, count: 2 }, { bytes: 5000, count: 1 }]);
    expect(b.count).toBe(2);
  });
});

describe('parseProfile', () => {
  it('reads the README example, with kind channel by default', () => {
    const p = parsed(EXAMPLE);
    expect(p).toEqual({
      groups: [
        { name: 'orders', match: 'orders:*', kind: 'channel', channels: [{ name: 'orders:eu', rate: 120, subscribers: 3 }, { name: 'orders:us', rate: 80, subscribers: 2 }], sizes: [{ bytes: 200, weight: 0.9 }, { bytes: 4000, weight: 0.1 }] },
        { name: '{user:1}:events', kind: 'shard', channels: [{ name: '{user:1}:events', rate: 5, subscribers: 1 }], sizes: [{ bytes: 16, weight: 1 }] },
      ],
    });
  });

  it('reads names as pubsub-mon shows them: \\xNN a byte, \\\\ a backslash', () => {
    const p = parsed(JSON.stringify(withChannel({ name: 'f\\xffo\\\\x' })));
    const name = p.groups[0]!.channels[0]!.name;
    expect([...encodeName(name)]).toEqual([0x66, 0xff, 0x6f, 0x5c, 0x78]);
  });

  it('reads the optional header fields', () => {
    const p = parsed(JSON.stringify({ ...base(), recorded_at: '2026-11-22T01:00:00.000Z', window_s: 60, source: '10.0.0.5:7000 (cluster)', pattern_subscriptions: 2 }));
    expect(p).toMatchObject({ recordedAt: '2026-11-22T01:00:00.000Z', windowS: 60, source: '10.0.0.5:7000 (cluster)', patternSubscriptions: 2 });
  });

  const cases: Array<[string, unknown, string]> = [
    ['not JSON', '{"pubsub_mon_profile": 1,', 'p.json: not valid JSON: '],
    ['not an object', '[1]', 'p.json: a profile is a JSON object with pubsub_mon_profile and groups, got an array'],
    ['no version', { groups: [] }, 'p.json: not a pubsub-mon traffic profile: pubsub_mon_profile is missing'],
    ['a later version', { ...base(), pubsub_mon_profile: 2 }, 'p.json: pubsub_mon_profile: this pubsub-mon reads version 1, got 2'],
    ['the version as text', { ...base(), pubsub_mon_profile: '1' }, 'p.json: pubsub_mon_profile: this pubsub-mon reads version 1, got "1"'],
    ['an unknown top key', { ...base(), group: [] }, 'p.json: unknown key "group" (a profile takes pubsub_mon_profile, recorded_at, window_s, source, pattern_subscriptions, groups)'],
    ['a bad date', { ...base(), recorded_at: 'yesterday' }, 'p.json: recorded_at: must be a date and time (ISO 8601), got "yesterday"'],
    ['a zero window', { ...base(), window_s: 0 }, 'p.json: window_s: must be a positive number, got 0'],
    ['a numeric source', { ...base(), source: 5 }, 'p.json: source: must be text, got 5'],
    ['fractional patterns', { ...base(), pattern_subscriptions: 1.5 }, 'p.json: pattern_subscriptions: must be a whole number from 0 up, got 1.5'],
    ['no groups', { pubsub_mon_profile: 1 }, 'p.json: groups: is missing: a list of groups is needed ([{"name": ..., "channels": [...], "sizes": [...]}])'],
    ['groups not a list', { pubsub_mon_profile: 1, groups: {} }, 'p.json: groups: must be a list of groups, got an object'],
    ['empty groups', { pubsub_mon_profile: 1, groups: [] }, 'p.json: groups: is empty: at least one group is needed'],
    ['a group that is not an object', { pubsub_mon_profile: 1, groups: ['a'] }, 'p.json: groups[0]: must be a group, got "a"'],
    ['an unknown group key', withGroup(1, { rates: 1 }), 'p.json: groups[1]: unknown key "rates" (a group takes name, match, kind, channels, sizes)'],
    ['a group without a name', withGroup(0, { name: undefined }), 'p.json: groups[0].name: must be a non-empty name, got undefined'],
    ['an empty group name', withGroup(0, { name: '' }), 'p.json: groups[0].name: must be a non-empty name, got an empty string'],
    ['two groups of one name', withGroup(1, { name: 'a' }), 'p.json: groups[1].name: "a" is already the name of groups[0]: group names are unique'],
    ['a bad kind', withGroup(0, { kind: 'pattern' }), 'p.json: groups[0].kind: must be "channel" or "shard", got "pattern"'],
    ['an empty match', withGroup(0, { match: '' }), 'p.json: groups[0].match: must be a non-empty glob, got ""'],
    ['no channels', withGroup(0, { channels: undefined }), 'p.json: groups[0].channels: is missing: a list of channels is needed ([{"name": "orders", "rate": 10, "subscribers": 2}])'],
    ['empty channels', withGroup(0, { channels: [] }), 'p.json: groups[0].channels: is empty: at least one channel is needed'],
    ['an unknown channel key', withChannel({ size: 3 }), 'p.json: groups[0].channels[0]: unknown key "size" (a channel takes name, rate, subscribers)'],
    ['a lone surrogate', withChannel({ name: 'f\udcffo' }), 'p.json: groups[0].channels[0].name: holds a lone surrogate (\\udXXX): write a byte that is not UTF-8 as \\\\xNN'],
    ['a missing rate', withChannel({ rate: undefined }), 'p.json: groups[0].channels[0].rate: is missing: messages per second'],
    ['a negative rate', withChannel({ rate: -1 }), 'p.json: groups[0].channels[0].rate: must be a positive number, got -1'],
    ['a zero rate', withChannel({ rate: 0 }), 'p.json: groups[0].channels[0].rate: must be a positive number, got 0'],
    ['a rate as text', withChannel({ rate: '10' }), 'p.json: groups[0].channels[0].rate: must be a positive number, got "10"'],
    ['a NaN rate (null in JSON)', withChannel({ rate: Number.NaN }), 'p.json: groups[0].channels[0].rate: must be a positive number, got null'],
    ['missing subscribers', withChannel({ subscribers: undefined }), 'p.json: groups[0].channels[0].subscribers: is missing: how many connections subscribe to it'],
    ['fractional subscribers', withChannel({ subscribers: 1.5 }), 'p.json: groups[0].channels[0].subscribers: must be a whole number from 0 up, got 1.5'],
    ['negative subscribers', withChannel({ subscribers: -1 }), 'p.json: groups[0].channels[0].subscribers: must be a whole number from 0 up, got -1'],
    ['a channel twice', withGroup(0, { channels: [{ name: 'a', rate: 1, subscribers: 1 }, { name: 'a', rate: 2, subscribers: 1 }] }), 'p.json: groups[0].channels[1].name: "a" (channel) already appears at groups[0].channels[0]'],
    ['missing sizes', withGroup(0, { sizes: undefined }), 'p.json: groups[0].sizes: is missing: a list of size classes is needed ([{"bytes": 128, "weight": 1}])'],
    ['empty sizes', withGroup(0, { sizes: [] }), 'p.json: groups[0].sizes: is empty: at least one size class is needed'],
    ['a size without weight', withGroup(0, { sizes: [{ bytes: 10 }] }), 'p.json: groups[0].sizes[0].weight: is missing: how often this size is drawn, relative to the others'],
    ['a zero weight', withGroup(0, { sizes: [{ bytes: 10, weight: 0 }] }), 'p.json: groups[0].sizes[0].weight: must be a positive number, got 0'],
    ['a negative weight', withGroup(0, { sizes: [{ bytes: 10, weight: -0.5 }] }), 'p.json: groups[0].sizes[0].weight: must be a positive number, got -0.5'],
    ['fractional bytes', withGroup(0, { sizes: [{ bytes: 10.5, weight: 1 }] }), 'p.json: groups[0].sizes[0].bytes: must be a whole number from 0 to 536870912, got 10.5'],
    ['a payload over 512 MiB', withGroup(0, { sizes: [{ bytes: 600_000_000, weight: 1 }] }), 'p.json: groups[0].sizes[0].bytes: must be a whole number from 0 to 536870912, got 600000000'],
    ['an unknown size key', withGroup(0, { sizes: [{ bytes: 1, weight: 1, p: 1 }] }), 'p.json: groups[0].sizes[0]: unknown key "p" (a size class takes bytes, weight)'],
  ];
  for (const [what, value, expected] of cases) {
    it(`refuses ${what} in one line`, () => {
      const line = problem(value);
      expect(line.startsWith(expected), line).toBe(true);
      expect(line).not.toContain('\n');
    });
  }

  it('allows one name as a channel and as a shard channel', () => {
    const p = base();
    p.groups[1] = { ...p.groups[1], channels: [{ name: 'a', rate: 1, subscribers: 1 }] };
    expect(parsed(JSON.stringify(p)).groups[1]!.channels[0]!.name).toBe('a');
  });

  it(`refuses more than ${MAX_PROFILE_CHANNELS} channels`, () => {
    const channels = Array.from({ length: MAX_PROFILE_CHANNELS + 1 }, (_, i) => ({ name: `c${i}`, rate: 1, subscribers: 1 }));
    expect(problem(withGroup(0, { channels }))).toBe(`p.json: groups[0].channels[${MAX_PROFILE_CHANNELS}]: is one channel too many: a profile holds at most ${MAX_PROFILE_CHANNELS}`);
    expect(parseProfile(JSON.stringify(withGroup(0, { channels: channels.slice(0, MAX_PROFILE_CHANNELS - 1) })), 'p.json').ok).toBe(true);
  });
});

describe('profileToMix', () => {
  it('multiplies rates, keeps fan-out and kind, labels each channel with its group, and sends at least the bench header', () => {
    const mix = profileToMix(parsed(EXAMPLE), { scale: 2 });
    expect(mix.channels).toEqual([
      { name: 'orders:eu', kind: 'channel', rate: 240, subscribers: 3, sizes: [{ bytes: 200, weight: 0.9 }, { bytes: 4000, weight: 0.1 }], group: 'orders' },
      { name: 'orders:us', kind: 'channel', rate: 160, subscribers: 2, sizes: [{ bytes: 200, weight: 0.9 }, { bytes: 4000, weight: 0.1 }], group: 'orders' },
      { name: '{user:1}:events', kind: 'shard', rate: 10, subscribers: 1, sizes: [{ bytes: 24, weight: 1 }], group: '{user:1}:events' },
    ]);
  });

  it('renames every channel with the prefix, bytes kept, and leaves group names alone', () => {
    const p = parsed(JSON.stringify(withChannel({ name: 'f\\xffo' })));
    const mix = profileToMix(p, { scale: 0.5, prefix: 'pubsub-mon:bench:r1:' });
    expect(mix.channels.map((c) => [...encodeName(c.name)])).toEqual([[...Buffer.from('pubsub-mon:bench:r1:f'), 0xff, 0x6f], [...Buffer.from('pubsub-mon:bench:r1:b')]]);
    expect(mix.channels.map((c) => c.group)).toEqual(['a', 'b']);
    expect(mix.channels.map((c) => c.rate)).toEqual([5, 0.5]);
  });

  it('merges the size classes that all become the header size', () => {
    const p = parsed(JSON.stringify(withGroup(0, { sizes: [{ bytes: 0, weight: 1 }, { bytes: 10, weight: 2 }, { bytes: 24, weight: 1 }, { bytes: 500, weight: 4 }] })));
    expect(profileToMix(p, { scale: 1 }).channels[0]!.sizes).toEqual([{ bytes: 24, weight: 4 }, { bytes: 500, weight: 4 }]);
  });

  it('uses the bench header size as its floor', () => {
    expect(MIN_REPLAY_BYTES).toBe(HEADER_BYTES);
  });

  it('refuses a scale that is not a positive number (the flag parser says so first)', () => {
    for (const scale of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) expect(() => profileToMix(parsed(EXAMPLE), { scale })).toThrow(RangeError);
  });
});

function observed(name: string, kind: 'channel' | 'shard', messages: number, sampledMs: number, subscribers: number, sizes: number[]): ChannelObservation {
  const h = new PayloadSizes();
  for (const s of sizes) h.add(s);
  return { name, kind, messages, sampledMs, subscribers, sizes: h };
}

describe('buildProfile', () => {
  const start = Date.parse('2026-11-22T01:00:00.000Z');

  it('gives every channel its own group, busiest first, with rates over the time each was sampled', () => {
    const { profile, quiet, overCap } = buildProfile({
      channels: [
        observed('b', 'channel', 50, 5000, 1, [1000]),
        observed('a', 'channel', 1000, 5000, 3, [100, 100, 100]),
        observed('c', 'shard', 300, 3000, 2, [16]),
        observed('idle', 'channel', 0, 5000, 4, []),
      ],
      startedAt: start,
      windowMs: 5000,
      source: '127.0.0.1:6379 (standalone)',
      patternSubscriptions: 1,
    });
    expect({ quiet, overCap }).toEqual({ quiet: 1, overCap: 0 });
    expect(profile).toEqual({
      recordedAt: '2026-11-22T01:00:00.000Z',
      windowS: 5,
      source: '127.0.0.1:6379 (standalone)',
      patternSubscriptions: 1,
      groups: [
        { name: 'a', kind: 'channel', channels: [{ name: 'a', rate: 200, subscribers: 3 }], sizes: [{ bytes: 100, weight: 1 }] },
        { name: 'c', kind: 'shard', channels: [{ name: 'c', rate: 100, subscribers: 2 }], sizes: [{ bytes: 16, weight: 1 }] },
        { name: 'b', kind: 'channel', channels: [{ name: 'b', rate: 10, subscribers: 1 }], sizes: [{ bytes: 1000, weight: 1 }] },
      ],
    });
  });

  it('folds channels matching a glob into one group with one size distribution, each kind apart', () => {
    const { profile } = buildProfile({
      channels: [
        observed('orders:eu', 'channel', 70, 1000, 3, Array(7).fill(100)),
        observed('orders:us', 'channel', 30, 1000, 1, Array(3).fill(2000)),
        observed('orders:x', 'shard', 10, 1000, 1, [50]),
        observed('orders:*', 'channel', 1, 1000, 1, [1]),
        observed('news', 'channel', 5, 1000, 0, [10]),
      ],
      groups: [{ written: 'orders:*', glob: 'orders:*' }],
      startedAt: start,
      windowMs: 1000,
      source: 's',
    });
    expect(profile.groups.map((g) => [g.name, g.match, g.kind, g.channels.map((c) => c.name)])).toEqual([
      ['orders:*', 'orders:*', 'channel', ['orders:eu', 'orders:us', 'orders:*']],
      ['orders:* (shard)', 'orders:*', 'shard', ['orders:x']],
      ['news', undefined, 'channel', ['news']],
    ]);
    expect(profile.groups[0]!.sizes).toEqual([{ bytes: 1, weight: 0.09091 }, { bytes: 100, weight: 0.6364 }, { bytes: 2000, weight: 0.2727 }]);
  });

  it(`keeps the busiest ${MAX_PROFILE_CHANNELS} channels`, () => {
    const channels = Array.from({ length: MAX_PROFILE_CHANNELS + 5 }, (_, i) => observed(`c${i}`, 'channel', i + 1, 1000, 1, [10]));
    const { profile, overCap } = buildProfile({ channels, startedAt: start, windowMs: 1000, source: 's' });
    expect(overCap).toBe(5);
    expect(profile.groups).toHaveLength(MAX_PROFILE_CHANNELS);
    expect(profile.groups.at(-1)!.channels[0]!.name).toBe('c5');
  });

  it('gives a channel heard without sizes the smallest replayable size', () => {
    const { profile } = buildProfile({ channels: [observed('a', 'channel', 3, 1000, 1, [])], startedAt: start, windowMs: 1000, source: 's' });
    expect(profile.groups[0]!.sizes).toEqual([{ bytes: MIN_REPLAY_BYTES, weight: 1 }]);
  });
});

describe('profileText', () => {
  it('round-trips through parseProfile, a byte that is not UTF-8, an escape character and a backslash included', () => {
    const raw = decodeName(Buffer.from([0x66, 0xff, 0x6f]));
    const escape = 'red\x1b[31m';
    const { profile } = buildProfile({
      channels: [observed(raw, 'channel', 10, 1000, 2, [100]), observed(escape, 'shard', 20, 1000, 1, [5]), observed('back\\slash', 'channel', 5, 1000, 0, [7]), observed('bidi\u202e', 'channel', 1, 1000, 0, [7])],
      groups: [{ written: 'f\\xff*', glob: raw.slice(0, 2) + '*' }],
      startedAt: Date.parse('2026-11-22T01:00:00.000Z'),
      windowMs: 1000,
      source: '127.0.0.1:1 (cluster)',
    });
    const text = profileText(profile);
    expect(text).toContain('"name": "f\\\\xffo"');
    expect(text).toContain('"name": "red\\\\x1b[31m"');
    expect(text).toContain('"name": "back\\\\\\\\slash"');
    expect(text).toContain('"name": "bidi\\\\u202e"');
    expect(text).toContain('"name": "f\\\\xff*"');
    // Nothing a terminal would act on, and nothing JSON cannot carry.
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202e\ud800-\udfff]/);
    const back = parsed(text);
    expect(back).toEqual(profile);
    expect([...encodeName(back.groups.find((g) => g.kind === 'channel' && g.channels[0]!.name.startsWith('f'))!.channels[0]!.name)]).toEqual([0x66, 0xff, 0x6f]);
  });

  it('lays the file out one channel a line', () => {
    const text = profileText(parsed(EXAMPLE));
    expect(text.split('\n').filter((l) => l.includes('"rate"'))).toHaveLength(3);
    expect(text.endsWith('}\n')).toBe(true);
  });
});

function row(name: string, subscribers: number, extra: Partial<ChannelRow> = {}): ChannelRow {
  return { name, kind: 'channel', subscribers, ...extra };
}

function node(numpat: number): NodeRow {
  return { address: '10.0.0.1:7000', role: 'primary', up: true, numpat };
}

function snap(time: number, channels: ChannelRow[], numpat = 0): Snapshot {
  return { time, mode: 'standalone', channels, nodes: [node(numpat)], patternsPresent: numpat > 0, warnings: [], clients: [], clientsUnknown: [], flapping: 0 };
}

function sizes(...s: number[]): PayloadSizes {
  const h = new PayloadSizes();
  for (const x of s) h.add(x);
  return h;
}

describe('TrafficRecording', () => {
  it('starts at the first snapshot, adds the later ones, keeps the most subscribers seen and leaves bench channels out', () => {
    const r = new TrafficRecording(2000);
    // The first snapshot's counts cover time before the window: only its subscribers count.
    r.observe(snap(1000, [row('a', 2, { rate: 9, messages: 900, sampledMs: 1000, payloadSizes: sizes(1) })], 1));
    expect(r.complete).toBe(false);
    expect(r.remainingMs(1500)).toBe(1500);
    r.observe(snap(2000, [row('a', 3, { rate: 10, messages: 10, sampledMs: 1000, payloadSizes: sizes(100, 100) }), row('pubsub-mon:bench:x:c', 1, { rate: 5, messages: 5, sampledMs: 1000 })], 2));
    r.observe(snap(3000, [row('a', 1, { rate: 30, messages: 30, sampledMs: 1000, payloadSizes: sizes(100) }), row('b', 0)]));
    expect(r.complete).toBe(true);
    expect(r.remainingMs(3000)).toBe(0);
    const { profile, quiet } = r.profile('x:1 (standalone)');
    expect(quiet).toBe(1);
    expect(profile).toEqual({
      recordedAt: new Date(1000).toISOString(),
      windowS: 2,
      source: 'x:1 (standalone)',
      patternSubscriptions: 2,
      groups: [{ name: 'a', kind: 'channel', channels: [{ name: 'a', rate: 20, subscribers: 3 }], sizes: [{ bytes: 100, weight: 1 }] }],
    });
  });

  it('counts a channel only over the windows its rate was measured in', () => {
    const r = new TrafficRecording(3000);
    r.observe(snap(0, [row('a', 1)]));
    r.observe(snap(1000, [row('a', 1)]));
    r.observe(snap(2000, [row('a', 1, { rate: 40, messages: 20, sampledMs: 500 })]));
    r.observe(snap(3000, [row('a', 1, { rate: 40, messages: 40, sampledMs: 1000 })]));
    expect(r.profile('s').profile.groups[0]!.channels[0]!.rate).toBe(40);
  });
});
