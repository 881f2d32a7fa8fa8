// Maps socket errors and Redis error replies to one clear, typed, password-free sentence; anything else is a bug and stays one.
import { AuthError, ConnectionError, PermissionError, PubsubMonError, ServerError } from '../errors.js';
import { RespError } from './resp.js';
import { MalformedReplyError } from '../stats/malformed-reply.js';

function messageOf(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/** The hint for a NOPERM reply: what the user lacks and how an admin grants it. */
function permissionHint(message: string, user: string | undefined): string {
  const who = user ?? 'default';
  const cmd = /run the '([^']+)' command/.exec(message)?.[1];
  if (cmd) return `ACL user '${who}' may not run ${cmd.toUpperCase().replace('|', ' ')} (grant it with ACL SETUSER ${who} +${cmd})`;
  if (/channel/i.test(message)) {
    return `ACL user '${who}' may not use these channels (grant them with ACL SETUSER ${who} &<pattern>, or &* for all; patterns are matched literally)`;
  }
  if (/key/i.test(message)) return `ACL user '${who}' may not access these keys: ${message}`;
  return `ACL user '${who}' lacks a permission: ${message}`;
}

export interface ErrorContext {
  /** The error happened while opening the connection, not on an established one. */
  connecting?: boolean;
  /** The connection was meant to use TLS. */
  tls?: boolean;
}

/** Messages ioredis (and our own sockets) give for a connection that failed or went away. */
const CONNECTION_MESSAGES = /^(Connection is closed|Command timed out|Stream isn't writeable|(connect|read|write) E[A-Z]+\b|Reached the max retries per request limit|None of startup nodes is available)/;

/**
 * True for what a server or the network can cause: an error reply (ioredis' ReplyError, our
 * RespError), a socket or TLS failure (an errno or OpenSSL code), or ioredis' own connection
 * messages. A TypeError, a RangeError or any other plain mistake in our code is not one.
 */
function isServerOrNetworkError(err: unknown): boolean {
  if (err instanceof PubsubMonError || err instanceof RespError || err instanceof MalformedReplyError) return true;
  if (!(err instanceof Error)) return false;
  if (err.name === 'ReplyError' || err.name === 'MaxRetriesPerRequestError' || err.name === 'ClusterAllFailedError') return true;
  // Errors of JavaScript itself are never the server's doing, whatever their message says.
  if (err instanceof TypeError || err instanceof RangeError || err instanceof SyntaxError || err instanceof ReferenceError) return false;
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === 'string' && (/^E[A-Z0-9_]+$/.test(code) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /CERT|SSL|TLS/.test(code))) return true;
  return CONNECTION_MESSAGES.test(err.message) || /SSL routines|certificate/i.test(err.message);
}

/**
 * A typed, password-free error for anything a server or the network threw while talking to
 * `address`; typed errors pass through unchanged. Anything else is a bug in pubsub-mon: it is
 * rethrown as it is, so it surfaces as an unexpected error with its stack (DEBUG=1), never
 * disguised as `<address>: Cannot read properties of undefined`.
 */
export function describeRedisError(err: unknown, address: string, user?: string, context: ErrorContext = {}): PubsubMonError {
  if (err instanceof PubsubMonError) return err;
  if (!isServerOrNetworkError(err)) throw err;
  const msg = messageOf(err).replace(/\s+/g, ' ').trim();
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (/CERTIFICATE_REQUIRED|alert certificate required/i.test(code + msg)) {
    return new ConnectionError(`TLS with ${address} failed: the server requires a client certificate (give --cert and --key)`);
  }
  if (code === 'ECONNREFUSED' || /ECONNREFUSED/.test(msg)) return new ConnectionError(`cannot connect to ${address}: connection refused (is Redis running there?)`);
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN' || /ENOTFOUND|EAI_AGAIN/.test(msg)) return new ConnectionError(`cannot connect to ${address}: host not found`);
  if (code === 'ETIMEDOUT' || /ETIMEDOUT|timed out|timeout/i.test(msg)) return new ConnectionError(`no answer from ${address} in time (${msg.replace(/^connect /, '')})`);
  if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') return new ConnectionError(`cannot reach ${address} (${code})`);
  if (/certificate|SSL|TLS|self[- ]signed|wrong version number/i.test(msg) || code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /CERT/.test(code)) {
    // OpenSSL appends its source location ("...:../deps/openssl/...:1601:"): keep the reason only.
    const reason = msg.replace(/^.*?error:[0-9A-F]+:SSL routines:[^:]*:/i, '').replace(/:\.\.\/deps\/openssl.*$/, '');
    return new ConnectionError(`TLS with ${address} failed: ${reason} (check --tls, --cacert, or --insecure)`);
  }
  if (code === 'ECONNRESET' || code === 'EPIPE' || /Connection is closed|ECONNRESET|EPIPE|Stream isn't writeable/.test(msg)) {
    if (context.connecting) {
      const hint = context.tls
        ? 'does it require a client certificate (--cert and --key)?'
        : 'is it a TLS port (then add --tls or use rediss://)?';
      return new ConnectionError(`${address} closed the connection while connecting: ${hint}`);
    }
    return new ConnectionError(`connection to ${address} was lost`);
  }
  if (msg.startsWith('NOAUTH')) return new AuthError(`${address} requires a password: give -a/--password, REDISCLI_AUTH, or a URL with credentials`);
  if (msg.startsWith('WRONGPASS') || /invalid (username-)?password/i.test(msg)) {
    return new AuthError(`${address} refused the credentials: wrong user name or password${user ? ` for user '${user}'` : ''}`);
  }
  if (/AUTH.*called without any password configured|ERR AUTH/i.test(msg)) return new AuthError(`${address}: ${msg}`);
  if (msg.startsWith('NOPERM')) return new PermissionError(`${address}: ${permissionHint(msg, user)}`);
  return new ServerError(`${address}: ${msg}`);
}

/** For a read whose failure is tolerated: swallows a server or network error, and rethrows a bug. */
export function rethrowIfBug(err: unknown): void {
  if (!isServerOrNetworkError(err)) throw err;
}
