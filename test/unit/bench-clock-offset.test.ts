// A host's clock against the control server's TIME: the best round trip, exact BigInt arithmetic at
// epoch scale, TIME replies in ns, and the shift between two hosts with its bound (pure, no network).
import { describe, it, expect } from 'vitest';
import { bestOffset, shiftBetween, timeReplyNs, type ClockOffset, type TimeSample } from '../../src/bench/clock-offset.js';
import { rng } from '../helpers/bench-fixtures.js';

/** An epoch instant in ns, far past 2^53 (≈ 9.007e15): a Number cannot hold it to the nanosecond. */
const EPOCH_NS = 1_700_000_000_123_456_000n;


/** A random integer in [lo, hi]. */
function between(r: () => number, lo: number, hi: number): number {
  return lo + Math.floor(r() * (hi - lo + 1));
}

/** What Redis TIME would answer for a server clock reading (whole seconds and whole microseconds, as strings). */
function timeReply(serverNs: bigint): [string, string] {
  return [(serverNs / 1_000_000_000n).toString(), ((serverNs % 1_000_000_000n) / 1000n).toString()];
}

describe('bestOffset', () => {
  it('throws a RangeError when there are no samples', () => {
    expect(() => bestOffset([])).toThrow(RangeError);
    expect(() => bestOffset([])).toThrow(/no TIME samples/);
  });

  it('takes the offset from the midpoint of the round trip, plus half of TIME\'s microsecond', () => {
    const o = bestOffset([{ sentNs: 1000n, serverNs: 50_000n, receivedNs: 3000n }]);
    // Midpoint 2000; the server read 50,000 + 500 on average.
    expect(o.offsetNs).toBe(48_500n);
    expect(o.rttNs).toBe(2000);
    expect(o.boundNs).toBe(1000 + 500);
  });

  it('picks the sample with the shortest round trip, wherever it is in the list', () => {
    const slow = (base: bigint, rtt: bigint): TimeSample => ({ sentNs: base, serverNs: 10_000_000n, receivedNs: base + rtt });
    const best: TimeSample = { sentNs: 5_000_000n, serverNs: 77_000_000n, receivedNs: 5_000_400n };
    for (let at = 0; at <= 3; at++) {
      const samples = [slow(0n, 90_000n), slow(1_000_000n, 5_000n), slow(2_000_000n, 1_000_000n)];
      samples.splice(at, 0, best);
      const o = bestOffset(samples);
      expect(o.rttNs).toBe(400);
      expect(o.offsetNs).toBe(77_000_500n - 5_000_200n);
      expect(o.boundNs).toBe(200 + 500);
    }
  });

  it('keeps the first of equally short round trips', () => {
    const a: TimeSample = { sentNs: 0n, serverNs: 1_000_000n, receivedNs: 100n };
    const b: TimeSample = { sentNs: 1000n, serverNs: 9_000_000n, receivedNs: 1100n };
    expect(bestOffset([a, b]).offsetNs).toBe(1_000_500n - 50n);
    expect(bestOffset([b, a]).offsetNs).toBe(9_000_500n - 1050n);
  });

  it('stays exact to the nanosecond with epoch-scale server times past 2^53', () => {
    const sentNs = 123_456_789_012n;
    const o = bestOffset([{ sentNs, serverNs: EPOCH_NS, receivedNs: sentNs + 2000n }]);
    expect(typeof o.offsetNs).toBe('bigint');
    expect(o.offsetNs).toBe(EPOCH_NS + 500n - (sentNs + 1000n));
    expect(o.offsetNs).toBe(1_699_999_876_666_666_488n);
    // A Number could not have told these apart: the BigInt did not go through one.
    expect(Number(o.offsetNs + 1n) === Number(o.offsetNs)).toBe(true);
    expect(o.offsetNs + 1n).not.toBe(o.offsetNs);
  });

  it('handles a zero round trip (the bound is TIME\'s half microsecond alone) and an odd one', () => {
    const zero = bestOffset([{ sentNs: 10n, serverNs: 1000n, receivedNs: 10n }]);
    expect(zero).toEqual({ offsetNs: 1490n, boundNs: 500, rttNs: 0 });
    const odd = bestOffset([{ sentNs: 0n, serverNs: 0n, receivedNs: 3n }]);
    expect(odd.rttNs).toBe(3);
    // The midpoint is rounded down, so the bound takes the larger half: 2 ns + 500.
    expect(odd.boundNs).toBe(502);
  });

  it('does not change the samples it is given', () => {
    const samples: TimeSample[] = [
      { sentNs: 0n, serverNs: 5n, receivedNs: 10n },
      { sentNs: 20n, serverNs: 6n, receivedNs: 25n },
    ];
    const copy = samples.map((s) => ({ ...s }));
    bestOffset(samples);
    expect(samples).toEqual(copy);
  });
});

