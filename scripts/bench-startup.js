// Benchmark: start-up time to exit of pubsub-mon's commands and of its dependencies' imports, beside `node -e 0` and redis-cli, in the same run.
//
// The goal: `pubsub-mon check` within 3.5x of `node -e 0`, measured from spawn to exit as a CI job
// or a monitoring agent waits for it. The machine is small and shared, so every command runs once
// in every round, the order alternating from round to round, after a warm-up round that is not
// counted (it fills the file cache); the figures are medians, and ratios to `node -e 0` measured in
// the same rounds. `check` and `watch` talk to a standalone sandbox server this script starts; each
// dependency's import runs alone in a fresh ESM process, so its cost can be read against
// `node --input-type=module -e 0`.
//
//   npm run bench:startup [-- --runs 20]
//
// Exit code: 0 when the goal holds, 1 when it fails or on any error.
// @ts-check
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { log, runBenchScript } from './lib/harness.js';
import { sandboxLibrary } from './lib/library.js';
import { cpuMeter, formatCores, loadAverage } from './lib/proc.js';
import { runProcess } from './lib/processes.js';
import { formatRatio, median, outcomeOf, printReport, table, Verdicts } from './lib/report.js';
import { alternating } from './lib/runs.js';

/** The goal: `check` takes at most this many times as long as `node -e 0`. */
const GOAL_RATIO = 3.5;
/** The dependencies whose import cost is measured alone (package.json "dependencies"). */
const DEPENDENCIES = ['yargs', 'ioredis', 'ora', 'cli-table3', 'hdr-histogram-js', 'debug'];
/** One command may take this long before it is stopped and the script fails. */
const COMMAND_TIMEOUT_MS = 20_000;
/** The whole script must finish well within this, or it cleans up and fails (the default runs take about 40 s). */
const WATCHDOG_MS = 300_000;
/** Where `node bin/pubsub-mon.js` and the imports resolve from: the project's root. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));

const OPTIONS = {
  runs: { default: 20, describe: 'measured runs per command (after one warm-up round)' },
};

/** @typedef {import('./lib/options.js').NumberSettings<typeof OPTIONS>} Settings */
/** @typedef {Awaited<ReturnType<typeof sandboxLibrary>>} Library */
/** @typedef {import('./lib/cleanup.js').Cleanup} Cleanup */
/**
 * How a command must end, or it did not do its work and its time means nothing.
 * @typedef {object} Expected
 * @property {number} [exitCode]  0 unless given
 * @property {RegExp} [stdout]  what its output must show as well
 * @property {boolean} [isImport]  a dependency's import: also shown minus the empty ESM start
 */
/**
 * @typedef {object} Command
 * @property {string} name  as a person would type it
 * @property {string} command
 * @property {string[]} args
 * @property {number} exitCode
 * @property {RegExp | undefined} stdout
 * @property {boolean} isImport
 * @property {number[]} times  ms from spawn to exit, one per measured run
 */

await runBenchScript({
  name: 'bench-startup',
  options: OPTIONS,
  watchdogMs: WATCHDOG_MS,
  library: sandboxLibrary,
  run,
});

/**
 * @param {Settings} settings
 * @param {Library} lib
 * @param {Cleanup} cleanup
 */
