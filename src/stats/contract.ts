// The channel contract: a YAML file declaring the channels a system depends on and the subscribers (and traffic) each needs.
import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, parseDocument, type Node as YamlNode, type Scalar } from 'yaml';
import { byteString, globFromArgument, nameFromArgument } from './channel-name.js';
import { globMatch } from './glob.js';
import { channelKey, isKeyspaceChannel, type ChannelRow, type Snapshot } from './snapshot.js';
import { countIncomplete, evaluateCheck, snapshotFacts, worstStatus, type ChannelVerdict, type CheckStatus, type CheckTarget, type Thresholds } from './check.js';

export interface ContractEntry {
  /** A channel name (bytes kept as in channel-name.ts), when the entry names one channel. */
  name?: string;
  /** A Redis glob, when the entry covers every current channel matching it. */
  pattern?: string;
  /** The name or pattern as written in the file, for messages and labels. */
  written: string;
  kind: 'channel' | 'shard';
  /** Fewer subscribers is CRITICAL. @default 1 */
  minSubscribers: number;
  /** Fewer subscribers (but at least minSubscribers) is WARNING. */
  warnSubscribers?: number;
  /** Fewer messages per second is CRITICAL; needs rate sampling. */
  minRate?: number;
  description?: string;
  /** Line of the entry in the file (1-based). */
  line: number;
}

export interface Contract {
  file: string;
  entries: ContractEntry[];
}

export type ContractParse = { ok: true; contract: Contract } | { ok: false; problem: string };

/** The subscribers an entry needs when the file does not say: as `check --min-subscribers`. */
const DEFAULT_CONTRACT_MIN_SUBSCRIBERS = 1;

const ENTRY_KEYS = ['name', 'pattern', 'kind', 'min_subscribers', 'warn_subscribers', 'min_rate', 'description'] as const;