describe('timeReplyNs', () => {
  it('turns [seconds, microseconds] strings into exact BigInt ns', () => {
    expect(timeReplyNs(['1700000000', '123456'])).toBe(1_700_000_000_123_456_000n);
    expect(timeReplyNs(['0', '0'])).toBe(0n);
    expect(timeReplyNs(['1', '999999'])).toBe(1_999_999_000n);
  });

  it('takes numbers as well as strings, and mixes of both', () => {
    expect(timeReplyNs([1_700_000_000, 123_456])).toBe(1_700_000_000_123_456_000n);
    expect(timeReplyNs(['1700000000', 123_456])).toBe(1_700_000_000_123_456_000n);
    expect(timeReplyNs([1_700_000_000, '123456'])).toBe(1_700_000_000_123_456_000n);
  });

  it('is exact where a Number would round (seconds far in the future)', () => {
    // 2^53 ns is about 104 days: every epoch time in ns is past it, and odd microseconds must survive.
    const ns = timeReplyNs(['4102444800', '000001']);
    expect(ns).toBe(4_102_444_800_000_001_000n);
    expect(ns % 1000n).toBe(0n);
    expect((ns / 1000n) % 10n).toBe(1n);
  });

  it('reads back what timeReply would have answered, to the microsecond', () => {
    const r = rng(7);
    for (let i = 0; i < 200; i++) {
      const ns = EPOCH_NS + BigInt(between(r, 0, 2 ** 40)) * 997n;
      const back = timeReplyNs(timeReply(ns));
      expect(back).toBe(ns - (ns % 1000n));
    }
  });
});

describe('shiftBetween', () => {
  const at = (offsetNs: bigint, boundNs: number): ClockOffset => ({ offsetNs, boundNs, rttNs: 2 * (boundNs - 500) });

  it('is the host\'s offset minus the coordinator\'s, as a Number; the two bounds add up', () => {
    expect(shiftBetween(at(EPOCH_NS + 1_000n, 700), at(EPOCH_NS + 5_000n, 900))).toEqual({ shiftNs: -4_000, boundNs: 1600 });
    expect(shiftBetween(at(EPOCH_NS + 5_000n, 700), at(EPOCH_NS + 1_000n, 900))).toEqual({ shiftNs: 4_000, boundNs: 1600 });
    expect(typeof shiftBetween(at(EPOCH_NS, 1), at(0n, 1)).shiftNs).toBe('number');
  });

  it('moves a host onto the coordinator\'s clock: host reading + shift = coordinator reading', () => {
    // The server reads S at some instant; the host reads h and the coordinator c at that same instant.
    const server = EPOCH_NS;
    const h = 50_000_000_000n;
    const c = 9_000_000_123n;
    const { shiftNs } = shiftBetween(at(server - h, 600), at(server - c, 600));
    expect(BigInt(shiftNs)).toBe(c - h);
    expect(Number(h) + shiftNs).toBe(Number(c));
  });

  it('is exact when both offsets are epoch-scale and their difference is small', () => {
    // Each offset alone is past 2^53; only the difference goes through a Number.
    const { shiftNs } = shiftBetween(at(EPOCH_NS + 1n, 500), at(EPOCH_NS, 500));
    expect(shiftNs).toBe(1);
    expect(shiftBetween(at(EPOCH_NS, 500), at(EPOCH_NS + 12_345_678_901n, 500)).shiftNs).toBe(-12_345_678_901);
  });

  it('is zero against itself, with twice the bound', () => {
    const o = at(EPOCH_NS, 1234.5);
    expect(shiftBetween(o, o)).toEqual({ shiftNs: 0, boundNs: 2469 });
  });

  it('is antisymmetric: swapping the two negates the shift and keeps the bound', () => {
    const a = at(EPOCH_NS - 7_777n, 800);
    const b = at(EPOCH_NS + 3_333n, 1200);
    const ab = shiftBetween(a, b);
    const ba = shiftBetween(b, a);
    expect(ab.shiftNs).toBe(-ba.shiftNs);
    expect(ab.boundNs).toBe(ba.boundNs);
  });
});

/**
 * A simulated deployment: a true clock t, a server whose clock is t + EPOCH (read at the instant the
 * TIME command arrives, reported in whole µs), a coordinator whose clock is t + C and a host whose
 * clock is t + C + S (ahead of the coordinator by S). Each round trip has its own one-way delays,
 * asymmetric (the way out and the way back differ), with now and then a long stall.
 */
interface Machine {
  /** This machine's clock at true time t (ns). */
  read: (t: bigint) => bigint;
}

function samplesOf(machine: Machine, serverAtTrue: (t: bigint) => bigint, r: () => number, rounds: number, startTrue: bigint): { samples: TimeSample[]; end: bigint } {
  const samples: TimeSample[] = [];
  let t = startTrue;
  for (let i = 0; i < rounds; i++) {
    const stall = r() < 0.1 ? between(r, 1_000_000, 50_000_000) : 0;
    const out = BigInt(between(r, 5_000, 400_000) + stall);
    const back = BigInt(between(r, 5_000, 400_000) + (r() < 0.1 ? between(r, 1_000_000, 20_000_000) : 0));
    const sentNs = machine.read(t);
    const serverNs = timeReplyNs(timeReply(serverAtTrue(t + out)));
    const receivedNs = machine.read(t + out + back);
    samples.push({ sentNs, serverNs, receivedNs });
    t += out + back + BigInt(between(r, 0, 100_000));
  }
  return { samples, end: t };
}

