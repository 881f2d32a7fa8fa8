// A traffic profile: the channels of a live system with their rates, fan-out and payload sizes, as recorded by watch --record (or written by hand) and replayed by bench --profile.
import { byteString, nameFromArgument } from './channel-name.js';
import { globMatch } from './glob.js';
import { PayloadSizes } from './payload-sizes.js';
import type { MixKind, SizeClass, TrafficMix } from './traffic-mix.js';

/** The format version this pubsub-mon reads and writes (`"pubsub_mon_profile": 1`). */
export const PROFILE_VERSION = 1;

/** The most channels one profile holds: a replay opens a subscriber set per channel, and a recording keeps the busiest. */
export const MAX_PROFILE_CHANNELS = 10_000;

/** Size classes a group may have; the recorder's log-spaced buckets give at most 31. */
const MAX_SIZE_CLASSES = 64;

/** Redis refuses a payload larger than 512 MiB (proto-max-bulk-len). */
const MAX_PAYLOAD_BYTES = 512 * 1024 * 1024;

/**
 * The smallest payload a replay sends: every bench payload starts with a 24-byte header (sequence
 * number and send time, bench/payload-header.ts HEADER_BYTES), so smaller sizes are sent as 24.
 */
export const MIN_REPLAY_BYTES = 24;

export interface ProfileChannel {
  /** In pubsub-mon's byte-keeping string form (channel-name.ts); the file holds it as pubsub-mon shows names (`\xNN`). */
  name: string;
  /** Messages per second, > 0. */
  rate: number;
  /** Subscriber connections (SUBSCRIBE or SSUBSCRIBE) the channel had: its fan-out. */
  subscribers: number;
}

export interface ProfileGroup {
  /** The report's label for these channels: a `--record-group` glob, or the channel's own name. Unique in a profile. */
  name: string;
  /** The glob the recorder grouped the channels by, as typed; absent for a group of one channel. Not used by a replay. */
  match?: string;
  kind: MixKind;
  channels: ProfileChannel[];
  /** The payload sizes of the group's messages, at least one class. */
  sizes: SizeClass[];
}

export interface Profile {
  /** When the recording window started (ISO 8601); absent in a hand-written file. */
  recordedAt?: string;
  /** How long the window lasted, in seconds. */
  windowS?: number;
  /** What was recorded: `host:port (standalone|cluster)`. */
  source?: string;
  /** Pattern subscriptions (PSUBSCRIBE) of other clients seen while recording: not replayed, said for the reader. */
  patternSubscriptions?: number;
  groups: ProfileGroup[];
}

export type ProfileParse = { ok: true; profile: Profile } | { ok: false; problem: string };

/** Thrown inside the parser only; parseProfile turns it into `{ ok: false }`. */
class Problem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

const TOP_KEYS = ['pubsub_mon_profile', 'recorded_at', 'window_s', 'source', 'pattern_subscriptions', 'groups'] as const;
const GROUP_KEYS = ['name', 'match', 'kind', 'channels', 'sizes'] as const;
const CHANNEL_KEYS = ['name', 'rate', 'subscribers'] as const;
const SIZE_KEYS = ['bytes', 'weight'] as const;

/** A UTF-16 surrogate without its partner: JSON can write one (`"\udcff"`), but it names no character. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A value quoted in a problem, short and raw: the line is escaped once, where it is printed. */
function got(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return `"${value.length > 40 ? `${value.slice(0, 40)}…` : value}"`;
  return String(value);
}

type JsonObject = Record<string, unknown>;

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function objectAt(v: unknown, path: string, what: string, keys: readonly string[]): JsonObject {
  if (!isObject(v)) throw new Problem(path, `must be ${what}, got ${got(v)}`);
  for (const key of Object.keys(v)) {
    if (!keys.includes(key)) throw new Problem(path, `unknown key "${key}" (${what} takes ${keys.join(', ')})`);
  }
  return v;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

function positive(v: unknown, path: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new Problem(path, `must be a positive number, got ${got(v)}`);
  return v;
}

function wholeNumber(v: unknown, path: string, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    throw new Problem(path, `must be a whole number from 0${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}, got ${got(v)}`);
  }
  return v;
}

