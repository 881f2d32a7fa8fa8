// Which messages tail keeps.
import { describe, it, expect } from 'vitest';
import { makeFilter } from '../../src/tail/filter.js';

const b = (s: string) => Buffer.from(s);

describe('makeFilter', () => {
  it('filters nothing (no function at all) when nothing is asked', () => {
    expect(makeFilter({ includeKeyspace: true, exclude: [] })).toBeUndefined();
  });

  it('leaves out keyspace notifications caught by a broad pattern, keeps them when asked for', () => {
    const f = makeFilter({ includeKeyspace: false, exclude: [] })!;
    expect(f('pmessage', b('*'), b('__keyspace@0__:user:1'), b('set'))).toBe(false);
    expect(f('pmessage', b('*'), b('__keyevent@0__:set'), b('user:1'))).toBe(false);
    expect(f('pmessage', b('__keyspace@0__:*'), b('__keyspace@0__:user:1'), b('set'))).toBe(true);
    expect(f('message', undefined, b('__keyspace@0__:user:1'), b('set'))).toBe(true);
    expect(f('pmessage', b('*'), b('__keys'), b('x'))).toBe(true);
    expect(f('pmessage', b('*'), b('orders'), b('x'))).toBe(true);
  });

  it('applies --exclude globs to the channel and --grep to the payload', () => {
    const f = makeFilter({ includeKeyspace: true, exclude: ['debug:*', 'noise'], grep: /error|fail/i })!;
    expect(f('message', undefined, b('debug:x'), b('error'))).toBe(false);
    expect(f('message', undefined, b('noise'), b('error'))).toBe(false);
    expect(f('message', undefined, b('app'), b('all good'))).toBe(false);
    expect(f('message', undefined, b('app'), b('Disk FAILED'))).toBe(true);
  });

  it('gives the same answer twice with a global regex', () => {
    const f = makeFilter({ includeKeyspace: true, exclude: [], grep: /x/g })!;
    expect(f('message', undefined, b('c'), b('xx'))).toBe(true);
    expect(f('message', undefined, b('c'), b('xx'))).toBe(true);
  });
});
