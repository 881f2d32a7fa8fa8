// How every --json document is written: one line, and safe on a terminal (see terminalSafeJson).
import { terminalSafeJson } from '../escape.js';

/** `value` as one JSON line: C1, bidi and invisible characters in its strings become \uNNNN escapes. */
export function jsonLine(value: unknown): string {
  return `${terminalSafeJson(JSON.stringify(value))}\n`;
}
