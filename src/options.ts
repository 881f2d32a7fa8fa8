// Flags as data: each declared once with its help, default and parser side by side; argument types derive from the declaration.
import type { Options } from 'yargs';
import { parseDuration, parseInteger } from './values.js';
import { UsageError } from './errors.js';
import { DEFAULT_TIMEOUT_MS, resolveTarget, type ConnectionTarget } from './redis/target.js';

/** One flag: what yargs reads and shows in --help, and how the text typed becomes a typed value. */
export interface Flag<T> {
  /** yargs' side: type (string, boolean or an array of strings), alias, help text, the default shown. */
  readonly yargs: Options;
  /**
   * The typed value from what yargs read (`undefined` when the flag is absent and has no default).
   * `flag` is the name as the user knows it (`--connect-timeout`), for the error message.
   */
  readonly parse: (value: unknown, flag: string) => T;
  /** A positional argument rather than a `--flag` (tail's patterns). */
  readonly positional?: boolean;
}

export type Flags = Readonly<Record<string, Flag<unknown>>>;

/** `connect-timeout` -> `connectTimeout`, as yargs names the parsed key. */
type CamelCase<S extends string> = S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S;

/** The typed arguments a command gets: one camel-cased key per declared flag. */
export type FlagValues<F extends Flags> = { -readonly [K in keyof F & string as CamelCase<K>]: F[K] extends Flag<infer T> ? T : never };

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** Parses every declared flag out of yargs' output; a bad value is a UsageError naming its flag. */
export function parseFlags<F extends Flags>(flags: F, raw: Readonly<Record<string, unknown>>): FlagValues<F> {
  const values: Record<string, unknown> = {};
  for (const [name, flag] of Object.entries(flags)) values[camelCase(name)] = flag.parse(raw[name], `--${name}`);
  // A mapped type cannot be built key by key: the loop above fills exactly the keys FlagValues<F> names.
  return values as FlagValues<F>;
}

/** What every flag declaration carries for --help. */
export interface Described {
  describe: string;
  alias?: string;
  group?: string;
}

function yargsOf(d: Described, extra: Options): Options {
  return { describe: d.describe, ...(d.alias ? { alias: d.alias } : {}), ...(d.group ? { group: d.group } : {}), ...extra };
}

function asText(value: unknown): string | undefined {
  return value === undefined ? undefined : String(value);
}

/** A string taken as typed. */
export function text(d: Described & { default: string }): Flag<string>;
export function text(d: Described): Flag<string | undefined>;
export function text(d: Described & { default?: string }): Flag<string | undefined> {
  return { yargs: yargsOf(d, { type: 'string', ...(d.default !== undefined ? { default: d.default } : {}) }), parse: asText };
}

/** A repeatable string flag: `-c a -c b`. */
export function textList(d: Described): Flag<string[]> {
  return {
    yargs: yargsOf(d, { type: 'string', array: true }),
    parse: (value) => (value === undefined ? [] : (Array.isArray(value) ? value : [value]).map(String)),
  };
}

/** A switch; `--no-<name>` turns a default of true off. */
export function bool(d: Described & { default?: boolean }): Flag<boolean> {
  const fallback = d.default ?? false;
  return { yargs: yargsOf(d, { type: 'boolean', default: fallback }), parse: (value) => (value === undefined ? fallback : Boolean(value)) };
}

/** One of a fixed set of words; yargs checks the choice and lists them in --help. */
export function choice<C extends string>(choices: readonly C[], d: Described & { default: C }): Flag<C>;
export function choice<C extends string>(choices: readonly C[], d: Described): Flag<C | undefined>;
export function choice<C extends string>(choices: readonly C[], d: Described & { default?: C }): Flag<C | undefined> {
  return {
    yargs: yargsOf(d, { type: 'string', choices, ...(d.default !== undefined ? { default: d.default } : {}) }),
    parse: (value, flag) => {
      if (value === undefined) return d.default;
      const v = String(value);
      const found = choices.find((c) => c === v);
      if (found === undefined) throw new UsageError(`${flag} must be one of ${choices.join(', ')}, got '${v}'`);
      return found;
    },
  };
}

export interface Bounds {
  min?: number;
  max?: number;
}

/**
 * The longest duration any flag takes unless it says otherwise: a day. Longer ones are typos
 * (`99999h`), and a timer past 2^31 ms fires at once, which would refresh as fast as it can.
 */
const MAX_DURATION_MS = 24 * 3_600_000;

/** A duration typed like `500ms`, `2s`, `1m` (a bare number is seconds), in milliseconds, at most a day unless `max` says otherwise. */
export function duration(d: Described & Bounds & { default: string }): Flag<number>;
export function duration(d: Described & Bounds): Flag<number | undefined>;
export function duration(d: Described & Bounds & { default?: string }): Flag<number | undefined> {
  return {
    yargs: yargsOf(d, { type: 'string', ...(d.default !== undefined ? { default: d.default } : {}) }),
    parse: (value, flag) => {
      if (value === undefined) return undefined;
      const ms = parseDuration(value, flag);
      if (d.min !== undefined && ms < d.min) throw new UsageError(`${flag} must be at least ${d.min}ms, got '${String(value)}'`);
      const max = d.max ?? MAX_DURATION_MS;
      if (ms > max) throw new UsageError(`${flag} must be at most ${max === MAX_DURATION_MS ? '24h' : `${max}ms`}, got '${String(value)}'`);
      return ms;
    },
  };
}

