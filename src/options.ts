// Flags shared by every command that talks to Redis, declared once, in redis-cli's habits.
import type { Options } from 'yargs';
import { parseDuration } from './values.js';
import { DEFAULT_TIMEOUT_MS, resolveTarget, type ConnectionFlags, type ConnectionTarget } from './redis/target.js';

const CONNECTION = 'Connection:';

/** A flag given twice takes its last value, as in most CLIs; flags declared as arrays still repeat. */
export function lastWins<T extends Record<string, Options>>(options: T): T {
  const out: Record<string, Options> = {};
  for (const [name, o] of Object.entries(options)) {
    out[name] = o.array ? o : { ...o, coerce: (v: unknown) => (Array.isArray(v) ? v[v.length - 1] : v) };
  }
  return out as T;
}
const OUTPUT = 'Output:';

/** Connection flags; -h is the host, as in redis-cli (help is --help). */
export const CONNECTION_OPTIONS = lastWins({
  url: { alias: 'u', type: 'string', group: CONNECTION, describe: 'Server URL: redis://[user:password@]host[:port][/db], rediss:// for TLS. Default: $REDIS_URL, else 127.0.0.1:6379' },
  host: { alias: 'h', type: 'string', group: CONNECTION, describe: 'Server host (overrides the URL\'s)' },
  port: { alias: 'p', type: 'string', group: CONNECTION, describe: 'Server port (overrides the URL\'s)' },
  password: { alias: 'a', type: 'string', group: CONNECTION, describe: 'Password (or set REDISCLI_AUTH); never printed' },
  user: { type: 'string', group: CONNECTION, describe: 'ACL user name' },
  tls: { type: 'boolean', group: CONNECTION, describe: 'Connect with TLS (implied by rediss://)' },
  cacert: { type: 'string', group: CONNECTION, describe: 'CA certificate file (PEM) to verify the server' },
  cert: { type: 'string', group: CONNECTION, describe: 'Client certificate file (PEM), with --key' },
  key: { type: 'string', group: CONNECTION, describe: 'Client private key file (PEM), with --cert' },
  insecure: { type: 'boolean', group: CONNECTION, describe: 'Do not verify the server\'s TLS certificate' },
  cluster: { type: 'boolean', group: CONNECTION, describe: 'Require a cluster (otherwise detected from INFO cluster)' },
  timeout: { type: 'string', group: CONNECTION, default: `${DEFAULT_TIMEOUT_MS / 1000}s`, describe: 'Connect and command timeout (500ms, 5s, ...)' },
} as const satisfies Record<string, Options>);

/**
 * The connection flags for a command whose own --timeout means something else (tail: how long to
 * run): the connect timeout is then --connect-timeout.
 */
export const CONNECTION_OPTIONS_CONNECT_TIMEOUT = (() => {
  const { timeout, ...rest } = CONNECTION_OPTIONS;
  return { ...rest, 'connect-timeout': timeout };
})();

/** Output flags every command has. */
export const OUTPUT_OPTIONS = lastWins({
  json: { type: 'boolean', group: OUTPUT, default: false, describe: 'Machine-readable JSON on stdout' },
  color: { type: 'boolean', group: OUTPUT, default: true, describe: 'Colour on a terminal (--no-color or NO_COLOR=1 turn it off)' },
} as const satisfies Record<string, Options>);

/** The connection flags as yargs hands them over: durations still as text. */
export type ConnectionArgs = Omit<ConnectionFlags, 'timeoutMs'> & { timeout?: string };

/** The target named by the parsed connection flags and the environment. */
export function targetFromArgs(args: ConnectionArgs, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  const { timeout, ...flags } = args;
  return resolveTarget({ ...flags, timeoutMs: parseDuration(timeout ?? `${DEFAULT_TIMEOUT_MS}ms`, '--timeout') }, env);
}
