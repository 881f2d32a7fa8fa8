// `pubsub-mon check`: a CI and alerting gate on channels with too few subscribers (Nagios exit codes).
import { defineCommand } from './command.js';
import { targetFor, useColor } from './io.js';
import { choice, CONNECTION_FLAGS, duration, integer, OUTPUT_FLAGS, text, textList } from '../options.js';
import { declaredChannels, loadContract } from './contract-file.js';
import { sleep } from './io.js';
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
  'unmatched-pattern': choice(UNMATCHED_CHOICES, { default: 'critical', describe: 'Status when a --pattern (or a contract pattern) matches no channel with subscribers' }),
  contract: text({ describe: 'YAML file declaring channels and their thresholds (README: "The channel contract"); each entry is checked' }),
  sample: duration({ default: '5s', min: 100, describe: 'How long message rates are measured when the contract sets min_rate' }),
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
    ['pubsub-mon check --contract channels.yaml', 'every channel the contract declares, each with its own thresholds'],
  ],
  // Whatever goes wrong, a monitoring agent must read UNKNOWN: exit 3, and the line in its format.
  failure: {
    exitCode: EXIT_CODES.UNKNOWN,
    render: (message, raw) => {
      const format = formatOf(raw);
      return format === 'text' ? undefined : renderCheckError(message, format);
    },
  },
  async run(args, io, signal) {
    const format: CheckFormat = args.format ?? (args.json ? 'json' : 'text');
    if (args.channel.length + args.shardChannel.length + args.pattern.length === 0 && args.contract === undefined) {
      throw new UsageError('name what to check: --channel NAME, --shard-channel NAME, --pattern GLOB or --contract FILE');
    }
    if (args.warn !== undefined && args.warn < args.minSubscribers) {
      throw new UsageError(`--warn must be at least ${args.minSubscribers}, got ${args.warn}`);
    }
    const contract = args.contract !== undefined ? await loadContract(args.contract) : undefined;
    const target = targetFor(args, io);
    const [{ Monitor }, { evaluateCheck, selectTargets, snapshotFacts }, { contractTargets, needsRates, patternOutcomes }, { renderCheck }, { checkMetricsText }] = await Promise.all([
      import('../redis/monitor.js'),
      import('../stats/check.js'),
      import('../stats/contract.js'),
      import('../render/check-output.js'),
      import('../render/prometheus.js'),
    ]);
    const rates = contract !== undefined && needsRates(contract) !== undefined;
    // Keyspace channels are read too: one named outright is judged (selectTargets leaves them out of broad globs).
    // Named channels get a row even with no subscriber, placed on their shard: a node down elsewhere then leaves them decided.
    // A name may be given by its bytes (`\xff`), in the escapes pubsub-mon shows names with.
    const channels = args.channel.map(nameFromArgument);
    const shardChannels = args.shardChannel.map(nameFromArgument);
    const named = [...channels.map((name) => ({ name, kind: 'channel' as const })), ...shardChannels.map((name) => ({ name, kind: 'shard' as const }))];
    const monitor = await Monitor.open(target, { role: 'check', health: false, includeKeyspace: true, rates, declared: [...declaredChannels(contract), ...named] });
    const snapshot = await (async () => {
      // A rate is a difference: the first snapshot starts the sampler, the second one --sample later measures.
      if (rates) {
        await monitor.snapshot();
        await sleep(args.sample, signal);
      }
      return monitor.snapshot();
    })().finally(() => monitor.close());
    const asked = selectTargets(snapshot, channels, shardChannels, args.pattern);
    const declared = contract ? contractTargets(snapshot, contract) : undefined;
    const unmatchedStatus = UNMATCHED_STATUS[args.unmatchedPattern];
    const result = evaluateCheck({
      // The contract's first: a channel it names (or matches) keeps its own terms when -c or --pattern names it too.
      targets: [...(declared?.targets ?? []), ...asked.targets],
      minSubscribers: args.minSubscribers,
      ...(args.warn !== undefined ? { warnBelow: args.warn } : {}),
      ...snapshotFacts(snapshot),
      unmatchedPatterns: [...asked.unmatched, ...(declared?.unmatched ?? [])],
      unmatchedStatus,
    });
    const patterns = declared ? patternOutcomes(declared, result.verdicts, unmatchedStatus, snapshot) : [];
    io.stdout.write(format === 'prometheus' ? await checkMetricsText(result, patterns) : renderCheck(result, format, { color: format === 'text' && useColor(io, args.color), ...(io.stdout.isTTY && io.stdout.columns ? { width: io.stdout.columns } : {}) }));
    return EXIT_CODES[result.status];
  },
});