/** Thrown inside the parser only; parseContract turns it into `{ ok: false }`. */
class Problem extends Error {
  constructor(
    readonly at: YamlNode | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** A value quoted in a problem, raw: the line is escaped once, where it is printed. */
function shown(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value);
}

/** A name or pattern: a string, or a plain scalar's source text (so `name: 0123` is the channel "0123", not 123). */
function textOf(node: YamlNode | undefined, key: string, source: string): string {
  if (node === undefined || (isScalar(node) && (node.value === null || node.value === undefined))) throw new Problem(node, `${key} must be a channel name, got nothing`);
  if (!isScalar(node)) throw new Problem(node, `${key} must be a channel name, got a list or map`);
  // In double quotes YAML reads \xff as the character U+00FF, not the byte: a different channel, silently.
  if (node.type === 'QUOTE_DOUBLE' && node.range && source.slice(node.range[0], node.range[1]).includes('\\')) {
    throw new Problem(node, `${key} in double quotes has a backslash, which YAML reads itself: write it in single quotes ('f\\xffo'), as pubsub-mon shows names`);
  }
  const text = typeof node.value === 'string' ? node.value : ((node as Scalar & { source?: string }).source ?? String(node.value));
  if (text === '') throw new Problem(node, `${key} is empty`);
  return text;
}

function wholeNumber(node: YamlNode | undefined, key: string): number {
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Problem(node, `${key} must be a whole number, 0 or more, got ${isScalar(node) ? shown(node.value) : 'a list or map'}`);
  return v;
}

function rate(node: YamlNode | undefined, key: string): number {
  const v = isScalar(node) ? node.value : undefined;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new Problem(node, `${key} must be a number of messages per second, 0 or more, got ${isScalar(node) ? shown(node.value) : 'a list or map'}`);
  return v;
}

function entryOf(item: YamlNode, lines: LineCounter, source: string): ContractEntry {
  if (!isMap(item)) throw new Problem(item, 'each entry of channels must be a map with name or pattern');
  const get = (key: string): YamlNode | undefined => item.get(key, true) as YamlNode | undefined;
  for (const pair of item.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : '?';
    if (!(ENTRY_KEYS as readonly string[]).includes(key)) {
      throw new Problem(pair.key as YamlNode, `unknown key ${shown(key)} (an entry takes ${ENTRY_KEYS.join(', ')})`);
    }
  }
  const hasName = item.has('name');
  const hasPattern = item.has('pattern');
  if (hasName === hasPattern) throw new Problem(item, hasName ? 'an entry has name or pattern, not both' : 'an entry needs name (one channel) or pattern (a glob)');
  const kindNode = get('kind');
  const kind = kindNode === undefined ? 'channel' : isScalar(kindNode) ? kindNode.value : undefined;
  if (kind !== 'channel' && kind !== 'shard') throw new Problem(kindNode, `kind must be channel or shard, got ${isScalar(kindNode) ? shown(kindNode.value) : 'a list or map'}`);
  const written = hasName ? textOf(get('name'), 'name', source) : textOf(get('pattern'), 'pattern', source);
  const minSubscribers = item.has('min_subscribers') ? wholeNumber(get('min_subscribers'), 'min_subscribers') : DEFAULT_CONTRACT_MIN_SUBSCRIBERS;
  const entry: ContractEntry = {
    ...(hasName ? { name: nameFromArgument(written) } : { pattern: globFromArgument(written) }),
    written,
    kind,
    minSubscribers,
    line: lineOf(item, lines),
  };
  if (item.has('warn_subscribers')) {
    const warn = wholeNumber(get('warn_subscribers'), 'warn_subscribers');
    if (warn < minSubscribers) throw new Problem(get('warn_subscribers'), `warn_subscribers (${warn}) must be at least min_subscribers (${minSubscribers})`);
    entry.warnSubscribers = warn;
  }
  if (item.has('min_rate')) entry.minRate = rate(get('min_rate'), 'min_rate');
  if (item.has('description')) {
    const d = get('description');
    if (!isScalar(d) || typeof d.value !== 'string') throw new Problem(d, 'description must be text');
    entry.description = d.value;
  }
  return entry;
}

function lineOf(node: YamlNode | undefined, lines: LineCounter): number {
  const offset = node?.range?.[0];
  return offset === undefined ? 1 : lines.linePos(offset).line;
}

/**
 * Parses a contract file's text. Every problem is one line, `FILE:LINE: what is wrong`, so that a
 * typo (`min_subscriber`) is refused rather than silently checking nothing.
 */
export function parseContract(text: string, file: string): ContractParse {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (!Array.isArray(docs)) return { ok: false, problem: `${file}:1: not valid YAML` };
  if (docs.length > 1) return { ok: false, problem: `${file}:${lineOf(docs[1]?.contents ?? undefined, lines)}: a contract is one YAML document, this file has ${docs.length}` };
  const doc = docs[0] ?? parseDocument('');
  const syntax = doc.errors[0];
  if (syntax) {
    const line = lines.linePos(syntax.pos[0]).line;
    // yaml's messages end with " at line N, column M" and a code excerpt: the line number is given once, up front.
    const message = (syntax.message.split('\n')[0] ?? syntax.message).replace(/ at line \d+, column \d+:?$/, '');
    return { ok: false, problem: `${file}:${line}: not valid YAML: ${message}` };
  }
  try {
    const root = doc.contents;
    if (!isMap(root)) throw new Problem(root ?? undefined, 'a contract is a map with one key, channels: a list of entries');
    for (const pair of root.items) {
      const key = isScalar(pair.key) ? String(pair.key.value) : '?';
      if (key !== 'channels') throw new Problem(pair.key as YamlNode, `unknown key ${shown(key)} (a contract has one key, channels)`);
    }
    const list = root.get('channels', true) as YamlNode | undefined;
    if (!isSeq(list)) throw new Problem(list ?? root, 'channels must be a list of entries (- name: ...)');
    if (list.items.length === 0) throw new Problem(list, 'channels is empty: declare at least one channel');
    const entries: ContractEntry[] = [];
    const first = new Map<string, number>();
    for (const item of list.items) {
      const entry = entryOf(item as YamlNode, lines, text);
      const key = `${entry.kind}\u0000${entry.name !== undefined ? `n${entry.name}` : `p${entry.pattern ?? ''}`}`;
      const earlier = first.get(key);
      if (earlier !== undefined) throw new Problem(item as YamlNode, `${entry.name !== undefined ? 'name' : 'pattern'} ${shown(entry.written)} (${entry.kind}) is declared twice (first on line ${earlier})`);
      first.set(key, entry.line);
      entries.push(entry);
    }
    return { ok: true, contract: { file, entries } };
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    return { ok: false, problem: `${file}:${lineOf(err.at, lines)}: ${err.message}` };
  }
}

/** True when some entry needs message rates, which only sampling subscriptions measure. */
export function needsRates(contract: Contract): ContractEntry | undefined {
  return contract.entries.find((e) => e.minRate !== undefined);
}

/** What a contract asks of one snapshot: the channels to judge, each with its entry's thresholds. */
export interface ContractTargets {
  targets: CheckTarget[];
  /** Pattern entries (as written) that match no channel though they ask for subscribers. */
  unmatched: string[];
  /** Per pattern entry, the channels it matched (a channel also named outright is judged by its name entry). */
  matches: Map<ContractEntry, number>;
}

function thresholdsOf(e: ContractEntry): Thresholds {
  return {
    min: e.minSubscribers,
    ...(e.warnSubscribers !== undefined ? { warn: e.warnSubscribers } : {}),
    ...(e.minRate !== undefined ? { minRate: e.minRate } : {}),
  };
}

/**
 * Every contract entry against a snapshot: a named channel is judged whether or not any node lists
 * it (absent means 0 subscribers), and each pattern entry judges every current channel of its kind
 * that it matches. Name entries come first, so a channel both named and matched keeps its own terms.
 */
export function contractTargets(s: Snapshot, contract: Contract): ContractTargets {
  const rows = new Map<string, ChannelRow>();
  for (const r of s.channels) rows.set(channelKey(r), r);
  const targets: CheckTarget[] = [];
  const taken = new Set<string>();
  for (const e of contract.entries) {
    if (e.name === undefined) continue;
    const key = channelKey({ name: e.name, kind: e.kind });
    const row = rows.get(key);
    taken.add(key);
    targets.push({
      name: e.name,
      kind: e.kind,
      subscribers: row?.subscribers ?? 0,
      thresholds: thresholdsOf(e),
      incomplete: countIncomplete(s, e.kind, row?.shard),
      ...(row?.rate !== undefined ? { rate: row.rate } : {}),
    });
  }
  const unmatched: string[] = [];
  const matches = new Map<ContractEntry, number>();
  for (const e of contract.entries) {
    if (e.pattern === undefined) continue;
    const glob = byteString(e.pattern);
    // As in check --pattern: keyspace channels only for a glob that asks for them.
    const keyspace = e.pattern.startsWith('__key');
    let n = 0;
    for (const row of s.channels) {
      if (row.kind !== e.kind || (!keyspace && isKeyspaceChannel(row.name)) || !globMatch(glob, byteString(row.name))) continue;
      n++;
      const k = channelKey(row);
      if (taken.has(k)) continue;
      taken.add(k);
      targets.push({
        name: row.name,
        kind: row.kind,
        subscribers: row.subscribers,
        matchedBy: e.written,
        thresholds: thresholdsOf(e),
        incomplete: countIncomplete(s, row.kind, row.shard),
        ...(row.rate !== undefined ? { rate: row.rate } : {}),
      });
    }
    matches.set(e, n);
    if (n === 0 && e.minSubscribers > 0) unmatched.push(e.written);
  }
  return { targets, unmatched, matches };
}

/** How a pattern entry fared: what it matched, and its status (the worst of its channels'). */
export interface PatternOutcome {
  /** As written in the file. */
  pattern: string;
  kind: 'channel' | 'shard';
  matches: number;
  status: CheckStatus;
}

/**
 * Each pattern entry's outcome: a pattern that matches nothing gets `unmatchedStatus` when it asks
 * for subscribers (OK when its minimum is 0); otherwise the worst verdict among the channels it judged.
 */
export function patternOutcomes(targets: ContractTargets, verdicts: readonly ChannelVerdict[], unmatchedStatus: CheckStatus, s: Snapshot): PatternOutcome[] {
  // With a node unread, the channels it would match may all be there: that cannot be decided.
  const unread = s.nodes.some((n) => !n.up && !n.replaced);
  const out: PatternOutcome[] = [];
  for (const [entry, matches] of targets.matches) {
    const pattern = entry.written;
    const mine = verdicts.filter((v) => v.matchedBy === pattern && v.kind === entry.kind).map((v) => v.status);
    const status = matches === 0 ? (entry.minSubscribers === 0 ? 'OK' : unread ? 'UNKNOWN' : unmatchedStatus) : worstStatus(mine);
    out.push({ pattern, kind: entry.kind, matches, status });
  }
  return out;
}

/**
 * The snapshot as watch shows it under a contract: each covered row marked with its status and
 * reason, and one warning line summing up the channels that break it (patterns matching nothing too).
 */
export function applyContract(s: Snapshot, contract: Contract): Snapshot {
  const targets = contractTargets(s, contract);
  const result = evaluateCheck({ targets: targets.targets, minSubscribers: DEFAULT_CONTRACT_MIN_SUBSCRIBERS, ...snapshotFacts(s), unmatchedPatterns: targets.unmatched });
  const verdicts = new Map(result.verdicts.map((v) => [channelKey(v), v]));
  const channels = s.channels.map((row) => {
    const v = verdicts.get(channelKey(row));
    return v ? { ...row, contract: { status: v.status, reason: v.reason } } : row;
  });
  const warnings = result.status === 'OK' ? s.warnings : [`contract ${result.summary}`, ...s.warnings];
  return { ...s, channels, warnings };
}
