// Benchmark: `pubsub-mon bench --agents`, the load spread over agent processes, against one process.
//
//   1. Standalone sandbox, publishing as fast as possible (no subscriber). One bench process with 2
//      publishers, against the coordinator and 2 agents (`pubsub-mon agent`) with the same 2
//      publishers, one on each agent (--no-local), the control channel on a server of its own
//      (--control-url). Goal: the agents publish at least as fast as one process (medians over
//      interleaved rounds, with 5% for the noise of this VM). Beside it, for the figures: all three
//      publishing, the same with the control channel on the measured server, and one process with
//      3 child processes (--processes 3).
//   2. SPUBLISH on clusters of 1, 2 and 3 primaries (no replicas), the coordinator and 2 agents with
//      6 publishers: the rate per number of primaries, and where it stopped growing. Goal: more
//      primaries publish faster until this machine's cores are all busy.
// For every run the script samples the CPU of the whole machine (/proc/stat) and of each redis-server
// (/proc/PID/stat) every 250 ms, takes the busiest second, and says where the limit was: a
// redis-server at one full core (it is single-threaded), or every core of the machine busy. The
// publishers' own CPU is what bench reports for its threads on every host while measuring.
//
//   npm run bench:agents [-- --rounds 3 --seconds 4]
//
// Exit code: 0 when every goal holds, 1 when one fails or on any error.
// @ts-check
import os from 'node:os';
import { log, runBenchScript } from './lib/harness.js';
import { sandboxLibrary } from './lib/library.js';
import { cpuMeter, formatCores, processCpuMs } from './lib/proc.js';
import { startProcess } from './lib/processes.js';
import { formatRatio, median, outcomeOf, printReport, table, Verdicts } from './lib/report.js';

const WATCHDOG_MS = 900_000;
const WARMUP_S = 1;
/** Agents publish at least this fraction of one process's rate: 5% is this VM's round-to-round noise. */
const GOAL_AGENTS_RATIO = 0.95;
/** A primary more is "faster" past this ratio; below it, the rate stopped growing. */
const GROWTH = 1.1;
/** Past this many cores in use, the machine is out of cores (of os.availableParallelism()). */
const BUSY_FRACTION = 0.9;
/** A redis-server at this many cores is at its single thread's limit. */
const SERVER_SATURATED_CORES = 0.9;
const CLOCK_TICKS = 100;
const SAMPLE_MS = 250;

const OPTIONS = {
  rounds: { default: 3, describe: 'interleaved rounds of goal 1 (medians are judged)' },
  seconds: { default: 4, describe: 'measured seconds of each run' },
};

/** @typedef {import('./lib/options.js').NumberSettings<typeof OPTIONS>} Settings */
/** @typedef {Awaited<ReturnType<typeof sandboxLibrary>>} Library */
/** @typedef {import('./lib/cleanup.js').Cleanup} Cleanup */
/** @typedef {import('../dist/render/json/bench.js').BenchJson} BenchJson */
/**
 * One run: bench's JSON; the cores the servers and the whole machine used in the busiest second of
 * the run; the cores bench's publishing threads used while measuring (every host's).
 * @typedef {{ json: BenchJson, serverCores: number[], benchCores: number, machineCores: number | undefined }} Run
 */

await runBenchScript({
  name: 'bench-agents',
  options: OPTIONS,
  watchdogMs: WATCHDOG_MS,
  library: sandboxLibrary,
  run,
});

/**
 * CPU of the machine and of the servers, sampled every SAMPLE_MS while a run goes on; `busiest`
 * gives the 1-second window in which the machine was busiest: the steady publishing, past the
 * processes' start and the warm-up.
 * @param {number[]} serverPids
 */
function cpuSampler(serverPids) {
  const machine = cpuMeter([]);
  /** @type {Array<{ at: number, busy: number, servers: number[] }>} */
  const samples = [];
  const take = () => {
    const m = machine.sample();
    if (m) samples.push({ at: m.at, busy: m.busy, servers: serverPids.map((p) => processCpuMs(p) ?? 0) });
  };
  take();
  const timer = setInterval(take, SAMPLE_MS);
  return {
    /** @returns {{ machineCores: number, serverCores: number[] } | undefined} */
    stop() {
      clearInterval(timer);
      take();
      /** @type {{ machineCores: number, serverCores: number[] } | undefined} */
      let best;
      for (let i = 0; i < samples.length; i++) {
        const a = /** @type {{ at: number, busy: number, servers: number[] }} */ (samples[i]);
        const j = samples.findIndex((b, k) => k > i && b.at - a.at >= 1000);
        if (j < 0) break;
        const b = /** @type {{ at: number, busy: number, servers: number[] }} */ (samples[j]);
        const seconds = (b.at - a.at) / 1000;
        const machineCores = (b.busy - a.busy) / CLOCK_TICKS / seconds;
        if (!best || machineCores > best.machineCores) best = { machineCores, serverCores: b.servers.map((v, k) => (v - (a.servers[k] ?? 0)) / 1000 / seconds) };
      }
      return best;
    },
  };
}

