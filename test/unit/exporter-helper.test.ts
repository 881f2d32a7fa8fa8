// The exporter test helper's parser, tested on its own: the integration tests' numbers are only as good as it is.
import { describe, it, expect } from 'vitest';
import { parseExposition, series } from '../helpers/exporter.js';

describe('parseExposition', () => {
  it('reads samples with labels, +Inf and NaN, and skips comments and blank lines', () => {
    const s = parseExposition('# HELP a x\n# TYPE a gauge\na{channel="x y",kind="shard"} 3\n\nb +Inf\nc Nan\nd 1.5e3\n');
    expect([...s.keys()]).toEqual(['a{channel="x y",kind="shard"}', 'b', 'c', 'd']);
    expect(s.get(series('a', { channel: 'x y', kind: 'shard' }))).toBe(3);
    expect(s.get('b')).toBe(Infinity);
    expect(Number.isNaN(s.get('c'))).toBe(true);
    expect(s.get('d')).toBe(1500);
  });

  it('refuses a line that is not a sample', () => {
    expect(() => parseExposition('garbage\n')).toThrow('not a sample line');
  });
});
