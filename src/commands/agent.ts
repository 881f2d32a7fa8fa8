// `pubsub-mon agent`: a load host's share of a bench run, waiting for a coordinator (`bench --agents N`) on the control channel.
import os from 'node:os';
import { defineCommand } from './command.js';
import { complain, controlTargetFor, targetFor } from './io.js';
import { bool, CONNECTION_FLAGS, integer, text } from '../options.js';
import { UsageError } from '../errors.js';

const DEFAULT_AGENT_THREADS = 2;

const AGENT_FLAGS = {
  ...CONNECTION_FLAGS,
  name: text({ describe: 'How this agent is named in the report and the control keys (default: host name and pid); letters, digits and . _ @ -' }),
  threads: integer({ alias: 'T', default: DEFAULT_AGENT_THREADS, min: 1, max: 64, describe: 'Worker threads this host\'s share is spread over' }),
  processes: integer({ min: 1, max: 64, describe: 'Spread this host\'s share over N child processes instead of threads (for hosts with many cores)' }),
  once: bool({ describe: 'Exit after one run instead of waiting for the next' }),
  'control-url': text({ describe: 'A separate Redis for the control channel and keys (the coordinator\'s --control-url)' }),
} as const;

export const agentCommand = defineCommand({
  command: 'agent',
  describe: 'Wait for a bench coordinator (bench --agents N) and run its share of the load from this host',
  flags: AGENT_FLAGS,
  examples: [
    ['pubsub-mon agent -u redis://10.0.0.5:7000', 'on each load host; then `pubsub-mon bench -u redis://10.0.0.5:7000 --agents N` on one of them'],
    ['pubsub-mon agent -u redis://10.0.0.5:7000 --processes 8 --name loadgen-3', 'a many-core host: eight processes, a name for the report'],
  ],
  epilog: 'The agent and the coordinator meet on the control channel pubsub-mon:ctl:lobby and keep short-lived keys under pubsub-mon:ctl:{RUN}: (removed at the end). Run the same pubsub-mon version on every host: an agent refuses a coordinator of another one.',
  async run(args, io, signal) {
    const { AGENT_NAME } = await import('../bench/control.js');
    const name = args.name ?? `${os.hostname()}-${process.pid}`.replace(/[^A-Za-z0-9._@-]/g, '_').slice(0, 64);
    if (!AGENT_NAME.test(name)) throw new UsageError(`--name takes 1 to 64 letters, digits and . _ @ -, got '${name}'`);
    if (args.processes !== undefined && args.threads !== DEFAULT_AGENT_THREADS) throw new UsageError('--processes and --threads both say how to spread the work here: give one');
    const target = targetFor(args, io);
    const control = controlTargetFor(args.controlUrl, args.timeout, io, args.authWarning);
    const { runAgent } = await import('../bench/agent.js');
    await runAgent(
      target,
      { name, threads: args.processes ?? args.threads, asProcesses: args.processes !== undefined, once: args.once, ...(control ? { control } : {}) },
      { onLine: (line) => complain(io, `agent: ${line}`) },
      signal,
    );
    return 0;
  },
});
