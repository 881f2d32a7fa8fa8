// Turns untrusted pub/sub bytes (payloads, channel names) into text that is safe to print on a terminal.
import { isUtf8 } from 'node:buffer';

/*
 * Escape conventions, chosen so that every output reads back to exactly one input:
 *   \xNN    one raw byte: an ASCII control (C0 or DEL) or a byte that is not part of valid UTF-8
 *   \uNNNN  one valid but dangerous code point: a C1 control (U+0080-U+009F) or a bidi override
 *   \n \r \t  those three controls, because they are common and `\x0a` reads badly
 *   \\      a literal backslash, so that a payload containing the text `\x1b` stays distinguishable
 * C1 controls use `\u` rather than `\x` because `\x9b` already means "the lone byte 0x9b".
 */

/** What each byte below 0x80 becomes; undefined means it is printed as itself. */
const ASCII_ESCAPES: readonly (string | undefined)[] = (() => {
  const table: (string | undefined)[] = [];
  for (let b = 0; b < 0x80; b++) {
    if (b === 0x0a) table.push('\\n');
    else if (b === 0x0d) table.push('\\r');
    else if (b === 0x09) table.push('\\t');
    else if (b === 0x5c) table.push('\\\\');
    else if (b < 0x20 || b === 0x7f) table.push(`\\x${b.toString(16).padStart(2, '0')}`);
    else table.push(undefined);
  }
  return table;
})();

/** `\xNN` for every byte value, built once so the per-message path formats no numbers. */
const BYTE_ESCAPES: readonly string[] = Array.from({ length: 256 }, (_, b) => `\\x${b.toString(16).padStart(2, '0')}`);

function codePointEscape(cp: number): string {
  return `\\u${cp.toString(16).padStart(4, '0')}`;
}

export interface DecodedText {
  text: string;
  /** False when the bytes are not valid UTF-8; `text` then holds U+FFFD where bytes were lost. */
  valid: boolean;
}

/** Decodes bytes as UTF-8 and says whether that was lossless. */
export function decodeUtf8(buf: Buffer): DecodedText {
  return { text: buf.toString('utf8'), valid: isUtf8(buf) };
}

/**
 * Length of the well-formed UTF-8 sequence starting at `i` (2-4), or 0 when the lead byte does not
 * start one. Follows the Unicode table of well-formed sequences, so overlongs (C0 AF, E0 80 80),
 * encoded surrogates (ED A0 80) and code points above U+10FFFF are all rejected.
 */
function sequenceLength(buf: Buffer, i: number): number {
  const b0 = buf[i] ?? 0;
  // Out of range reads as -1, which fails every continuation-byte test: a truncated sequence is invalid.
  const b1 = buf[i + 1] ?? -1;
  const cont = (b: number): boolean => b >= 0x80 && b <= 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(b1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    const lo = b0 === 0xe0 ? 0xa0 : 0x80;
    const hi = b0 === 0xed ? 0x9f : 0xbf;
    return b1 >= lo && b1 <= hi && cont(buf[i + 2] ?? -1) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    const lo = b0 === 0xf0 ? 0x90 : 0x80;
    const hi = b0 === 0xf4 ? 0x8f : 0xbf;
    return b1 >= lo && b1 <= hi && cont(buf[i + 2] ?? -1) && cont(buf[i + 3] ?? -1) ? 4 : 0;
  }
  return 0;
}

/**
 * True when the bytes at `i` encode a C1 control (C2 80-9F) or a bidi override (E2 80 AA-AE,
 * E2 81 A6-A9). Checked on bytes so the fast path can decide without decoding.
 */
function startsDangerous(buf: Buffer, i: number): boolean {
  const b0 = buf[i];
  const b1 = buf[i + 1] ?? -1;
  if (b0 === 0xc2) return b1 >= 0x80 && b1 <= 0x9f;
  if (b0 !== 0xe2) return false;
  const b2 = buf[i + 2] ?? -1;
  return (b1 === 0x80 && b2 >= 0xaa && b2 <= 0xae) || (b1 === 0x81 && b2 >= 0xa6 && b2 <= 0xa9);
}

