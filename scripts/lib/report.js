// Figures, tables and goal verdicts the benchmark scripts print their results with.
// @ts-check

/**
 * The median of a non-empty list; NaN for an empty one.
 * @param {number[]} values
 */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2) return sorted[mid] ?? NaN;
  return ((sorted[mid - 1] ?? NaN) + (sorted[mid] ?? NaN)) / 2;
}

/**
 * Text columns (the first `textColumns`) left-aligned, figures right-aligned, two spaces apart.
 * @param {string[][]} rows  the header first
 * @param {number} [textColumns]
 * @returns {string[]}
 */
export function table(rows, textColumns = 1) {
  const widths = (rows[0] ?? []).map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return rows.map((r) => r.map((cell, i) => (i < textColumns ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0))).join('  ').trimEnd());
}

/**
 * A ratio as the reports show it: `1.23x`.
 * @param {number} ratio
 */
export function formatRatio(ratio) {
  return `${ratio.toFixed(2)}x`;
}

/** @typedef {'PASS' | 'FAIL' | 'not measurable'} Outcome */

/**
 * FAIL only when the figure can be trusted: a goal missed while other processes took the CPU it
 * needed is not evidence either way.
 * @param {boolean} pass
 * @param {boolean} [unmeasurable]
 * @returns {Outcome}
 */
export function outcomeOf(pass, unmeasurable = false) {
  return pass ? 'PASS' : unmeasurable ? 'not measurable' : 'FAIL';
}

/** The goal lines of one report, and the exit code they add up to. */
export class Verdicts {
  /** @type {Outcome[]} */
  #outcomes = [];

  /**
   * `goal <goal>: <outcome> (<detail>)`, one line a goal.
   * @param {string} goal
   * @param {Outcome} outcome
   * @param {string} [detail]
   */
  line(goal, outcome, detail) {
    this.#outcomes.push(outcome);
    return `goal ${goal}: ${outcome}${detail ? ` (${detail})` : ''}`;
  }

  /** 1 when a goal failed; a goal that could not be measured does not fail the script. */
  get exitCode() {
    return this.#outcomes.includes('FAIL') ? 1 : 0;
  }
}

/**
 * The report on stdout, one line an entry.
 * @param {string[]} lines
 */
export function printReport(lines) {
  process.stdout.write(`${lines.join('\n')}\n`);
}
