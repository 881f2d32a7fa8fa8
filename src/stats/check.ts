// Pure evaluation behind `pubsub-mon check`: one verdict per channel and one Nagios-style status.
import { plural } from './plural.js';
import { globMatch } from './glob.js';
import { byteString } from './channel-name.js';
import { channelKey, isKeyspaceChannel, type Snapshot } from './snapshot.js';

export type CheckStatus = 'OK' | 'WARNING' | 'CRITICAL' | 'UNKNOWN';

/** Nagios plugin exit codes, which CI systems and monitoring agents already understand. */
export const EXIT_CODES: Record<CheckStatus, number> = { OK: 0, WARNING: 1, CRITICAL: 2, UNKNOWN: 3 };

export interface CheckTarget {
  name: string;
  kind: 'channel' | 'shard';
  /** NUMSUB / SHARDNUMSUB summed over the right nodes, minus pubsub-mon's own. */
  subscribers: number;
  /** The `--pattern` glob (or contract pattern, as written) that selected this channel; absent for channels named outright. */
  matchedBy?: string;
  /** This channel's own thresholds (a contract entry's); without them the input's --min-subscribers and --warn apply. */
  thresholds?: Thresholds;
  /** Messages per second over the sampling window; undefined when not measured. */
  rate?: number;
  /**
   * Some node that may hold its subscribers could not be read (any node for a classic channel, a
   * node of the owning shard for a shard channel). Absent: decided by `unreachableNodes` alone.
   */
  incomplete?: boolean;
}

export interface Thresholds {
  /** Fewer subscribers is CRITICAL. */
  min: number;
  /** Fewer subscribers, but at least `min`, is WARNING. */
  warn?: number;
  /** Fewer messages per second is CRITICAL. */
  minRate?: number;
}

export interface CheckInput {
  targets: CheckTarget[];
  /** Fewer subscribers than this is CRITICAL (`--min`). */
  minSubscribers: number;
  /** Fewer subscribers than this, but at least `minSubscribers`, is WARNING (`--warn`). */
  warnBelow?: number;
  /** NUMPAT summed over nodes, minus pubsub-mon's own; 0 = none. */
  patternSubscriptions: number;
  /** True when NUMPAT could not be read on every node, so `patternSubscriptions` may be short. */
  patternsUnknown?: boolean;
  /** True when some node refused CLIENT LIST: its patterns came from NUMPAT, other pubsub-mon processes' included. */
  patternsEstimated?: boolean;
  /** `--pattern` globs that matched no current channel. */
  unmatchedPatterns: string[];
  /** The status a glob that matched nothing gets: every subscriber gone is the outage check exists for. @default 'CRITICAL' */
  unmatchedStatus?: CheckStatus;
  /** Nodes that could not be read: counts are then only lower bounds. */
  unreachableNodes?: string[];
  /** Nodes the cluster marked failed whose slots a replica took over: named, but the counts are complete without them. */
  replacedNodes?: string[];
}

export interface ChannelVerdict {
  name: string;
  kind: 'channel' | 'shard';
  subscribers: number;
  status: CheckStatus;
  reason: string;
  matchedBy?: string;
  /** The thresholds this channel was judged by. */
  thresholds: Thresholds;
  /** True when the thresholds are the channel's own (a contract's), not the command line's. */
  ownThresholds: boolean;
  rate?: number;
}

export interface CheckResult {
  status: CheckStatus;
  verdicts: ChannelVerdict[];
  /** One line, starting with the status: `CRITICAL - 1 of 3 channels below 1 subscriber: orders (0)`. */
  summary: string;
  notes: string[];
  /** The thresholds, echoed for renderers (Nagios perfdata, JSON). */
  minSubscribers: number;
  warnBelow?: number;
  patternSubscriptions: number;
  patternsUnknown: boolean;
}

/**
 * Severity used to pick the overall status: CRITICAL > UNKNOWN > WARNING > OK. This is the order
 * Icinga and most Nagios aggregators rank service states in: "could not tell" must outrank "looks
 * a bit thin" (a CI gate must not pass on a warning when part of the answer is missing), but
 * never hide a channel that is known to have no listener.
 */
const SEVERITY: Record<CheckStatus, number> = { OK: 0, WARNING: 1, UNKNOWN: 2, CRITICAL: 3 };

export function worstStatus(statuses: Iterable<CheckStatus>): CheckStatus {
  let worst: CheckStatus = 'OK';
  for (const s of statuses) if (SEVERITY[s] > SEVERITY[worst]) worst = s;
  return worst;
}

