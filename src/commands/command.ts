// The shape of a subcommand: its flags as data, a run function over their typed values, and how its failures are reported.
import type { Argv, Options, PositionalOptions } from 'yargs';
import type { Io } from './io.js';
import { parseFlags, type Flags, type FlagValues } from '../options.js';
import { UsageError } from '../errors.js';

/** A run bound to its parsed arguments: all that is left is where to print and when to stop. */
export type PreparedRun = (io: Io, signal: AbortSignal) => Promise<number>;

/** How every failure of a command is reported, whatever its cause: check answers UNKNOWN (3) in its own format. */
export interface FailurePolicy {
  exitCode: number;
  /** The stdout document saying the command could not run, in the format the arguments chose; undefined for none. */
  render?: (message: string, raw: Readonly<Record<string, unknown>>) => string | undefined;
}

/** What a command module declares; defineCommand turns it into a CommandModule. */
export interface CommandSpec<F extends Flags> {
  /** yargs command string, e.g. `tail [patterns..]`. */
  command: string;
  describe: string;
  /** Hidden from --help (the demo behind `npm start`). */
  hidden?: boolean;
  /** Every flag, and the positional arguments (marked with positional()) in the order the command string names them. */
  flags: F;
  examples?: ReadonlyArray<readonly [command: string, what: string]>;
  epilog?: string;
  failure?: FailurePolicy;
  run(args: FlagValues<F>, io: Io, signal: AbortSignal): Promise<number>;
}

/** A command as cli.ts sees it: the types of its arguments stay inside. */
export interface CommandModule {
  command: string;
  describe: string;
  hidden?: boolean;
  /** The flags as declared, for the quick parse of a plain command line (cli.ts). */
  flags: Flags;
  builder(y: Argv): Argv;
  /** Parses yargs' output into typed arguments (a UsageError naming the flag when a value is bad). */
  prepare(raw: Readonly<Record<string, unknown>>): PreparedRun;
  failure?: FailurePolicy;
}

/** The part of a flag's yargs declaration that applies to a positional argument. */
function positionalOptions(o: Options): PositionalOptions {
  const type = o.type === 'string' || o.type === 'boolean' || o.type === 'number' ? o.type : 'string';
  return { type, ...(o.array ? { array: true } : {}), ...(o.describe !== undefined ? { describe: o.describe } : {}), ...(o.choices ? { choices: o.choices } : {}) };
}

/** A flag given twice takes its last value, as in most CLIs; flags declared as arrays still repeat. */
function lastWins(o: Options): Options {
  return o.array ? o : { ...o, coerce: (v: unknown) => (Array.isArray(v) ? v[v.length - 1] : v) };
}

export function defineCommand<F extends Flags>(spec: CommandSpec<F>): CommandModule {
  return {
    command: spec.command,
    describe: spec.describe,
    flags: spec.flags,
    ...(spec.hidden ? { hidden: true } : {}),
    ...(spec.failure ? { failure: spec.failure } : {}),
    builder: (y) => {
      let out = y;
      const entries = Object.entries(spec.flags);
      for (const [name, flag] of entries) if (flag.positional) out = out.positional(name, positionalOptions(flag.yargs));
      out = out.options(Object.fromEntries(entries.filter(([, flag]) => !flag.positional).map(([name, flag]) => [name, lastWins(flag.yargs)])));
      for (const [command, what] of spec.examples ?? []) out = out.example(command, what);
      return spec.epilog ? out.epilog(spec.epilog) : out;
    },
    prepare: (raw) => {
      const args = parseFlags(spec.flags, raw);
      return (io, signal) => spec.run(args, io, signal);
    },
  };
}

/** Parses `argv` as `module`'s arguments alone, as if typed after its name (the demo starts watch this way). */
export async function prepareFrom(module: CommandModule, argv: string[]): Promise<PreparedRun> {
  const { default: yargs } = await import('yargs');
  const parser = module.builder(yargs().exitProcess(false).strict()).fail((msg, err) => {
    throw err ?? new UsageError(msg);
  });
  const raw = await parser.parseAsync(argv);
  return module.prepare(raw);
}
