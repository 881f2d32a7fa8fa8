// What check prints on stdout when it could not run (exit 3), in the machine formats; and the text rules those formats share.
import { EXIT_CODES } from '../stats/check.js';
import { escapeText } from './escape.js';
import { checkErrorJson } from './json/check.js';
import { jsonLine } from './json/line.js';

/** The output formats of check. */
export const CHECK_FORMATS = ['text', 'json', 'nagios', 'prometheus'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

/** Plugin output text must stay on one line, and `|` would start the perfdata early. */
export function nagiosText(s: string): string {
  return escapeText(s).replace(/\|/g, '\\x7c');
}

/**
 * A label value from a server (a channel name): first shown as people see it everywhere else
 * (escapeText: no control, bidi or invisible character left), then written in the exposition
 * format, where only `\`, `"` and newline are escaped. The file stays valid and terminal-safe.
 */
export function promLabel(value: string): string {
  return escapeText(value).replace(/\\/g, '\\\\').replace(/"/g, '\\"');
}

export function promFamily(name: string, help: string, samples: string[]): string[] {
  if (samples.length === 0) return [];
  return [`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, ...samples];
}

export const STATUS_HELP = '0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN';

/** What a machine format prints when the check could not run at all (exit 3): the status, and why. */
export function renderCheckError(message: string, format: Exclude<CheckFormat, 'text'>): string {
  switch (format) {
    case 'json':
      return jsonLine(checkErrorJson(message));
    case 'nagios':
      return `PUBSUB UNKNOWN - ${nagiosText(message)}\n`;
    case 'prometheus':
      return `${promFamily('pubsub_mon_check_status', `Overall check status: ${STATUS_HELP}.`, [`pubsub_mon_check_status ${EXIT_CODES.UNKNOWN}`]).join('\n')}\n`;
  }
}
