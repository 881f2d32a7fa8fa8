// Cuts text to a number of columns (never inside an escape or a surrogate pair) and payloads to --max-payload, marking each cut.

/** Number of code points in `s`: a surrogate pair (an emoji, say) counts once. */
export function codePointLength(s: string): number {
  let count = s.length;
  for (let i = 0; i < s.length - 1; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        count--;
        i++;
      }
    }
  }
  return count;
}

function digits(n: number): number {
  return String(n).length;
}

/**
 * UTF-16 index at which to cut `text` to keep at most `budget` code points. A backslash starts an
 * escape that is never split (`\x1b` 4, `\u202e` 6, anything else 2), which holds for both escapeBytes
 * output and JSON text. Returns the index and the code points kept.
 */
function cutIndex(text: string, budget: number): { index: number; kept: number } {
  let i = 0;
  let kept = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    let units = 1;
    let points = 1;
    if (c === 0x5c) {
      const next = text[i + 1];
      units = next === 'x' ? 4 : next === 'u' ? 6 : 2;
      units = Math.min(units, text.length - i);
      points = units;
    } else if (c >= 0xd800 && c <= 0xdbff) {
      const d = text.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) units = 2;
    }
    if (kept + points > budget) break;
    kept += points;
    i += units;
  }
  return { index: i, kept };
}

/**
 * Cuts escaped text to at most `maxChars` code points, marker included: `abc…(+N)` where N is the
 * number of code points removed. Escapes and surrogate pairs are never split, so slightly more may
 * go than strictly needed. When `maxChars` cannot hold even the marker, the result is a lone `…`
 * (or '' when maxChars < 1): still a visible sign that something was cut.
 */
export function truncateText(text: string, maxChars: number): string {
  // UTF-16 length bounds the code point count from above, so this skips counting in the common case.
  if (text.length <= maxChars) return text;
  const total = codePointLength(text);
  if (total <= maxChars) return text;
  // The marker's width depends on how much is cut, which depends on the marker's width: start from
  // the smallest marker and widen it until it holds the count it has to show.
  for (let d = 1; d <= digits(total); d++) {
    const budget = maxChars - 4 - d; // `…(+` and `)` around d digits
    if (budget < 0) break;
    const { index, kept } = cutIndex(text, budget);
    const cut = total - kept;
    if (digits(cut) <= d) return `${text.slice(0, index)}…(+${cut})`;
  }
  return maxChars >= 1 ? '…' : '';
}

/**
 * Largest cut point at or below `max` that does not split a UTF-8 sequence, so a text payload cut by
 * --max-payload stays valid UTF-8 (shown as text, not as stray `\xNN` bytes or as base64). Binary
 * data with no sequence to respect is cut at `max` exactly.
 */
function utf8Cut(buf: Buffer, max: number): number {
  if (max >= buf.length) return buf.length;
  let i = max;
  // A sequence is at most 4 bytes, so at most 3 continuation bytes can precede the cut.
  while (i > 0 && max - i < 3 && ((buf[i] ?? 0) & 0xc0) === 0x80) i--;
  return ((buf[i] ?? 0) & 0xc0) === 0xc0 ? i : max;
}

export interface CutPayload {
  body: Buffer;
  /** Bytes removed by --max-payload; 0 when the payload is whole. */
  cut: number;
}

/** `…(+N bytes)`, shown after a payload that --max-payload cut; '' when nothing was cut. */
export function bytesMarker(cut: number): string {
  if (cut === 0) return '';
  return cut === 1 ? '…(+1 byte)' : `…(+${cut} bytes)`;
}

export function cutPayload(payload: Buffer, maxPayload: number | undefined): CutPayload {
  if (maxPayload === undefined || payload.length <= maxPayload) return { body: payload, cut: 0 };
  const keep = utf8Cut(payload, Math.max(0, Math.floor(maxPayload)));
  return { body: payload.subarray(0, keep), cut: payload.length - keep };
}
