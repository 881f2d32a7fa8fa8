// The quick parse (no yargs) must read a plain command line exactly as yargs does, and leave everything else to yargs.
import { describe, it, expect } from 'vitest';
import { COMMANDS, parseCommandLine } from '../../src/cli.js';
import { quickParse } from '../../src/quick-parse.js';

const PLAIN: string[][] = [
  ['watch'],
  ['watch', '--once', '--json'],
  ['watch', '-i', '500ms', '-r', '--sort', 'rate', '-n', '20', '-p', '7000', '-h', '10.0.0.1', '--json', '--once'],
  ['watch', '--interval', '2s', '--interval', '3s', '-p', '7000', '-p', '7001', '--sort', 'name', '--sort', 'rate'],
  ['watch', '--no-color', '--no-auth-warning', '-a', '12345', '--url', 'redis://:p@h:1'],
  ['watch', '--include-keyspace', '--pattern', 'news:*', '--timeout=2s'],
  ['check', '-c', 'a', '-c', 'b', '--shard-channel', 'x'],
  ['check', '-c', 'a', '-m', '2', '-m', '5', '--format', 'json', '--format', 'nagios'],
  ['check', '--pattern', 'jobs:*', '--pattern', 'x?', '-w', '4', '--unmatched-pattern', 'warning', '--json'],
  ['check', '-c', 'f\\xffo', '-s', '{u}:e', '--cluster', '--tls', '--insecure'],
  ['tail'],
  ['tail', 'news:*', 'sport:*', '--json', '--count', '2'],
  ['tail', '-c', 'orders', '-c', 'payments', '--shards', '-x', 'a*', '-g', 'err', '--timeout', '30s', '--connect-timeout', '2s'],
  ['tail', '--format', '%T %c %s\\n', '--max-payload', '0', '--pretty', '--full', '--idle', '1m'],
  ['bench', '--rate', '100000', '-d', '3s', '--warmup', '0', '-C', '4', '-P', '2', '-S', '3', '--mode', 'spublish', '--replicas', '-T', '1', '--hdr-out', '/tmp/h.txt'],
  ['bench', '-m', '1000', '--subscribe', 'pattern', '--size', '64'],
  ['sandbox'],
  ['sandbox', '--cluster'],
  ['sandbox', '--cluster', '5', '--replicas', '0', '-a', 'pw', '--json'],
  ['demo', '--standalone', '--no-color'],
];

/** What each path hands the command: every declared flag, under its name and its camel-case name. */
function declared(args: Record<string, unknown>, command: string): Record<string, unknown> {
  const module = COMMANDS.find((m) => m.command.split(' ')[0] === command)!;
  const out: Record<string, unknown> = {};
  for (const flag of Object.keys(module.flags)) {
    const camel = flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
    out[flag] = args[flag];
    out[camel] = args[camel];
  }
  return out;
}

describe('quickParse', () => {
  it.each(PLAIN)('reads %j exactly as yargs does', async (...argv) => {
    const quick = quickParse(COMMANDS, argv);
    expect(quick).toBeDefined();
    const slow = await parseCommandLine(argv, { quick: false });
    expect(quick!.module).toBe(slow.module);
    expect(declared(quick!.args, argv[0]!)).toEqual(declared(slow.args, argv[0]!));
  });

  it.each([
    [['watch', '--help']],
    [['watch', '--version']],
    [['--help']],
    [[]],
    [['wibble']],
    [['watch', '--bogus']],
    [['watch', '--sort', 'loudness']],
    [['check', '--format', 'xml']],
    [['watch', 'extra-word']],
    [['tail', '--', '-weird']],
  ])('leaves %j to yargs, which explains it', (argv) => {
    expect(quickParse(COMMANDS, argv)).toBeUndefined();
  });
});
