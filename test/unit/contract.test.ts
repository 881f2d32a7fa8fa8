// Unit tests for the channel contract: parsing (every problem one line with file and line) and judging a snapshot against it.
import { describe, it, expect } from 'vitest';
import { contractTargets, needsRates, parseContract, type Contract } from '../../src/stats/contract.js';
import { evaluateCheck } from '../../src/stats/check.js';
import type { ChannelRow, Snapshot } from '../../src/stats/snapshot.js';

function parsed(text: string): Contract {
  const r = parseContract(text, 'c.yaml');
  if (!r.ok) throw new Error(`expected a contract, got: ${r.problem}`);
  return r.contract;
}

function problem(text: string): string {
  const r = parseContract(text, 'c.yaml');
  if (r.ok) throw new Error('expected a problem, got a contract');
  return r.problem;
}

const EXAMPLE = `channels:
  - name: orders
    min_subscribers: 2
    warn_subscribers: 3
    description: order events, consumed by billing and shipping
  - name: "{user:1}:events"
    kind: shard
    min_subscribers: 1
  - pattern: "jobs:*"
    min_subscribers: 1
    min_rate: 1        # messages/s, needs rate sampling
`;

describe('parseContract', () => {
  it('reads the example of the README, with defaults and lines', () => {
    const c = parsed(EXAMPLE);
    expect(c.entries).toEqual([
      { name: 'orders', written: 'orders', kind: 'channel', minSubscribers: 2, warnSubscribers: 3, description: 'order events, consumed by billing and shipping', line: 2 },
      { name: '{user:1}:events', written: '{user:1}:events', kind: 'shard', minSubscribers: 1, line: 6 },
      { pattern: 'jobs:*', written: 'jobs:*', kind: 'channel', minSubscribers: 1, minRate: 1, line: 9 },
    ]);
    expect(needsRates(c)?.line).toBe(9);
    expect(needsRates(parsed('channels:\n  - name: a\n'))).toBeUndefined();
  });

  it('defaults min_subscribers to 1 and kind to channel', () => {
    expect(parsed('channels:\n  - name: a\n').entries[0]).toMatchObject({ kind: 'channel', minSubscribers: 1 });
  });

  it('keeps a plain scalar name as written: 0123 and true are channel names, not numbers', () => {
    const c = parsed('channels:\n  - name: 0123\n  - name: true\n  - name: 1e3\n');
    expect(c.entries.map((e) => e.name)).toEqual(['0123', 'true', '1e3']);
  });

  it('reads names and patterns in the escapes pubsub-mon shows them with (\\xNN is one byte)', () => {
    const c = parsed(String.raw`channels:
  - name: 'f\xffo'
  - pattern: 'a\\b*'
  - name: 'tab\there'
`);
    expect(Buffer.from(c.entries[0]!.name!, 'utf8').length).toBeGreaterThan(0);
    expect(c.entries[0]!.name).toBe('f\udcffo');
    expect(c.entries[0]!.written).toBe(String.raw`f\xffo`);
    // In a glob, \\ stays an escaped backslash (matching one backslash).
    expect(c.entries[1]!.pattern).toBe(String.raw`a\\b*`);
    expect(c.entries[2]!.name).toBe('tab\there');
  });

  it.each([
    ['channels:\n  - name: a\n    min_subscriber: 2\n', 'c.yaml:3: unknown key "min_subscriber"'],
    ['channels:\n  - name: a\n    pattern: b\n', 'c.yaml:2: an entry has name or pattern, not both'],
    ['channels:\n  - kind: shard\n', 'c.yaml:2: an entry needs name (one channel) or pattern (a glob)'],
    ['channels:\n  - name: a\n    kind: sharded\n', 'c.yaml:3: kind must be channel or shard, got "sharded"'],
    ['channels:\n  - name: a\n    min_subscribers: two\n', 'c.yaml:3: min_subscribers must be a whole number, 0 or more, got "two"'],
    ['channels:\n  - name: a\n    min_subscribers: -1\n', 'c.yaml:3: min_subscribers must be a whole number, 0 or more, got -1'],
    ['channels:\n  - name: a\n    min_subscribers: 1.5\n', 'c.yaml:3: min_subscribers must be a whole number, 0 or more, got 1.5'],
    ['channels:\n  - name: a\n    min_subscribers: 3\n    warn_subscribers: 2\n', 'c.yaml:4: warn_subscribers (2) must be at least min_subscribers (3)'],
    ['channels:\n  - name: a\n    min_rate: fast\n', 'c.yaml:3: min_rate must be a number of messages per second, 0 or more, got "fast"'],
    ['channels:\n  - name: a\n    min_rate: .nan\n', 'c.yaml:3: min_rate must be a number of messages per second, 0 or more, got NaN'],
    ['channels:\n  - name: a\n    min_rate: .inf\n', 'c.yaml:3: min_rate must be a number of messages per second, 0 or more, got Infinity'],
    ['channels:\n  - name: "f\\xffo"\n', 'c.yaml:2: name in double quotes has a backslash, which YAML reads itself'],
    ['channels:\n  - name: a\n---\nchannels:\n  - name: b\n', 'c.yaml:4: a contract is one YAML document, this file has 2'],
    ['channels:\n  - name:\n', 'c.yaml:2: name must be a channel name, got nothing'],
    ['channels:\n  - name: ""\n', 'c.yaml:2: name is empty'],
    ['channels:\n  - name: [a, b]\n', 'c.yaml:2: name must be a channel name, got a list or map'],
    ['channels:\n  - orders\n', 'c.yaml:2: each entry of channels must be a map with name or pattern'],
    ['channels:\n  - name: a\n  - name: b\n  - name: a\n', 'c.yaml:4: name "a" (channel) is declared twice (first on line 2)'],
    ['channels: []\n', 'c.yaml:1: channels is empty: declare at least one channel'],
    ['channels: orders\n', 'c.yaml:1: channels must be a list of entries (- name: ...)'],
    ['chanels:\n  - name: a\n', 'c.yaml:1: unknown key "chanels" (a contract has one key, channels)'],
    ['- name: a\n', 'c.yaml:1: a contract is a map with one key, channels: a list of entries'],
    ['', 'c.yaml:1: a contract is a map with one key, channels: a list of entries'],
    ['channels:\n  - name: a\n    description: [x]\n', 'c.yaml:3: description must be text'],
  ])('refuses %j with one line naming the file, line and problem', (text, expected) => {
    const p = problem(text);
    expect(p.startsWith(expected)).toBe(true);
    expect(p).not.toContain('\n');
  });

  it('says where YAML itself is broken, on one line', () => {
    const p = problem('channels:\n  - name: a\n  - [b\n');
    expect(p).toMatch(/^c\.yaml:\d: not valid YAML: /);
    expect(p).not.toContain('\n');
    expect(problem('channels:\n  - name: a\n    name: b\n')).toMatch(/^c\.yaml:3: not valid YAML: .*unique/i);
  });

  it('quotes what it refuses raw, for the one escaping done where the line is printed', () => {
    expect(problem('channels:\n  - name: a\n    \u001b[31mevil: 1\n')).toContain('unknown key "\u001b[31mevil"');
  });

  it('a same name of the other kind is a different channel', () => {
    expect(parsed('channels:\n  - name: a\n  - name: a\n    kind: shard\n').entries).toHaveLength(2);
  });
});