/** A channel and a shard channel may share a name: only the latter is marked. */
function describe(v: ChannelVerdict): string {
  const shard = v.kind === 'shard' ? 'shard, ' : '';
  if (!v.ownThresholds) return `${v.name} (${shard}${v.subscribers})`;
  // A contract's thresholds differ per channel: each is said beside the count it applies to.
  const th = v.thresholds;
  const short = v.subscribers < th.min || (th.warn !== undefined && v.subscribers < th.warn);
  if (!short && th.minRate !== undefined && v.rate !== undefined && v.rate < th.minRate) return `${v.name} (${shard}${perSecond(v.rate)}, min ${perSecond(th.minRate)})`;
  return `${v.name} (${shard}${v.subscribers}, min ${th.min}${th.warn !== undefined ? `, warn ${th.warn}` : ''})`;
}

function thresholdsOf(t: CheckTarget, input: CheckInput): Thresholds {
  return t.thresholds ?? { min: input.minSubscribers, ...(input.warnBelow !== undefined ? { warn: input.warnBelow } : {}) };
}

type Judgement = Pick<ChannelVerdict, 'status' | 'reason'>;

function subscriberJudgement(t: CheckTarget, th: Thresholds, input: CheckInput): Judgement {
  const min = th.min;
  const below = `below ${plural(min, 'subscriber')}`;
  const unreachable = input.unreachableNodes ?? [];
  const incomplete = t.incomplete ?? unreachable.length > 0;
  // A count short of a threshold may be the down node's subscribers missing: that cannot be decided.
  if (incomplete && (t.subscribers < min || (th.warn !== undefined && t.subscribers < th.warn))) {
    return {
      status: 'UNKNOWN',
      reason: `only ${plural(t.subscribers, 'subscriber')} counted; ${t.kind === 'shard' && t.incomplete !== undefined ? 'a node of its shard' : plural(unreachable.length, 'node')} could not be read, whose subscribers are not counted`,
    };
  }
  if (t.subscribers < min) {
    // NUMSUB ignores PSUBSCRIBE clients, so a classic channel at 0 may still be heard; shard
    // channels cannot be (SPUBLISH never reaches pattern subscribers), so they stay CRITICAL.
    if (t.kind === 'channel' && input.patternSubscriptions > 0) {
      return {
        status: 'WARNING',
        reason:
          `${below}, but ${plural(input.patternSubscriptions, 'pattern subscription')} ` +
          `${input.patternSubscriptions === 1 ? 'exists' : 'exist'} on the server and may still deliver to it`,
      };
    }
    if (t.kind === 'channel' && input.patternsUnknown === true) {
      return { status: 'UNKNOWN', reason: `${below}; pattern subscriptions could not be read on every node and may still deliver to it` };
    }
    const shardNote = t.kind === 'shard' && input.patternSubscriptions > 0 ? ' (pattern subscriptions never receive shard channels)' : '';
    return { status: 'CRITICAL', reason: below + shardNote };
  }
  if (th.warn !== undefined && t.subscribers < th.warn) {
    return { status: 'WARNING', reason: `below the warning threshold of ${plural(th.warn, 'subscriber')}` };
  }
  return { status: 'OK', reason: `at least ${plural(Math.max(min, th.warn ?? 0), 'subscriber')}` };
}

/** Messages per second as a person reads it: three significant digits at most. */
function perSecond(rate: number): string {
  return `${Number(rate.toPrecision(3))}/s`;
}

function rateJudgement(t: CheckTarget, minRate: number): Judgement {
  if (t.rate === undefined) return { status: 'UNKNOWN', reason: `its message rate was not measured (min_rate ${perSecond(minRate)} needs rate sampling)` };
  if (t.rate < minRate) return { status: 'CRITICAL', reason: `${perSecond(t.rate)} messages, below the minimum of ${perSecond(minRate)}` };
  return { status: 'OK', reason: `${perSecond(t.rate)} messages` };
}

function verdictFor(t: CheckTarget, input: CheckInput): ChannelVerdict {
  const thresholds = thresholdsOf(t, input);
  let judged = subscriberJudgement(t, thresholds, input);
  if (thresholds.minRate !== undefined) {
    const traffic = rateJudgement(t, thresholds.minRate);
    if (SEVERITY[traffic.status] > SEVERITY[judged.status]) judged = judged.status === 'OK' ? traffic : { status: traffic.status, reason: `${traffic.reason}; ${judged.reason}` };
    else if (traffic.status !== 'OK') judged = { status: judged.status, reason: `${judged.reason}; ${traffic.reason}` };
  }
  return {
    name: t.name,
    kind: t.kind,
    subscribers: t.subscribers,
    ...(t.matchedBy !== undefined ? { matchedBy: t.matchedBy } : {}),
    ...judged,
    thresholds,
    ownThresholds: t.thresholds !== undefined,
    ...(t.rate !== undefined ? { rate: t.rate } : {}),
  };
}