/** A whole number within bounds. */
export function integer(d: Described & Bounds & { default: number }): Flag<number>;
export function integer(d: Described & Bounds): Flag<number | undefined>;
export function integer(d: Described & Bounds & { default?: number }): Flag<number | undefined> {
  return {
    yargs: yargsOf(d, { type: 'string', ...(d.default !== undefined ? { default: String(d.default) } : {}) }),
    parse: (value, flag) => (value === undefined ? undefined : parseInteger(value, flag, d.min, d.max)),
  };
}

/** The same declaration, read as a positional argument (`tail 'news:*'`). */
export function positional<T>(flag: Flag<T>): Flag<T> {
  return { ...flag, positional: true };
}

/** A flag whose parsing is its own (sandbox --cluster with or without a number). */
export function custom<T>(yargs: Options, parse: (value: unknown, flag: string) => T): Flag<T> {
  return { yargs, parse };
}

const CONNECTION = 'Connection:';
const OUTPUT = 'Output:';

/** Connection flags; -h is the host, as in redis-cli (help is --help). Values stay as typed: resolveTarget checks them. */
export const CONNECTION_FLAGS = {
  url: text({ alias: 'u', group: CONNECTION, describe: 'Server URL: redis://[user:password@]host[:port][/db], rediss:// for TLS. Default: $REDIS_URL, else 127.0.0.1:6379' }),
  host: text({ alias: 'h', group: CONNECTION, describe: 'Server host (overrides the URL\'s)' }),
  port: text({ alias: 'p', group: CONNECTION, describe: 'Server port (overrides the URL\'s)' }),
  password: text({ alias: 'a', group: CONNECTION, describe: 'Password (or set REDISCLI_AUTH); never printed' }),
  user: text({ group: CONNECTION, describe: 'ACL user name' }),
  tls: bool({ group: CONNECTION, describe: 'Connect with TLS (implied by rediss://)' }),
  cacert: text({ group: CONNECTION, describe: 'CA certificate file (PEM) to verify the server' }),
  cert: text({ group: CONNECTION, describe: 'Client certificate file (PEM), with --key' }),
  key: text({ group: CONNECTION, describe: 'Client private key file (PEM), with --cert' }),
  insecure: bool({ group: CONNECTION, describe: 'Do not verify the server\'s TLS certificate' }),
  cluster: bool({ group: CONNECTION, describe: 'Require a cluster (otherwise detected from INFO cluster)' }),
  timeout: duration({ group: CONNECTION, default: `${DEFAULT_TIMEOUT_MS / 1000}s`, min: 1, describe: 'Connect and command timeout (500ms, 5s, ...)' }),
  'auth-warning': bool({ group: CONNECTION, default: true, describe: 'Warn when a password is given on the command line (--no-auth-warning silences it, as in redis-cli)' }),
} as const;

/**
 * The connection flags for a command whose own --timeout means something else (tail: how long to
 * run): the connect timeout is then --connect-timeout, declared by the same entry.
 */
export const CONNECTION_FLAGS_CONNECT_TIMEOUT = (() => {
  const { timeout, ...rest } = CONNECTION_FLAGS;
  return { ...rest, 'connect-timeout': timeout };
})();

/** Output flags every command has. */
export const OUTPUT_FLAGS = {
  json: bool({ group: OUTPUT, describe: 'Machine-readable JSON on stdout' }),
  color: bool({ group: OUTPUT, default: true, describe: 'Colour on a terminal (--no-color or NO_COLOR=1 turn it off)' }),
} as const;

export type ConnectionValues = FlagValues<typeof CONNECTION_FLAGS>;

/** The target named by the parsed connection flags and the environment. */
export function targetFromArgs(args: ConnectionValues, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  const { timeout, authWarning: _authWarning, ...flags } = args;
  return resolveTarget({ ...flags, timeoutMs: timeout }, env);
}

/**
 * The warning redis-cli gives too: a password on the command line (-a, or inside --url) is visible
 * to every user of the machine through ps. Undefined when there is nothing to warn about.
 */
export function passwordOnCommandLine(args: Pick<ConnectionValues, 'password' | 'url' | 'authWarning'>, urlFlag = '--url'): string | undefined {
  if (!args.authWarning) return undefined;
  const inUrl = args.url !== undefined && /^[a-z][a-z0-9+.-]*:\/\/[^/@]*:[^/@]*@/i.test(args.url);
  if (args.password === undefined && !inUrl) return undefined;
  // REDISCLI_AUTH is the password of every server without one in its URL: for --control-url it
  // helps only where the control server's password is the measured server's.
  const instead = urlFlag === '--url' ? 'set REDISCLI_AUTH instead' : 'if it is the same as the measured server\'s, leave it out and set REDISCLI_AUTH';
  return `warning: a password given with ${args.password !== undefined ? '-a/--password' : urlFlag} can be read by other users of this machine (ps); ${instead}, or --no-auth-warning`;
}
