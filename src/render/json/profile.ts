// A traffic profile as the file holds it: JSON laid out for people (one line per channel), names as pubsub-mon shows them.
import { PROFILE_VERSION, type Profile } from '../../stats/profile.js';
import { escapeText } from '../escape.js';

/**
 * The file's text. Names are written escaped, as everywhere else pubsub-mon shows them (`\xff` a
 * byte that is not UTF-8, `\\` a backslash): JSON has no way to carry a byte that is not UTF-8, and
 * a name copied from the file into `check -c` or `tail -c` names the same bytes. parseProfile reads
 * them back with the same escapes. A `match` glob is written as it was typed.
 */
export function profileText(p: Profile): string {
  const s = (v: unknown) => JSON.stringify(v);
  const head = [`  "pubsub_mon_profile": ${PROFILE_VERSION}`];
  if (p.recordedAt !== undefined) head.push(`  "recorded_at": ${s(p.recordedAt)}`);
  if (p.windowS !== undefined) head.push(`  "window_s": ${s(p.windowS)}`);
  if (p.source !== undefined) head.push(`  "source": ${s(p.source)}`);
  if (p.patternSubscriptions !== undefined) head.push(`  "pattern_subscriptions": ${s(p.patternSubscriptions)}`);
  const groups = p.groups.map((g) => {
    const lines = [`      "name": ${s(escapeText(g.name))}`];
    if (g.match !== undefined) lines.push(`      "match": ${s(g.match)}`);
    lines.push(`      "kind": ${s(g.kind)}`);
    const channels = g.channels.map((c) => `        {"name": ${s(escapeText(c.name))}, "rate": ${s(c.rate)}, "subscribers": ${s(c.subscribers)}}`);
    lines.push(`      "channels": [\n${channels.join(',\n')}\n      ]`);
    lines.push(`      "sizes": [${g.sizes.map((z) => `{"bytes": ${s(z.bytes)}, "weight": ${s(z.weight)}}`).join(', ')}]`);
    return `    {\n${lines.join(',\n')}\n    }`;
  });
  head.push(`  "groups": [\n${groups.join(',\n')}\n  ]`);
  return `{\n${head.join(',\n')}\n}\n`;
}
