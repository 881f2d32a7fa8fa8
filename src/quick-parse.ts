// The command line read without yargs, when it is plain: yargs costs ~50 ms to load, half of what `check` takes.
//
// A plain command line names a known command and only its declared flags, with valid choices and no
// help or version. It is read by yargs-parser, the parser yargs itself uses, with the configuration
// yargs gives it, so the result is the same; anything else (help, a mistake to explain, `--`) returns
// undefined and goes through yargs, which says it in its own words. test/unit/quick-parse.test.ts
// holds the two paths to the same result.
import parseArgs from 'yargs-parser';
import type { CommandModule } from './commands/command.js';

export interface QuickParse {
  module: CommandModule;
  args: Record<string, unknown>;
}

function camelCase(name: string): string {
  return name.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

export function quickParse(commands: readonly CommandModule[], argv: readonly string[]): QuickParse | undefined {
  const [name, ...rest] = argv;
  const module = commands.find((m) => m.command.split(' ')[0] === name);
  if (!module || rest.some((a) => a === '--' || a === '--help' || a === '--version')) return undefined;
  const flags = Object.entries(module.flags);
  const alias: Record<string, string[]> = {};
  const array: string[] = [];
  const boolean: string[] = [];
  const string: string[] = [];
  const defaults: Record<string, unknown> = {};
  const known = new Set(['_', '$0']);
  for (const [flag, { yargs: o, positional }] of flags) {
    known.add(flag).add(camelCase(flag));
    if (positional) continue;
    const aliases = o.alias === undefined ? [] : Array.isArray(o.alias) ? o.alias : [o.alias];
    if (aliases.length > 0) alias[flag] = aliases;
    for (const a of aliases) known.add(a);
    if (o.array) array.push(flag);
    if (o.type === 'boolean') boolean.push(flag);
    else string.push(flag);
    if (o.default !== undefined) defaults[flag] = o.default;
  }
  const parsed = parseArgs.detailed([...rest], {
    alias,
    array,
    boolean,
    string,
    default: defaults,
    configuration: { 'parse-positional-numbers': false, 'populate--': true },
  });
  if (parsed.error) return undefined;
  const args: Record<string, unknown> = { ...parsed.argv };
  // yargs' strict mode: any flag not declared goes to yargs, to be refused there.
  if (Object.keys(args).some((key) => !known.has(key))) return undefined;
  const words = (args._ as unknown[]).map(String);
  const positional = flags.find(([, f]) => f.positional);
  if (positional) {
    args[positional[0]] = words;
    args[camelCase(positional[0])] = words;
  } else if (words.length > 0) return undefined;
  args._ = [name];
  for (const [flag, { yargs: o, positional: isPositional }] of flags) {
    if (isPositional) continue;
    let value = args[flag];
    // A flag given twice takes its last value, as yargs is told to (lastWins in command.ts).
    if (Array.isArray(value) && !o.array) value = value[value.length - 1];
    if (o.choices && value !== undefined && !(o.choices as unknown[]).includes(value)) return undefined;
    for (const key of [flag, camelCase(flag), ...(alias[flag] ?? [])]) if (key in args) args[key] = value;
  }
  return { module, args };
}
