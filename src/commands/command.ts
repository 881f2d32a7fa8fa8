// The shape of a subcommand module: its flags, and a run function that returns an exit code.
import type { Argv } from 'yargs';
import type { Io } from './io.js';

export interface CommandModule {
  /** yargs command string, e.g. `tail [patterns..]`. */
  command: string;
  describe: string;
  /** Hidden from --help (the demo behind `npm start`). */
  hidden?: boolean;
  builder: (y: Argv) => Argv;
  /** Exit code for a usage error: 2 for most commands, 3 (UNKNOWN) for check. */
  usageExitCode?: number;
  // yargs hands over an untyped bag; each module narrows it to its own Args interface.
  run(args: Record<string, unknown>, io: Io, signal: AbortSignal): Promise<number>;
}