/**
 * One bench run with `agents` agent processes started beside it (each leaves after the run), the
 * control channel on `control` when given.
 * @param {Cleanup} cleanup
 * @param {import('../dist/sandbox/sandbox.js').Sandbox} sb
 * @param {{ agents: number, control?: string, args: string[], seconds: number }} how
 * @returns {Promise<Run>}
 */
async function measure(cleanup, sb, { agents, control, args, seconds }) {
  const bin = new URL('../bin/pubsub-mon.js', import.meta.url).pathname;
  const serverPids = sb.nodes.flatMap((n) => (n.process.pid === undefined ? [] : [n.process.pid]));
  const sampler = cpuSampler(serverPids);
  const controlArgs = control === undefined ? [] : ['--control-url', control];
  const agentRuns = Array.from({ length: agents }, (_, i) =>
    startProcess(process.execPath, [bin, 'agent', '-u', sb.url, '--name', `load${i + 1}`, '--once', ...controlArgs], { cleanup, timeoutMs: 180_000 }).finished,
  );
  const benchArgs = [bin, 'bench', '-u', sb.url, '--json', '--rate', '0', '-S', '0', '-d', `${seconds}s`, '--warmup', `${WARMUP_S}s`, ...args];
  if (agents > 0) benchArgs.push('--agents', String(agents), '--agent-wait', '30s', ...controlArgs);
  const coordinator = await startProcess(process.execPath, benchArgs, { cleanup, timeoutMs: 180_000 }).finished;
  const agentEnds = await Promise.all(agentRuns);
  const cpu = sampler.stop();
  /** @type {BenchJson} */
  let json;
  try {
    json = JSON.parse(coordinator.stdout);
  } catch {
    throw new Error(`bench printed no JSON (${coordinator.exit}): ${coordinator.stderr.trim().slice(0, 400)}`);
  }
  const failedAgent = agentEnds.find((a) => a.code !== 0);
  if (failedAgent) throw new Error(`an agent ended with ${failedAgent.exit}: ${failedAgent.stderr.trim().slice(0, 400)}`);
  if (json.incomplete.length > 0) throw new Error(`bench's result is incomplete: ${json.incomplete.join('; ')}`);
  // Every host's worker threads over agents; this process's publishing threads (or child processes) otherwise.
  const hostCpu = json.agents ? json.agents.reduce((s, a) => s + (a.cpu_seconds ?? 0), 0) : (json.client.publisher_cpu_seconds ?? json.client.shared_cpu_seconds ?? 0);
  return {
    json,
    serverCores: cpu?.serverCores ?? [],
    benchCores: hostCpu / (json.elapsed_ms / 1000),
    machineCores: cpu?.machineCores,
  };
}

/**
 * Where a run's rate stopped: a server at one core, or the machine out of cores, or neither.
 * @param {Run} r
 */
function limitOf(r) {
  const cores = os.availableParallelism();
  const busiest = Math.max(...r.serverCores);
  const parts = [];
  if (busiest >= SERVER_SATURATED_CORES) parts.push(`a redis-server at ${formatCores(busiest)} (single-threaded: its limit)`);
  if (r.machineCores !== undefined && r.machineCores >= cores * BUSY_FRACTION) parts.push(`the machine's ${cores} cores busy (${formatCores(r.machineCores)})`);
  return parts.length > 0 ? parts.join(' and ') : `neither a server nor the machine's ${cores} cores were at their limit`;
}

/**
 * @param {Settings} settings
 * @param {Library} lib
 * @param {Cleanup} cleanup
 */
