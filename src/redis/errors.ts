// Maps socket errors and Redis error replies to one clear, typed, password-free sentence.
import { AuthError, ConnectionError, PermissionError, PubsubMonError, ServerError } from '../errors.js';

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

/**
 * Returns a PubsubMonError for anything thrown while talking to `address`. Already-typed errors
 * pass through unchanged.
 */
export interface ErrorContext {
  /** The error happened while opening the connection, not on an established one. */
  connecting?: boolean;
  /** The connection was meant to use TLS. */
  tls?: boolean;
}

export function describeRedisError(err: unknown, address: string, user?: string, context: ErrorContext = {}): PubsubMonError {
  if (err instanceof PubsubMonError) return err;
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

/** True for errors that mean "the node is not reachable right now" rather than "the request is wrong". */
export function isConnectivityError(err: unknown): boolean {
  return err instanceof ConnectionError;
}
