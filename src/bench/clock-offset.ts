// How far this host's clock is from the control server's, from round trips against TIME: the round
// trip with the least time in flight wins, and half of it is how wrong the estimate can be.
import type { Redis } from 'ioredis';
import { hostNowBigNs } from './clock.js';

/** One round trip: this host's clock when TIME was sent and when its reply came, and the reply in ns. */
export interface TimeSample {
  sentNs: bigint;
  serverNs: bigint;
  receivedNs: bigint;
}

export interface ClockOffset {
  /** Server clock minus this host's clock, ns (BigInt: the server's is epoch time, past 2^53). */
  offsetNs: bigint;
  /** The true offset is within this many ns of `offsetNs`. */
  boundNs: number;
  /** The best round trip, ns. */
  rttNs: number;
}

/** TIME answers in whole microseconds: the true instant is up to 1 µs after what it says. */
const TIME_RESOLUTION_NS = 1000;
/** Round trips per estimate: enough that one of them usually meets neither a busy server nor a GC pause. */
const TIME_ROUNDS = 40;

/**
 * The estimate from the sample with the shortest round trip. The server read its clock somewhere
 * between sending and receiving: taking the midpoint, it is off by at most half the round trip, plus
 * the half microsecond TIME rounds away.
 */
export function bestOffset(samples: readonly TimeSample[]): ClockOffset {
  if (samples.length === 0) throw new RangeError('no TIME samples');
  let best = samples[0]!;
  for (const s of samples) if (s.receivedNs - s.sentNs < best.receivedNs - best.sentNs) best = s;
  const rtt = best.receivedNs - best.sentNs;
  const mid = best.sentNs + rtt / 2n;
  const serverMid = best.serverNs + BigInt(TIME_RESOLUTION_NS / 2);
  // The midpoint is rounded down: the bound takes the larger half of an odd round trip.
  return { offsetNs: serverMid - mid, boundNs: Number(rtt - rtt / 2n) + TIME_RESOLUTION_NS / 2, rttNs: Number(rtt) };
}

/** TIME's reply ([seconds, microseconds]) in ns. */
export function timeReplyNs(reply: readonly (string | number)[]): bigint {
  return BigInt(reply[0]!) * 1_000_000_000n + BigInt(reply[1]!) * 1000n;
}

/** Estimates this host's offset from `server`'s clock, one round trip after another. */
export async function measureOffset(server: Redis, rounds = TIME_ROUNDS): Promise<ClockOffset> {
  const samples: TimeSample[] = [];
  for (let i = 0; i < rounds; i++) {
    const sentNs = hostNowBigNs();
    const reply = (await server.time()) as (string | number)[];
    const receivedNs = hostNowBigNs();
    samples.push({ sentNs, serverNs: timeReplyNs(reply), receivedNs });
  }
  return bestOffset(samples);
}

/**
 * The shift that moves a host onto the coordinator's clock (coordinator = host + shift), and how far
 * it can be wrong: the two estimates' bounds add up.
 */
export function shiftBetween(host: ClockOffset, coordinator: ClockOffset): { shiftNs: number; boundNs: number } {
  return { shiftNs: Number(host.offsetNs - coordinator.offsetNs), boundNs: host.boundNs + coordinator.boundNs };
}