/** The byte-by-byte walk, for buffers the fast path found something to escape in. */
function escapeSlow(buf: Buffer): string {
  let out = '';
  // Bytes from `run` to `i` need no escaping; they are copied in one toString call.
  let run = 0;
  let i = 0;
  const n = buf.length;
  while (i < n) {
    const b = buf[i] ?? 0;
    if (b < 0x80) {
      const esc = ASCII_ESCAPES[b];
      if (esc !== undefined) {
        if (run < i) out += buf.toString('latin1', run, i);
        out += esc;
        run = i + 1;
      }
      i++;
      continue;
    }
    const len = sequenceLength(buf, i);
    if (len === 0) {
      if (run < i) out += buf.toString('utf8', run, i);
      out += BYTE_ESCAPES[b] ?? '';
      i++;
      run = i;
      continue;
    }
    if (startsDangerous(buf, i)) {
      if (run < i) out += buf.toString('utf8', run, i);
      const cp =
        len === 2 ? ((b & 0x1f) << 6) | ((buf[i + 1] ?? 0) & 0x3f)
        : ((b & 0x0f) << 12) | (((buf[i + 1] ?? 0) & 0x3f) << 6) | ((buf[i + 2] ?? 0) & 0x3f);
      out += codePointEscape(cp);
      i += len;
      run = i;
      continue;
    }
    i += len;
  }
  if (run < n) out += buf.toString('utf8', run, n);
  return out;
}

/**
 * Terminal-safe text for arbitrary bytes, with the escapes described at the top of this file.
 * Valid UTF-8 (é, 日本, emoji) is kept as characters. The common case, printable text with no
 * backslash, costs one scan plus one toString.
 */
export function escapeBytes(buf: Buffer): string {
  let ascii = true;
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i] ?? 0;
    if (b < 0x80) {
      if (ASCII_ESCAPES[b] !== undefined) return escapeSlow(buf);
    } else {
      ascii = false;
      if ((b === 0xc2 || b === 0xe2) && startsDangerous(buf, i)) return escapeSlow(buf);
    }
  }
  // latin1 is the cheapest decoder and is exact for ASCII.
  if (ascii) return buf.toString('latin1');
  return isUtf8(buf) ? buf.toString('utf8') : escapeSlow(buf);
}

/** DEL, C1 and bidi overrides: the characters JSON.stringify leaves raw that a terminal must not see. */
const JSON_UNSAFE = /[\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g;

/**
 * Makes JSON text terminal-safe without changing what it means: DEL, C1 and bidi characters can only
 * occur inside JSON strings, where `\uNNNN` is a valid escape for the same character, so the result
 * still parses to the same value. Backslashes are left alone: in JSON each one already starts an
 * escape, so doubling them (as escapeBytes does) would only corrupt the JSON.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => codePointEscape(c.charCodeAt(0)));
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/**
 * Re-emits already validated JSON text with its whitespace removed (indent 0) or re-indented like
 * JSON.stringify(v, null, indent). Works on the text rather than the parsed value so numbers and
 * strings are shown exactly as published: JSON.parse would turn 12345678901234567890 into
 * 12345678901234567000 and 1.50 into 1.5, and a monitor must not alter what it displays.
 */
function reformatJson(text: string, indent: number): string {
  const pads: string[] = [''];
  const newline = (depth: number): string => {
    if (indent === 0) return '';
    let pad = pads[depth];
    if (pad === undefined) {
      pad = ' '.repeat(indent * depth);
      pads[depth] = pad;
    }
    return `\n${pad}`;
  };
  let out = '';
  let depth = 0;
  let i = 0;
  const n = text.length;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (isJsonSpace(c)) {
      i++;
    } else if (c === 0x22 /* " */) {
      let j = i + 1;
      // The text is valid JSON, so the string ends; a backslash always escapes the next character.
      while (j < n && text.charCodeAt(j) !== 0x22) j += text.charCodeAt(j) === 0x5c ? 2 : 1;
      out += text.slice(i, j + 1);
      i = j + 1;
    } else if (c === 0x7b /* { */ || c === 0x5b /* [ */) {
      let k = i + 1;
      while (k < n && isJsonSpace(text.charCodeAt(k))) k++;
      const close = c === 0x7b ? '}' : ']';
      if (text[k] === close) {
        // Empty containers stay `{}` / `[]`, as JSON.stringify prints them.
        out += c === 0x7b ? '{}' : '[]';
        i = k + 1;
      } else {
        depth++;
        out += (c === 0x7b ? '{' : '[') + newline(depth);
        i++;
      }
    } else if (c === 0x7d /* } */ || c === 0x5d /* ] */) {
      depth--;
      out += newline(depth) + (c === 0x7d ? '}' : ']');
      i++;
    } else if (c === 0x2c /* , */) {
      out += `,${newline(depth)}`;
      i++;
    } else if (c === 0x3a /* : */) {
      out += indent === 0 ? ':' : ': ';
      i++;
    } else {
      // A number or a literal (true, false, null): copied verbatim up to the next delimiter.
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (isJsonSpace(d) || d === 0x2c || d === 0x7d || d === 0x5d || d === 0x3a) break;
        j++;
      }
      out += text.slice(i, j);
      i = j;
    }
  }
  return out;
}

