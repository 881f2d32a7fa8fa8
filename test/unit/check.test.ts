// Unit tests for the `check` evaluation: per-channel verdicts, overall status and summary line.
import { describe, it, expect } from 'vitest';
import { countIncomplete, EXIT_CODES, evaluateCheck, selectTargets, snapshotFacts, worstStatus, type CheckInput } from '../../src/stats/check.js';
import type { NodeRow, Snapshot } from '../../src/stats/snapshot.js';

function input(over: Partial<CheckInput> = {}): CheckInput {
  return {
    targets: [
      { name: 'orders', kind: 'channel', subscribers: 0 },
      { name: 'payments', kind: 'channel', subscribers: 3 },
      { name: 'audit', kind: 'channel', subscribers: 1 },
    ],
    minSubscribers: 1,
    patternSubscriptions: 0,
    unmatchedPatterns: [],
    ...over,
  };
}

describe('EXIT_CODES', () => {
  it('follows the Nagios plugin convention', () => {
    expect(EXIT_CODES).toEqual({ OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 });
  });
});

describe('worstStatus', () => {
  it('ranks CRITICAL > UNKNOWN > WARNING > OK', () => {
    expect(worstStatus([])).toBe('OK');
    expect(worstStatus(['OK', 'WARNING'])).toBe('WARNING');
    expect(worstStatus(['WARNING', 'UNKNOWN', 'OK'])).toBe('UNKNOWN');
    expect(worstStatus(['UNKNOWN', 'CRITICAL', 'WARNING'])).toBe('CRITICAL');
  });
});

describe('evaluateCheck', () => {
  it('is CRITICAL when a channel is below the minimum, naming it in the summary', () => {
    const r = evaluateCheck(input());
    expect(r.status).toBe('CRITICAL');
    expect(r.summary).toBe('CRITICAL - 1 of 3 channels below 1 subscriber: orders (0)');
    expect(r.verdicts.map((v) => v.status)).toEqual(['CRITICAL', 'OK', 'OK']);
    expect(r.verdicts[0]?.reason).toBe('below 1 subscriber');
  });

  it('names every failing channel', () => {
    const r = evaluateCheck(
      input({
        targets: [
          { name: 'a', kind: 'channel', subscribers: 1 },
          { name: 'b', kind: 'shard', subscribers: 0 },
          { name: 'c', kind: 'channel', subscribers: 5 },
        ],
        minSubscribers: 2,
      }),
    );
    expect(r.summary).toBe('CRITICAL - 2 of 3 channels below 2 subscribers: a (1), b (shard, 0)');
  });

  it('is OK when every channel has enough subscribers', () => {
    const r = evaluateCheck(input({ targets: [{ name: 'payments', kind: 'channel', subscribers: 3 }] }));
    expect(r.status).toBe('OK');
    expect(r.summary).toBe('OK - 1 channel has at least 1 subscriber');
    expect(r.notes).toEqual([]);
    expect(EXIT_CODES[r.status]).toBe(0);
  });

  it('downgrades a classic channel to WARNING when pattern subscriptions may deliver to it', () => {
    const r = evaluateCheck(input({ patternSubscriptions: 2 }));
    const orders = r.verdicts.find((v) => v.name === 'orders');
    expect(orders?.status).toBe('WARNING');
    expect(orders?.reason).toMatch(/2 pattern subscriptions exist on the server and may still deliver/);
    expect(r.status).toBe('WARNING');
    expect(r.summary).toContain('orders (0)');
    expect(r.notes.some((n) => n.includes('PSUBSCRIBE'))).toBe(true);
  });

  it('keeps a shard channel CRITICAL whatever the pattern subscriptions, since PSUBSCRIBE never sees SPUBLISH', () => {
    const r = evaluateCheck(
      input({ targets: [{ name: '{u}:e', kind: 'shard', subscribers: 0 }], patternSubscriptions: 5 }),
    );
    expect(r.status).toBe('CRITICAL');
    expect(r.verdicts[0]?.reason).toMatch(/never receive shard channels/);
  });

  it('is UNKNOWN for a classic channel below the minimum when pattern subscriptions could not be read', () => {
    const r = evaluateCheck(
      input({ targets: [{ name: 'orders', kind: 'channel', subscribers: 0 }], patternsUnknown: true }),
    );
    expect(r.status).toBe('UNKNOWN');
    expect(r.patternsUnknown).toBe(true);
    expect(r.notes.some((n) => n.includes('NUMPAT'))).toBe(true);
  });

  it('warns below --warn but at or above --min', () => {
    const r = evaluateCheck(input({ minSubscribers: 1, warnBelow: 2, targets: input().targets.slice(1) }));
    expect(r.verdicts.map((v) => [v.name, v.status])).toEqual([
      ['payments', 'OK'],
      ['audit', 'WARNING'],
    ]);
    expect(r.status).toBe('WARNING');
    expect(r.summary).toBe('WARNING - 1 of 2 channels below the warning threshold of 2 subscribers: audit (1)');
    expect(r.warnBelow).toBe(2);
    expect(r.minSubscribers).toBe(1);
  });

  it('lets CRITICAL win over WARNING and reports both in the summary', () => {
    const r = evaluateCheck(input({ warnBelow: 2 }));
    expect(r.status).toBe('CRITICAL');
    expect(r.summary).toBe(
      'CRITICAL - 1 of 3 channels below 1 subscriber: orders (0); ' +
        '1 below the warning threshold of 2 subscribers: audit (1)',
    );
  });

  it('is CRITICAL for a --pattern that matched no channel (every subscriber gone), or the status asked for', () => {
    const r = evaluateCheck(
      input({ targets: [{ name: 'payments', kind: 'channel', subscribers: 3 }], unmatchedPatterns: ['ship.*'] }),
    );
    expect(r.status).toBe('CRITICAL');
    const asked = evaluateCheck(
      input({ targets: [{ name: 'payments', kind: 'channel', subscribers: 3 }], unmatchedPatterns: ['ship.*'], unmatchedStatus: 'WARNING' }),
    );
    expect(asked.status).toBe('WARNING');
    expect(r.notes).toContain("pattern 'ship.*' matched no channel with subscribers");
    expect(r.summary).toContain("pattern 'ship.*' matched no channel");
  });

  it('is UNKNOWN when nothing was checked', () => {
    const r = evaluateCheck(input({ targets: [] }));
    expect(r.status).toBe('UNKNOWN');
    expect(r.verdicts).toEqual([]);
    expect(r.notes.some((n) => n.startsWith('nothing was checked'))).toBe(true);
    // A pattern that matched nothing was checked, and found nobody.
    const withPattern = evaluateCheck(input({ targets: [], unmatchedPatterns: ['x*'] }));
    expect(withPattern.status).toBe('CRITICAL');
    expect(withPattern.notes.some((n) => n.startsWith('nothing was checked'))).toBe(false);
  });

  it('judges a channel named twice only once, and keeps kinds apart', () => {
    const r = evaluateCheck(
      input({
        targets: [
          { name: 'orders', kind: 'channel', subscribers: 2 },
          { name: 'orders', kind: 'channel', subscribers: 2, matchedBy: 'ord*' },
          { name: 'orders', kind: 'shard', subscribers: 1 },
        ],
      }),
    );
    expect(r.verdicts.map((v) => v.kind)).toEqual(['channel', 'shard']);
    expect(r.summary).toBe('OK - 2 channels have at least 1 subscriber');
  });

  it('carries matchedBy through to the verdict', () => {
    const r = evaluateCheck(input({ targets: [{ name: 'o.1', kind: 'channel', subscribers: 1, matchedBy: 'o.*' }] }));
    expect(r.verdicts[0]?.matchedBy).toBe('o.*');
  });
});