function snapshot(channels: ChannelRow[]): Snapshot {
  return { time: 0, mode: 'cluster', channels, nodes: [], patternsPresent: false, warnings: [], clients: [], clientsUnknown: [], flapping: 0 };
}

describe('contractTargets', () => {
  const rows: ChannelRow[] = [
    { name: 'orders', kind: 'channel', subscribers: 2, rate: 4 },
    { name: 'jobs:a', kind: 'channel', subscribers: 1, rate: 0.5 },
    { name: 'jobs:b', kind: 'channel', subscribers: 3, rate: 2 },
    { name: 'jobs:c', kind: 'shard', subscribers: 1 },
    { name: '__keyspace@0__:jobs:x', kind: 'channel', subscribers: 1 },
  ];

  it('judges a declared channel nobody subscribes as 0, and pattern entries per matching channel of their kind', () => {
    const c = parsed(EXAMPLE);
    const t = contractTargets(snapshot(rows), c);
    expect(t.targets.map((x) => [x.name, x.kind, x.subscribers, x.matchedBy])).toEqual([
      ['orders', 'channel', 2, undefined],
      ['{user:1}:events', 'shard', 0, undefined],
      ['jobs:a', 'channel', 1, 'jobs:*'],
      ['jobs:b', 'channel', 3, 'jobs:*'],
    ]);
    expect(t.unmatched).toEqual([]);
    expect([...t.matches.values()]).toEqual([2]);
    const r = evaluateCheck({ targets: t.targets, minSubscribers: 1, patternSubscriptions: 0, unmatchedPatterns: t.unmatched });
    expect(r.verdicts.map((v) => [v.name, v.status])).toEqual([
      ['orders', 'WARNING'],
      ['{user:1}:events', 'CRITICAL'],
      ['jobs:a', 'CRITICAL'],
      ['jobs:b', 'OK'],
    ]);
    expect(r.status).toBe('CRITICAL');
    expect(r.summary).toBe('CRITICAL - 2 of 4 channels failing their contract: {user:1}:events (shard, 0, min 1), jobs:a (0.5/s, min 1/s); 1 in warning: orders (2, min 2, warn 3)');
    expect(r.verdicts[2]?.reason).toBe('0.5/s messages, below the minimum of 1/s');
  });

  it('a channel both named and matched keeps the terms of its name entry', () => {
    const c = parsed('channels:\n  - pattern: "jobs:*"\n    min_subscribers: 5\n  - name: jobs:a\n');
    const t = contractTargets(snapshot(rows), c);
    expect(t.targets.find((x) => x.name === 'jobs:a')?.thresholds?.min).toBe(1);
    expect(t.targets.find((x) => x.name === 'jobs:b')?.thresholds?.min).toBe(5);
  });

  it('a pattern that matches nothing is unmatched only when it asks for subscribers; keyspace only when asked for', () => {
    const c = parsed('channels:\n  - pattern: "none:*"\n  - pattern: "maybe:*"\n    min_subscribers: 0\n  - pattern: "__keyspace@0__:*"\n');
    const t = contractTargets(snapshot(rows), c);
    expect(t.unmatched).toEqual(['none:*']);
    expect(t.targets.map((x) => x.name)).toEqual(['__keyspace@0__:jobs:x']);
    const r = evaluateCheck({ targets: t.targets, minSubscribers: 1, patternSubscriptions: 0, unmatchedPatterns: t.unmatched });
    expect(r.status).toBe('CRITICAL');
    expect(r.summary).toBe("CRITICAL - pattern 'none:*' matched no channel");
  });

  it('a min_rate whose rate was not measured is UNKNOWN, never OK', () => {
    const c = parsed('channels:\n  - name: orders\n    min_rate: 1\n');
    const t = contractTargets(snapshot([{ name: 'orders', kind: 'channel', subscribers: 4 }]), c);
    const r = evaluateCheck({ targets: t.targets, minSubscribers: 1, patternSubscriptions: 0, unmatchedPatterns: [] });
    expect(r.status).toBe('UNKNOWN');
    expect(r.verdicts[0]?.reason).toContain('not measured');
  });

  it('says when every channel meets its contract, and a byte name matches its row', () => {
    const c = parsed("channels:\n  - name: 'f\\xffo'\n    min_subscribers: 1\n");
    const t = contractTargets(snapshot([{ name: 'f\udcffo', kind: 'channel', subscribers: 1 }]), c);
    const r = evaluateCheck({ targets: t.targets, minSubscribers: 1, patternSubscriptions: 0, unmatchedPatterns: [] });
    expect(r.summary).toBe('OK - 1 channel meets its contract');
  });
});
