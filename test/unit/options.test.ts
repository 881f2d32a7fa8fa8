// Unit tests for flags as data: typed values from one declaration, and errors that name the flag given.
import { describe, it, expect } from 'vitest';
import { CommandLineError, parseCommandLine } from '../../src/cli.js';
import { parseFlags } from '../../src/options.js';
import { WATCH_FLAGS } from '../../src/commands/watch.js';
import { TAIL_FLAGS } from '../../src/commands/tail.js';
import { CHECK_FLAGS } from '../../src/commands/check.js';
import { SANDBOX_FLAGS } from '../../src/commands/sandbox.js';
import { BENCH_FLAGS, benchConfigFrom } from '../../src/commands/bench.js';
import { UsageError } from '../../src/errors.js';

/** The typed arguments a command would run with, through the real parser. */
async function valuesOf<F extends Parameters<typeof parseFlags>[0]>(flags: F, argv: string[]) {
  const parsed = await parseCommandLine(argv);
  expect(parsed.run).toBeTypeOf('function');
  return parseFlags(flags, parsed.args);
}

async function commandLineError(argv: string[]): Promise<CommandLineError> {
  const err = await parseCommandLine(argv).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(CommandLineError);
  return err as CommandLineError;
}

describe('typed values from the flag declarations', () => {
  it('gives watch its defaults already parsed: durations in ms, numbers as numbers', async () => {
    const v = await valuesOf(WATCH_FLAGS, ['watch']);
    expect(v).toMatchObject({ interval: 1000, timeout: 5000, sort: 'subscribers', rates: false, once: false, json: false, color: true, includeKeyspace: false, tls: false });
    expect(v.limit).toBeUndefined();
    expect(v.pattern).toBeUndefined();
  });

  it('reads values and short aliases, last one wins', async () => {
    const v = await valuesOf(WATCH_FLAGS, ['watch', '-i', '500ms', '-n', '20', '-i', '2s', '--sort', 'rate']);
    expect(v).toMatchObject({ interval: 2000, limit: 20, sort: 'rate' });
  });

  it('gives tail its positional patterns, repeatable lists and both timeouts apart', async () => {
    const v = await valuesOf(TAIL_FLAGS, ['tail', 'a:*', 'b:*', '-c', 'x', '-c', 'y', '--timeout', '30s', '--connect-timeout', '2s', '--max-payload', '0']);
    expect(v).toMatchObject({ patterns: ['a:*', 'b:*'], channel: ['x', 'y'], shard: [], timeout: 30_000, connectTimeout: 2000, maxPayload: 0 });
  });

  it('reads sandbox --cluster with and without a number', async () => {
    expect((await valuesOf(SANDBOX_FLAGS, ['sandbox'])).cluster).toBe(0);
    expect((await valuesOf(SANDBOX_FLAGS, ['sandbox', '--cluster'])).cluster).toBe(3);
    expect((await valuesOf(SANDBOX_FLAGS, ['sandbox', '--cluster', '5'])).cluster).toBe(5);
  });

  it('turns bench flags into a run description, the subscribe mode following the publish mode', async () => {
    const config = benchConfigFrom(await valuesOf(BENCH_FLAGS, ['bench', '--mode', 'spublish', '-r', '1000', '-d', '3s']));
    expect(config).toMatchObject({ mode: 'spublish', subscribe: 'shard', rate: 1000, durationMs: 3000, warmupMs: 2000, size: 128 });
    expect(() => benchConfigFrom(parseFlags(BENCH_FLAGS, { messages: '10', duration: '1s' }))).toThrow(/--messages and --duration/);
  });

  it('reads the fan-out flags: channels per subscriber, placement, reconnect interval', async () => {
    const config = benchConfigFrom(await valuesOf(BENCH_FLAGS, ['bench', '-S', '50000', '-C', '100', '--channels-per-subscriber', '5', '--placement', 'dense', '--reconnect-interval', '5s:30s']));
    expect(config).toMatchObject({ subscribers: 50_000, channels: 100, channelsPerSubscriber: 5, placement: 'dense', reconnect: { minMs: 5000, maxMs: 30_000 } });
    expect(benchConfigFrom(await valuesOf(BENCH_FLAGS, ['bench'])).placement).toBe('sparse');
    expect((await commandLineError(['bench', '--reconnect-interval', '5s:1s'])).message).toMatch(/--reconnect-interval: MAX must not be below MIN/);
    expect((await commandLineError(['bench', '--placement', 'scattered'])).exitCode).toBe(2);
  });

  it('leaves to a profile what it decides, and refuses --scale and --same-names without one', async () => {
    const config = benchConfigFrom(await valuesOf(BENCH_FLAGS, ['bench', '--profile', 'p.json', '--scale', '2.5', '--same-names', '-P', '4']));
    expect(config).toMatchObject({ sameNames: true, publishers: 4 });
    expect((await valuesOf(BENCH_FLAGS, ['bench', '--profile', 'p.json', '--scale', '2.5'])).scale).toBe(2.5);
    for (const [argv, message] of [
      [['--profile', 'p.json', '--rate', '1000'], /--rate does not go with --profile: .*--scale/],
      [['--profile', 'p.json', '-S', '3'], /--subscribers does not go with --profile/],
      [['--profile', 'p.json', '--mode', 'spublish'], /--mode does not go with --profile/],
      [['--profile', 'p.json', '--subscribe', 'pattern'], /--subscribe does not go with --profile/],
      [['--profile', 'p.json', '--channels-per-subscriber', '2'], /--channels-per-subscriber does not go with --profile/],
      [['--scale', '2'], /--scale goes with --profile/],
      [['--same-names'], /--same-names goes with --profile/],
      [['--placement', 'dense'], /--placement goes with --channels-per-subscriber N/],
      [['--profile', 'p.json', '--placement', 'sparse'], /--placement does not go with --profile/],
    ] as const) {
      const values = await valuesOf(BENCH_FLAGS, ['bench', ...argv]);
      expect(() => benchConfigFrom(values), argv.join(' ')).toThrow(message);
    }
    for (const bad of ['0', '-1', 'x', '1e999', 'NaN']) expect((await commandLineError(['bench', '--profile', 'p.json', '--scale', bad])).message).toMatch(/--scale takes a number above 0/);
  });

  it('gives check an empty list for a list flag that is absent', async () => {
    const v = await valuesOf(CHECK_FLAGS, ['check', '-c', 'orders']);
    expect(v).toMatchObject({ channel: ['orders'], shardChannel: [], pattern: [], minSubscribers: 1 });
    expect(v.warn).toBeUndefined();
  });
});

