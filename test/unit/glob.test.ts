// The local glob must agree with the server's PUBSUB CHANNELS / PSUBSCRIBE matching.
import { describe, it, expect } from 'vitest';
import { globMatch } from '../../src/stats/glob.js';

describe('globMatch', () => {
  it.each([
    ['*', 'anything', true],
    ['**', '', true],
    ['news:*', 'news:sport', true],
    ['news:*', 'weather', false],
    ['h?llo', 'hello', true],
    ['h?llo', 'hllo', false],
    ['h[ae]llo', 'hallo', true],
    ['h[ae]llo', 'hillo', false],
    ['h[^e]llo', 'hallo', true],
    ['h[^e]llo', 'hello', false],
    ['h[a-b]llo', 'hbllo', true],
    ['h[b-a]llo', 'hallo', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['*:orders', 'eu:orders', true],
    ['*:orders', 'eu:orders:x', false],
    ['a*b*c', 'aXXbYYc', true],
    ['a*b*c', 'aXXbYY', false],
  ])('%s ~ %s = %s', (pattern, text, expected) => {
    expect(globMatch(pattern, text)).toBe(expected);
  });
});
