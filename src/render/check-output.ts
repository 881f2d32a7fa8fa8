// Renders a `check` result as text for people, JSON, a Nagios plugin line, or Prometheus metrics.

import { EXIT_CODES, type ChannelVerdict, type CheckResult, type CheckStatus } from '../stats/check.js';
import { makePalette, type Paint, type Palette } from './color.js';
import { escapeText } from './escape.js';
import { formatCount } from './format.js';
import { renderTable, type Cell } from './table.js';
import { checkToJson } from './json/check.js';
import { nagiosText, promFamily, promLabel, STATUS_HELP, type CheckFormat } from './check-error.js';


export interface RenderCheckOptions {
  /** Paint with ANSI colours (text format only; the others are for machines). */
  color: boolean;
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

function renderText(result: CheckResult, p: Palette): string {
  const rows = result.verdicts.map((v): Cell[] => [
    { text: v.status, paint: statusPaint(v.status, p) },
    { text: escapeText(v.name) },
    { text: v.kind },
    { text: formatCount(v.subscribers) },
    { text: v.reason + (v.matchedBy !== undefined ? ` [matched by '${escapeText(v.matchedBy)}']` : '') },
  ]);
  const lines = [statusPaint(result.status, p)(escapeText(result.summary))];
  if (rows.length > 0) {
    const table = renderTable(undefined, ['left', 'left', 'left', 'left', 'left'], rows, p);
    for (const line of table.split('\n')) lines.push(`  ${line}`);
  }
  for (const note of result.notes) lines.push(p.dim(`note: ${escapeText(note)}`));
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

function renderNagios(result: CheckResult): string {
  // Thresholds use the range syntax `N:`, which alerts when the value falls below N.
  const warn = result.warnBelow !== undefined ? `${result.warnBelow}:` : '';
  const crit = `${result.minSubscribers}:`;
  const perfdata = result.verdicts.map((v) => `${nagiosLabel(v)}=${v.subscribers};${warn};${crit};0;`);
  // `U` is the perfdata value for "could not be determined".
  const patterns = result.patternsUnknown ? 'U' : String(result.patternSubscriptions);
  perfdata.push(`pattern_subscriptions=${patterns};;;0;`);
  return `PUBSUB ${nagiosText(result.summary)} | ${perfdata.join(' ')}\n`;
}

function renderPrometheus(result: CheckResult): string {
  const labels = (v: ChannelVerdict): string => `{channel="${promLabel(v.name)}",kind="${v.kind}"}`;
  const lines = [
    ...promFamily('pubsub_mon_check_status', `Overall check status: ${STATUS_HELP}.`, [
      `pubsub_mon_check_status ${EXIT_CODES[result.status]}`,
    ]),
    ...promFamily('pubsub_mon_check_min_subscribers', 'Subscribers a channel needs to pass the check.', [
      `pubsub_mon_check_min_subscribers ${result.minSubscribers}`,
    ]),
    ...promFamily(
      'pubsub_mon_pattern_subscriptions',
      'Pattern subscriptions (NUMPAT summed over nodes, pubsub-mon excluded); NaN when not readable on every node.',
      [`pubsub_mon_pattern_subscriptions ${result.patternsUnknown ? 'NaN' : result.patternSubscriptions}`],
    ),
    ...promFamily(
      'pubsub_mon_channel_subscribers',
      'Subscribers of a channel summed over nodes; pattern subscribers are not included.',
      result.verdicts.map((v) => `pubsub_mon_channel_subscribers${labels(v)} ${v.subscribers}`),
    ),
    ...promFamily(
      'pubsub_mon_channel_status',
      `Check status of a channel: ${STATUS_HELP}.`,
      result.verdicts.map((v) => `pubsub_mon_channel_status${labels(v)} ${EXIT_CODES[v.status]}`),
    ),
  ];
  return `${lines.join('\n')}\n`;
}

/** The check result in the chosen format; always ends with a newline. */
export function renderCheck(result: CheckResult, format: CheckFormat, opts: RenderCheckOptions): string {
  switch (format) {
    case 'text':
      return renderText(result, makePalette(opts.color));
    case 'json':
      return `${JSON.stringify(checkToJson(result))}\n`;
    case 'nagios':
      return renderNagios(result);
    case 'prometheus':
      return renderPrometheus(result);
  }
}
