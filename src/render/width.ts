// Terminal columns, not code points: a CJK character or an emoji takes two, a combining accent none.
import stringWidth from 'string-width';

/** Columns `s` takes on a terminal; ANSI colour codes take none. */
export function displayWidth(s: string): number {
  // Most of what watch shows is ASCII: counting it directly keeps a 200-row frame cheap.
  // So is Latin-1 and the punctuation watch draws itself (– · … µ): one column per code unit.
  if (/^[\x20-\x7e\u00a0-\u02ff\u2010-\u2027\u2030-\u205e]*$/.test(s)) return s.length;
  return stringWidth(s);
}

/** One code point at a time, with the columns it takes. */
function* columnsOf(s: string): Generator<[string, number]> {
  for (const ch of s) yield [ch, stringWidth(ch)];
}

/**
 * Cuts plain text (no ANSI codes) to at most `max` columns, marking the cut with `…`; a wide
 * character that would straddle the edge is left out whole.
 */
export function fitWidth(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  if (max <= 0) return '';
  let out = '';
  let used = 0;
  for (const [ch, w] of columnsOf(s)) {
    if (used + w > max - 1) break;
    out += ch;
    used += w;
  }
  return `${out}…`;
}

const SGR_RESET = '\x1b[0m';

/**
 * Cuts a finished line, colour codes and all, to `max` columns: the last guard that keeps a
 * terminal from wrapping it. Escape sequences pass through whole; colour is reset after a cut.
 */
export function clipLine(line: string, max: number): string {
  if (displayWidth(line) <= max) return line;
  let out = '';
  let used = 0;
  let painted = false;
  for (let i = 0; i < line.length; ) {
    if (line.charCodeAt(i) === 0x1b && line[i + 1] === '[') {
      // A CSI sequence ends at its first byte in @..~.
      let j = i + 2;
      while (j < line.length && !(line.charCodeAt(j) >= 0x40 && line.charCodeAt(j) <= 0x7e)) j++;
      out += line.slice(i, j + 1);
      painted = true;
      i = j + 1;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    const w = stringWidth(ch);
    if (used + w > max) break;
    out += ch;
    used += w;
    i += ch.length;
  }
  return painted ? out + SGR_RESET : out;
}

/** A piece of a status line; lower `priority` numbers are kept first when the line is too long. */
export interface LinePart {
  text: string;
  priority: number;
  /** May be cut with `…` to the room left rather than left out (a list of hidden columns). */
  cut?: boolean;
}

/** A part cut shorter than this says too little to be worth showing. */
const MIN_CUT_PART = 12;

/**
 * Joins the parts that fit in `max` columns, in their given order, leaving out the least important
 * ones first (without `max`, all of them).
 */
export function joinFitting(parts: readonly LinePart[], separator: string, max?: number): string {
  if (max === undefined) return parts.map((p) => p.text).join(separator);
  const kept = new Map<number, string>();
  let used = 0;
  const byPriority = parts.map((p, i) => ({ ...p, i })).sort((a, b) => a.priority - b.priority || a.i - b.i);
  for (const part of byPriority) {
    const sep = kept.size > 0 ? separator.length : 0;
    const cost = displayWidth(part.text) + sep;
    if (used + cost <= max) {
      kept.set(part.i, part.text);
      used += cost;
    } else if (kept.size === 0) {
      // The most important part alone is too long: cut it visibly (painted text is left to clipLine).
      kept.set(part.i, part.text.includes('\x1b') ? part.text : fitWidth(part.text, max));
      used = max;
    } else if (part.cut && max - used - sep >= MIN_CUT_PART) {
      kept.set(part.i, fitWidth(part.text, max - used - sep));
      used = max;
    }
  }
  return [...kept.entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text).join(separator);
}

/**
 * Cuts plain text to `max` columns by taking out its middle: names that share a long prefix
 * (`app:tenant:1234:orders`, `app:tenant:1234:invoices`) stay told apart by their ends.
 */
export function fitMiddle(s: string, max: number): string {
  if (displayWidth(s) <= max) return s;
  if (max < 8) return fitWidth(s, max);
  const points = [...columnsOf(s)];
  const headRoom = Math.ceil((max - 1) * 0.6);
  let tailRoom = max - 1 - headRoom;
  let head = '';
  let used = 0;
  for (const [ch, w] of points) {
    if (used + w > headRoom) break;
    head += ch;
    used += w;
  }
  tailRoom += headRoom - used;
  let tail = '';
  for (let i = points.length - 1; i >= 0; i--) {
    const [ch, w] = points[i]!;
    if (w > tailRoom) break;
    tail = ch + tail;
    tailRoom -= w;
  }
  return `${head}…${tail}`;
}

/**
 * Plain-text parts packed into lines of at most `max` columns, joined by `separator` within a line
 * and broken between parts (the separator is dropped at a break: end a part with its own comma to
 * keep one). A part wider than `max` on its own is broken between its words, never between a number
 * and its unit (`125 µs`); a word wider than `max` (a long host name, text with no spaces) is cut
 * into pieces of `max` columns. Without `max`, one line.
 */
export function wrapParts(parts: readonly string[], separator: string, max?: number): string[] {
  if (max === undefined) return [parts.join(separator)];
  const lines: string[] = [];
  let line = '';
  const place = (piece: string, sep: string) => {
    const joined = line === '' ? piece : line + sep + piece;
    if (line !== '' && displayWidth(joined) > max) {
      lines.push(line);
      line = piece;
    } else {
      line = joined;
    }
  };
  const placeWord = (word: string, sep: string) => {
    if (displayWidth(word) <= max) return place(word, sep);
    hardBreak(word, max).forEach((piece, i) => (i === 0 ? place(piece, sep) : (lines.push(line), (line = piece))));
  };
  for (const part of parts) {
    if (displayWidth(part) <= max) place(part, separator);
    // Too wide alone: its words are placed one by one, the first after the separator.
    else words(part).forEach((word, i) => placeWord(word, i === 0 ? separator : ' '));
  }
  lines.push(line);
  return lines;
}

/** Units that stay on the line of the number before them. */
const UNIT = /^(ns|µs|ms|s|B|KiB|MiB|GiB|TiB|k|M|G|\/s|k\/s|M\/s|G\/s|%|cores?)[,;:.)]*$/;

/** A text's words: split at spaces, with a unit kept together with its number. */
function words(text: string): string[] {
  const out: string[] = [];
  for (const word of text.split(' ')) {
    if (out.length > 0 && UNIT.test(word) && /\d$/.test(out[out.length - 1]!)) out[out.length - 1] += ` ${word}`;
    else out.push(word);
  }
  return out;
}

/** A word cut into pieces of at most `max` columns (a wide character is never split). */
function hardBreak(word: string, max: number): string[] {
  const pieces: string[] = [];
  let piece = '';
  let used = 0;
  for (const [ch, w] of columnsOf(word)) {
    if (used + w > max && piece !== '') {
      pieces.push(piece);
      piece = '';
      used = 0;
    }
    piece += ch;
    used += w;
  }
  pieces.push(piece);
  return pieces;
}

/** Plain text broken between words into lines of `max` columns, every line after the first indented. */
export function wrapText(text: string, max: number | undefined, indent = 2): string {
  if (max === undefined) return text;
  const [first = '', ...rest] = wrapParts(words(text), ' ', max);
  // The lines after the first are narrower by the indent: wrap what follows the first line again.
  if (rest.length === 0) return first;
  const pad = ' '.repeat(indent);
  return [first, ...wrapParts(words(rest.join(' ')), ' ', Math.max(1, max - indent)).map((l) => pad + l)].join('\n');
}
