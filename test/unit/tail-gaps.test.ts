// The bookkeeping behind tail's gap and resumed markers: losses grouped per node, each resumed where it came back.
import { describe, it, expect } from 'vitest';
import { GapBook } from '../../src/stats/tail-gaps.js';

function book(start = 1000) {
  let now = start;
  const gaps = new GapBook(() => now);
  return { gaps, advance: (ms: number) => (now += ms) };
}

describe('GapBook', () => {
  it('announces a lost connection once, on its node, and resumes it where the keys are held again', () => {
    const { gaps, advance } = book();
    gaps.connectionLost('10.0.0.1:7000', ['shard:a', 'shard:b'], 'connection to 10.0.0.1:7000 was lost');
    expect(gaps.announce()).toEqual([{ node: '10.0.0.1:7000', reason: 'connection to 10.0.0.1:7000 was lost' }]);
    expect(gaps.announce()).toEqual([]);
    advance(1500);
    expect(gaps.resolve((k) => (k === 'shard:a' ? '10.0.0.2:7000' : undefined))).toEqual([]);
    expect(gaps.resolve(() => '10.0.0.2:7000')).toEqual([{ node: '10.0.0.2:7000', downMs: 1500 }]);
    expect(gaps.resolve(() => '10.0.0.2:7000')).toEqual([]);
  });

  it('groups the shard channels a node ends together into one gap that names them, never the node field', () => {
    const { gaps } = book();
    for (const name of ['{a}x', '{b}x', '{c}x', '{d}x']) gaps.subscriptionEnded('10.0.0.1:7000', `shard:${name}`, name);
    const [gap, ...rest] = gaps.announce();
    expect(rest).toEqual([]);
    expect(gap!.node).toBe('10.0.0.1:7000');
    expect(gap!.reason).toBe('the server ended the subscriptions to shard channels {a}x, {b}x, {c}x and 1 more on 10.0.0.1:7000 (their slots are now served by another node)');
    gaps.subscriptionEnded('10.0.0.1:7000', 'shard:one', 'one');
    expect(gaps.announce()[0]!.reason).toBe('the server ended the subscription to shard channel one on 10.0.0.1:7000 (its slot is now served by another node)');
  });

  it('merges the connections of one node that close together, and keeps separate nodes apart', () => {
    const { gaps } = book();
    gaps.connectionLost('a:1', ['classic'], 'lost a');
    gaps.connectionLost('a:1', ['shard:x'], 'lost a');
    gaps.connectionLost('b:1', ['shard:y'], 'lost b');
    expect(gaps.announce().map((g) => g.node)).toEqual(['a:1', 'b:1']);
    // Classic traffic came back on one node, the shard channel on another: one marker per node.
    const where: Record<string, string> = { classic: 'c:1', 'shard:x': 'd:1', 'shard:y': 'd:1' };
    expect(gaps.resolve((k) => where[k]).map((r) => r.node)).toEqual(['c:1', 'd:1', 'd:1']);
  });

  it('does not count a subscription that is already missing again, and forgets a loss that took nothing', () => {
    const { gaps, advance } = book();
    gaps.subscriptionEnded('a:1', 'shard:x', 'x');
    expect(gaps.announce()).toHaveLength(1);
    advance(100);
    // The node it was being moved to went away too: still the first gap, down since the first loss.
    gaps.connectionLost('b:1', ['shard:x'], 'lost b');
    gaps.connectionLost('c:1', [], 'lost c');
    gaps.subscriptionEnded('a:1', 'shard:x', 'x');
    expect(gaps.announce()).toEqual([]);
    advance(400);
    expect(gaps.resolve(() => 'd:1')).toEqual([{ node: 'd:1', downMs: 500 }]);
  });

  it('resolves only gaps already announced', () => {
    const { gaps } = book();
    gaps.connectionLost('a:1', ['classic'], 'lost');
    expect(gaps.resolve(() => 'a:1')).toEqual([]);
    gaps.announce();
    expect(gaps.resolve(() => 'a:1')).toHaveLength(1);
  });
});
