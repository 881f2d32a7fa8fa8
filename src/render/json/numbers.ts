// How the JSON documents write numbers and names: unknown is null (never 0), rates keep two decimals, names keep their bytes.
import { encodeName, hasRawBytes } from '../../stats/channel-name.js';

/**
 * Unknown numbers become an explicit null rather than a missing key, so a consumer can tell "the
 * server did not say" (null) from "does not apply here" (key absent) — and neither reads as 0.
 */
export function known(n: number | undefined): number | null {
  return n !== undefined && Number.isFinite(n) ? n : null;
}

/** Rates (and means) carry more digits than the measurement supports: two decimals are plenty. */
export function round2(n: number): number {
  return Math.round(n * 100) / 100;
}

/** A rate or mean that may be unknown: null, or two decimals. */
export function knownRound2(n: number | undefined): number | null {
  const v = known(n);
  return v === null ? null : round2(v);
}

/** A channel name in a JSON document: `name_encoding` is present, and "base64", only for names that are not UTF-8. */
export interface NameJson {
  name: string;
  name_encoding?: 'base64';
}

/** A channel name as JSON: its text when it is valid UTF-8, else its bytes in base64, said by `name_encoding` (as tail does for payloads). */
export function jsonName(name: string): NameJson {
  return hasRawBytes(name) ? { name: encodeName(name).toString('base64'), name_encoding: 'base64' } : { name };
}
