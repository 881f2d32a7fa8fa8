// Unit tests for the command line parser (no server, no side effects) and for Redis error descriptions.
import { describe, it, expect, vi, afterEach } from 'vitest';
import { parseCommandLine } from '../../src/cli.js';
import { ReplyError } from 'ioredis';
import { describeRedisError } from '../../src/redis/errors.js';
import { AuthError, ConnectionError, PermissionError, PubsubMonError, ServerError, UsageError } from '../../src/errors.js';

/** The UsageError parseCommandLine rejects with, or a test failure when it resolves. */
async function usageError(argv: string[]): Promise<UsageError> {
  try {
    await parseCommandLine(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error(`expected a UsageError for ${JSON.stringify(argv)}`);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('parseCommandLine: side effects', () => {
  it('prints nothing, exits nothing and sets no exit code, even for help and errors', async () => {
    const out = vi.spyOn(process.stdout, 'write');
    const err = vi.spyOn(process.stderr, 'write');
    const log = vi.spyOn(console, 'log');
    const error = vi.spyOn(console, 'error');
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => {
      throw new Error('process.exit called');
    }) as never);
    const exitCodeBefore = process.exitCode;

    await parseCommandLine(['watch', '--once']);
    await parseCommandLine(['--help']);
    await parseCommandLine(['watch', '--help']);
    await parseCommandLine(['--version']);
    await expect(parseCommandLine(['watch', '--bogus'])).rejects.toThrow(UsageError);
    await expect(parseCommandLine(['nope'])).rejects.toThrow(UsageError);
    await expect(parseCommandLine([])).rejects.toThrow(UsageError);

    expect(out).not.toHaveBeenCalled();
    expect(err).not.toHaveBeenCalled();
    expect(log).not.toHaveBeenCalled();
    expect(error).not.toHaveBeenCalled();
    expect(exit).not.toHaveBeenCalled();
    expect(process.exitCode).toBe(exitCodeBefore);
  });

  it('does not read connection flags into a target (no URL validation at parse time)', async () => {
    const parsed = await parseCommandLine(['watch', '--url', 'ftp://nowhere', '--port', 'abc']);
    expect(parsed.module?.command).toBe('watch');
    expect(parsed.args.url).toBe('ftp://nowhere');
    expect(parsed.args.port).toBe('abc');
  });
});

describe('parseCommandLine: watch', () => {
  it('picks the watch module and fills in the defaults', async () => {
    const parsed = await parseCommandLine(['watch']);
    expect(parsed.module?.command).toBe('watch');
    expect(parsed.output).toBe('');
    expect(parsed.args).toMatchObject({
      interval: '1s',
      sort: 'subscribers',
      rates: false,
      once: false,
      json: false,
      color: true,
      includeKeyspace: false,
      timeout: '5s',
    });
    expect(parsed.args.pattern).toBeUndefined();
    expect(parsed.args.limit).toBeUndefined();
    expect(parsed.args.url).toBeUndefined();
  });

  it('reads flags and their short aliases', async () => {
    const parsed = await parseCommandLine(['watch', '-i', '500ms', '-r', '--sort', 'rate', '-n', '20', '-p', '7000', '-h', '10.0.0.1', '--json', '--once']);
    expect(parsed.args).toMatchObject({ interval: '500ms', rates: true, sort: 'rate', limit: '20', port: '7000', host: '10.0.0.1', json: true, once: true });
  });

  it('turns colour off with --no-color', async () => {
    expect((await parseCommandLine(['watch', '--no-color'])).args.color).toBe(false);
  });

  it('takes the last value of a flag given twice', async () => {
    const parsed = await parseCommandLine(['watch', '--interval', '2s', '--interval', '3s', '-p', '7000', '-p', '7001', '--sort', 'name', '--sort', 'rate']);
    expect(parsed.args.interval).toBe('3s');
    expect(parsed.args.port).toBe('7001');
    expect(parsed.args.sort).toBe('rate');
  });

  it('keeps a password given on the command line as the string it was', async () => {
    expect((await parseCommandLine(['watch', '-a', '12345'])).args.password).toBe('12345');
  });

  it('rejects an unknown flag with exit code 2', async () => {
    const err = await usageError(['watch', '--bogus']);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('bogus');
  });

  it('rejects a --sort that is not one of the choices with exit code 2', async () => {
    const err = await usageError(['watch', '--sort', 'loudness']);
    expect(err.exitCode).toBe(2);
    expect(err.message).toContain('loudness');
    expect(err.message).not.toContain('\n');
  });
});

describe('parseCommandLine: commands and help', () => {
  it('rejects an unknown command with exit code 2', async () => {
    const err = await usageError(['wibble']);
    expect(err.exitCode).toBe(2);
  });

  it('rejects no command at all with exit code 2', async () => {
    expect((await usageError([])).exitCode).toBe(2);
  });

  it('returns --help text with the commands and no module', async () => {
    const parsed = await parseCommandLine(['--help']);
    expect(parsed.module).toBeUndefined();
    expect(parsed.output).toContain('watch');
    expect(parsed.output).toContain('check');
    expect(parsed.output).toContain('sandbox');
    expect(parsed.output).toContain('--help');
    expect(parsed.output).not.toMatch(/^\s*pubsub-mon demo/m);
  });

  it('returns a command\'s --help text with its flags and no module', async () => {
    const parsed = await parseCommandLine(['watch', '--help']);
    expect(parsed.module).toBeUndefined();
    for (const flag of ['--interval', '--rates', '--sort', '--once', '--url', '--host', '--port', '--password', '--json', '--color']) {
      expect(parsed.output).toContain(flag);
    }
    expect(parsed.output).toContain('subscribers');
  });

  it('returns the check flags in check --help', async () => {
    const parsed = await parseCommandLine(['check', '--help']);
    expect(parsed.module).toBeUndefined();
    for (const flag of ['--channel', '--shard-channel', '--pattern', '--min-subscribers', '--warn', '--format']) {
      expect(parsed.output).toContain(flag);
    }
  });

  it('returns the version with no module', async () => {
    const parsed = await parseCommandLine(['--version']);
    expect(parsed.module).toBeUndefined();
    expect(parsed.output).toMatch(/\d+\.\d+\.\d+/);
  });
});

describe('parseCommandLine: check', () => {
  it('accumulates a repeated -c and camel-cases --shard-channel', async () => {
    const parsed = await parseCommandLine(['check', '-c', 'a', '-c', 'b', '--shard-channel', 'x']);
    expect(parsed.module?.command).toBe('check');
    expect(parsed.args.channel).toEqual(['a', 'b']);
    expect(parsed.args.shardChannel).toEqual(['x']);
    expect(parsed.args.minSubscribers).toBe('1');
  });

  it('takes the last value of a non-repeatable check flag', async () => {
    const parsed = await parseCommandLine(['check', '-c', 'a', '-m', '2', '-m', '5', '--format', 'json', '--format', 'nagios']);
    expect(parsed.args.minSubscribers).toBe('5');
    expect(parsed.args.format).toBe('nagios');
  });

  it('uses exit code 3 (UNKNOWN) for an unknown flag', async () => {
    expect((await usageError(['check', '--bogus'])).exitCode).toBe(3);
  });

  it('uses exit code 3 (UNKNOWN) for a bad --format choice', async () => {
    const err = await usageError(['check', '-c', 'a', '--format', 'xml']);
    expect(err.exitCode).toBe(3);
    expect(err.message).toContain('xml');
  });

  it('keeps UsageError\'s kind when the exit code changes', async () => {
    const err = await usageError(['check', '--bogus']);
    expect(err.kind).toBe('usage');
    expect(err).toBeInstanceOf(PubsubMonError);
  });
});

describe('parseCommandLine: sandbox', () => {
  it('gives an empty string for --cluster without a value', async () => {
    const parsed = await parseCommandLine(['sandbox', '--cluster']);
    expect(parsed.module?.command).toBe('sandbox');
    expect(parsed.args.cluster).toBe('');
  });

  it('gives the value of --cluster N as a string, and leaves it undefined when absent', async () => {
    expect((await parseCommandLine(['sandbox', '--cluster', '5'])).args.cluster).toBe('5');
    expect((await parseCommandLine(['sandbox'])).args.cluster).toBeUndefined();
  });
});

describe('describeRedisError', () => {
  const ADDRESS = '127.0.0.1:6390';

  it('maps ECONNREFUSED to a ConnectionError saying so', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    const described = describeRedisError(err, '127.0.0.1:1');
    expect(described).toBeInstanceOf(ConnectionError);
    expect(described.kind).toBe('connection');
    expect(described.message).toContain('connection refused');
    expect(described.message).toContain('127.0.0.1:1');
  });

  it('recognises ECONNREFUSED from the message alone', () => {
    expect(describeRedisError(new Error('connect ECONNREFUSED 127.0.0.1:1'), '127.0.0.1:1')).toBeInstanceOf(ConnectionError);
  });

  it('maps NOAUTH to an AuthError that says how to give a password', () => {
    const described = describeRedisError(new ReplyError('NOAUTH Authentication required.'), ADDRESS);
    expect(described).toBeInstanceOf(AuthError);
    expect(described.message).toContain(ADDRESS);
    expect(described.message).toMatch(/password/);
  });

  it('maps WRONGPASS to an AuthError naming the user', () => {
    const described = describeRedisError(new ReplyError('WRONGPASS invalid username-password pair or user is disabled.'), ADDRESS, 'bob');
    expect(described).toBeInstanceOf(AuthError);
    expect(described.kind).toBe('auth');
    expect(described.message).toContain('bob');
  });

  it('maps a NOPERM for a command to a PermissionError with the ACL SETUSER fix', () => {
    const described = describeRedisError(new ReplyError("NOPERM this user has no permissions to run the 'pubsub|channels' command"), ADDRESS, 'bob');
    expect(described).toBeInstanceOf(PermissionError);
    expect(described.kind).toBe('permission');
    expect(described.message).toContain('PUBSUB CHANNELS');
    expect(described.message).toContain('ACL SETUSER bob +pubsub|channels');
  });

  it('names the default user when none was given', () => {
    const described = describeRedisError(new ReplyError("NOPERM this user has no permissions to run the 'info' command"), ADDRESS);
    expect(described.message).toContain('ACL SETUSER default +info');
  });

  it('maps a NOPERM for channels to a hint about &*', () => {
    const described = describeRedisError(new ReplyError('NOPERM this user has no permissions to access one of the channels used as arguments'), ADDRESS, 'bob');
    expect(described).toBeInstanceOf(PermissionError);
    expect(described.message).toContain('&*');
    expect(described.message).toContain('bob');
  });

  it('maps an unknown error reply to a ServerError carrying the address', () => {
    const described = describeRedisError(new ReplyError("ERR unknown command 'PUBSUB', with args beginning with: "), ADDRESS);
    expect(described).toBeInstanceOf(ServerError);
    expect(described.kind).toBe('server');
    expect(described.message).toContain(ADDRESS);
    expect(described.message).toContain('unknown command');
  });

  it('flattens a multi-line message to one line', () => {
    const described = describeRedisError(new ReplyError('ERR something\n  went   wrong'), ADDRESS);
    expect(described.message).toBe(`${ADDRESS}: ERR something went wrong`);
  });

  it('maps a LOADING reply to a ServerError carrying the reply', () => {
    const described = describeRedisError(new ReplyError('LOADING Redis is loading the dataset in memory'), ADDRESS);
    expect(described).toBeInstanceOf(ServerError);
    expect(described.message).toContain('LOADING');
  });

  it('rethrows a programming error as it is, never disguised as a server error', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'host')");
    expect(() => describeRedisError(bug, ADDRESS)).toThrow(bug);
    const plain = new Error('something our own code got wrong');
    expect(() => describeRedisError(plain, ADDRESS)).toThrow(plain);
    expect(() => describeRedisError('a thrown string', ADDRESS)).toThrow('a thrown string');
  });

  it('passes an already-typed error through unchanged', () => {
    const typed = new UsageError('bad flag');
    expect(describeRedisError(typed, ADDRESS)).toBe(typed);
  });

  it('uses exit code 1 for runtime errors', () => {
    expect(describeRedisError(new ReplyError('NOAUTH Authentication required.'), ADDRESS).exitCode).toBe(1);
    expect(describeRedisError(new ReplyError('ERR x'), ADDRESS).exitCode).toBe(1);
  });
});
