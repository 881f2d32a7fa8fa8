// Formats one `tail` message as a text line, an NDJSON line or a user template (kcat -f style).
import { isUtf8 } from 'node:buffer';
import { makePalette, stableColor } from './color.js';
import { escapeBytes, escapeText } from './escape.js';
import { compactJson } from './payload-json.js';
import { bytesMarker, codePointLength, cutPayload, truncateText } from './truncate.js';
import { cachedTime, formatIsoTime, formatLocalTime } from './format.js';
import type { TailMessage } from '../stats/tail-message.js';

export interface TextLineOptions {
  color: boolean;
  /** terminal columns; undefined = not a terminal: never cut */
  width?: number;
  /** Show the whole payload even when the line is wider than `width`. */
  full: boolean;
  /** Indent JSON payloads over several lines instead of compacting them. */
  pretty: boolean;
  /** bytes of payload kept at most (--max-payload) */
  maxPayload?: number;
}

export interface FormatOptions {
  /** bytes of payload kept at most (--max-payload) by `%s` and `%e`; `%S` stays the original size */
  maxPayload?: number;
}

/** The line printer for `tail`: one call per message, so it must stay cheap. */
export type TailFormatter = (m: TailMessage) => string;

const localTimeMs = (ms: number): string => formatLocalTime(ms, { millis: true });

/** Two spaces between columns: one space is too easily read as part of a channel name. */
const GAP = '  ';
/** `HH:MM:SS.mmm` */
const TIME_CHARS = 12;
/**
 * The payload keeps at least this many columns even when a long channel name eats the width, so a
 * line always shows some payload (or at least the `…(+N)` marker) rather than nothing.
 */
const MIN_PAYLOAD_COLUMNS = 12;
const PRETTY_INDENT = 2;

/** First byte other than JSON whitespace is `{` or `[`: cheap test before decoding for JSON. */
function looksLikeJson(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) {
    const b = buf[i];
    if (b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09) continue;
    return b === 0x7b || b === 0x5b;
  }
  return false;
}

/** JSON shown compact (or indented), else escaped bytes; `json` says which, for width handling. */
function payloadText(body: Buffer, pretty: boolean): { text: string; json: boolean } {
  if (looksLikeJson(body) && isUtf8(body)) {
    const json = compactJson(body.toString('utf8'), pretty ? PRETTY_INDENT : undefined);
    if (json !== undefined) return { text: json, json: true };
  }
  return { text: escapeBytes(body), json: false };
}

/**
 * The human line: `HH:MM:SS.mmm  channel  (pattern)  payload\n`, with `(shard)` for sharded
 * messages and no third column for plain ones. Widths are counted in code points, so wide
 * characters (CJK, emoji) can still make a cut line wrap. A pretty JSON payload spans several
 * lines and is never cut to the width: the user asked to see its structure.
 */
export function makeTextFormatter(opts: TextLineOptions): TailFormatter {
  const p = makePalette(opts.color);
  const time = cachedTime(localTimeMs);
  const { width, full, pretty, maxPayload, color } = opts;
  const shard = p.dim('(shard)');

  return (m) => {
    const channel = escapeBytes(m.channel);
    let prefix = p.dim(time(m.receivedAt)) + GAP + stableColor(channel, color) + GAP;
    // Visible width of the prefix, tracked beside it so ANSI codes never need stripping.
    let prefixChars = TIME_CHARS + 2 * GAP.length + codePointLength(channel);
    if (m.kind === 'pmessage') {
      const pattern = m.pattern === undefined ? '' : escapeBytes(m.pattern);
      prefix += p.dim(`(${pattern})`) + GAP;
      prefixChars += codePointLength(pattern) + 2 + GAP.length;
    } else if (m.kind === 'smessage') {
      prefix += shard + GAP;
      prefixChars += 7 + GAP.length;
    }

    const { body, cut } = cutPayload(m.payload, maxPayload);
    const marker = bytesMarker(cut);
    const shown = payloadText(body, pretty);
    let text = shown.text;
    if (width !== undefined && !full && !(shown.json && pretty)) {
      const budget = Math.max(MIN_PAYLOAD_COLUMNS, width - prefixChars - marker.length);
      text = truncateText(text, budget);
    }
    return `${prefix}${text}${marker === '' ? '' : p.dim(marker)}\n`;
  };
}

type Getter = (m: TailMessage) => string;

