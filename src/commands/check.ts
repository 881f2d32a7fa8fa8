// `pubsub-mon check`: a CI and alerting gate on channels with too few subscribers (Nagios exit codes).
import type { Argv, Options } from 'yargs';
import type { CommandModule } from './command.js';
import { complain, useColor, type Io } from './io.js';
import { CONNECTION_OPTIONS, OUTPUT_OPTIONS, lastWins, targetFromArgs, type ConnectionArgs } from '../options.js';
import { parseInteger } from '../values.js';
import { Monitor } from '../redis/monitor.js';
import { globMatch } from '../stats/glob.js';
import type { Snapshot } from '../stats/snapshot.js';
import { evaluateCheck, EXIT_CODES, type CheckTarget } from '../stats/check.js';
import { renderCheck, renderCheckError, type CheckFormat } from '../render/check-output.js';
import { PubsubMonError, UsageError } from '../errors.js';

const FORMATS = ['text', 'json', 'nagios', 'prometheus'] as const;

export const CHECK_OPTIONS = lastWins({
  channel: { alias: 'c', type: 'string', array: true, describe: 'Classic channel that must have subscribers (repeatable)' },
  'shard-channel': { alias: 's', type: 'string', array: true, describe: 'Sharded channel (SSUBSCRIBE) that must have subscribers (repeatable)' },
  pattern: { type: 'string', array: true, describe: 'Every current channel matching this glob (repeatable); a glob that matches nothing is a WARNING' },
  'min-subscribers': { alias: 'm', type: 'string', default: '1', describe: 'CRITICAL below this many subscribers' },
  warn: { alias: 'w', type: 'string', describe: 'WARNING below this many subscribers (at least --min-subscribers)' },
  format: { alias: 'f', type: 'string', choices: FORMATS, describe: 'Output format (default text; --json means json)' },
} as const satisfies Record<string, Options>);

interface CheckArgs extends ConnectionArgs {
  channel?: string[];
  shardChannel?: string[];
  pattern?: string[];
  minSubscribers: string;
  warn?: string;
  format?: CheckFormat;
  json: boolean;
  color: boolean;
}

/** The channels to judge: named ones (0 when absent) and every current channel a --pattern matches. */
export function selectTargets(s: Snapshot, channels: string[], shardChannels: string[], patterns: string[]): { targets: CheckTarget[]; unmatched: string[] } {
  const targets: CheckTarget[] = [];
  const find = (name: string, kind: 'channel' | 'shard') => s.channels.find((r) => r.name === name && r.kind === kind)?.subscribers ?? 0;
  for (const name of channels) targets.push({ name, kind: 'channel', subscribers: find(name, 'channel') });
  for (const name of shardChannels) targets.push({ name, kind: 'shard', subscribers: find(name, 'shard') });
  const unmatched: string[] = [];
  for (const glob of patterns) {
    const hits = s.channels.filter((r) => globMatch(glob, r.name));
    if (hits.length === 0) unmatched.push(glob);
    for (const r of hits) {
      if (!targets.some((t) => t.name === r.name && t.kind === r.kind)) targets.push({ name: r.name, kind: r.kind, subscribers: r.subscribers, matchedBy: glob });
    }
  }
  return { targets, unmatched };
}

export const checkCommand: CommandModule = {
  command: 'check',
  describe: 'Exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN) on channels with too few subscribers, for CI and alerting',
  usageExitCode: EXIT_CODES.UNKNOWN,
  builder: (y: Argv) => y.options(CONNECTION_OPTIONS).options(OUTPUT_OPTIONS).options(CHECK_OPTIONS)
    .example('pubsub-mon check -c orders', 'fail (exit 2) when nobody subscribes to orders')
    .example('pubsub-mon check --pattern "jobs:*" -m 2 -w 4 --format nagios', 'a Nagios/Icinga service check')
    .example('pubsub-mon check -s "{user:1}:events" --format prometheus', 'metrics for the textfile collector'),
  async run(raw, io: Io) {
    const args = raw as unknown as CheckArgs;
    const format: CheckFormat = args.format ?? (args.json ? 'json' : 'text');
    try {
      const channels = args.channel ?? [];
      const shardChannels = args.shardChannel ?? [];
      const patterns = args.pattern ?? [];
      if (channels.length + shardChannels.length + patterns.length === 0) {
        throw new UsageError('name what to check: --channel NAME, --shard-channel NAME or --pattern GLOB');
      }
      const minSubscribers = parseInteger(args.minSubscribers, '--min-subscribers', 0);
      const warnBelow = args.warn === undefined ? undefined : parseInteger(args.warn, '--warn', minSubscribers);
      const target = targetFromArgs(args, io.env);
      const monitor = await Monitor.open(target, { role: 'check', health: false });
      let snapshot: Snapshot;
      try {
        snapshot = await monitor.snapshot();
      } finally {
        monitor.close();
      }
      const { targets, unmatched } = selectTargets(snapshot, channels, shardChannels, patterns);
      const down = snapshot.nodes.filter((n) => !n.up);
      const result = evaluateCheck({
        targets,
        minSubscribers,
        ...(warnBelow !== undefined ? { warnBelow } : {}),
        patternSubscriptions: snapshot.nodes.reduce((sum, n) => sum + (n.numpat ?? 0), 0),
        patternsUnknown: down.length > 0,
        unmatchedPatterns: unmatched,
        unreachableNodes: down.map((n) => `${n.address} (${n.error ?? 'down'})`),
      });
      io.stdout.write(renderCheck(result, format, { color: format === 'text' && useColor(io, args.color) }));
      return EXIT_CODES[result.status];
    } catch (err) {
      if (!(err instanceof PubsubMonError)) throw err;
      complain(io, err.message);
      if (format !== 'text') io.stdout.write(renderCheckError(err.message, format));
      return EXIT_CODES.UNKNOWN;
    }
  },
};
