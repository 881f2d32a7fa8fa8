// What check prints on stdout when it could not run (exit 3), in the machine formats; and the text rules those formats share.
import { EXIT_CODES } from '../stats/check.js';
import { escapeText } from './escape.js';
import { checkErrorJson } from './json/check.js';
import { jsonLine } from './json/line.js';
import { CHECK_METRICS } from './metric-catalog.js';

/** The output formats of check. */
export const CHECK_FORMATS = ['text', 'json', 'nagios', 'prometheus'] as const;
export type CheckFormat = (typeof CHECK_FORMATS)[number];

/** Plugin output text must stay on one line, and `|` would start the perfdata early. */
export function nagiosText(s: string): string {
  return escapeText(s).replace(/\|/g, '\\x7c');
}


/** What a machine format prints when the check could not run at all (exit 3): the status, and why. */
export function renderCheckError(message: string, format: Exclude<CheckFormat, 'text'>): string {
  switch (format) {
    case 'json':
      return jsonLine(checkErrorJson(message));
    case 'nagios':
      return `PUBSUB UNKNOWN - ${nagiosText(message)}\n`;
    case 'prometheus': {
      // Written by hand rather than through prom-client: this path must stay synchronous, and it is one sample.
      const m = CHECK_METRICS.checkStatus;
      return `# HELP ${m.name} ${m.help}\n# TYPE ${m.name} ${m.type}\n${m.name} ${EXIT_CODES.UNKNOWN}\n`;
    }
  }
}