interface TokenSpec {
  description: string;
  /** Called once per compiled template, so each template gets its own time caches. */
  make: (opts: FormatOptions) => Getter;
}

/** The `%x` tokens, keyed by the letter after `%`. */
const TOKENS: Readonly<Record<string, TokenSpec>> = {
  t: {
    description: 'timestamp, ISO 8601 UTC with milliseconds',
    make: () => {
      const ts = cachedTime(formatIsoTime);
      return (m) => ts(m.receivedAt);
    },
  },
  T: {
    description: 'local time, HH:MM:SS.mmm',
    make: () => {
      const ts = cachedTime(localTimeMs);
      return (m) => ts(m.receivedAt);
    },
  },
  c: { description: 'channel (escaped)', make: () => (m) => escapeBytes(m.channel) },
  p: {
    description: 'pattern that matched, for pmessage (escaped; empty otherwise)',
    make: () => (m) => (m.pattern === undefined ? '' : escapeBytes(m.pattern)),
  },
  k: { description: 'kind: message, pmessage or smessage', make: () => (m) => m.kind },
  // The node name can come from a cluster's own announcements, so it is escaped too.
  n: { description: 'node the message came from, host:port', make: () => (m) => escapeText(m.node) },
  s: {
    description: 'payload (escaped, terminal-safe; cut to --max-payload with a …(+N bytes) marker)',
    make: ({ maxPayload }) => (m) => {
      const { body, cut } = cutPayload(m.payload, maxPayload);
      return escapeBytes(body) + bytesMarker(cut);
    },
  },
  S: { description: 'payload size in bytes, before any --max-payload cut', make: () => (m) => String(m.payload.length) },
  e: {
    description: 'payload encoding as --json would give it: utf8 or base64',
    make: ({ maxPayload }) => (m) => (isUtf8(cutPayload(m.payload, maxPayload).body) ? 'utf8' : 'base64'),
  },
};

const BACKSLASH_ESCAPES: Readonly<Record<string, string>> = { n: '\n', t: '\t', '\\': '\\' };

/** Own keys only, so a template can never reach an inherited property such as `toString`. */
function lookup<T>(table: Readonly<Record<string, T>>, key: string | undefined): T | undefined {
  return key !== undefined && Object.hasOwn(table, key) ? table[key] : undefined;
}

/** Every token and escape compileFormat understands, for `--help` and the README. */
export const FORMAT_TOKENS: readonly { token: string; description: string }[] = [
  ...Object.entries(TOKENS).map(([letter, spec]) => ({ token: `%${letter}`, description: spec.description })),
  { token: '%%', description: 'a literal %' },
  { token: '\\n', description: 'newline (the format adds none by itself)' },
  { token: '\\t', description: 'a tab' },
  { token: '\\\\', description: 'a literal backslash' },
];

/** A --format template that cannot be compiled; the command turns it into a usage error. */
export class TemplateError extends Error {}

function unknownToken(token: string): TemplateError {
  const valid = FORMAT_TOKENS.map((t) => t.token).join(' ');
  return new TemplateError(`unknown format token '${token}'; valid tokens: ${valid}`);
}

/**
 * Compiles a kcat -f style template into a formatter. The template is parsed once; each message
 * then costs one pass over the parts. Like kcat, nothing is appended: end the template with `\n`
 * (the two characters backslash and n) to get one message per line. Throws TemplateError on an
 * unknown `%x` or backslash escape, and on a template ending in a lone `%` or `\`.
 */
export function compileFormat(template: string, opts: FormatOptions = {}): TailFormatter {
  const parts: (string | Getter)[] = [];
  let literal = '';
  for (let i = 0; i < template.length; i++) {
    const c = template[i];
    if (c !== '%' && c !== '\\') {
      literal += c;
      continue;
    }
    const next = template[i + 1];
    i++;
    if (c === '\\') {
      const esc = lookup(BACKSLASH_ESCAPES, next);
      if (esc === undefined) throw unknownToken(`\\${next ?? ''}`);
      literal += esc;
    } else if (next === '%') {
      literal += '%';
    } else {
      const spec = lookup(TOKENS, next);
      if (spec === undefined) throw unknownToken(`%${next ?? ''}`);
      if (literal !== '') parts.push(literal);
      literal = '';
      parts.push(spec.make(opts));
    }
  }
  if (literal !== '') parts.push(literal);

  return (m) => {
    let out = '';
    for (const part of parts) out += typeof part === 'string' ? part : part(m);
    return out;
  };
}
