// A benchmark script's `--name N` options: declared once as data, parsed into whole numbers.
// @ts-check
import { parseArgs } from 'node:util';

/**
 * @typedef {object} NumberOption
 * @property {number} default
 * @property {string} describe  one line for the usage text
 * @property {number} [min]  the smallest value accepted; 1 unless given
 */

/**
 * `shard-channels` -> `shardChannels`: the settings are keyed as JavaScript names.
 * @template {string} S
 * @typedef {S extends `${infer Head}-${infer Tail}` ? `${Head}${Capitalize<CamelCase<Tail>>}` : S} CamelCase
 */

/**
 * @template {Record<string, NumberOption>} O
 * @typedef {{ [K in keyof O & string as CamelCase<K>]: number }} NumberSettings
 */

/**
 * Parses `argv` against `options`. Returns an Error (with the options listed) instead of throwing,
 * so that the caller decides how a usage error ends the script.
 * @template {Record<string, NumberOption>} O
 * @param {string[]} argv
 * @param {O} options
 * @returns {NumberSettings<O> | Error}
 */
export function parseNumberOptions(argv, options) {
  const entries = Object.entries(options);
  /** @type {Record<string, string | boolean | undefined>} */
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: Object.fromEntries(entries.map(([name, o]) => [name, { type: 'string', default: String(o.default) }])),
      strict: true,
    }));
  } catch (err) {
    const help = entries.map(([name, o]) => `  --${name} N  ${o.describe} (default ${o.default})`).join('\n');
    return new Error(`${err instanceof Error ? err.message : String(err)}\n${help}`);
  }
  /** @type {Record<string, number>} */
  const out = {};
  for (const [name, o] of entries) {
    const v = Number(values[name]);
    const min = o.min ?? 1;
    if (!Number.isInteger(v) || v < min) return new Error(`--${name} must be a whole number from ${min}, got ${values[name]}`);
    out[name.replace(/-([a-z])/g, (_m, c) => c.toUpperCase())] = v;
  }
  // The loop above filled one key per option, camel-cased as NumberSettings<O> says.
  return /** @type {NumberSettings<O>} */ (out);
}