async function run(settings, lib, cleanup) {
  const started = performance.now();
  const loadBefore = loadAverage();
  log('starting a standalone sandbox server ...');
  const sb = await cleanup.hold(lib.startSandbox({}), (s) => s.stop());
  const server = sb.nodes[0];
  if (!server) throw new Error('the sandbox has no node');
  const serverPid = server.process.pid;
  const cpu = cpuMeter(serverPid === undefined ? [] : [serverPid]);

  const node = process.execPath;
  /** @param {string[]} args @param {Expected} [expected] */
  const pubsubMon = (args, expected) => command(`node bin/pubsub-mon.js ${args.join(' ')}`, node, ['bin/pubsub-mon.js', ...args], expected);
  const check = pubsubMon(['check', '-c', 'somechannel', '-u', sb.url], { exitCode: 2, stdout: /^CRITICAL/ });
  const commands = [
    command('node -e 0', node, ['-e', '0']),
    command('node --input-type=module -e 0', node, ['--input-type=module', '-e', '0']),
    command(`redis-cli -p ${server.port} ping`, 'redis-cli', ['-p', String(server.port), 'ping'], { stdout: /^PONG$/m }),
    pubsubMon(['--help']),
    check,
    pubsubMon(['watch', '--once', '--interval', '100ms', '-u', sb.url]),
    ...DEPENDENCIES.map((dep) => command(`node --input-type=module -e "await import('${dep}')"`, node, ['--input-type=module', '-e', `await import('${dep}')`], { isImport: true })),
  ];
  const [nodeBaseline, esmBaseline] = commands;
  if (!nodeBaseline || !esmBaseline) throw new Error('the baselines are missing from the command list');

  log(`timing ${commands.length} commands, ${settings.runs} runs each after 1 warm-up round, interleaved ...`);
  const before = cpu.sample();
  for (let round = 0; round <= settings.runs; round++) {
    for (const c of alternating(commands, round)) {
      const f = await runProcess(c.command, c.args, { cleanup, cwd: ROOT, timeoutMs: COMMAND_TIMEOUT_MS });
      // A command that failed early is fast for the wrong reason: its time would mean nothing.
      if (f.code !== c.exitCode || (c.stdout && !c.stdout.test(f.stdout))) {
        throw new Error(`${c.name} ended with ${f.exit}, expected exit ${c.exitCode}${c.stdout ? ` and output matching ${c.stdout}` : ''}: ${(f.stderr || f.stdout).trim().slice(0, 300)}`);
      }
      if (round > 0) c.times.push(f.ms);
    }
  }
  const neighbours = cpu.neighbours(before, cpu.sample());
  const elapsedS = (performance.now() - started) / 1000;

  /** @param {number} v */
  const ms = (v) => lib.formatMicros(v * 1000);
  const nodeMedian = median(nodeBaseline.times);
  const esmMedian = median(esmBaseline.times);
  const out = [];
  out.push(`pubsub-mon start-up benchmark: time from spawn to exit, ${settings.runs} runs per command after 1 warm-up round, order alternating per round; node ${process.version}, standalone redis-server sandbox on loopback`);
  out.push(`machine: ${os.cpus().length} cores; load average before ${loadBefore}, after ${loadAverage()}; other processes used ${formatCores(neighbours)} during the runs; took ${elapsedS.toFixed(0)} s`);
  out.push('');
  const header = ['command', 'min', 'median', 'max', 'vs node -e 0', 'import alone'];
  const rows = commands.map((c) => [
    c.name,
    ms(Math.min(...c.times)),
    ms(median(c.times)),
    ms(Math.max(...c.times)),
    formatRatio(median(c.times) / nodeMedian),
    c.isImport ? ms(median(c.times) - esmMedian) : '',
  ]);
  out.push(...table([header, ...rows]));
  out.push('');
  out.push('vs node -e 0 = median / median of `node -e 0`; import alone = median - median of `node --input-type=module -e 0`');
  out.push('check exits 2 (CRITICAL: nobody subscribes to somechannel), as it should; watch --once waits one 100 ms interval between its two samples');
  const checkMedian = median(check.times);
  const ratio = checkMedian / nodeMedian;
  const verdicts = new Verdicts();
  out.push(verdicts.line(`check within ${GOAL_RATIO}x of node -e 0`, outcomeOf(ratio <= GOAL_RATIO), `median ${ms(checkMedian)} vs ${ms(nodeMedian)}: ${formatRatio(ratio)}; pass at <= ${formatRatio(GOAL_RATIO)}`));
  printReport(out);
  return verdicts.exitCode;
}

/**
 * @param {string} name
 * @param {string} command
 * @param {string[]} args
 * @param {Expected} [expected]
 * @returns {Command}
 */
function command(name, command, args, { exitCode = 0, stdout, isImport = false } = {}) {
  return { name, command, args, exitCode, stdout, isImport, times: [] };
}
