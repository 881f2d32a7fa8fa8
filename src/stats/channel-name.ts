// Channel names are bytes. In pubsub-mon they travel as strings that keep every byte: valid UTF-8 as
// the text it is, and each byte that is not part of valid UTF-8 as one lone low surrogate U+DC80-U+DCFF
// (the "surrogateescape" scheme Python uses for file names). Valid UTF-8 never decodes to a lone
// surrogate, so the mapping is exact both ways, and text names stay ordinary strings everywhere.
import { isUtf8 } from 'node:buffer';

/**
 * Length of the well-formed UTF-8 sequence starting at `i` (2-4), or 0 when the lead byte does not
 * start one. Follows the Unicode table of well-formed sequences, so overlongs (C0 AF, E0 80 80),
 * encoded surrogates (ED A0 80) and code points above U+10FFFF are all rejected.
 */
export function sequenceLength(buf: Uint8Array, i: number): number {
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

/** A name as read from a server: its text when valid UTF-8, with each other byte kept as U+DC80-U+DCFF. */
export function decodeName(bytes: Buffer): string {
  if (isUtf8(bytes)) return bytes.toString('utf8');
  let out = '';
  let run = 0;
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i] ?? 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    const len = sequenceLength(bytes, i);
    if (len > 0) {
      i += len;
      continue;
    }
    out += bytes.toString('utf8', run, i) + String.fromCharCode(0xdc00 + b);
    i++;
    run = i;
  }
  return out + bytes.toString('utf8', run);
}

/** A kept byte: a lone low surrogate not preceded by a high one. */
const RAW_BYTE = /(?<![\ud800-\udbff])[\udc80-\udcff]/;

/** True when the name holds bytes that are not valid UTF-8 (JSON then carries it as base64). */
export function hasRawBytes(name: string): boolean {
  return RAW_BYTE.test(name);
}

/** The exact bytes of a name: the inverse of decodeName. */
export function encodeName(name: string): Buffer {
  if (!hasRawBytes(name)) return Buffer.from(name, 'utf8');
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0xdc80 && c <= 0xdcff && !(i > 0 && name.charCodeAt(i - 1) >= 0xd800 && name.charCodeAt(i - 1) <= 0xdbff)) {
      parts.push(Buffer.from(name.slice(run, i), 'utf8'), Buffer.of(c - 0xdc00));
      run = i + 1;
    }
  }
  parts.push(Buffer.from(name.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/** One character per byte: what glob matching compares, since Redis matches `?` and `[...]` against bytes. */
export function byteString(name: string): string {
  return encodeName(name).toString('latin1');
}

const ESCAPE = /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[ntr\\])/g;

/**
 * A channel name typed by a person, in the escapes pubsub-mon shows names with: `\xNN` one byte,
 * `\uNNNN` one character, `\n` `\r` `\t`, `\\` a backslash; anything else is itself. So a name
 * copied from watch or tail names the same bytes again, and a byte that is not UTF-8 can be named.
 */
export function nameFromArgument(text: string): string {
  if (!text.includes('\\')) return text;
  const bytes: Buffer[] = [];
  let run = 0;
  for (const m of text.matchAll(ESCAPE)) {
    bytes.push(Buffer.from(text.slice(run, m.index), 'utf8'));
    const e = m[1]!;
    if (e[0] === 'x') bytes.push(Buffer.of(parseInt(e.slice(1), 16)));
    else if (e[0] === 'u') bytes.push(Buffer.from(String.fromCharCode(parseInt(e.slice(1), 16)), 'utf8'));
    else bytes.push(Buffer.from(e === 'n' ? '\n' : e === 'r' ? '\r' : e === 't' ? '\t' : '\\', 'utf8'));
    run = m.index + m[0].length;
  }
  bytes.push(Buffer.from(text.slice(run), 'utf8'));
  return decodeName(Buffer.concat(bytes));
}

/** A glob's escapes: the byte and character ones pubsub-mon shows names with, or any other escaped character. */
const GLOB_ESCAPE = /\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|[ntr]|[\s\S])/g;

/**
 * A glob typed by a person, with names written as pubsub-mon shows them: `\xNN`, `\uNNNN`, `\n`,
 * `\r`, `\t` become the bytes they name; every other escape (`\\`, `\*`, `\[`) is left for the
 * glob, where it already means "this character itself". So `f\xff*` matches the name shown as
 * `f\xffo`, and `a\\b` still matches the one shown as `a\\b`.
 */
export function globFromArgument(text: string): string {
  if (!text.includes('\\')) return text;
  const bytes: Buffer[] = [];
  let run = 0;
  for (const m of text.matchAll(GLOB_ESCAPE)) {
    const e = m[1]!;
    const named = e.length > 1 || e === 'n' || e === 'r' || e === 't';
    if (!named) continue;
    bytes.push(Buffer.from(text.slice(run, m.index), 'utf8'));
    if (e[0] === 'x' && e.length === 3) bytes.push(Buffer.of(parseInt(e.slice(1), 16)));
    else if (e[0] === 'u' && e.length === 5) bytes.push(Buffer.from(String.fromCharCode(parseInt(e.slice(1), 16)), 'utf8'));
    else bytes.push(Buffer.from(e === 'n' ? '\n' : e === 'r' ? '\r' : '\t', 'utf8'));
    run = m.index + m[0].length;
  }
  bytes.push(Buffer.from(text.slice(run), 'utf8'));
  return decodeName(Buffer.concat(bytes));
}