/** A channel or group name as pubsub-mon shows names (`\xNN` a byte, `\\` a backslash), in its byte-keeping form. */
function shownName(v: unknown, path: string): string {
  if (typeof v !== 'string' || v === '') throw new Problem(path, `must be a non-empty name, got ${v === '' ? 'an empty string' : got(v)}`);
  if (LONE_SURROGATE.test(v)) throw new Problem(path, 'holds a lone surrogate (\\udXXX): write a byte that is not UTF-8 as \\\\xNN');
  return nameFromArgument(v);
}

/** A list that must hold something; `one` and `many` name its items, `example` shows one for a missing list. */
function listAt(v: unknown, path: string, one: string, many: string, example: string): unknown[] {
  if (v === undefined) throw new Problem(path, `is missing: a list of ${many} is needed (${example})`);
  if (!Array.isArray(v)) throw new Problem(path, `must be a list of ${many}, got ${got(v)}`);
  if (v.length === 0) throw new Problem(path, `is empty: at least one ${one} is needed`);
  return v;
}

function sizesOf(v: unknown, path: string): SizeClass[] {
  const list = listAt(v, path, 'size class', 'size classes', '[{"bytes": 128, "weight": 1}]');
  if (list.length > MAX_SIZE_CLASSES) throw new Problem(path, `has ${list.length} size classes, at most ${MAX_SIZE_CLASSES} are allowed`);
  return list.map((item, i) => {
    const at = `${path}[${i}]`;
    const o = objectAt(item, at, 'a size class', SIZE_KEYS);
    if (o.bytes === undefined) throw new Problem(join(at, 'bytes'), 'is missing: the payload size in bytes');
    if (o.weight === undefined) throw new Problem(join(at, 'weight'), 'is missing: how often this size is drawn, relative to the others');
    return { bytes: wholeNumber(o.bytes, join(at, 'bytes'), MAX_PAYLOAD_BYTES), weight: positive(o.weight, join(at, 'weight')) };
  });
}

function profileOf(root: unknown): Profile {
  if (!isObject(root)) throw new Problem('', `a profile is a JSON object with pubsub_mon_profile and groups, got ${got(root)}`);
  if (!('pubsub_mon_profile' in root)) throw new Problem('', 'not a pubsub-mon traffic profile: pubsub_mon_profile is missing');
  if (root.pubsub_mon_profile !== PROFILE_VERSION) throw new Problem('pubsub_mon_profile', `this pubsub-mon reads version ${PROFILE_VERSION}, got ${got(root.pubsub_mon_profile)}`);
  objectAt(root, '', 'a profile', TOP_KEYS);
  const profile: Profile = { groups: [] };
  if (root.recorded_at !== undefined) {
    if (typeof root.recorded_at !== 'string' || Number.isNaN(Date.parse(root.recorded_at))) throw new Problem('recorded_at', `must be a date and time (ISO 8601), got ${got(root.recorded_at)}`);
    profile.recordedAt = root.recorded_at;
  }
  if (root.window_s !== undefined) profile.windowS = positive(root.window_s, 'window_s');
  if (root.source !== undefined) {
    if (typeof root.source !== 'string') throw new Problem('source', `must be text, got ${got(root.source)}`);
    profile.source = root.source;
  }
  if (root.pattern_subscriptions !== undefined) profile.patternSubscriptions = wholeNumber(root.pattern_subscriptions, 'pattern_subscriptions');
  const groups = listAt(root.groups, 'groups', 'group', 'groups', '[{"name": ..., "channels": [...], "sizes": [...]}]');
  const groupNames = new Map<string, string>();
  const channelsSeen = new Map<string, string>();
  let total = 0;
  groups.forEach((item, g) => {
    const at = `groups[${g}]`;
    const o = objectAt(item, at, 'a group', GROUP_KEYS);
    const name = shownName(o.name, join(at, 'name'));
    const earlier = groupNames.get(name);
    if (earlier !== undefined) throw new Problem(join(at, 'name'), `${got(o.name)} is already the name of ${earlier}: group names are unique`);
    groupNames.set(name, at);
    const kind = o.kind ?? 'channel';
    if (kind !== 'channel' && kind !== 'shard') throw new Problem(join(at, 'kind'), `must be "channel" or "shard", got ${got(o.kind)}`);
    const group: ProfileGroup = { name, kind, channels: [], sizes: [] };
    if (o.match !== undefined) {
      if (typeof o.match !== 'string' || o.match === '') throw new Problem(join(at, 'match'), `must be a non-empty glob, got ${got(o.match)}`);
      group.match = o.match;
    }
    listAt(o.channels, join(at, 'channels'), 'channel', 'channels', '[{"name": "orders", "rate": 10, "subscribers": 2}]').forEach((c, i) => {
      const cat = `${at}.channels[${i}]`;
      if (++total > MAX_PROFILE_CHANNELS) throw new Problem(cat, `is one channel too many: a profile holds at most ${MAX_PROFILE_CHANNELS}`);
      const co = objectAt(c, cat, 'a channel', CHANNEL_KEYS);
      const channel = shownName(co.name, join(cat, 'name'));
      const key = `${kind}\u0000${channel}`;
      const first = channelsSeen.get(key);
      if (first !== undefined) throw new Problem(join(cat, 'name'), `${got(co.name)} (${kind}) already appears at ${first}`);
      channelsSeen.set(key, cat);
      if (co.rate === undefined) throw new Problem(join(cat, 'rate'), 'is missing: messages per second');
      if (co.subscribers === undefined) throw new Problem(join(cat, 'subscribers'), 'is missing: how many connections subscribe to it');
      group.channels.push({ name: channel, rate: positive(co.rate, join(cat, 'rate')), subscribers: wholeNumber(co.subscribers, join(cat, 'subscribers')) });
    });
    group.sizes = sizesOf(o.sizes, join(at, 'sizes'));
    profile.groups.push(group);
  });
  return profile;
}

