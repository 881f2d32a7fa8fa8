// Unit tests for `check` output: text, JSON, Nagios plugin line and Prometheus exposition.
import { describe, it, expect } from 'vitest';
import { evaluateCheck, type CheckInput } from '../../src/stats/check.js';
import { renderCheck } from '../../src/render/check-output.js';
import { checkMetricsText } from '../../src/render/prometheus.js';
import type { CheckJson } from '../../src/render/json/check.js';

function result(over: Partial<CheckInput> = {}) {
  return evaluateCheck({
    targets: [
      { name: 'orders', kind: 'channel', subscribers: 0 },
      { name: 'payments', kind: 'channel', subscribers: 3 },
      { name: '{u}:events', kind: 'shard', subscribers: 2, matchedBy: '{u}:*' },
    ],
    minSubscribers: 1,
    patternSubscriptions: 0,
    unmatchedPatterns: [],
    ...over,
  });
}

const plain = { color: false };

describe('text', () => {
  it('prints the summary, one line per channel, and the notes', () => {
    const out = renderCheck(result({ unmatchedPatterns: ['ship.*'] }), 'text', plain);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CRITICAL - 1 of 3 channels below 1 subscriber: orders \(0\)/);
    expect(lines[1]?.trim().split(/\s{2,}/)).toEqual(['CRITICAL', 'orders', 'channel', '0', 'below 1 subscriber']);
    expect(lines[2]?.trim().split(/\s{2,}/)).toEqual(['OK', 'payments', 'channel', '3', 'at least 1 subscriber']);
    expect(lines[3]).toContain("[matched by '{u}:*']");
    expect(lines[4]).toBe("note: pattern 'ship.*' matched no channel with subscribers");
    expect(out).not.toContain('\u001b');
  });

  it('breaks the summary and the notes between words on a terminal, each summary line in the status colour', () => {
    const r = result({ unmatchedPatterns: ['ship.*'] });
    const wide = renderCheck(r, 'text', plain);
    const out = renderCheck(r, 'text', { color: true, width: 40 });
    const summary = out.split('\n').filter((l) => l.startsWith('\u001b[31m'));
    expect(summary.length).toBeGreaterThan(1);
    for (const line of summary) expect(line).toMatch(/^\u001b\[31m.*\u001b\[39m$/);
    const text = renderCheck(r, 'text', { color: false, width: 40 });
    const lines = text.trimEnd().split('\n');
    const note = lines.slice(lines.findIndex((l) => l.startsWith('note:')));
    expect(note.length).toBeGreaterThan(1);
    expect(note.every((l) => l.length <= 40)).toBe(true);
    expect(note.map((l) => l.trim()).join(' ')).toBe("note: pattern 'ship.*' matched no channel with subscribers");
    // The words are the same as on one line.
    expect(text.split(/\s+/)).toEqual(wide.split(/\s+/));
  });

  it('escapes control characters and colours the status when asked', () => {
    const r = result({ targets: [{ name: 'bad\u001b]0;x\u0007', kind: 'channel', subscribers: 0 }] });
    const out = renderCheck(r, 'text', { color: true });
    expect(out).toContain('bad\\x1b]0;x\\x07');
    expect(out).not.toContain('bad\u001b');
    expect(out).toContain('\u001b[31mCRITICAL');
  });
});

describe('json', () => {
  it('prints one document with status, exit code, channels and notes', () => {
    const out = renderCheck(result({ warnBelow: 5 }), 'json', plain);
    expect(out.endsWith('\n')).toBe(true);
    expect(out.trimEnd()).not.toContain('\n');
    const doc = JSON.parse(out) as CheckJson;
    expect(doc.status).toBe('CRITICAL');
    expect(doc.exit_code).toBe(2);
    expect(doc.min_subscribers).toBe(1);
    expect(doc.warn_below).toBe(5);
    expect(doc.pattern_subscriptions).toBe(0);
    expect(doc.channels).toHaveLength(3);
    expect(doc.channels[0]).toEqual({
      name: 'orders',
      kind: 'channel',
      subscribers: 0,
      status: 'CRITICAL',
      reason: 'below 1 subscriber',
    });
    expect(doc.channels[2]?.matched_by).toBe('{u}:*');
    expect(Array.isArray(doc.notes)).toBe(true);
  });

  it('uses null for thresholds not given and pattern counts not known', () => {
    const doc = JSON.parse(renderCheck(result({ patternsUnknown: true }), 'json', plain)) as CheckJson;
    expect(doc.warn_below).toBeNull();
    expect(doc.pattern_subscriptions).toBeNull();
  });
});

describe('nagios', () => {
  it('prints one plugin line with perfdata and range thresholds', () => {
    const out = renderCheck(result({ warnBelow: 2 }), 'nagios', plain);
    expect(out.split('\n')).toHaveLength(2);
    const [text, perf] = out.trimEnd().split(' | ');
    expect(text).toMatch(/^PUBSUB CRITICAL - 1 of 3 channels below 1 subscriber: orders \(0\)/);
    expect(perf?.split(' ')).toEqual([
      "'orders'=0;2:;1:;0;",
      "'payments'=3;2:;1:;0;",
      "'shard:{u}:events'=2;2:;1:;0;",
      'pattern_subscriptions=0;;;0;',
    ]);
  });

  it('leaves the warning threshold empty without --warn and reports unknown patterns as U', () => {
    const out = renderCheck(result({ patternsUnknown: true }), 'nagios', plain);
    expect(out).toContain("'orders'=0;;1:;0;");
    expect(out).toContain('pattern_subscriptions=U;;;0;');
  });

  it('doubles single quotes in labels and keeps | and newlines out of the line', () => {
    const r = result({ targets: [{ name: "it's|a=b\nc", kind: 'channel', subscribers: 0 }] });
    const out = renderCheck(r, 'nagios', plain);
    expect(out.trimEnd()).not.toContain('\n');
    expect(out.split('|')).toHaveLength(2);
    expect(out).toContain("'it''s\\x7ca\\x3db\\nc'=0;;1:;0;");
  });
});

describe('nagios with per-channel thresholds', () => {
  it('gives each channel the thresholds it was judged by (a contract\'s), not the command line\'s', () => {
    const r = evaluateCheck({
      targets: [
        { name: 'orders', kind: 'channel', subscribers: 3, thresholds: { min: 2, warn: 4 } },
        { name: 'optional', kind: 'channel', subscribers: 0, thresholds: { min: 0 } },
      ],
      minSubscribers: 1,
      patternSubscriptions: 0,
      unmatchedPatterns: [],
    });
    const out = renderCheck(r, 'nagios', plain);
    expect(out).toContain("'orders'=3;4:;2:;0;");
    expect(out).toContain("'optional'=0;;0:;0;");
  });
});

describe('prometheus', () => {
  it('exposes every metric with HELP and TYPE lines', async () => {
    const out = await checkMetricsText(result({ patternSubscriptions: 4 }));
    expect(out.endsWith('\n')).toBe(true);
    const lines = out.trimEnd().split('\n');
    for (const metric of [
      'pubsub_mon_channel_subscribers',
      'pubsub_mon_channel_status',
      'pubsub_mon_check_status',
      'pubsub_mon_pattern_subscriptions',
    ]) {
      expect(lines).toContain(`# TYPE ${metric} gauge`);
      expect(lines.some((l) => l.startsWith(`# HELP ${metric} `))).toBe(true);
    }
    expect(lines).toContain('pubsub_mon_channel_subscribers{channel="payments",kind="channel"} 3');
    expect(lines).toContain('pubsub_mon_channel_subscribers{channel="{u}:events",kind="shard"} 2');
    // orders is 0 but 4 pattern subscriptions may deliver to it: WARNING (1).
    expect(lines).toContain('pubsub_mon_channel_status{channel="orders",kind="channel"} 1');
    expect(lines).toContain('pubsub_mon_check_status 1');
    expect(lines).toContain('pubsub_mon_pattern_subscriptions 4');
  });

  it('writes label values as shown everywhere else (escaped), then escaped for the exposition format', async () => {
    // The name is a\b"c<newline>d: shown as a\\b"c\nd, whose backslashes and quote the format escapes again.
    const r = result({ targets: [{ name: 'a\\b"c\nd', kind: 'channel', subscribers: 1 }] });
    const out = await checkMetricsText(r);
    expect(out).toContain('pubsub_mon_channel_subscribers{channel="a\\\\\\\\b\\"c\\\\nd",kind="channel"} 1');
    const hostile = await checkMetricsText(result({ targets: [{ name: 'x\u001b]2;t\u0007\u202e', kind: 'channel', subscribers: 1 }] }));
    expect(hostile).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(hostile).toContain('channel="x\\\\x1b]2;t\\\\x07\\\\u202e"');
  });

  it('reports an unreadable pattern count as NaN and still gives the overall status with no channels', async () => {
    const out = await checkMetricsText(result({ targets: [], patternsUnknown: true }));
    // prom-client writes NaN as `Nan`; Prometheus reads the value case-insensitively.
    expect(out).toMatch(/^pubsub_mon_pattern_subscriptions nan$/im);
    expect(out).toContain('pubsub_mon_check_status 3');
    expect(out).not.toContain('pubsub_mon_channel_status{');
  });
});
