// Renders a `check` result as text for people, JSON, or a Nagios plugin line (Prometheus metrics: render/prometheus.ts).

import { type ChannelVerdict, type CheckResult, type CheckStatus } from '../stats/check.js';
import { makePalette, type Paint, type Palette } from './color.js';
import { escapeText } from './escape.js';
import { formatCount } from './format.js';
import { renderTable, type Cell } from './table.js';
import { checkToJson } from './json/check.js';
import { jsonLine } from './json/line.js';
import { nagiosText, type CheckFormat } from './check-error.js';
import { wrapText } from './width.js';


export interface RenderCheckOptions {
  /** Paint with ANSI colours (text format only; the others are for machines). */
  color: boolean;
  /** Terminal columns (text format): the summary and the notes break between words to fit. Absent: one line each. */
  width?: number;
}

function statusPaint(status: CheckStatus, p: Palette): Paint {
  switch (status) {
    case 'OK':
      return p.green;
    case 'WARNING':
      return p.yellow;
    case 'CRITICAL':
      return p.red;
    case 'UNKNOWN':
      return p.cyan;
  }
}

function renderText(result: CheckResult, p: Palette, width: number | undefined): string {
  const rows = result.verdicts.map((v): Cell[] => [
    { text: v.status, paint: statusPaint(v.status, p) },
    { text: escapeText(v.name) },
    { text: v.kind },
    { text: formatCount(v.subscribers) },
    { text: v.reason + (v.matchedBy !== undefined ? ` [matched by '${escapeText(v.matchedBy)}']` : '') },
  ]);
  const paint = statusPaint(result.status, p);
  const lines = wrapText(escapeText(result.summary), width).split('\n').map((l) => paint(l));
  if (rows.length > 0) {
    const table = renderTable(undefined, ['left', 'left', 'left', 'left', 'left'], rows, p);
    for (const line of table.split('\n')) lines.push(`  ${line}`);
  }
  for (const note of result.notes) lines.push(...wrapText(`note: ${escapeText(note)}`, width).split('\n').map((l) => p.dim(l)));
  return `${lines.join('\n')}\n`;
}

/**
 * A perfdata label: always quoted, `'` doubled (Nagios plugin guidelines); `=` is not allowed in
 * a label at all, so it is escaped like a control character.
 */
function nagiosLabel(v: ChannelVerdict): string {
  const raw = v.kind === 'shard' ? `shard:${v.name}` : v.name;
  return `'${nagiosText(raw).replace(/=/g, '\\x3d').replace(/'/g, "''")}'`;
}

/**
 * Nagios keeps at most 8 KB of a plugin's output (MAX_PLUGIN_OUTPUT_LENGTH, 8192 bytes since 3.0;
 * Icinga the same): past it the perfdata is cut off and lost.
 */
const NAGIOS_MAX_BYTES = 8192;
/** The status text gets at most half of it, so the most severe channels' perfdata always has room. */
const NAGIOS_TEXT_BYTES = 4096;
const SEVERITY_ORDER: Record<ChannelVerdict['status'], number> = { CRITICAL: 0, UNKNOWN: 1, WARNING: 2, OK: 3 };

/** `text` cut to at most `max` bytes of UTF-8 (never inside a character), marked with … when cut. */
function cutBytes(text: string, max: number): string {
  if (Buffer.byteLength(text) <= max) return text;
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > max - 3) break;
    out += ch;
    bytes += n;
  }
  return `${out}…`;
}

/**
 * One plugin line within Nagios' limit: the status text, then every channel's perfdata in the
 * order checked; when that is too long, the most severe channels first (then fewest subscribers,
 * then name), as many as fit, saying how many were left out.
 */
function renderNagios(result: CheckResult): string {
  // Thresholds use the range syntax `N:`, which alerts when the value falls below N; each channel's
  // own (a contract's may differ per channel).
  const perfdata = (v: ChannelVerdict) => `${nagiosLabel(v)}=${v.subscribers};${v.thresholds.warn !== undefined ? `${v.thresholds.warn}:` : ''};${v.thresholds.min}:;0;`;
  const channels = result.verdicts.map(perfdata);
  // `U` is the perfdata value for "could not be determined".
  const patterns = `pattern_subscriptions=${result.patternsUnknown ? 'U' : String(result.patternSubscriptions)};;;0;`;
  const text = cutBytes(`PUBSUB ${nagiosText(result.summary)}`, NAGIOS_TEXT_BYTES);
  const line = (kept: string[], note: string) => `${text}${note} | ${[...kept, patterns].join(' ')}\n`;
  if (Buffer.byteLength(line(channels, '')) <= NAGIOS_MAX_BYTES) return line(channels, '');
  const note = (n: number) => ` (perfdata for ${n} of ${channels.length} channels, the most severe first)`;
  const ordered = [...result.verdicts].sort(
    (a, b) => SEVERITY_ORDER[a.status] - SEVERITY_ORDER[b.status] || a.subscribers - b.subscribers || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0),
  );
  const kept: string[] = [];
  for (const item of ordered.map(perfdata)) {
    if (Buffer.byteLength(line([...kept, item], note(kept.length + 1))) > NAGIOS_MAX_BYTES) break;
    kept.push(item);
  }
  return line(kept, note(kept.length));
}

/** The check result in the chosen format; always ends with a newline. */
export function renderCheck(result: CheckResult, format: Exclude<CheckFormat, 'prometheus'>, opts: RenderCheckOptions): string {
  switch (format) {
    case 'text':
      return renderText(result, makePalette(opts.color), opts.width);
    case 'json':
      return jsonLine(checkToJson(result));
    case 'nagios':
      return renderNagios(result);
  }
}
