// Turns the text of an INFO reply into fields, command statistics and the replica list of a primary.

/** One field of commandstats, e.g. `cmdstat_publish`. */
export interface CommandStat {
  calls: number;
  usec: number;
  usecPerCall: number;
  /** Absent before Redis 6.2. */
  rejectedCalls?: number;
  failedCalls?: number;
}

/** Strict decimal: `Number('')` is 0 and `Number('0x1f')` is 31, neither of which the server means. */
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

function parseDecimal(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const trimmed = text.trim();
  if (!DECIMAL.test(trimmed)) return undefined;
  const value = Number(trimmed);
  return Number.isFinite(value) ? value : undefined;
}

/** Splits `a=1,b=2` (the shape of commandstats and replica lines); a value keeps any later '='. */
function parseCommaPairs(text: string): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) continue;
    pairs[part.slice(0, eq)] = part.slice(eq + 1);
  }
  return pairs;
}

/**
 * Every `key:value` line of an INFO reply, whatever its section. Values are split off at the first
 * ':' only, because some of them contain more (`executable:/usr/bin/redis-server`, commandstats).
 */
export function parseInfo(text: string): Record<string, string> {
  const info: Record<string, string> = {};
  for (const rawLine of text.split('\n')) {
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line === '' || line.startsWith('#')) continue;
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    info[line.slice(0, colon)] = line.slice(colon + 1);
  }
  return info;
}

/** A numeric INFO field; undefined when the server does not report it, so "unknown" never reads as 0. */
export function infoNumber(info: Record<string, string>, key: string): number | undefined {
  return parseDecimal(info[key]);
}

/**
 * The `cmdstat_<name>` lines, keyed by command name (`publish`, and since 7.0 `client|list` for
 * subcommands). A line whose numbers cannot be read is left out rather than guessed at.
 */
export function parseCommandStats(info: Record<string, string>): Record<string, CommandStat> {
  const prefix = 'cmdstat_';
  const stats: Record<string, CommandStat> = {};
  for (const [key, value] of Object.entries(info)) {
    if (!key.startsWith(prefix) || key.length === prefix.length) continue;
    const fields = parseCommaPairs(value);
    const calls = parseDecimal(fields['calls']);
    const usec = parseDecimal(fields['usec']);
    const usecPerCall = parseDecimal(fields['usec_per_call']);
    if (calls === undefined || usec === undefined || usecPerCall === undefined) continue;
    const stat: CommandStat = { calls, usec, usecPerCall };
    // Only servers from 6.2 on report these; leaving them out keeps "unknown" distinct from 0.
    const rejectedCalls = parseDecimal(fields['rejected_calls']);
    const failedCalls = parseDecimal(fields['failed_calls']);
    if (rejectedCalls !== undefined) stat.rejectedCalls = rejectedCalls;
    if (failedCalls !== undefined) stat.failedCalls = failedCalls;
    stats[key.slice(prefix.length).toLowerCase()] = stat;
  }
  return stats;
}

/** Calls of one command; 0 when its line is missing, because the server omits commands never called. */
export function commandCalls(stats: Record<string, CommandStat>, name: string): number {
  return stats[name.toLowerCase()]?.calls ?? 0;
}

/** A replica as its primary lists it in INFO replication. */
export interface ReplicaEntry {
  host: string;
  port: number;
  /** `online`, `wait_bgsave`, `send_bulk`...; absent if the line does not say. */
  state?: string;
}

/**
 * The `slaveN:ip=..,port=..,state=..` lines of a primary's INFO replication, in N order. The key must
 * be exactly `slave<digits>`: INFO also has `slave_repl_offset`, `slave_expires_tracked_keys` and others.
 */
export function parseReplicas(info: Record<string, string>): ReplicaEntry[] {
  const indexed: Array<{ index: number; replica: ReplicaEntry }> = [];
  for (const [key, value] of Object.entries(info)) {
    const match = /^slave(\d+)$/.exec(key);
    if (match === null) continue;
    const fields = parseCommaPairs(value);
    const host = fields['ip'];
    const port = parseDecimal(fields['port']);
    if (host === undefined || host === '' || port === undefined || !Number.isInteger(port)) continue;
    const replica: ReplicaEntry = { host, port };
    const state = fields['state'];
    if (state !== undefined) replica.state = state;
    indexed.push({ index: Number(match[1]), replica });
  }
  return indexed.sort((a, b) => a.index - b.index).map((entry) => entry.replica);
}
