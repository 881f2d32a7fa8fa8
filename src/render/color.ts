// ANSI colour helpers that turn into identity functions when colour is off.

export type Paint = (s: string) => string;

export interface Palette {
  red: Paint;
  yellow: Paint;
  green: Paint;
  dim: Paint;
  bold: Paint;
  cyan: Paint;
}

const identity: Paint = (s) => s;

/** `close` resets only what `open` set, so a painted piece can sit inside another. */
function sgr(open: number, close: number): Paint {
  return (s) => `\u001b[${open}m${s}\u001b[${close}m`;
}

const ON: Palette = {
  red: sgr(31, 39),
  yellow: sgr(33, 39),
  green: sgr(32, 39),
  dim: sgr(2, 22),
  bold: sgr(1, 22),
  cyan: sgr(36, 39),
};

const OFF: Palette = {
  red: identity,
  yellow: identity,
  green: identity,
  dim: identity,
  bold: identity,
  cyan: identity,
};

export function makePalette(enabled: boolean): Palette {
  return enabled ? ON : OFF;
}

/** Red is left out: in pubsub-mon it means trouble, and a channel name is not trouble. */
const NAME_COLOURS: readonly number[] = [36, 32, 33, 35, 34, 96];

/** FNV-1a over UTF-16 code units: cheap, and stable across runs and machines. */
function hashName(name: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * Paints `name` in a colour chosen by its hash, so one channel keeps one colour across lines and
 * runs. `name` must already be escaped (see escape.ts): this only adds colour codes.
 */
export function stableColor(name: string, enabled: boolean): string {
  if (!enabled) return name;
  const code = NAME_COLOURS[hashName(name) % NAME_COLOURS.length] ?? 36;
  return `\u001b[${code}m${name}\u001b[39m`;
}