describe('a node that cannot be read', () => {
  const node = (address: string, up: boolean, shard: string): NodeRow => ({ address, role: address === shard ? 'primary' : 'replica', up, shard });
  const cluster = (down: string): Snapshot => ({
    time: 0,
    mode: 'cluster',
    channels: [{ name: '{a}', kind: 'shard', subscribers: 0, shard: 'p1' }],
    nodes: [node('p1', true, 'p1'), node('r1', true, 'p1'), node('p2', true, 'p2'), node('r2', down !== 'r2', 'p2')],
    patternsPresent: false,
    warnings: [],
    clients: [],
    clientsUnknown: [],
    flapping: 0,
  });

  it('makes a shard channel undecided only when the node belongs to its shard', () => {
    expect(countIncomplete(cluster('r2'), 'shard', 'p1')).toBe(false);
    expect(countIncomplete(cluster('r2'), 'shard', 'p2')).toBe(true);
    expect(countIncomplete(cluster('r2'), 'channel', undefined)).toBe(true);
    expect(countIncomplete(cluster('none'), 'channel', undefined)).toBe(false);
    const s = cluster('r2');
    const { targets } = selectTargets(s, [], ['{a}'], []);
    const r = evaluateCheck({ targets, minSubscribers: 1, ...snapshotFacts(s), unmatchedPatterns: [] });
    // Another shard's replica is down: {a} has no subscriber on its own shard, which was read in full.
    expect(r.verdicts[0]?.status).toBe('CRITICAL');
  });

  it('makes a pattern that matched nothing UNKNOWN, since its channels may all be on that node', () => {
    const r = evaluateCheck({ targets: [], minSubscribers: 1, patternSubscriptions: 0, unmatchedPatterns: ['jobs:*'], unreachableNodes: ['r2 (down)'] });
    expect(r.status).toBe('UNKNOWN');
  });
});
