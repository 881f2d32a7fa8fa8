// How the JSON documents write numbers: unknown is null (never 0), measured rates keep two decimals.

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
