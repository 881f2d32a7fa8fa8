// Metric names a PromQL expression reads, for checking that the shipped rules and dashboard only query series
// the exporter serves. Not a parser: it removes what can hold identifiers that are not metric names (strings,
// label matchers, ranges, grouping label lists, Grafana variables), then keeps the identifiers that are
// neither a function or aggregation call nor a keyword. Grafana's label_values(metric, label) is understood.

const KEYWORDS = new Set(['and', 'or', 'unless', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'offset', 'bool', 'inf', 'nan']);

/** Identifiers: metric names may contain colons (recording rules). */
const IDENT = /(?<![\w:.$])[a-zA-Z_:][\w:]*/g;

export function promqlMetricNames(expr: string): Set<string> {
  const names = new Set<string>();
  // A selector may name its metric as a matcher: {__name__="up"} (read before the strings are dropped).
  for (const m of expr.matchAll(/__name__\s*=\s*"((?:[^"\\]|\\.)*)"/g)) names.add(m[1] ?? '');

  let s = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/#.*$/gm, '')
    .replace(/\$\{[^}]*\}|\[\[\w+\]\]|\$\w+/g, ' ')
    .replace(/\{[^}]*\}/g, '{}')
    .replace(/\[[^\]]*\]/g, '[]')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/gi, '$1 ');
  // Grafana's label_values(label) and label_values(metric, label): the label is not a metric.
  s = s.replace(/\blabel_values\s*\(([^()]*)\)/g, (_all, args: string) => {
    const parts = args.split(',');
    return parts.length > 1 ? ` ${parts.slice(0, -1).join(',')} ` : ' ';
  });

  for (const m of s.matchAll(IDENT)) {
    const word = m[0];
    const after = s.slice((m.index ?? 0) + word.length);
    // A call, or an aggregation with its grouping before the parenthesis: sum by (le) (...).
    if (/^\s*(?:(?:by|without)\b\s*)?\(/i.test(after)) continue;
    if (KEYWORDS.has(word.toLowerCase())) continue;
    names.add(word);
  }
  return names;
}