describe('clock offsets: a simulated skewed host (property)', () => {
  it('recovers the host\'s shift onto the coordinator\'s clock within the stated bound: −S, ± the two bounds', () => {
    const r = rng(20240611);
    for (let trial = 0; trial < 400; trial++) {
      // Epoch-scale server, hrtime-scale machines (ns since boot), a skew of up to ±10 s either way.
      const serverAtTrue = (t: bigint) => EPOCH_NS + t;
      const C = BigInt(between(r, 0, 2 ** 52));
      const S = BigInt(between(r, -10_000_000_000, 10_000_000_000));
      const coordinator: Machine = { read: (t) => t + C };
      const host: Machine = { read: (t) => t + C + S };
      const rounds = between(r, 1, 40);
      const first = samplesOf(coordinator, serverAtTrue, r, rounds, BigInt(between(r, 0, 10 ** 12)));
      const second = samplesOf(host, serverAtTrue, r, between(r, 1, 40), first.end);
      const coordOffset = bestOffset(first.samples);
      const hostOffset = bestOffset(second.samples);

      // Each estimate on its own: server − local, so the host ahead by S has an offset smaller by S.
      const trueCoord = EPOCH_NS - C;
      const trueHost = EPOCH_NS - C - S;
      expect(Math.abs(Number(coordOffset.offsetNs - trueCoord))).toBeLessThanOrEqual(coordOffset.boundNs);
      expect(Math.abs(Number(hostOffset.offsetNs - trueHost))).toBeLessThanOrEqual(hostOffset.boundNs);

      // The shift: coordinator = host + shift, so it is −S, wrong by at most the two bounds together.
      const { shiftNs, boundNs } = shiftBetween(hostOffset, coordOffset);
      expect(boundNs).toBe(hostOffset.boundNs + coordOffset.boundNs);
      expect(Math.abs(shiftNs - -Number(S))).toBeLessThanOrEqual(boundNs);
      // Reading the coordinator's clock from the host's, at any true instant.
      const t = first.end + 123_456_789n;
      expect(Math.abs(Number(host.read(t)) + shiftNs - Number(coordinator.read(t)))).toBeLessThanOrEqual(boundNs);
    }
  });

  it('gets tighter with a fast round trip among slow ones: the bound follows the best sample', () => {
    const S = 3_000_000n;
    const C = 1_000_000n;
    const host: Machine = { read: (t) => t + C + S };
    const serverAtTrue = (t: bigint) => EPOCH_NS + t;
    const r = rng(99);
    const { samples } = samplesOf(host, serverAtTrue, r, 39, 0n);
    // One round trip of 2 µs, perfectly symmetric.
    const t = 10n ** 12n;
    samples.push({ sentNs: host.read(t), serverNs: timeReplyNs(timeReply(serverAtTrue(t + 1000n))), receivedNs: host.read(t + 2000n) });
    const o = bestOffset(samples);
    expect(o.rttNs).toBe(2000);
    expect(o.boundNs).toBe(1500);
    expect(Math.abs(Number(o.offsetNs - (EPOCH_NS - C - S)))).toBeLessThanOrEqual(o.boundNs);
  });

  it('is within the bound at its worst corners: the server reading at either end of the round trip, at either end of its microsecond', () => {
    const C = 777_777n;
    const host: Machine = { read: (t) => t + C };
    for (const rtt of [0n, 2n, 1000n, 123_456n, 10_000_000n]) {
      for (const when of [0n, rtt]) {
        for (const sub of [0n, 999n]) {
          // The server's clock at the reading sits `sub` ns into its microsecond.
          const t0 = 5_000_000_000n;
          const read = t0 + when;
          const serverAtTrue = (t: bigint) => EPOCH_NS - ((EPOCH_NS + read) % 1000n) + sub + t;
          const offset = EPOCH_NS - ((EPOCH_NS + read) % 1000n) + sub - C;
          const o = bestOffset([{ sentNs: host.read(t0), serverNs: timeReplyNs(timeReply(serverAtTrue(read))), receivedNs: host.read(t0 + rtt) }]);
          expect(Math.abs(Number(o.offsetNs - offset))).toBeLessThanOrEqual(o.boundNs);
        }
      }
    }
  });

  // With an odd round trip the midpoint is truncated to sentNs + (rtt - 1) / 2: a server that read its
  // clock right as the reply left, on a whole microsecond, is ceil(rtt / 2) + 500 ns from the estimate.
  it('is within the bound with an odd round trip too (the truncated midpoint)', () => {
    // Host clock = true time; the server's = true time + EPOCH (a whole microsecond at the reading).
    const sentNs = 997n;
    const receivedNs = 1000n;
    const serverNs = timeReplyNs(timeReply(EPOCH_NS + receivedNs));
    const o = bestOffset([{ sentNs, serverNs, receivedNs }]);
    expect(o.boundNs).toBe(502);
    expect(Math.abs(Number(o.offsetNs - EPOCH_NS))).toBeLessThanOrEqual(o.boundNs);
  });
});