/**
 * Parses a profile file's text. Every problem is one line, `FILE: PATH: what is wrong` (the path
 * in JSON terms, `groups[2].channels[0].rate`), so a typo is refused rather than replayed as
 * something else. A result rather than a throw, as parseContract: stats/ knows no error classes.
 */
export function parseProfile(text: string, file: string): ProfileParse {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `${file}: not valid JSON: ${(err as Error).message.split('\n')[0] ?? ''}` };
  }
  try {
    return { ok: true, profile: profileOf(root) };
  } catch (err) {
    if (!(err instanceof Problem)) throw err;
    return { ok: false, problem: err.path === '' ? `${file}: ${err.message}` : `${file}: ${err.path}: ${err.message}` };
  }
}

export interface MixOptions {
  /** Rates are multiplied by this (> 0). */
  scale: number;
  /** Put before every channel name, so the replay publishes to renamed copies; none replays the recorded names themselves. */
  prefix?: string;
}

/** Sizes as a replay sends them: at least the bench header, equal sizes merged, smallest first. */
function replaySizes(sizes: readonly SizeClass[]): SizeClass[] {
  const merged = new Map<number, number>();
  for (const s of sizes) {
    const bytes = Math.max(MIN_REPLAY_BYTES, s.bytes);
    merged.set(bytes, (merged.get(bytes) ?? 0) + s.weight);
  }
  return [...merged].sort(([a], [b]) => a - b).map(([bytes, weight]) => ({ bytes, weight }));
}

/** The traffic a replay of `profile` makes: every channel with its group's sizes, rates times `scale`, names prefixed when asked. */
export function profileToMix(profile: Profile, options: MixOptions): TrafficMix {
  if (!(options.scale > 0) || !Number.isFinite(options.scale)) throw new RangeError(`scale must be a positive number, got ${options.scale}`);
  const prefix = options.prefix ?? '';
  return {
    channels: profile.groups.flatMap((g) => {
      const sizes = replaySizes(g.sizes);
      return g.channels.map((c) => ({
        name: prefix + c.name,
        kind: g.kind,
        rate: c.rate * options.scale,
        subscribers: c.subscribers,
        // One array per group, shared: the publisher builds a group's payload templates once.
        sizes,
        group: g.name,
      }));
    }),
  };
}

/** What the recorder saw of one channel over the window. */
export interface ChannelObservation {
  name: string;
  kind: MixKind;
  /** Messages heard while the channel's sampling subscription was held. */
  messages: number;
  /** How long that was, in ms. */
  sampledMs: number;
  /** Subscribers (pubsub-mon's own left out), the most seen at once in the window. */
  subscribers: number;
  sizes: PayloadSizes;
}

