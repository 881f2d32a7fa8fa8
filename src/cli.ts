// Builds the command line from the command modules; main() runs one and turns every error into an exit code.
import type { Argv } from 'yargs';
import { quickParse } from './quick-parse.js';
import type { CommandModule, PreparedRun } from './commands/command.js';
import { complain, processIo, untilInterrupted, type Io } from './commands/io.js';
import { watchCommand } from './commands/watch.js';
import { checkCommand } from './commands/check.js';
import { exporterCommand } from './commands/exporter.js';
import { tailCommand } from './commands/tail.js';
import { benchCommand } from './commands/bench.js';
import { agentCommand } from './commands/agent.js';
import { sandboxCommand } from './commands/sandbox.js';
import { demoCommand } from './commands/demo.js';
import { PubsubMonError, UsageError } from './errors.js';
import { escapeText } from './render/escape.js';

/**
 * Each module declares its flags and loads what it runs (ioredis, the bench, tables, spinners) only
 * when it runs: `check` and `--help` load nothing they do not use.
 */
export const COMMANDS: CommandModule[] = [watchCommand, tailCommand, benchCommand, agentCommand, checkCommand, exporterCommand, sandboxCommand, demoCommand];

export interface ParsedCommandLine {
  /** The chosen command; undefined when yargs only printed help or a version. */
  module?: CommandModule;
  /** What yargs read, before the commands' own parsing: values as typed, defaults filled in. */
  args: Record<string, unknown>;
  /** Help or version text yargs produced instead of running anything. */
  output: string;
  /** The command, bound to its typed arguments. */
  run?: PreparedRun;
}

/** A bad command line; knows the command it was meant for (if any), whose failure policy then applies. */
export class CommandLineError extends UsageError {
  constructor(
    message: string,
    readonly module?: CommandModule,
    readonly raw?: Readonly<Record<string, unknown>>,
  ) {
    super(message, module?.failure?.exitCode);
  }
}

/**
 * The yargs parser; building and parsing it has no side effects (no exit, no printing). yargs is
 * loaded here, not at start-up: a plain command line never needs it (see quick-parse.ts).
 */
export async function buildCli(): Promise<Argv> {
  const { default: yargs } = await import('yargs');
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
    .epilog('Exit codes: 0 ok, 1 runtime error, 2 bad usage, 130 interrupted; check: 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.');
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

/** Parses argv into a command and its typed arguments; throws CommandLineError on bad input. */
export async function parseCommandLine(argv: string[], options: { quick?: boolean } = {}): Promise<ParsedCommandLine> {
  const quick = options.quick === false ? undefined : quickParse(COMMANDS, argv);
  if (quick) {
    try {
      return { module: quick.module, args: quick.args, output: '', run: quick.module.prepare(quick.args) };
    } catch (err) {
      if (err instanceof UsageError) throw new CommandLineError(err.message, quick.module, quick.args);
      throw err;
    }
  }
  let output = '';
  let failure: string | undefined;
  const parsed = await (await buildCli())
    .fail((msg, err) => {
      failure = msg || err?.message || 'bad command line';
    })
    .parseAsync(argv, {}, (_err, _argv, out) => {
      output = out;
    });
  const first = String(parsed._[0] ?? '');
  const module = COMMANDS.find((m) => m.command.split(' ')[0] === first);
  // yargs spreads some messages over lines ("Invalid values:\n  Argument: ..."); keep one line.
  if (failure) throw new CommandLineError(failure.replace(/\s*\n\s*/g, ' ').trim(), module);
  if (output || !module) return { args: parsed, output };
  try {
    return { module, args: parsed, output, run: module.prepare(parsed) };
  } catch (err) {
    if (err instanceof UsageError) throw new CommandLineError(err.message, module, parsed);
    throw err;
  }
}

/**
 * One line on stderr for any failure, escaped (it may quote a server), with a bug's stack under
 * DEBUG; then the exit code: the command's failure policy when it has one, else the error's own,
 * else 1 for an unexpected error.
 */
function report(err: unknown, io: Io, module: CommandModule | undefined, raw: Readonly<Record<string, unknown>> | undefined): number {
  const known = err instanceof PubsubMonError;
  const text = err instanceof Error ? err.message : String(err);
  const message = known ? text : `unexpected error: ${text.split('\n')[0]}`;
  const debug = !known && Boolean(io.env.DEBUG);
  complain(io, known || debug ? message : `${message} (set DEBUG=1 for details)`);
  // The stack keeps its lines; each is escaped, as its first repeats a message that may quote a server.
  if (debug) io.stderr.write(`${String(err instanceof Error ? err.stack : text).split('\n').map(escapeText).join('\n')}\n`);
  if (module?.failure) {
    const doc = raw ? module.failure.render?.(message, raw) : undefined;
    if (doc !== undefined) io.stdout.write(doc);
    return module.failure.exitCode;
  }
  return known ? err.exitCode : 1;
}

/** Runs the command line and sets the exit code; the only place errors become exit codes. */
export async function main(argv: string[], io: Io = processIo()): Promise<void> {
  const controller = new AbortController();
  const interrupt = untilInterrupted();
  let interruptedBy: string | undefined;
  void interrupt.promise.then((sig) => {
    interruptedBy = sig;
    controller.abort();
  });
  // The reader went away: a pipe closed (`watch --json | head -n 1`, EPIPE) or the terminal was
  // closed (EIO). That is how output ends, so stop quietly: an error thrown here would be uncaught
  // and kill us half-way through stopping a sandbox.
  const readerGone = (err: NodeJS.ErrnoException) => err.code === 'EPIPE' || err.code === 'EIO';
  io.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (!readerGone(err)) throw err;
    controller.abort();
  });
  // Nowhere left to say anything; whatever is running (its cleanup above all) carries on.
  io.stderr.on('error', (err: NodeJS.ErrnoException) => {
    if (!readerGone(err)) throw err;
  });
  let parsed: ParsedCommandLine | undefined;
  try {
    parsed = await parseCommandLine(argv);
    if (!parsed.run) {
      if (parsed.output) io.stdout.write(`${parsed.output}\n`);
      process.exitCode = 0;
      return;
    }
    process.exitCode = await parsed.run(io, controller.signal);
  } catch (err) {
    const line = err instanceof CommandLineError ? err : undefined;
    process.exitCode = report(err, io, parsed?.module ?? line?.module, parsed?.args ?? line?.raw);
  } finally {
    interrupt.dispose();
    // The listeners stay: a write still in flight (the cursor restored at exit) may fail after this.
  }
  // Cleaned up after a hang-up, end as the hang-up would have ended us (the handler is gone now):
  // nobody is left to read an exit code, and node 20 aborts with a core dump when a normal exit
  // tries to restore a terminal that has gone away (nodejs/node#51519).
  if (interruptedBy === 'SIGHUP') process.kill(process.pid, 'SIGHUP');
}
