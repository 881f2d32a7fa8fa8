// Counts in sentences: `1 node`, `3 nodes`. The one place English plurals are made.

/** `one` for exactly 1, else `many` (`one` + s unless given). */
export function noun(n: number, one: string, many = `${one}s`): string {
  return n === 1 ? one : many;
}

/** The count and its noun: `1 subscriber`, `0 subscribers`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${noun(n, one, many)}`;
}