/** A `--record-group` glob: channels matching it are one group, named by it. */
export interface RecordGroup {
  /** As typed, for the file. */
  written: string;
  /** The glob in the byte-keeping form (globFromArgument), for matching. */
  glob: string;
}

export interface ProfileRecording {
  channels: Iterable<ChannelObservation>;
  /** Globs grouping channels, the first that matches wins; other channels are a group each. */
  groups?: readonly RecordGroup[];
  /** When the window started and how long it lasted, in ms. */
  startedAt: number;
  windowMs: number;
  source: string;
  patternSubscriptions?: number;
}

export interface BuiltProfile {
  profile: Profile;
  /** Channels seen without a message in the window (or never sampled): nothing to replay, left out. */
  quiet: number;
  /** Busy channels left out beyond MAX_PROFILE_CHANNELS (the quietest). */
  overCap: number;
}

/** `n` with `digits` significant digits: enough for a rate or a weight, short in the file, never rounded to 0. */
function significant(n: number, digits: number): number {
  return Number(n.toPrecision(digits));
}

/**
 * Assembles a profile from what was recorded: rates are messages over the time each channel was
 * sampled; channels matching a group glob share one group (and one size distribution), the others
 * are a group each; groups come busiest first. A glob group and a channel group may hold both
 * kinds of channel: the second of a name then gets its kind added (`orders (shard)`).
 */
export function buildProfile(r: ProfileRecording): BuiltProfile {
  let quiet = 0;
  const busy: Array<ChannelObservation & { rate: number }> = [];
  for (const c of r.channels) {
    if (c.messages > 0 && c.sampledMs > 0) busy.push({ ...c, rate: (c.messages * 1000) / c.sampledMs });
    else quiet++;
  }
  busy.sort((a, b) => b.rate - a.rate || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const kept = busy.slice(0, MAX_PROFILE_CHANNELS);
  const globs = (r.groups ?? []).map((g) => ({ ...g, bytes: byteString(g.glob) }));
  const groups = new Map<string, { name: string; match?: string; kind: MixKind; members: typeof kept }>();
  for (const c of kept) {
    const bytes = byteString(c.name);
    const glob = globs.findIndex((g) => globMatch(g.bytes, bytes));
    const key = glob >= 0 ? `${c.kind}\u0000g${glob}` : `${c.kind}\u0000c${c.name}`;
    let group = groups.get(key);
    if (!group) {
      const g = globs[glob];
      group = g ? { name: nameFromArgument(g.written), match: g.written, kind: c.kind, members: [] } : { name: c.name, kind: c.kind, members: [] };
      groups.set(key, group);
    }
    group.members.push(c);
  }
  const total = (g: { members: typeof kept }) => g.members.reduce((sum, c) => sum + c.rate, 0);
  const ordered = [...groups.values()].sort((a, b) => total(b) - total(a) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const taken = new Set<string>();
  const out: ProfileGroup[] = ordered.map((g) => {
    let name = g.name;
    for (let n = 1; taken.has(name); n++) name = `${g.name} (${g.kind}${n > 1 ? ` ${n}` : ''})`;
    taken.add(name);
    const merged = new PayloadSizes();
    for (const c of g.members) merged.merge(c.sizes);
    const classes = merged.classes();
    const count = classes.reduce((sum, c) => sum + c.count, 0);
    return {
      name,
      ...(g.match !== undefined ? { match: g.match } : {}),
      kind: g.kind,
      channels: g.members.map((c) => ({ name: c.name, rate: significant(c.rate, 6), subscribers: c.subscribers })),
      // A channel heard without its sizes (none recorded) still needs a class: its messages were seen, their sizes not.
      sizes: count > 0 ? classes.map((c) => ({ bytes: c.bytes, weight: significant(c.count / count, 4) })) : [{ bytes: MIN_REPLAY_BYTES, weight: 1 }],
    };
  });
  const profile: Profile = {
    recordedAt: new Date(r.startedAt).toISOString(),
    windowS: Math.round(r.windowMs) / 1000,
    source: r.source,
    ...(r.patternSubscriptions !== undefined ? { patternSubscriptions: r.patternSubscriptions } : {}),
    groups: out,
  };
  return { profile, quiet, overCap: busy.length - kept.length };
}
