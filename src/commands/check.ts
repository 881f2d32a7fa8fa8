// `pubsub-mon check`: a CI and alerting gate on channels with too few subscribers (Nagios exit codes).
import { defineCommand } from './command.js';
import { targetFor, useColor } from './io.js';
import { choice, CONNECTION_FLAGS, integer, OUTPUT_FLAGS, textList } from '../options.js';
import { UsageError } from '../errors.js';
import { EXIT_CODES, type CheckStatus } from '../stats/check.js';
import { CHECK_FORMATS, renderCheckError, type CheckFormat } from '../render/check-error.js';
import { nameFromArgument } from '../stats/channel-name.js';


const UNMATCHED_CHOICES = ['critical', 'warning', 'unknown', 'ok'] as const;
const UNMATCHED_STATUS: Record<(typeof UNMATCHED_CHOICES)[number], CheckStatus> = { critical: 'CRITICAL', warning: 'WARNING', unknown: 'UNKNOWN', ok: 'OK' };

export const CHECK_FLAGS = {
  ...CONNECTION_FLAGS,
  ...OUTPUT_FLAGS,
  channel: textList({ alias: 'c', describe: 'Classic channel that must have subscribers (repeatable; \\xNN names a byte)' }),
  'shard-channel': textList({ alias: 's', describe: 'Sharded channel (SSUBSCRIBE) that must have subscribers (repeatable; \\xNN names a byte)' }),
  pattern: textList({ describe: 'Every current channel matching this glob (repeatable); a glob that matches nothing is CRITICAL (see --unmatched-pattern)' }),
  'min-subscribers': integer({ alias: 'm', default: 1, min: 0, describe: 'CRITICAL below this many subscribers' }),
  warn: integer({ alias: 'w', min: 0, describe: 'WARNING below this many subscribers (at least --min-subscribers)' }),
  format: choice(CHECK_FORMATS, { alias: 'f', describe: 'Output format (default text; --json means json)' }),
  'unmatched-pattern': choice(UNMATCHED_CHOICES, { default: 'critical', describe: 'Status when a --pattern matches no channel with subscribers' }),
} as const;

/** The format the raw arguments ask for, read before (or without) the typed parse, for failures. */
function formatOf(raw: Readonly<Record<string, unknown>>): CheckFormat {
  const asked = Array.isArray(raw.format) ? raw.format[raw.format.length - 1] : raw.format;
  return CHECK_FORMATS.find((f) => f === asked) ?? (raw.json === true ? 'json' : 'text');
}

export const checkCommand = defineCommand({
  command: 'check',
  describe: 'Exit 0/1/2/3 (OK/WARNING/CRITICAL/UNKNOWN) on channels with too few subscribers, for CI and alerting',
  flags: CHECK_FLAGS,
  examples: [
    ['pubsub-mon check -c orders', 'fail (exit 2) when nobody subscribes to orders'],
    ['pubsub-mon check --pattern "jobs:*" -m 2 -w 4 --format nagios', 'a Nagios/Icinga service check'],
    ['pubsub-mon check -s "{user:1}:events" --format prometheus', 'metrics for the textfile collector'],
  ],
  // Whatever goes wrong, a monitoring agent must read UNKNOWN: exit 3, and the line in its format.
  failure: {
    exitCode: EXIT_CODES.UNKNOWN,
    render: (message, raw) => {
      const format = formatOf(raw);
      return format === 'text' ? undefined : renderCheckError(message, format);
    },
  },
  async run(args, io) {
    const format: CheckFormat = args.format ?? (args.json ? 'json' : 'text');
    if (args.channel.length + args.shardChannel.length + args.pattern.length === 0) {
      throw new UsageError('name what to check: --channel NAME, --shard-channel NAME or --pattern GLOB');
    }
    if (args.warn !== undefined && args.warn < args.minSubscribers) {
      throw new UsageError(`--warn must be at least ${args.minSubscribers}, got ${args.warn}`);
    }
    const target = targetFor(args, io);
    const [{ Monitor }, { evaluateCheck, selectTargets }, { renderCheck }] = await Promise.all([
      import('../redis/monitor.js'),
      import('../stats/check.js'),
      import('../render/check-output.js'),
    ]);
    // Keyspace channels are read too: one named outright is judged (selectTargets leaves them out of broad globs).
    const monitor = await Monitor.open(target, { role: 'check', health: false, includeKeyspace: true });
    const snapshot = await monitor.snapshot().finally(() => monitor.close());
    // A name may be given by its bytes (`\xff`), in the escapes pubsub-mon shows names with.
    const { targets, unmatched } = selectTargets(snapshot, args.channel.map(nameFromArgument), args.shardChannel.map(nameFromArgument), args.pattern);
    const down = snapshot.nodes.filter((n) => !n.up && !n.replaced);
    const result = evaluateCheck({
      targets,
      minSubscribers: args.minSubscribers,
      ...(args.warn !== undefined ? { warnBelow: args.warn } : {}),
      patternSubscriptions: snapshot.nodes.reduce((sum, n) => sum + (n.numpat ?? 0), 0),
      patternsUnknown: down.length > 0,
      patternsEstimated: snapshot.nodes.some((n) => n.numpatEstimated === true),
      unmatchedPatterns: unmatched,
      unmatchedStatus: UNMATCHED_STATUS[args.unmatchedPattern],
      unreachableNodes: down.map((n) => `${n.address} (${n.error ?? 'down'})`),
      replacedNodes: snapshot.nodes.filter((n) => n.replaced).map((n) => n.address),
    });
    io.stdout.write(renderCheck(result, format, { color: format === 'text' && useColor(io, args.color) }));
    return EXIT_CODES[result.status];
  },
});
