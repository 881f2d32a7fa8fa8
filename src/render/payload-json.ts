// Shows a JSON payload compact or indented, exactly as it was published (numbers and escapes untouched).
import { terminalSafeJson } from './escape.js';

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

