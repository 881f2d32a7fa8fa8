// The `tail --json` line: one NDJSON object per message, and the gap/resume markers. This file is the public contract of that output.
import { isUtf8 } from 'node:buffer';
import { terminalSafeJson } from '../escape.js';
import { cutPayload } from '../truncate.js';
import { cachedTime, formatIsoTime } from '../format.js';
import type { TailFormatter } from '../tail-line.js';

export interface JsonLineOptions {
  /** bytes of payload kept at most (--max-payload); `"truncated": true` marks a cut payload */
  maxPayload?: number;
}

/** A JSON string literal that is also safe on a terminal (see terminalSafeJson). */
function jsonString(s: string): string {
  return terminalSafeJson(JSON.stringify(s));
}

/**
 * One NDJSON object per message, binary-safe: text that is valid UTF-8 is kept as text, anything
 * else is base64 and says so (`encoding`, `channel_encoding`, `pattern_encoding`), so the original
 * bytes can always be recovered. `bytes` is the payload's size before any --max-payload cut.
 */
export function makeJsonFormatter(opts: JsonLineOptions): TailFormatter {
  const ts = cachedTime(formatIsoTime);
  const { maxPayload } = opts;
  // Nodes, patterns and channels repeat from message to message: encode each once.
  const nodes = new Map<string, string>();
  const names = new NameCache();

  return (m) => {
    let node = nodes.get(m.node);
    if (node === undefined) nodes.set(m.node, (node = jsonString(m.node)));
    let line = `{"ts":"${ts(m.receivedAt)}","node":${node},"kind":"${m.kind}","pattern":`;
    line += m.pattern === undefined ? 'null' : names.get(m.pattern, 'pattern_encoding');
    line += ',"channel":';
    line += names.get(m.channel, 'channel_encoding');

    const { body, cut } = cutPayload(m.payload, maxPayload);
    if (isPlainAscii(body)) line += `,"payload":"${body.toString('latin1')}","encoding":"utf8"`;
    else if (isUtf8(body)) line += `,"payload":${jsonString(body.toString('utf8'))},"encoding":"utf8"`;
    else line += `,"payload":"${body.toString('base64')}","encoding":"base64"`;
    line += `,"bytes":${m.payload.length}`;
    if (cut > 0) line += ',"truncated":true';
    return `${line}}\n`;
  };
}

/**
 * True for printable ASCII without `"` or `\`: such bytes are their own JSON string body, so the
 * common payload skips the UTF-8 check, JSON.stringify and the terminal-safety pass.
 */
function isPlainAscii(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) {
    const c = buf[i]!;
    if (c < 0x20 || c > 0x7e || c === 0x22 || c === 0x5c) return false;
  }
  return true;
}

/** The JSON value of a channel or pattern (text, or base64 plus its encoding field), cached by its bytes. */
class NameCache {
  private readonly map = new Map<string, string>();
  private static readonly LIMIT = 4096;

  get(name: Buffer, encodingField: string): string {
    // latin1 maps bytes to characters one to one, so it is an exact (and cheap) key for the bytes.
    const key = name.toString('latin1');
    let value = this.map.get(key);
    if (value === undefined) {
      value = isUtf8(name) ? jsonString(name.toString('utf8')) : `"${name.toString('base64')}","${encodingField}":"base64"`;
      // Many distinct names (one per user, say) would grow it without end: start over instead.
      if (this.map.size >= NameCache.LIMIT) this.map.clear();
      this.map.set(key, value);
    }
    return value;
  }
}

/** A gap or resume marker: where messages may be missing, and when the node came back. */
export type TailMarkerJson =
  | { ts: string; kind: 'gap'; node: string; reason: string }
  | { ts: string; kind: 'resumed'; node: string; down_ms: number };

/** The marker as one NDJSON line. */
export function markerLine(marker: TailMarkerJson): string {
  return `${terminalSafeJson(JSON.stringify(marker))}\n`;
}