async function run(settings, lib, cleanup) {
  const verdicts = new Verdicts();
  const lines = [`bench:agents on ${os.availableParallelism()} cores (${os.cpus()[0]?.model ?? 'unknown CPU'}), ${settings.seconds} s measured per run`];

  log('starting a standalone sandbox, and another for the control channel (--control-url) ...');
  const [standalone, control] = await Promise.all([cleanup.hold(lib.startSandbox(), (s) => s.stop()), cleanup.hold(lib.startSandbox(), (s) => s.stop())]);
  /** The runs of goal 1, each measured every round, interleaved in turn. */
  const variants = [
    { label: 'one process, 2 publishers', how: { agents: 0, args: ['-P', '2'] } },
    { label: 'coordinator + 2 agents, 1 publisher each (--no-local)', how: { agents: 2, control: control.url, args: ['-P', '2', '--no-local'] } },
    { label: 'coordinator + 2 agents, all three publishing', how: { agents: 2, control: control.url, args: ['-P', '3'] } },
    { label: 'the same, control on the measured server', how: { agents: 2, args: ['-P', '3'] } },
    { label: 'one process, 3 publishers in 3 child processes', how: { agents: 0, args: ['-P', '3', '--processes', '3'] } },
  ];
  /** @type {Run[][]} */
  const runs = variants.map(() => []);
  for (let r = 0; r < settings.rounds; r++) {
    const order = variants.map((_, i) => (i + r) % variants.length);
    for (const i of order) {
      cleanup.throwIfAborted();
      const v = /** @type {(typeof variants)[number]} */ (variants[i]);
      log(`goal 1, round ${r + 1}/${settings.rounds}: ${v.label} ...`);
      runs[i]?.push(await measure(cleanup, standalone, { ...v.how, seconds: settings.seconds }));
    }
  }
  await standalone.stop();
  const rate = (/** @type {Run[]} */ list) => median(list.map((x) => x.json.publish_rate));
  lines.push('', '1. publishing as fast as possible on one standalone server, no subscriber (medians of the rounds; cores in the busiest second)');
  lines.push(
    ...table([
      ['', 'publish rate', 'rounds', 'server', 'publishers', 'machine', 'limit (median round)'],
      ...variants.map((v, i) => {
        const list = runs[i] ?? [];
        const mid = [...list].sort((a, b) => a.json.publish_rate - b.json.publish_rate)[list.length >> 1];
        return [
          v.label,
          lib.formatRate(rate(list)),
          list.map((x) => lib.formatRate(x.json.publish_rate)).join(' '),
          formatCores(median(list.map((x) => x.serverCores[0] ?? 0))),
          formatCores(median(list.map((x) => x.benchCores))),
          formatCores(median(list.map((x) => x.machineCores ?? NaN))),
          mid ? limitOf(mid) : '',
        ];
      }),
    ]).map((l) => `   ${l}`),
  );
  const one = rate(runs[0] ?? []);
  const ratio = rate(runs[1] ?? []) / one;
  lines.push(`   agents over one process: ${formatRatio(ratio)} (same 2 publishers); all three publishing: ${formatRatio(rate(runs[2] ?? []) / one)}; with the control channel on the measured server: ${formatRatio(rate(runs[3] ?? []) / one)}`);
  lines.push(`   (a waiting or running agent holds PSUBSCRIBE patterns on the control server, and the server checks every PUBLISH against every pattern: on the measured server they cost ${formatRatio(rate(runs[3] ?? []) / rate(runs[2] ?? []))} of the rate here)`);
  lines.push(`   ${verdicts.line('1 (two agents and the coordinator publish at least as fast as one process)', outcomeOf(ratio >= GOAL_AGENTS_RATIO), `${formatRatio(ratio)}, goal >= ${GOAL_AGENTS_RATIO}x with 5% for noise`)}`);

  lines.push('', '2. SPUBLISH over 64 channels, coordinator + 2 agents, 6 publishers, control on its own server, on clusters of 1, 2 and 3 primaries');
  /** @type {Array<{ primaries: number, run: Run }>} */
  const scaling = [];
  for (const primaries of [1, 2, 3]) {
    cleanup.throwIfAborted();
    log(`goal 2: a cluster of ${primaries} ${primaries === 1 ? 'primary' : 'primaries'} ...`);
    const cluster = await cleanup.hold(lib.startSandbox({ cluster: primaries }), (s) => s.stop());
    scaling.push({ primaries, run: await measure(cleanup, cluster, { agents: 2, control: control.url, args: ['--mode', 'spublish', '-C', '64', '-P', '6'], seconds: settings.seconds }) });
    await cluster.stop();
  }
  const base = scaling[0]?.run.json.publish_rate ?? NaN;
  lines.push(
    ...table([
      ['primaries', 'publish rate', 'vs 1 primary', 'servers (each)', 'publishers', 'machine', 'limit'],
      ...scaling.map(({ primaries, run }) => [
        String(primaries),
        lib.formatRate(run.json.publish_rate),
        formatRatio(run.json.publish_rate / base),
        run.serverCores.map((c) => c.toFixed(2)).join(' + ') + ' cores',
        formatCores(run.benchCores),
        formatCores(run.machineCores),
        limitOf(run),
      ]),
    ], 1).map((l) => `   ${l}`),
  );
  // More primaries must publish faster for as long as the machine has cores to spare; once every core
  // is busy, more servers only share the same cores.
  const cores = os.availableParallelism();
  let scaled = true;
  let where = '';
  for (let i = 1; i < scaling.length; i++) {
    const prev = /** @type {{ primaries: number, run: Run }} */ (scaling[i - 1]);
    const cur = /** @type {{ primaries: number, run: Run }} */ (scaling[i]);
    const outOfCores = prev.run.machineCores !== undefined && prev.run.machineCores >= cores * BUSY_FRACTION;
    const grew = cur.run.json.publish_rate >= prev.run.json.publish_rate * GROWTH;
    if (grew) continue;
    if (outOfCores) {
      where = `stopped growing at ${prev.primaries} ${prev.primaries === 1 ? 'primary' : 'primaries'}: ${limitOf(prev.run)}`;
      break;
    }
    scaled = false;
    where = `${cur.primaries} primaries were not faster than ${prev.primaries} though the machine had cores to spare (${formatCores(prev.run.machineCores)} of ${cores})`;
    break;
  }
  if (!where) where = `grew with every primary up to ${scaling.length}`;
  lines.push(`   ${where}`);
  lines.push(`   ${verdicts.line('2 (scales with primaries until the cores run out)', outcomeOf(scaled), where)}`);
  printReport(lines);
  return verdicts.exitCode;
}
