// Turns connection flags, a URL and the environment into one connection target (pure; no I/O but reading TLS files).
import fs from 'node:fs';
import { UsageError } from '../errors.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 6379;
export const DEFAULT_TIMEOUT_MS = 5000;

export interface TlsSettings {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** False with --insecure: accept any certificate. */
  rejectUnauthorized: boolean;
}

/** Where and how to connect; the seed node of a cluster or the one standalone server. */
export interface ConnectionTarget {
  host: string;
  port: number;
  username?: string;
  password?: string;
  db?: number;
  tls?: TlsSettings;
  /** --cluster: fail unless the server is a cluster node. Otherwise detected. */
  forceCluster: boolean;
  /** Connect and command timeout. */
  timeoutMs: number;
  /** The target as it may be shown to people: never carries the password. */
  display: string;
}

/** The connection flags as yargs hands them over (all optional). */
export interface ConnectionFlags {
  url?: string;
  host?: string;
  port?: number | string;
  password?: string;
  user?: string;
  tls?: boolean;
  cacert?: string;
  cert?: string;
  key?: string;
  insecure?: boolean;
  cluster?: boolean;
  timeoutMs?: number;
}

interface ParsedUrl {
  host: string;
  port: number;
  tls: boolean;
  username?: string;
  password?: string;
  db?: number;
}

/** Parses redis:// and rediss:// URLs; errors never echo the password. */
export function parseRedisUrl(url: string, source: string): ParsedUrl {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`${source} is not a valid URL: '${redactUrl(url)}' (expected redis://[user:password@]host[:port][/db])`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new UsageError(`${source} must start with redis:// or rediss://, got '${u.protocol}//' in '${redactUrl(url)}'`);
  }
  if (!u.hostname) throw new UsageError(`${source} has no host: '${redactUrl(url)}'`);
  const port = u.port ? validPort(u.port, `${source} port`) : DEFAULT_PORT;
  const parsed: ParsedUrl = {
    // URL keeps IPv6 literals in brackets; sockets want them bare.
    host: u.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    tls: u.protocol === 'rediss:',
  };
  // A `%` not followed by two hex digits cannot be decoded: say where, never what (it may be the password).
  const decode = (part: string, what: string) => {
    try {
      return decodeURIComponent(part);
    } catch {
      throw new UsageError(`${source} has a ${what} with a bad %-escape (a % must be followed by two hex digits; write %25 for %): '${redactUrl(url)}'`);
    }
  };
  if (u.username) parsed.username = decode(u.username, 'user name');
  if (u.password) parsed.password = decode(u.password, 'password');
  const path = u.pathname.replace(/^\//, '');
  if (path) {
    if (!/^\d+$/.test(path)) throw new UsageError(`${source} has a database '${path}' that is not a number`);
    parsed.db = Number(path);
  }
  return parsed;
}

/**
 * A URL with any password replaced by ***, even in text that does not parse: everything up to the
 * last '@' is credentials (a password may itself hold '@' or '/'); only a plain user name is kept.
 */
export function redactUrl(url: string): string {
  const at = url.lastIndexOf('@');
  if (at < 0) return url;
  const scheme = /^[a-z][a-z0-9+.-]*:\/*/i.exec(url)?.[0] ?? '';
  const prefix = scheme.length <= at ? scheme : '';
  const userinfo = url.slice(prefix.length, at);
  const colon = userinfo.indexOf(':');
  const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
  const safeUser = /^[\w.-]*$/.test(user) ? user : '***';
  return colon < 0 && safeUser === user ? url : `${prefix}${safeUser}:***${url.slice(at)}`;
}

function validPort(value: number | string, source: string): number {
  const text = String(value).trim();
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 1 || n > 65535) throw new UsageError(`${source} must be a port from 1 to 65535, got '${text}'`);
  return n;
}

function readPem(path: string | undefined, flag: string): Buffer | undefined {
  if (path === undefined) return undefined;
  try {
    return fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new UsageError(`${flag} ${path}: cannot read the file (${code})`);
  }
}

/**
 * Precedence: --url, else REDIS_URL when no --host/--port is given, else defaults; then explicit
 * --host, --port, --user, --password override the URL's parts. REDISCLI_AUTH supplies a password
 * when none is given, as it does for redis-cli.
 */
export function resolveTarget(flags: ConnectionFlags, env: NodeJS.ProcessEnv = process.env): ConnectionTarget {
  let base: ParsedUrl = { host: DEFAULT_HOST, port: DEFAULT_PORT, tls: false };
  if (flags.url !== undefined && flags.url !== '') base = parseRedisUrl(flags.url, '--url');
  else if (flags.host === undefined && flags.port === undefined && env.REDIS_URL) base = parseRedisUrl(env.REDIS_URL, 'REDIS_URL');

  const host = flags.host ?? base.host;
  if (!host.trim()) throw new UsageError('--host must not be empty');
  const port = flags.port !== undefined ? validPort(flags.port, '--port') : base.port;
  const username = flags.user ?? base.username;
  const password = flags.password ?? base.password ?? (env.REDISCLI_AUTH || undefined);
  const wantsTls = Boolean(flags.tls) || base.tls || Boolean(flags.cacert ?? flags.cert ?? flags.key);
  if ((flags.cert === undefined) !== (flags.key === undefined)) {
    throw new UsageError('--cert and --key go together: give both or neither');
  }
  const timeoutMs = flags.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw new UsageError('--timeout must be more than 0');

  const target: ConnectionTarget = {
    host,
    port,
    forceCluster: Boolean(flags.cluster),
    timeoutMs,
    display: `${wantsTls ? 'rediss' : 'redis'}://${username ? `${username}@` : ''}${host.includes(':') ? `[${host}]` : host}:${port}`,
  };
  if (username !== undefined) target.username = username;
  if (password !== undefined) target.password = password;
  if (base.db !== undefined) target.db = base.db;
  if (wantsTls) {
    const tls: TlsSettings = { rejectUnauthorized: !flags.insecure };
    const ca = readPem(flags.cacert, '--cacert');
    const cert = readPem(flags.cert, '--cert');
    const key = readPem(flags.key, '--key');
    if (ca) tls.ca = ca;
    if (cert) tls.cert = cert;
    if (key) tls.key = key;
    target.tls = tls;
  }
  return target;
}
