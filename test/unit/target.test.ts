// Unit tests for turning connection flags, URLs and the environment into one connection target.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseRedisUrl, redactUrl, resolveTarget, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_TIMEOUT_MS, type ConnectionFlags } from '../../src/redis/target.js';
import { UsageError } from '../../src/errors.js';

/** Distinctive enough that finding it anywhere in a message means it leaked. */
const SECRET = 'Zq7-hunter2-Xv9';
const NO_ENV: NodeJS.ProcessEnv = {};

let dir: string;
let caFile: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-target-'));
  caFile = path.join(dir, 'ca.pem');
  fs.writeFileSync(caFile, '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n');
});
afterAll(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The UsageError resolveTarget throws, or a test failure when it does not throw one. */
function usageError(flags: ConnectionFlags, env: NodeJS.ProcessEnv = NO_ENV): UsageError {
  try {
    resolveTarget(flags, env);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`expected a UsageError for ${JSON.stringify(flags)}`);
}

describe('resolveTarget: where to connect', () => {
  it('defaults to 127.0.0.1:6379, no TLS, no credentials', () => {
    const t = resolveTarget({}, NO_ENV);
    expect(t.host).toBe(DEFAULT_HOST);
    expect(t.host).toBe('127.0.0.1');
    expect(t.port).toBe(DEFAULT_PORT);
    expect(t.port).toBe(6379);
    expect(t.tls).toBeUndefined();
    expect(t.username).toBeUndefined();
    expect(t.password).toBeUndefined();
    expect(t.db).toBeUndefined();
    expect(t.forceCluster).toBe(false);
    expect(t.timeoutMs).toBe(DEFAULT_TIMEOUT_MS);
    expect(t.display).toBe('redis://127.0.0.1:6379');
  });

  it('uses REDIS_URL when no --url, --host or --port is given', () => {
    const t = resolveTarget({}, { REDIS_URL: 'redis://cache.internal:7001/2' });
    expect(t.host).toBe('cache.internal');
    expect(t.port).toBe(7001);
    expect(t.db).toBe(2);
  });

  it('ignores REDIS_URL when --host or --port is given', () => {
    const env = { REDIS_URL: `redis://env-user:${SECRET}@envhost:7001/3` };
    const byHost = resolveTarget({ host: 'flaghost' }, env);
    expect(byHost).toMatchObject({ host: 'flaghost', port: 6379 });
    expect(byHost.password).toBeUndefined();
    expect(byHost.username).toBeUndefined();
    expect(byHost.db).toBeUndefined();
    const byPort = resolveTarget({ port: '7005' }, env);
    expect(byPort).toMatchObject({ host: '127.0.0.1', port: 7005 });
    expect(byPort.password).toBeUndefined();
  });

  it('lets --url beat REDIS_URL', () => {
    const t = resolveTarget({ url: 'redis://flag-url:7100' }, { REDIS_URL: 'redis://env-url:7200' });
    expect(t).toMatchObject({ host: 'flag-url', port: 7100 });
  });

  it('falls back to REDIS_URL when --url is empty', () => {
    expect(resolveTarget({ url: '' }, { REDIS_URL: 'redis://env-url:7200' })).toMatchObject({ host: 'env-url', port: 7200 });
  });

  it('lets --host, --port, --user and --password override the URL\'s parts', () => {
    const t = resolveTarget({ url: 'redis://alice:old@urlhost:7000/4', host: 'other', port: 7009, user: 'bob', password: SECRET }, NO_ENV);
    expect(t).toMatchObject({ host: 'other', port: 7009, username: 'bob', password: SECRET, db: 4 });
  });

  it('keeps the URL\'s other parts when only one is overridden', () => {
    const t = resolveTarget({ url: `redis://alice:${SECRET}@urlhost:7000`, port: '7001' }, NO_ENV);
    expect(t).toMatchObject({ host: 'urlhost', port: 7001, username: 'alice', password: SECRET });
  });

  it('takes the database number from the URL path', () => {
    expect(resolveTarget({ url: 'redis://h:1/0' }, NO_ENV).db).toBe(0);
    expect(resolveTarget({ url: 'redis://h/15' }, NO_ENV)).toMatchObject({ host: 'h', port: 6379, db: 15 });
    expect(resolveTarget({ url: 'redis://h/' }, NO_ENV).db).toBeUndefined();
  });

  it('unbrackets an IPv6 literal and brackets it again for display', () => {
    const t = resolveTarget({ url: 'redis://[::1]:7000' }, NO_ENV);
    expect(t.host).toBe('::1');
    expect(t.port).toBe(7000);
    expect(t.display).toBe('redis://[::1]:7000');
  });

  it('accepts --cluster and a timeout', () => {
    const t = resolveTarget({ cluster: true, timeoutMs: 250 }, NO_ENV);
    expect(t.forceCluster).toBe(true);
    expect(t.timeoutMs).toBe(250);
  });

  it('shows the user but never the password in display', () => {
    const t = resolveTarget({ url: `redis://alice:${SECRET}@h:7000` }, NO_ENV);
    expect(t.display).toBe('redis://alice@h:7000');
    expect(t.display).not.toContain(SECRET);
  });
});

describe('resolveTarget: credentials', () => {
  it('decodes a percent-encoded password and user name', () => {
    const t = resolveTarget({ url: 'redis://al%40ice:p%40ss%3Aw%2Frd@h' }, NO_ENV);
    expect(t.username).toBe('al@ice');
    expect(t.password).toBe('p@ss:w/rd');
  });

  it('accepts a password with no user', () => {
    const t = resolveTarget({ url: `redis://:${SECRET}@h` }, NO_ENV);
    expect(t.password).toBe(SECRET);
    expect(t.username).toBeUndefined();
    expect(t.display).toBe('redis://h:6379');
  });

  it('uses REDISCLI_AUTH only when no password is given', () => {
    const env = { REDISCLI_AUTH: SECRET };
    expect(resolveTarget({}, env).password).toBe(SECRET);
    expect(resolveTarget({ password: 'from-flag' }, env).password).toBe('from-flag');
    expect(resolveTarget({ url: 'redis://:from-url@h' }, env).password).toBe('from-url');
    expect(resolveTarget({}, { REDISCLI_AUTH: '' }).password).toBeUndefined();
  });

  it('takes --password over the URL\'s password', () => {
    expect(resolveTarget({ url: 'redis://:from-url@h', password: 'from-flag' }, NO_ENV).password).toBe('from-flag');
  });
});

describe('resolveTarget: TLS', () => {
  it('has no TLS settings by default', () => {
    expect(resolveTarget({ url: 'redis://h' }, NO_ENV).tls).toBeUndefined();
  });

  it('turns TLS on for rediss:// and verifies the server by default', () => {
    const t = resolveTarget({ url: 'rediss://h:6380' }, NO_ENV);
    expect(t.tls).toEqual({ rejectUnauthorized: true });
    expect(t.display).toBe('rediss://h:6380');
  });

  it('turns TLS on for --tls', () => {
    expect(resolveTarget({ tls: true }, NO_ENV).tls).toEqual({ rejectUnauthorized: true });
  });

  it('turns TLS on for --cacert and loads the file', () => {
    const t = resolveTarget({ host: 'h', cacert: caFile }, NO_ENV);
    expect(t.tls?.rejectUnauthorized).toBe(true);
    expect(t.tls?.ca?.toString()).toContain('BEGIN CERTIFICATE');
    expect(t.display.startsWith('rediss://')).toBe(true);
  });

  it('loads --cert and --key together', () => {
    const t = resolveTarget({ cert: caFile, key: caFile }, NO_ENV);
    expect(t.tls?.cert).toBeInstanceOf(Buffer);
    expect(t.tls?.key).toBeInstanceOf(Buffer);
  });

  it('--insecure sets rejectUnauthorized false', () => {
    expect(resolveTarget({ url: 'rediss://h', insecure: true }, NO_ENV).tls).toEqual({ rejectUnauthorized: false });
    expect(resolveTarget({ tls: true, insecure: false }, NO_ENV).tls?.rejectUnauthorized).toBe(true);
  });
});

describe('resolveTarget: errors', () => {
  it('rejects a scheme other than redis:// and rediss://', () => {
    const err = usageError({ url: `http://u:${SECRET}@h:6379` });
    expect(err.message).toContain('redis://');
    expect(err.exitCode).toBe(2);
  });

  it.each(['0', '70000', 'abc', '-1', '1.5', ''])('rejects --port %j', (port) => {
    expect(usageError({ port }).message).toContain('--port');
  });

  it('accepts --port at both ends of the range, as a number or a string', () => {
    expect(resolveTarget({ port: 1 }, NO_ENV).port).toBe(1);
    expect(resolveTarget({ port: '65535' }, NO_ENV).port).toBe(65535);
  });

  it('rejects a URL whose port is out of range or not a number', () => {
    usageError({ url: 'redis://h:70000' });
    usageError({ url: 'redis://h:abc' });
  });

  it('rejects a non-numeric database in the URL', () => {
    expect(usageError({ url: 'redis://h/abc' }).message).toContain('abc');
    usageError({ url: 'redis://h/1x' });
  });

  it('rejects --cert without --key and --key without --cert', () => {
    expect(usageError({ cert: caFile }).message).toContain('--key');
    expect(usageError({ key: caFile }).message).toContain('--cert');
  });

  it('rejects an unreadable --cacert file, naming it', () => {
    const missing = path.join(dir, 'missing.pem');
    const err = usageError({ cacert: missing });
    expect(err.message).toContain('--cacert');
    expect(err.message).toContain(missing);
    expect(err.message).toContain('ENOENT');
  });

  it('rejects an empty --host and a timeout of 0', () => {
    usageError({ host: '  ' });
    usageError({ timeoutMs: 0 });
  });

  it('names REDIS_URL when the bad URL came from the environment', () => {
    expect(usageError({}, { REDIS_URL: 'ftp://h' }).message).toContain('REDIS_URL');
  });

  const leaky: Array<[string, ConnectionFlags, NodeJS.ProcessEnv?]> = [
    ['bad scheme', { url: `http://user:${SECRET}@h:6379` }],
    ['bad scheme, no user', { url: `mysql://:${SECRET}@h` }],
    ['unparsable URL', { url: `redis://user:${SECRET}@h:abc` }],
    ['port out of range', { url: `redis://user:${SECRET}@h:70000` }],
    ['bad db', { url: `redis://user:${SECRET}@h/notanumber` }],
    ['bad db via REDIS_URL', {}, { REDIS_URL: `redis://:${SECRET}@h/x` }],
    ['bad scheme via REDIS_URL', {}, { REDIS_URL: `https://:${SECRET}@h` }],
    ['bad --port with a password', { password: SECRET, port: 'abc' }],
    ['bad --port with a URL password', { url: `redis://:${SECRET}@h`, port: '0' }],
    ['--cert without --key', { url: `rediss://:${SECRET}@h`, cert: 'c.pem' }],
    ['empty host', { password: SECRET, host: '' }],
    ['REDISCLI_AUTH and bad port', { port: '99999' }, { REDISCLI_AUTH: SECRET }],
  ];

  it.each(leaky)('never puts the password in the message: %s', (_label, flags, env) => {
    const err = usageError(flags, env ?? NO_ENV);
    expect(err.message).not.toContain(SECRET);
    expect(err.message).not.toContain(encodeURIComponent(SECRET));
  });

  it('an unreadable --cacert with a password does not leak it', () => {
    const err = usageError({ url: `redis://:${SECRET}@h`, cacert: path.join(dir, 'nope.pem') });
    expect(err.message).not.toContain(SECRET);
  });

  it('never puts the password in display, whatever its source', () => {
    const targets = [
      resolveTarget({ url: `redis://user:${SECRET}@h` }, NO_ENV),
      resolveTarget({ url: `rediss://:${SECRET}@h:6380/1` }, NO_ENV),
      resolveTarget({ password: SECRET, user: 'bob' }, NO_ENV),
      resolveTarget({}, { REDISCLI_AUTH: SECRET }),
      resolveTarget({}, { REDIS_URL: `redis://u:${SECRET}@h` }),
    ];
    for (const t of targets) {
      expect(t.password).toBe(SECRET);
      expect(t.display).not.toContain(SECRET);
    }
  });
});

describe('parseRedisUrl', () => {
  it('parses every part', () => {
    expect(parseRedisUrl('rediss://u:p@example.com:6390/7', '--url')).toEqual({
      host: 'example.com',
      port: 6390,
      tls: true,
      username: 'u',
      password: 'p',
      db: 7,
    });
  });

  it('defaults the port and leaves absent parts out', () => {
    expect(parseRedisUrl('redis://example.com', '--url')).toEqual({ host: 'example.com', port: 6379, tls: false });
  });

  it('names its source in errors', () => {
    expect(() => parseRedisUrl('nonsense', 'REDIS_URL')).toThrow(/REDIS_URL/);
    expect(() => parseRedisUrl('nonsense', 'REDIS_URL')).toThrow(UsageError);
  });
});

describe('redactUrl', () => {
  it('replaces the password with ***', () => {
    expect(redactUrl(`redis://user:${SECRET}@h:6379/0`)).toBe('redis://user:***@h:6379/0');
    expect(redactUrl(`rediss://:${SECRET}@h`)).toBe('rediss://:***@h');
  });

  it('leaves URLs without a password alone', () => {
    expect(redactUrl('redis://user@h:6379')).toBe('redis://user@h:6379');
    expect(redactUrl('redis://h:6379')).toBe('redis://h:6379');
  });

  it('works on text that is not a valid URL', () => {
    expect(redactUrl(`redis://u:${SECRET}@h:notaport`)).toBe('redis://u:***@h:notaport');
  });
});

describe('regressions: passwords in malformed URLs, port 0', () => {
  const SECRET = 'Zq7secret';
  it.each([`redis:/user:${SECRET}@host`, `redis:user:${SECRET}@host`, `redis://u:p@${SECRET}@h:abc`, `redis://u:p/${SECRET}@h`, `redis://u:${SECRET}@h:0`])(
    'never shows the password of %s',
    (url) => {
      expect(() => resolveTarget({ url }, {})).toThrow(UsageError);
      try {
        resolveTarget({ url }, {});
      } catch (err) {
        expect((err as Error).message).not.toContain(SECRET);
      }
      expect(redactUrl(url)).not.toContain(SECRET);
    },
  );
  it('refuses port 0 in a URL as it does for --port', () => {
    expect(() => resolveTarget({ url: 'redis://h:0' }, {})).toThrow(/port from 1 to 65535/);
  });
});
