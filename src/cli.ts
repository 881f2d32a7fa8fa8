// Builds the command line from the command modules; main() runs one and turns errors into exit codes.
import yargs, { type Argv } from 'yargs';
import type { CommandModule } from './commands/command.js';
import { complain, processIo, untilInterrupted, type Io } from './commands/io.js';
import { watchCommand } from './commands/watch.js';
import { checkCommand } from './commands/check.js';
import { tailCommand } from './commands/tail.js';
import { benchCommand } from './commands/bench.js';
import { sandboxCommand } from './commands/sandbox.js';
import { demoCommand } from './commands/demo.js';
import { PubsubMonError, UsageError } from './errors.js';

export const COMMANDS: CommandModule[] = [watchCommand, tailCommand, benchCommand, checkCommand, sandboxCommand, demoCommand];

export interface ParsedCommandLine {
  /** The chosen command; undefined when yargs only printed help or a version. */
  module?: CommandModule;
  args: Record<string, unknown>;
  /** Help or version text yargs produced instead of running anything. */
  output: string;
}

/** The yargs parser; building and parsing it has no side effects (no exit, no printing). */
export function buildCli(): Argv {
  let y = yargs()
    .scriptName('pubsub-mon')
    .usage('$0 <command> [options]\n\nWatch, tail, benchmark and check Redis Pub/Sub, on one server or a cluster.')
    .strict()
    .demandCommand(1, 'Name a command: watch, tail, bench, check or sandbox (see --help)')
    .recommendCommands()
    .help('help')
    .version()
    .wrap(Math.min(110, process.stdout.columns || 100))
    .exitProcess(false)
    .epilog('Exit codes: 0 ok, 1 runtime error, 2 bad usage; check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.');
  for (const m of COMMANDS) {
    y = y.command({
      command: m.command,
      describe: m.hidden ? false : m.describe,
      builder: m.builder,
      handler: () => undefined,
    });
  }
  return y;
}

/** Parses argv into a command and its arguments; throws UsageError with yargs' message on bad input. */
export async function parseCommandLine(argv: string[]): Promise<ParsedCommandLine> {
  let output = '';
  let failure: string | undefined;
  const parsed = await buildCli()
    .fail((msg, err) => {
      failure = msg || err?.message || 'bad command line';
    })
    .parseAsync(argv, {}, (_err, _argv, out) => {
      output = out;
    });
  const first = String(parsed._[0] ?? '');
  const module = COMMANDS.find((m) => m.command.split(' ')[0] === first);
  if (failure) {
    // yargs spreads some messages over lines ("Invalid values:\n  Argument: ..."); keep one line.
    const err = new UsageError(failure.replace(/\s*\n\s*/g, ' ').trim());
    if (module?.usageExitCode) Object.defineProperty(err, 'exitCode', { value: module.usageExitCode });
    throw err;
  }
  if (output) return { args: parsed, output };
  return { ...(module ? { module } : {}), args: parsed, output };
}

/** Runs the command line and sets the exit code; the only place errors become exit codes. */
export async function main(argv: string[], io: Io = processIo()): Promise<void> {
  const controller = new AbortController();
  const interrupt = untilInterrupted();
  void interrupt.promise.then(() => controller.abort());
  try {
    const parsed = await parseCommandLine(argv);
    if (!parsed.module) {
      if (parsed.output) io.stdout.write(`${parsed.output}\n`);
      process.exitCode = 0;
      return;
    }
    process.exitCode = await parsed.module.run(parsed.args, io, controller.signal);
  } catch (err) {
    if (err instanceof PubsubMonError) {
      complain(io, err.message);
      process.exitCode = err.exitCode;
    } else {
      const message = err instanceof Error ? err.message : String(err);
      complain(io, `unexpected error: ${message.split('\n')[0]}${io.env.DEBUG ? `\n${(err as Error).stack}` : ' (set DEBUG=1 for details)'}`);
      process.exitCode = 1;
    }
  } finally {
    interrupt.dispose();
  }
}
