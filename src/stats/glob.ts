// Redis-style glob matching (the rules of PUBSUB CHANNELS and PSUBSCRIBE), for filtering channels locally.

/**
 * `*` any run, `?` one character, `[abc]`, `[a-z]`, `[^a]` classes, `\x` a literal x. Like the
 * server's matcher, an unclosed `[` class runs to the end of the pattern.
 */
export function globMatch(pattern: string, text: string): boolean {
  return matchFrom(pattern, 0, text, 0);
}

function matchFrom(p: string, pi: number, s: string, si: number): boolean {
  while (pi < p.length) {
    const c = p[pi]!;
    if (c === '*') {
      while (p[pi + 1] === '*') pi++;
      if (pi + 1 === p.length) return true;
      for (let k = si; k <= s.length; k++) if (matchFrom(p, pi + 1, s, k)) return true;
      return false;
    }
    if (si >= s.length) return false;
    if (c === '?') {
      pi++;
      si++;
      continue;
    }
    if (c === '[') {
      let i = pi + 1;
      const negate = p[i] === '^';
      if (negate) i++;
      let matched = false;
      while (i < p.length && p[i] !== ']') {
        if (p[i] === '\\' && i + 1 < p.length) {
          if (p[i + 1] === s[si]) matched = true;
          i += 2;
        } else if (p[i + 1] === '-' && i + 2 < p.length && p[i + 2] !== ']') {
          let lo = p[i]!;
          let hi = p[i + 2]!;
          if (lo > hi) [lo, hi] = [hi, lo];
          if (s[si]! >= lo && s[si]! <= hi) matched = true;
          i += 3;
        } else {
          if (p[i] === s[si]) matched = true;
          i++;
        }
      }
      if (negate) matched = !matched;
      if (!matched) return false;
      pi = i < p.length ? i + 1 : i;
      si++;
      continue;
    }
    if (c === '\\' && pi + 1 < p.length) {
      if (p[pi + 1] !== s[si]) return false;
      pi += 2;
      si++;
      continue;
    }
    if (c !== s[si]) return false;
    pi++;
    si++;
  }
  return si === s.length;
}

/** A glob that matches exactly `name` and nothing else: every character the matcher treats specially is escaped. */
export function escapeGlob(name: string): string {
  return name.replace(/[\\*?[\]]/g, (c) => `\\${c}`);
}
