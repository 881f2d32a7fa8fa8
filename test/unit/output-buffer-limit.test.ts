// Unit tests for reading client-output-buffer-limit, from CONFIG GET and as written in redis.conf.
import { describe, it, expect } from 'vitest';
import { parseOutputBufferLimits } from '../../src/stats/output-buffer-limit.js';

describe('parseOutputBufferLimits', () => {
  it('reads the CONFIG GET value of a default Redis 7.0 server', () => {
    expect(
      parseOutputBufferLimits('normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60'),
    ).toEqual({
      normal: { hardBytes: 0, softBytes: 0, softSeconds: 0 },
      replica: { hardBytes: 268435456, softBytes: 67108864, softSeconds: 60 },
      pubsub: { hardBytes: 33554432, softBytes: 8388608, softSeconds: 60 },
    });
  });

  it('takes replica as a synonym of slave and leaves unmentioned classes undefined', () => {
    const limits = parseOutputBufferLimits('replica 256mb 64mb 60');
    expect(limits.replica).toEqual({ hardBytes: 268435456, softBytes: 67108864, softSeconds: 60 });
    expect(limits.normal).toBeUndefined();
    expect(limits.pubsub).toBeUndefined();
  });

  it('reads redis.conf units: the bare letter decimal, with b binary, any case', () => {
    const cases: Array<[string, number]> = [
      ['32mb', 32 * 1024 * 1024],
      ['8MB', 8 * 1024 * 1024],
      ['1gb', 1024 ** 3],
      ['2G', 2_000_000_000],
      ['64k', 64_000],
      ['512kb', 512 * 1024],
      ['3m', 3_000_000],
      ['100b', 100],
      ['7', 7],
    ];
    for (const [size, bytes] of cases) {
      expect(parseOutputBufferLimits(`pubsub ${size} 0 0`).pubsub?.hardBytes).toBe(bytes);
    }
  });

  it('reads the default pubsub line as people write it', () => {
    expect(parseOutputBufferLimits('pubsub 32mb 8mb 60').pubsub).toEqual({
      hardBytes: 33554432,
      softBytes: 8388608,
      softSeconds: 60,
    });
  });

  it('tolerates extra whitespace and upper-case class names; a later group wins', () => {
    const limits = parseOutputBufferLimits('  PUBSUB 1 2 3\n pubsub  4 5 6  ');
    expect(limits.pubsub).toEqual({ hardBytes: 4, softBytes: 5, softSeconds: 6 });
  });

  it('throws a clear Error on malformed input', () => {
    expect(() => parseOutputBufferLimits('')).toThrow(/empty/);
    expect(() => parseOutputBufferLimits('pubsub 32mb 8mb')).toThrow(/groups of <class> <hard> <soft> <seconds>/);
    expect(() => parseOutputBufferLimits('master 1 2 3')).toThrow(/unknown client class "master"/);
    expect(() => parseOutputBufferLimits('pubsub 32xb 8mb 60')).toThrow(/"32xb" is not a size/);
    expect(() => parseOutputBufferLimits('pubsub -1 8mb 60')).toThrow(/"-1" is not a size/);
    expect(() => parseOutputBufferLimits('pubsub 1.5mb 8mb 60')).toThrow(/"1.5mb" is not a size/);
    expect(() => parseOutputBufferLimits('pubsub 32mb 8mb 1m')).toThrow(/"1m" is not a whole number of seconds/);
    expect(() => parseOutputBufferLimits('pubsub 99999999999gb 0 0')).toThrow(/too large/);
    expect(() => parseOutputBufferLimits('pubsub mb 0 0')).toThrow(Error);
  });
});