/**
 * When `text` is a JSON object or array, the same JSON without insignificant whitespace (or
 * indented by `indent` spaces, at most 10 as in JSON.stringify), made terminal-safe with
 * terminalSafeJson; otherwise undefined. Never throws. Numbers and string escapes are kept exactly
 * as written (see reformatJson), so the result parses to the same value as `text`.
 */
export function compactJson(text: string, indent?: number): string | undefined {
  // Only JSON's own whitespace is skipped: JSON.parse would reject a text led by NBSP or a BOM anyway.
  let start = 0;
  while (start < text.length && isJsonSpace(text.charCodeAt(start))) start++;
  const first = text.charCodeAt(start);
  if (first !== 0x7b && first !== 0x5b) return undefined;
  try {
    JSON.parse(text);
  } catch {
    return undefined;
  }
  const width = indent === undefined || !(indent > 0) ? 0 : Math.min(10, Math.floor(indent));
  return terminalSafeJson(reformatJson(text, width));
}

/** Number of code points in `s`: a surrogate pair (an emoji, say) counts once. */
export function codePointLength(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

function digits(n: number): number {
  return String(n).length;
}

/**
 * UTF-16 index at which to cut `text` to keep at most `budget` code points. A backslash starts an
 * escape that is never split (`\x1b` 4, `\u202e` 6, anything else 2), which holds for both escapeBytes
 * output and JSON text. Returns the index and the code points kept.
 */
function cutIndex(text: string, budget: number): { index: number; kept: number } {
  let i = 0;
  let kept = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    let units = 1;
    let points = 1;
    if (c === 0x5c) {
      const next = text[i + 1];
      units = next === 'x' ? 4 : next === 'u' ? 6 : 2;
      units = Math.min(units, text.length - i);
      points = units;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) units = 2;
    }
    if (kept + points > budget) break;
    kept += points;
    i += units;
  }
  return { index: i, kept };
}

/**
 * Cuts escaped text to at most `maxChars` code points, marker included: `abc…(+N)` where N is the
 * number of code points removed. Escapes and surrogate pairs are never split, so slightly more may
 * go than strictly needed. When `maxChars` cannot hold even the marker, the result is a lone `…`
 * (or '' when maxChars < 1): still a visible sign that something was cut.
 */
export function truncateText(text: string, maxChars: number): string {
  // UTF-16 length bounds the code point count from above, so this skips counting in the common case.
  if (text.length <= maxChars) return text;
  const total = codePointLength(text);
  if (total <= maxChars) return text;
  // The marker's width depends on how much is cut, which depends on the marker's width: start from
  // the smallest marker and widen it until it holds the count it has to show.
  for (let d = 1; d <= digits(total); d++) {
    const budget = maxChars - 4 - d; // `…(+` and `)` around d digits
    if (budget < 0) break;
    const { index, kept } = cutIndex(text, budget);
    const cut = total - kept;
    if (digits(cut) <= d) return `${text.slice(0, index)}…(+${cut})`;
  }
  return maxChars >= 1 ? '…' : '';
}