/** The same channel named twice (outright and through a pattern) is judged once. */
function uniqueTargets(targets: CheckTarget[]): CheckTarget[] {
  const seen = new Set<string>();
  return targets.filter((t) => {
    const key = channelKey(t);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Channels named per group in the one-line summary; the rest are counted. Monitoring systems keep
 * the first line of a plugin's output (Nagios: at most 8 KB) and the per-channel verdicts carry them all.
 */
const SUMMARY_NAMES = 10;

function summaryParts(verdicts: ChannelVerdict[], input: CheckInput): string[] {
  const total = verdicts.length;
  const min = input.minSubscribers;
  let first = true;
  const group = (pick: (v: ChannelVerdict) => boolean, label: string): string | undefined => {
    const hit = verdicts.filter(pick);
    if (hit.length === 0) return undefined;
    // Only the first group says what the count is out of; repeating it makes the line hard to read.
    const count = first ? `${hit.length} of ${plural(total, 'channel')}` : String(hit.length);
    first = false;
    const named = hit.slice(0, SUMMARY_NAMES).map(describe).join(', ');
    return `${count} ${label}: ${named}${hit.length > SUMMARY_NAMES ? ` and ${hit.length - SUMMARY_NAMES} more` : ''}`;
  };
  if (verdicts.some((v) => v.ownThresholds)) return contractSummaryParts(verdicts, input, group);
  const below = `below ${plural(min, 'subscriber')}`;
  const parts = [
    group((v) => v.status === 'CRITICAL', below),
    group((v) => v.status === 'UNKNOWN', 'undecided (see notes)'),
    group((v) => v.status === 'WARNING' && v.subscribers < min, `${below} but pattern subscriptions may deliver`),
    group(
      (v) => v.status === 'WARNING' && v.subscribers >= min,
      `below the warning threshold of ${plural(input.warnBelow ?? 0, 'subscriber')}`,
    ),
  ].filter((p): p is string => p !== undefined);
  for (const pattern of input.unmatchedPatterns) parts.push(`pattern '${pattern}' matched no channel`);
  if (total === 0) parts.push('no channel checked');
  if (parts.length === 0) {
    const floor = Math.max(min, input.warnBelow ?? 0);
    parts.push(`${plural(total, 'channel')} ${total === 1 ? 'has' : 'have'} at least ${plural(floor, 'subscriber')}`);
  }
  return parts;
}

/** The summary when channels carry their own (contract) thresholds: grouped by status, each named with its thresholds. */
function contractSummaryParts(
  verdicts: ChannelVerdict[],
  input: CheckInput,
  group: (pick: (v: ChannelVerdict) => boolean, label: string) => string | undefined,
): string[] {
  const parts = [
    group((v) => v.status === 'CRITICAL', 'failing their contract'),
    group((v) => v.status === 'UNKNOWN', 'undecided'),
    group((v) => v.status === 'WARNING', 'in warning'),
  ].filter((p): p is string => p !== undefined);
  for (const pattern of input.unmatchedPatterns) parts.push(`pattern '${pattern}' matched no channel`);
  if (parts.length === 0) parts.push(`${plural(verdicts.length, 'channel')} ${verdicts.length === 1 ? 'meets its' : 'meet their'} contract`);
  return parts;
}

export function evaluateCheck(input: CheckInput): CheckResult {
  const verdicts = uniqueTargets(input.targets).map((t) => verdictFor(t, input));
  const statuses: CheckStatus[] = verdicts.map((v) => v.status);
  const notes: string[] = [];

  for (const pattern of input.unmatchedPatterns) {
    // The channels it would match may have all their subscribers on the node that could not be read.
    statuses.push((input.unreachableNodes ?? []).length > 0 ? 'UNKNOWN' : (input.unmatchedStatus ?? 'CRITICAL'));
    notes.push(`pattern '${pattern}' matched no channel with subscribers`);
  }
  if (verdicts.length === 0 && input.unmatchedPatterns.length === 0) {
    statuses.push('UNKNOWN');
    notes.push('nothing was checked: no channel was given and no pattern matched a channel');
  }
  if (input.patternSubscriptions > 0) {
    notes.push(
      `${plural(input.patternSubscriptions, 'pattern subscription')} on the server: ` +
        'subscriber counts leave out PSUBSCRIBE clients, which hear classic channels but never shard channels',
    );
  }
  for (const node of input.unreachableNodes ?? []) notes.push(`node ${node} could not be read: counts leave out its subscribers`);
  for (const node of input.replacedNodes ?? []) notes.push(`node ${node} is marked failed by the cluster and a replica took over its slots: not counted`);
  if (input.patternsEstimated === true) {
    notes.push('pattern subscriptions counted with NUMPAT where CLIENT LIST was refused: other pubsub-mon processes\' patterns may be among them');
  }
  if (input.patternsUnknown === true) {
    notes.push('pattern subscriptions (PUBSUB NUMPAT) could not be read on every node');
  }

  const status = worstStatus(statuses);
  return {
    status,
    verdicts,
    summary: `${status} - ${summaryParts(verdicts, input).join('; ')}`,
    notes,
    minSubscribers: input.minSubscribers,
    ...(input.warnBelow !== undefined ? { warnBelow: input.warnBelow } : {}),
    patternSubscriptions: input.patternSubscriptions,
    patternsUnknown: input.patternsUnknown === true,
  };
}

/**
 * Whether a node that may hold the channel's subscribers could not be read: any node for a classic
 * channel (PUBLISH reaches them all); on a cluster, for a shard channel whose owner is known, only
 * the nodes of that shard, so an outage elsewhere cannot hide a shard channel nobody subscribes to.
 */
export function countIncomplete(s: Snapshot, kind: 'channel' | 'shard', shard: string | undefined): boolean {
  const down = s.nodes.filter((n) => !n.up && !n.replaced);
  if (kind === 'shard' && s.mode === 'cluster' && shard !== undefined) return down.some((n) => n.shard === undefined || n.shard === shard);
  return down.length > 0;
}

/** What a snapshot tells every check beyond the channel counts: patterns that may deliver, and nodes that could not be read. */
export function snapshotFacts(s: Snapshot): Pick<CheckInput, 'patternSubscriptions' | 'patternsUnknown' | 'patternsEstimated' | 'unreachableNodes' | 'replacedNodes'> {
  const down = s.nodes.filter((n) => !n.up && !n.replaced);
  return {
    patternSubscriptions: s.nodes.reduce((sum, n) => sum + (n.numpat ?? 0), 0),
    patternsUnknown: down.length > 0,
    patternsEstimated: s.nodes.some((n) => n.numpatEstimated === true),
    unreachableNodes: down.map((n) => `${n.address} (${n.error ?? 'down'})`),
    replacedNodes: s.nodes.filter((n) => n.replaced).map((n) => n.address),
  };
}

/**
 * The channels to judge: named ones (0 when absent) and every current channel a --pattern matches.
 * A channel named outright is judged whatever it is; a glob picks keyspace-notification channels
 * only when it asks for them (it starts with `__key`).
 */
export function selectTargets(s: Snapshot, channels: string[], shardChannels: string[], patterns: string[]): { targets: CheckTarget[]; unmatched: string[] } {
  const targets: CheckTarget[] = [];
  const rows = new Map(s.channels.map((r) => [channelKey(r), r]));
  const named = (name: string, kind: 'channel' | 'shard'): CheckTarget => {
    const row = rows.get(channelKey({ name, kind }));
    return { name, kind, subscribers: row?.subscribers ?? 0, incomplete: countIncomplete(s, kind, row?.shard) };
  };
  for (const name of channels) targets.push(named(name, 'channel'));
  for (const name of shardChannels) targets.push(named(name, 'shard'));
  const taken = new Set(targets.map(channelKey));
  const unmatched: string[] = [];
  for (const glob of patterns) {
    const keyspace = glob.startsWith('__key');
    // Redis globs match bytes (`?` is one byte), so names and glob are compared byte by byte.
    const bytes = byteString(glob);
    const hits = s.channels.filter((r) => globMatch(bytes, byteString(r.name)) && (keyspace || !isKeyspaceChannel(r.name)));
    if (hits.length === 0) unmatched.push(glob);
    for (const r of hits) {
      const key = channelKey(r);
      if (taken.has(key)) continue;
      taken.add(key);
      targets.push({ name: r.name, kind: r.kind, subscribers: r.subscribers, matchedBy: glob, incomplete: countIncomplete(s, r.kind, r.shard) });
    }
  }
  return { targets, unmatched };
}