describe('a bad value names the flag that was given', () => {
  it('says --connect-timeout for tail, whose --timeout is something else', async () => {
    const err = await commandLineError(['tail', '--connect-timeout', 'abc']);
    expect(err.message).toContain('--connect-timeout');
    expect(err.message).not.toMatch(/--timeout\b/);
    expect(err.exitCode).toBe(2);
  });

  it('says --timeout for tail --timeout and for watch --timeout', async () => {
    expect((await commandLineError(['tail', '--timeout', 'soon'])).message).toMatch(/^--timeout takes a duration/);
    expect((await commandLineError(['watch', '--timeout', 'soon'])).message).toMatch(/^--timeout takes a duration/);
  });

  it('checks bounds where the flag is declared', async () => {
    expect((await commandLineError(['watch', '--interval', '50ms'])).message).toBe("--interval must be at least 100ms, got '50ms'");
    expect((await commandLineError(['bench', '--threads', '0'])).message).toBe('--threads must be from 1 to 64, got 0');
    expect((await commandLineError(['sandbox', '--cluster', '0'])).message).toBe('--cluster must be from 1 to 100, got 0');
  });

  it('gives check its UNKNOWN exit code for a bad value, and keeps the command and what was read', async () => {
    const err = await commandLineError(['check', '-c', 'a', '-m', 'many', '--format', 'nagios']);
    expect(err).toBeInstanceOf(UsageError);
    expect(err.exitCode).toBe(3);
    expect(err.module?.command).toBe('check');
    expect(err.raw?.format).toBe('nagios');
  });
});
