// Makes untrusted bytes and text (channel names, payloads, client names, server errors) safe to print on a terminal.
import { isUtf8 } from 'node:buffer';
import { encodeName, sequenceLength } from '../stats/channel-name.js';

/*
 * Escape conventions, chosen so that every output reads back to exactly one input:
 *   \xNN    one raw byte: an ASCII control (C0 or DEL) or a byte that is not part of valid UTF-8
 *   \uNNNN  one valid but dangerous code point: a C1 control (U+0080-U+009F), a bidi control
 *           (U+061C, U+202A-U+202E, U+2066-U+2069), or a character that is invisible or breaks lines
 *           without looking like it (U+00AD, U+200B-U+200F, U+2028, U+2029, U+2060-U+2064, U+FEFF)
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

/**
 * True when the bytes at `i` encode a dangerous code point, checked on bytes so the fast path can
 * decide without decoding: C1 controls (C2 80-9F), the soft hyphen (C2 AD), zero-width characters
 * and directional marks (E2 80 8B-8F), the line and paragraph separators and bidi embeddings and
 * overrides (E2 80 A8-AE), the word joiner and invisible operators (E2 81 A0-A4), bidi isolates
 * (E2 81 A6-A9), the Arabic letter mark (D8 9C), and the BOM or zero-width no-break space (EF BB BF).
 */
function startsDangerous(buf: Buffer, i: number): boolean {
  const b0 = buf[i];
  const b1 = buf[i + 1] ?? -1;
  if (b0 === 0xc2) return (b1 >= 0x80 && b1 <= 0x9f) || b1 === 0xad;
  if (b0 === 0xd8) return b1 === 0x9c;
  const b2 = buf[i + 2] ?? -1;
  if (b0 === 0xef) return b1 === 0xbb && b2 === 0xbf;
  if (b0 !== 0xe2) return false;
  return (b1 === 0x80 && ((b2 >= 0x8b && b2 <= 0x8f) || (b2 >= 0xa8 && b2 <= 0xae))) || (b1 === 0x81 && ((b2 >= 0xa0 && b2 <= 0xa4) || (b2 >= 0xa6 && b2 <= 0xa9)));
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
      if ((b === 0xc2 || b === 0xd8 || b === 0xe2 || b === 0xef) && startsDangerous(buf, i)) return escapeSlow(buf);
    }
  }
  // latin1 is the cheapest decoder and is exact for ASCII.
  if (ascii) return buf.toString('latin1');
  return isUtf8(buf) ? buf.toString('utf8') : escapeSlow(buf);
}

/** DEL, C1, bidi and invisible characters: those JSON.stringify leaves raw that a terminal must not see. */
const JSON_UNSAFE = /[\u007f-\u009f\u00ad\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2064\u2066-\u2069\ufeff]/g;

/**
 * Makes JSON text terminal-safe without changing what it means: DEL, C1 and bidi characters can only
 * occur inside JSON strings, where `\uNNNN` is a valid escape for the same character, so the result
 * still parses to the same value. Backslashes are left alone: in JSON each one already starts an
 * escape, so doubling them (as escapeBytes does) would only corrupt the JSON.
 */
export function terminalSafeJson(json: string): string {
  return json.replace(JSON_UNSAFE, (c) => codePointEscape(c.charCodeAt(0)));
}

/**
 * The same escapes for text that is already a string (a server's error message, a node address, a
 * name decoded earlier): every command shows names and messages one way.
 */
export function escapeText(s: string): string {
  // encodeName gives back a name's exact bytes, those that are not UTF-8 included.
  return escapeBytes(encodeName(s));
}
