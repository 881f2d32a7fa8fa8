// The `check --format json` (or `check --json`) document. This file is the public contract of that output.
import { EXIT_CODES, type CheckResult, type CheckStatus } from '../../stats/check.js';
import { jsonName, type NameJson } from './numbers.js';

/** The `check --format json` document. */
export interface CheckJson {
  status: CheckStatus;
  exit_code: number;
  summary: string;
  min_subscribers: number;
  /** null when `--warn` was not given. */
  warn_below: number | null;
  /** null when NUMPAT could not be read on every node. */
  pattern_subscriptions: number | null;
  /** `name_encoding: "base64"` marks a name that is not UTF-8, given as its bytes in base64. */
  channels: Array<NameJson & {
    kind: 'channel' | 'shard';
    subscribers: number;
    status: CheckStatus;
    reason: string;
    matched_by?: string;
    /** A contract channel's own thresholds (absent for channels judged by --min-subscribers and --warn). */
    contract?: { min_subscribers: number; warn_subscribers?: number; min_rate?: number };
    /** Messages per second, when measured (a contract's min_rate). */
    rate?: number;
  }>;
  notes: string[];
}

/** Builds the JSON document; strings stay raw because JSON escapes control characters itself. */
export function checkToJson(result: CheckResult): CheckJson {
  return {
    status: result.status,
    exit_code: EXIT_CODES[result.status],
    summary: result.summary,
    min_subscribers: result.minSubscribers,
    warn_below: result.warnBelow ?? null,
    pattern_subscriptions: result.patternsUnknown ? null : result.patternSubscriptions,
    channels: result.verdicts.map((v) => ({
      ...jsonName(v.name),
      kind: v.kind,
      subscribers: v.subscribers,
      status: v.status,
      reason: v.reason,
      ...(v.matchedBy !== undefined ? { matched_by: v.matchedBy } : {}),
      ...(v.ownThresholds
        ? {
            contract: {
              min_subscribers: v.thresholds.min,
              ...(v.thresholds.warn !== undefined ? { warn_subscribers: v.thresholds.warn } : {}),
              ...(v.thresholds.minRate !== undefined ? { min_rate: v.thresholds.minRate } : {}),
            },
          }
        : {}),
      ...(v.rate !== undefined ? { rate: v.rate } : {}),
    })),
    notes: [...result.notes],
  };
}

/** The document printed when the check could not run at all (exit 3): the status, and why. */
export interface CheckErrorJson {
  status: 'UNKNOWN';
  exit_code: number;
  summary: string;
  error: string;
  channels: [];
  notes: [];
}

export function checkErrorJson(message: string): CheckErrorJson {
  return { status: 'UNKNOWN', exit_code: EXIT_CODES.UNKNOWN, summary: `UNKNOWN - ${message}`, error: message, channels: [], notes: [] };
}
