// Benchmark: `pubsub-mon exporter` over a 6-node sandbox cluster with 10,000 channels: a scrape of /metrics, the cost of one poll, and memory over many polls.
//
// Three parts, each against peers or goals measured in the same run, on servers this script starts:
//   1. Scrapes of /metrics of the built exporter (a child process, `--interval 1s`) once its
//      exposition shows every channel with its right count, beside what a person would run to get
//      the same counts by hand: `redis-cli` with one PUBSUB NUMSUB of all the classic names (one node
//      of six only), and that NUMSUB on an open connection. A scrape never reaches Redis: it is
//      served from the last poll, so the exporter's own poll duration is shown beside it too.
//      Goal: "well under 100 ms", read as a median of at most 50 ms.
//   2. What one poll costs the exporter (duration from its own poll-duration histogram, CPU from
//      /proc/PID/stat over several polls) beside one `watch --once --json` run (wall and CPU time,
//      start-up included) and `node -e 0`, rounds interleaved, the order alternating.
//   3. Memory: two exporters (`--interval 100ms --rates`, and the same with `--contract`) poll many
//      times (300 polls is 75 minutes at the default 15 s) while a helper churns subscriptions (classic
//      and shard channels unsubscribed and new names subscribed every 250 ms, traffic on them, one
//      connection reconnecting every second), and are scraped every half second. Goal: RSS grows by
//      less than 10 MiB from the end of the warm-up to the end. Their counts of the 11,000 channels
//      that do not churn are checked at the end.
//
//   npm run bench:exporter [-- --scrapes 200 --runs 8 --polls 300 --channels 10000 --shard-channels 1000]
//
// Subscribers live in forked helper processes (this file, with --subscriber-helper or
// --churn-helper), and the exporters are child processes: each RSS shown is the exporter's own.
// Exit code: 0 when every count matches and every goal holds, 1 otherwise (or on any error).
// @ts-check
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { HOST, connectAdmin, serverVersion } from './lib/admin.js';
import { log, runBenchScript } from './lib/harness.js';
import { cpuMeter, formatCores, loadAverage, processCpuMs, reapedChildrenCpuMs, rssOf } from './lib/proc.js';
import { asHelper, forkHelper, runProcess, startProcess } from './lib/processes.js';
import { formatRatio, median, outcomeOf, printReport, table, Verdicts } from './lib/report.js';
import { alternating, sleep, timed } from './lib/runs.js';
import { compareCounts, countsOf, planSubscriptions, readShards, shardOf, subscribePlan } from './lib/subscriptions.js';

const SUBSCRIBER_HELPER_FLAG = '--subscriber-helper';
const CHURN_HELPER_FLAG = '--churn-helper';

/** The project's root, where `node bin/pubsub-mon.js` runs from. */
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const CLI = path.join(ROOT, 'bin', 'pubsub-mon.js');

/** The goal from the issue: a scrape "well under 100 ms"; well under is read as at most half. */
const SCRAPE_GOAL_MS = 100;
const SCRAPE_WELL_UNDER_MS = SCRAPE_GOAL_MS / 2;
/** Memory is flat when RSS grows by less than this from the end of the warm-up to the end. */
const RSS_GROWTH_GOAL_BYTES = 10 * 1024 * 1024;
/**
 * RSS swings by tens of MiB from one sample to the next as V8 collects the garbage of each poll, so
 * "after warm-up" and "at the end" are each the median of this share of the samples after warm-up.
 */
const RSS_WINDOW_SHARE = 0.2;
/** A scrape slower than this is counted apart, with whether it was the first to see a new poll. */
const SLOW_SCRAPE_MS = 20;
/** The exporter's poll interval in parts 1 and 2 (what --interval 1s says). */
const SCRAPE_INTERVAL_MS = 1000;
/** Polls per exporter window in part 2: CPU time has 10 ms steps, so several polls are read at once. */
const WINDOW_POLLS = 3;
/** watch --once takes two samples one --interval apart; this is the smallest it accepts. */
const WATCH_INTERVAL = '100ms';
/** The memory part's poll interval (the smallest the exporter accepts): an hour compressed. */
const MEMORY_INTERVAL = '100ms';
/** The default --interval of the exporter, to say how long the memory part's polls would take for real. */
const DEFAULT_INTERVAL_S = 15;
/** How often the memory part reads RSS and scrapes each exporter. */
const SAMPLE_MS = 500;
/** Churn in part 3: live churning names, and how many are replaced per tick. */
const CHURN_CLASSIC_LIVE = 200;
const CHURN_CLASSIC_PER_TICK = 20;
const CHURN_SHARD_LIVE = 24;
const CHURN_SHARD_PER_TICK = 3;
/** Messages published per tick, to the newest live churn names (so message counters come and go too). */
const CHURN_PUBLISH_PER_TICK = 20;
/** A named subscriber connection closed and opened again this often (reconnect tracking, client labels). */
const FLAP_MS = 1000;
/** Shard churn names drawn from (with their owners), cycled through. */
const SHARD_POOL = 3000;
/** Other processes using more than this many cores on average make a missed speed goal "not measurable". */
const BUSY_NEIGHBOURS_CORES = 0.5;
/** Waits: an exporter printing its address; its first scrape showing every channel right. */
const START_TIMEOUT_MS = 20_000;
const READY_TIMEOUT_MS = 60_000;
/** One command run may take this long before it is stopped and the script fails. */
const COMMAND_TIMEOUT_MS = 30_000;
/** The whole script must finish well within this, or it cleans up and fails (the default run takes about 3 minutes). */
const WATCHDOG_MS = 300_000;
/** The memory part stops polling this long before the watchdog would fire, to report what it has. */
const REPORT_MARGIN_MS = 30_000;

const OPTIONS = {
  scrapes: { default: 200, describe: 'timed scrapes of /metrics in part 1 (after one warm-up)' },
  runs: { default: 8, describe: 'redis-cli runs in part 1, and interleaved rounds of part 2 (after one warm-up round)' },
  polls: { default: 300, describe: 'polls each exporter makes in the memory part (300 at 15 s = 75 minutes)' },
  channels: { default: 10000, describe: 'classic channels to create' },
  'shard-channels': { default: 1000, min: 0, describe: 'shard channels to create' },
  'churn-ms': { default: 250, min: 10, describe: 'time between churn ticks in the memory part' },
};

/** @typedef {import('./lib/options.js').NumberSettings<typeof OPTIONS>} Settings */
/** @typedef {Awaited<ReturnType<typeof loadLibrary>>} Library */
/** @typedef {import('./lib/cleanup.js').Cleanup} Cleanup */
/** @typedef {import('./lib/subscriptions.js').Plan} Plan */
/** @typedef {{ type: 'plan', connections: import('./lib/subscriptions.js').ConnectionPlan[] }} SubscriberInstructions */
/**
 * @typedef {object} ChurnInstructions
 * @property {'churn'} type
 * @property {number[]} classicPorts  a churning subscriber connection on each
 * @property {number[]} primaryPorts  a publisher on each, and a shard subscriber
 * @property {{ name: string, port: number }[]} shardPool  shard channel names with their owner's port
 * @property {number} flapPort
 * @property {number} churnMs
 */
/**
 * What the churn helper has done so far.
 * @typedef {object} ChurnStats
 * @property {'stats'} type
 * @property {number} ticks
 * @property {number} subscribed
 * @property {number} unsubscribed
 * @property {number} published
 * @property {number} reconnects
 * @property {number} liveClassic
 * @property {number} liveShard
 * @property {number} errors
 * @property {string} firstError
 */
/**
 * One exposition, read back: per-channel series keyed `classic\0name` / `shard\0name`, and every
 * other series by its name and labels as written (`pubsub_mon_channels{kind="shard"}`).
 * @typedef {object} Exposition
 * @property {Map<string, number>} subscribers
 * @property {Map<string, number>} messages
 * @property {Map<string, number>} contractStatus
 * @property {Map<string, number>} other
 * @property {number} clientSeries  pubsub_mon_client_output_buffer_bytes series
 * @property {number} bytes
 */
/**
 * A running exporter child.
 * @typedef {object} Exporter
 * @property {string} name
 * @property {string} url
 * @property {number} pid
 * @property {() => string} stderr  what it printed on stderr so far
 * @property {() => Promise<void>} stop
 */
/** @typedef {{ at: number, polls: number, rss: number | undefined, heap: number | undefined, scrapeMs: number }} MemorySample */

if (process.argv.includes(SUBSCRIBER_HELPER_FLAG)) runSubscriberHelper();
else if (process.argv.includes(CHURN_HELPER_FLAG)) runChurnHelper();
else {
  await runBenchScript({
    name: 'bench-exporter',
    options: OPTIONS,
    watchdogMs: WATCHDOG_MS,
    library: loadLibrary,
    run,
  });
}

async function loadLibrary() {
  return {
    ...(await import('../dist/sandbox/sandbox.js')),
    ...(await import('../dist/stats/hash-slot.js')),
    ...(await import('../dist/render/format.js')),
  };
}

// ---------------------------------------------------------------------------------------------
// The run: sandbox and subscriptions, then the three parts, then the report.

/**
 * @param {Settings} settings
 * @param {Library} lib
 * @param {Cleanup} cleanup
 */
async function run(settings, lib, cleanup) {
  const startedAt = performance.now();
  const loadBefore = loadAverage();
  log('starting a sandbox cluster: 3 primaries, 1 replica each ...');
  const sb = await cleanup.hold(lib.startSandbox({ cluster: 3, replicas: 1 }), (s) => s.stop());
  const seed = nodePort(sb.nodes[0]);
  const admin = await connectAdmin(cleanup, seed, 'bench-exporter:admin');
  const shards = await readShards(admin);
  const version = await serverVersion(admin);
  cleanup.throwIfAborted();

  const plan = planSubscriptions(sb.nodes, shards, settings, lib.hashSlot);
  log(`subscribing: ${plan.expected.channelRows} channels (${settings.channels} classic, ${settings.shardChannels} shard), ${plan.expected.subscribers} subscriptions over ${plan.connections.length} connections ...`);
  /** @type {SubscriberInstructions} */
  const instructions = { type: 'plan', connections: plan.connections };
  const subscriber = await forkHelper(cleanup, import.meta.url, [SUBSCRIBER_HELPER_FLAG], instructions);
  const serverPids = sb.nodes.flatMap((n) => (n.process.pid === undefined ? [] : [n.process.pid]));

  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  cleanup.add(() => agent.destroy());
  const maxChannels = Math.max(20000, 2 * (plan.expected.channelRows + CHURN_CLASSIC_LIVE + CHURN_SHARD_LIVE));
  const ctx = { settings, lib, cleanup, agent, seed, plan, maxChannels };

  // Part 1 and 2 share one exporter, polling every second.
  const exporter = await startExporter(ctx, 'exporter --interval 1s', ['--interval', '1s']);
  log(`exporter at ${exporter.url}; waiting until a scrape shows all ${plan.expected.channelRows} channels with their counts ...`);
  const readyMs = await waitUntilRight(ctx, exporter);
  const ours = [...serverPids, subscriber.pid ?? -1, exporter.pid].filter((p) => p > 0);

  log(`part 1: ${settings.scrapes} scrapes, ${settings.runs} redis-cli and NUMSUB runs among them ...`);
  const part1 = await measureScrapes(ctx, exporter, admin, cpuMeter(ours));

  log(`part 2: ${settings.runs} rounds of ${WINDOW_POLLS} exporter polls, one watch --once --json and one node -e 0, interleaved ...`);
  const part2 = await measurePollCost(ctx, exporter, cpuMeter(ours));
  const firstStderr = exporter.stderr();
  const firstRss = rssOf(exporter.pid);
  await exporter.stop();

  const deadline = startedAt + WATCHDOG_MS - REPORT_MARGIN_MS;
  log(`part 3: two exporters at --interval ${MEMORY_INTERVAL} --rates (one with --contract), ${settings.polls} polls each, subscriptions churning every ${settings.churnMs} ms ...`);
  const part3 = await measureMemory(ctx, shards, sb.nodes.map((n) => n.port), deadline);

  const elapsedS = (performance.now() - startedAt) / 1000;
  return report({ ...ctx, version, nodes: sb.nodes.length, readyMs, part1, part2, part3, firstStderr, firstRss, loadBefore, loadAfter: loadAverage(), elapsedS });
}

/** @typedef {{ settings: Settings, lib: Library, cleanup: Cleanup, agent: http.Agent, seed: number, plan: Plan, maxChannels: number }} Context */

/**
 * The port of a node the sandbox is known to have.
 * @param {{ port: number } | undefined} node
 */
function nodePort(node) {
  if (!node) throw new Error('the sandbox has no nodes');
  return node.port;
}

/** The environment of the commands run: no REDIS_URL or REDISCLI_AUTH of the caller's may point them elsewhere. */
function childEnv() {
  const env = { ...process.env };
  delete env.REDIS_URL;
  delete env.REDISCLI_AUTH;
  return env;
}

// ---------------------------------------------------------------------------------------------
// The exporter as a child process, and reading its exposition.

/**
 * Starts `pubsub-mon exporter` on a free loopback port and resolves with the URL it says it serves.
 * @param {Context} ctx
 * @param {string} name
 * @param {string[]} args
 * @returns {Promise<Exporter>}
 */
async function startExporter(ctx, name, args) {
  const proc = startProcess(process.execPath, [CLI, 'exporter', '-h', HOST, '-p', String(ctx.seed), '--listen', `${HOST}:0`, '--max-channels', String(ctx.maxChannels), ...args], {
    cleanup: ctx.cleanup,
    stdout: 'devnull',
    cwd: ROOT,
    env: childEnv(),
  });
  let stderr = '';
  /** @type {string} */
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not say where it serves within ${START_TIMEOUT_MS / 1000} s: ${stderr.trim().slice(0, 300)}`)), START_TIMEOUT_MS);
    proc.child.stderr?.on('data', (/** @type {string} */ t) => {
      stderr += t;
      const m = /serving (http:\/\/\S+?\/metrics)/.exec(stderr);
      if (m?.[1]) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    proc.finished.then((f) => {
      clearTimeout(timer);
      reject(new Error(`${name} ended before serving (${f.exit}): ${f.stderr.trim().slice(0, 300)}`));
    }, reject);
  });
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error(`${name} has no pid`);
  return { name, url, pid, stderr: () => stderr, stop: () => proc.stop() };
}

/**
 * GET over a kept-alive connection, as Prometheus scrapes; the body as text.
 * @param {http.Agent} agent
 * @param {string} url
 * @returns {Promise<string>}
 */
function httpGet(agent, url) {
  return new Promise((resolve, reject) => {
    const req = http.get(url, { agent }, (res) => {
      /** @type {Buffer[]} */
      const chunks = [];
      res.on('data', (/** @type {Buffer} */ c) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        if (res.statusCode !== 200) reject(new Error(`GET ${url}: HTTP ${res.statusCode}: ${body.slice(0, 200)}`));
        else resolve(body);
      });
    });
    req.setTimeout(COMMAND_TIMEOUT_MS, () => req.destroy(new Error(`GET ${url}: no answer within ${COMMAND_TIMEOUT_MS / 1000} s`)));
    req.on('error', reject);
  });
}

/**
 * A scrape of a running exporter; when it fails, the error says what the exporter printed.
 * @param {Context} ctx
 * @param {Exporter} exporter
 */
async function scrapeOf(ctx, exporter) {
  try {
    return await httpGet(ctx.agent, exporter.url);
  } catch (err) {
    throw new Error(`${exporter.name}: ${err instanceof Error ? err.message : String(err)}\nits stderr: ${exporter.stderr().trim().slice(-2000)}`);
  }
}

/**
 * Reads an exposition back (prom-client's text format: no timestamps, labels quoted and escaped).
 * @param {string} text
 * @returns {Exposition}
 */
function parseExposition(text) {
  /** @type {Exposition} */
  const out = { subscribers: new Map(), messages: new Map(), contractStatus: new Map(), other: new Map(), clientSeries: 0, bytes: Buffer.byteLength(text) };
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const series = line.slice(0, space);
    const value = Number(line.slice(space + 1));
    const brace = series.indexOf('{');
    const name = brace < 0 ? series : series.slice(0, brace);
    const perChannel = name === 'pubsub_mon_channel_subscribers' ? out.subscribers : name === 'pubsub_mon_channel_messages_total' ? out.messages : name === 'pubsub_mon_contract_status' ? out.contractStatus : undefined;
    if (perChannel) {
      const labels = parseLabels(series.slice(brace + 1, -1));
      perChannel.set(`${labels.get('kind') === 'shard' ? 'shard' : 'classic'}\0${labels.get('channel')}`, value);
    } else if (name === 'pubsub_mon_client_output_buffer_bytes') {
      out.clientSeries++;
    } else {
      out.other.set(series, value);
    }
  }
  return out;
}

/**
 * `a="x",b="y \"quoted\""` -> a map of unescaped values.
 * @param {string} text
 */
function parseLabels(text) {
  /** @type {Map<string, string>} */
  const labels = new Map();
  for (const m of text.matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)) {
    labels.set(m[1] ?? '', (m[2] ?? '').replace(/\\(.)/g, (_all, c) => (c === 'n' ? '\n' : c)));
  }
  return labels;
}

/**
 * A single-valued series of an exposition; NaN when absent.
 * @param {Exposition} e
 * @param {string} series
 */
function valueOf(e, series) {
  return e.other.get(series) ?? NaN;
}

/** @param {Exposition} e */
function pollCount(e) {
  return valueOf(e, 'pubsub_mon_exporter_poll_duration_seconds_count');
}

/** @param {Exposition} e */
function pollSeconds(e) {
  return valueOf(e, 'pubsub_mon_exporter_poll_duration_seconds_sum');
}

/**
 * What is wrong in an exposition of the planned subscriptions alone: each count, and the totals.
 * @param {Exposition} e
 * @param {Plan} plan
 */
function problemsOf(e, plan) {
  const problems = compareCounts(countsOf(e.subscribers), plan.expected);
  const known = [valueOf(e, 'pubsub_mon_channels{kind="channel"}'), valueOf(e, 'pubsub_mon_channels{kind="shard"}')];
  if (known[0] !== plan.expected.classicRows || known[1] !== plan.expected.shardRows) problems.push(`pubsub_mon_channels says ${known[0]} classic and ${known[1]} shard, expected ${plan.expected.classicRows} and ${plan.expected.shardRows}`);
  const omitted = valueOf(e, 'pubsub_mon_channels_omitted');
  if (omitted !== 0) problems.push(`pubsub_mon_channels_omitted is ${omitted}, expected 0`);
  return problems;
}

/**
 * Scrapes until the exposition shows every planned channel with its count; returns how long that took.
 * @param {Context} ctx
 * @param {Exporter} exporter
 */
async function waitUntilRight(ctx, exporter) {
  const start = performance.now();
  /** @type {string[]} */
  let problems = ['no scrape yet'];
  while (performance.now() - start < READY_TIMEOUT_MS) {
    ctx.cleanup.throwIfAborted();
    const body = await scrapeOf(ctx, exporter);
    problems = body === '' || !body.includes('pubsub_mon_channel_subscribers') ? ['no poll yet'] : problemsOf(parseExposition(body), ctx.plan);
    if (problems.length === 0) return performance.now() - start;
    await sleep(100);
  }
  throw new Error(`after ${READY_TIMEOUT_MS / 1000} s, ${exporter.name} still does not show the planned counts: ${problems.join('; ')}\nits stderr: ${exporter.stderr().trim()}`);
}

// ---------------------------------------------------------------------------------------------
// Part 1: scrapes, beside NUMSUB of the same names.

/** @typedef {{ times: number[], badRuns: number, firstProblems: string[] }} Timings */

/** @returns {Timings} */
function timings() {
  return { times: [], badRuns: 0, firstProblems: [] };
}

/**
 * @param {Timings} t
 * @param {string[]} problems
 */
function noteProblems(t, problems) {
  if (problems.length > 0 && t.badRuns++ === 0) t.firstProblems = problems;
}

/**
 * @param {Context} ctx
 * @param {Exporter} exporter
 * @param {Redis} admin
 * @param {ReturnType<typeof cpuMeter>} cpu
 */
async function measureScrapes(ctx, exporter, admin, cpu) {
  const { settings, plan, cleanup } = ctx;
  const names = plan.classicNames;
  const scrape = timings();
  const cli = timings();
  const direct = timings();
  const first = parseExposition(await scrapeOf(ctx, exporter));
  const before = cpu.sample();
  const every = Math.max(1, Math.floor(settings.scrapes / settings.runs));
  /** @type {number[]} */
  const afterPoll = [];
  let last = first;
  for (let i = 0; i < settings.scrapes; i++) {
    cleanup.throwIfAborted();
    const { ms, result: body } = await timed(() => scrapeOf(ctx, exporter));
    scrape.times.push(ms);
    const previous = last;
    last = parseExposition(body);
    // The first scrape served from a new poll may have waited for that poll to build its exposition.
    if (pollCount(last) !== pollCount(previous)) afterPoll.push(ms);
    // Every scrape is checked: a count that is wrong once in a while is still wrong.
    noteProblems(scrape, problemsOf(last, plan));
    if (i % every === every - 1 && cli.times.length < settings.runs) {
      const c = await timed(() => redisCliNumsub(cleanup, ctx.seed, names));
      cli.times.push(c.ms);
      noteProblems(cli, c.result);
      const d = await timed(() => admin.call('PUBSUB', 'NUMSUB', ...names));
      direct.times.push(d.ms);
      const reply = /** @type {unknown[]} */ (d.result);
      if (reply.length !== names.length * 2) noteProblems(direct, [`NUMSUB replied ${reply.length} items, expected ${names.length * 2}`]);
    }
  }
  const neighbours = cpu.neighbours(before, cpu.sample());
  // The polls made during the scrapes; when the scrapes were too quick for one, all since it started.
  const during = pollCount(last) - pollCount(first);
  const polls = during > 0 ? during : pollCount(last);
  const pollMs = polls > 0 ? ((during > 0 ? pollSeconds(last) - pollSeconds(first) : pollSeconds(last)) * 1000) / polls : NaN;
  return { scrape, cli, direct, afterPoll, bytes: last.bytes, series: last.subscribers.size, polls, pollsWhen: during > 0 ? 'during the scrapes' : 'since it started', pollMs, neighbours };
}

/**
 * One redis-cli run asking one node PUBSUB NUMSUB of every name, on one line fed on stdin. Returns its problems.
 * @param {Cleanup} cleanup
 * @param {number} port
 * @param {string[]} names
 */
async function redisCliNumsub(cleanup, port, names) {
  const { code, exit, stdout, stderr } = await runProcess('redis-cli', ['-h', HOST, '-p', String(port)], { cleanup, input: `PUBSUB NUMSUB ${names.join(' ')}\n`, env: childEnv(), timeoutMs: COMMAND_TIMEOUT_MS });
  if (code !== 0 || stderr.trim() || /^(ERR|Could not connect)/m.test(stdout)) return [`redis-cli failed (${exit}): ${(stderr.trim() || stdout).slice(0, 200)}`];
  const lines = stdout.split('\n').filter((l) => l !== '');
  return lines.length === names.length * 2 ? [] : [`redis-cli printed ${lines.length} lines, expected ${names.length * 2}`];
}

// ---------------------------------------------------------------------------------------------
// Part 2: the exporter's cost per poll beside watch --once.

/**
 * @param {Context} ctx
 * @param {Exporter} exporter
 * @param {ReturnType<typeof cpuMeter>} cpu
 */
async function measurePollCost(ctx, exporter, cpu) {
  const { settings, cleanup, plan } = ctx;
  const windows = { polls: 0, pollSeconds: 0, cpuMs: 0, wallMs: 0, perWindowPollMs: /** @type {number[]} */ ([]), badRuns: 0, firstProblems: /** @type {string[]} */ ([]) };
  const watch = { ...timings(), cpu: /** @type {number[]} */ ([]) };
  const node = { ...timings(), cpu: /** @type {number[]} */ ([]) };
  const watchArgs = [CLI, 'watch', '-h', HOST, '-p', String(ctx.seed), '--once', '--json', '--interval', WATCH_INTERVAL];

  /** @param {boolean} counted */
  const exporterWindow = async (counted) => {
    const a = parseExposition(await scrapeOf(ctx, exporter));
    const cpu0 = processCpuMs(exporter.pid);
    const t0 = performance.now();
    await sleep(WINDOW_POLLS * SCRAPE_INTERVAL_MS);
    const cpu1 = processCpuMs(exporter.pid);
    const t1 = performance.now();
    const b = parseExposition(await scrapeOf(ctx, exporter));
    const problems = [...problemsOf(a, plan), ...problemsOf(b, plan)];
    if (problems.length > 0 && windows.badRuns++ === 0) windows.firstProblems = problems;
    if (!counted || cpu0 === undefined || cpu1 === undefined) return;
    const polls = pollCount(b) - pollCount(a);
    windows.polls += polls;
    windows.pollSeconds += pollSeconds(b) - pollSeconds(a);
    windows.cpuMs += cpu1 - cpu0;
    windows.wallMs += t1 - t0;
    if (polls > 0) windows.perWindowPollMs.push(((pollSeconds(b) - pollSeconds(a)) * 1000) / polls);
  };
  /**
   * @param {typeof watch} into
   * @param {string[]} args
   * @param {boolean} counted
   * @param {(stdout: string) => string[]} check
   */
  const child = async (into, args, counted, check) => {
    const cpu0 = reapedChildrenCpuMs();
    const f = await runProcess(process.execPath, args, { cleanup, cwd: ROOT, env: childEnv(), timeoutMs: COMMAND_TIMEOUT_MS });
    const cpu1 = reapedChildrenCpuMs();
    const problems = f.code === 0 ? check(f.stdout) : [`${f.exit}: ${f.stderr.trim().slice(0, 300)}`];
    noteProblems(into, problems);
    if (!counted) return;
    into.times.push(f.ms);
    if (cpu0 !== undefined && cpu1 !== undefined) into.cpu.push(cpu1 - cpu0);
  };
  const tools = [
    (/** @type {boolean} */ counted) => exporterWindow(counted),
    (/** @type {boolean} */ counted) => child(watch, watchArgs, counted, (out) => watchProblems(out, plan)),
    (/** @type {boolean} */ counted) => child(node, ['-e', '0'], counted, () => []),
  ];
  const before = cpu.sample();
  for (let r = 0; r <= settings.runs; r++) {
    for (const measure of alternating(tools, r)) {
      cleanup.throwIfAborted();
      await measure(r > 0);
    }
  }
  const neighbours = cpu.neighbours(before, cpu.sample());
  return { windows, watch, node, neighbours, watchCommand: `pubsub-mon watch --once --json --interval ${WATCH_INTERVAL}` };
}

/**
 * The counts of a `watch --once --json` line against the plan.
 * @param {string} stdout
 * @param {Plan} plan
 */
function watchProblems(stdout, plan) {
  /** @type {{ channels: { name: string, kind: string, subscribers: number }[] }} */
  let doc;
  try {
    doc = JSON.parse(stdout);
  } catch (err) {
    return [`watch printed no JSON document: ${err instanceof Error ? err.message : String(err)}`];
  }
  /** @type {Map<string, number>} */
  const perChannel = new Map();
  for (const c of doc.channels) perChannel.set(`${c.kind === 'shard' ? 'shard' : 'classic'}\0${c.name}`, c.subscribers);
  return compareCounts(countsOf(perChannel), plan.expected);
}

// ---------------------------------------------------------------------------------------------
// Part 3: memory over many fast polls, subscriptions churning.

/**
 * @param {Context} ctx
 * @param {import('./lib/subscriptions.js').Shard[]} shards
 * @param {number[]} ports  every node's
 * @param {number} deadline  performance.now() by which polling stops, whatever the count
 */
async function measureMemory(ctx, shards, ports, deadline) {
  const { settings, cleanup, plan, lib } = ctx;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-exporter-'));
  cleanup.add(() => fs.rmSync(dir, { recursive: true, force: true }));
  const contract = contractFor(plan);
  const contractFile = path.join(dir, 'channels.yaml');
  fs.writeFileSync(contractFile, contract.yaml);

  /** @type {{ name: string, port: number }[]} */
  const shardPool = [];
  for (let i = 0; i < SHARD_POOL; i++) {
    const name = `bench:churnsh:${i}`;
    const owner = shardOf(shards, lib.hashSlot(name));
    if (!owner) throw new Error(`no shard serves the slot of ${name}`);
    shardPool.push({ name, port: owner.primaryPort });
  }
  /** @type {ChurnInstructions} */
  const churnInstructions = { type: 'churn', classicPorts: ports, primaryPorts: shards.map((s) => s.primaryPort), shardPool, flapPort: ctx.seed, churnMs: settings.churnMs };
  const churn = await forkHelper(cleanup, import.meta.url, [CHURN_HELPER_FLAG], churnInstructions);

  const variants = [
    { name: `exporter --interval ${MEMORY_INTERVAL} --rates`, args: ['--interval', MEMORY_INTERVAL, '--rates'], contract: false },
    { name: `exporter --interval ${MEMORY_INTERVAL} --rates --contract`, args: ['--interval', MEMORY_INTERVAL, '--rates', '--contract', contractFile], contract: true },
  ];
  const exporters = await Promise.all(variants.map((v) => startExporter(ctx, v.name, v.args)));
  const warmupPolls = Math.max(20, Math.round(settings.polls / 10));
  const start = performance.now();
  /** @type {MemorySample[][]} */
  const samples = exporters.map(() => []);
  /** @type {(Exposition | undefined)[]} */
  const lastScrape = exporters.map(() => undefined);
  let scrapes = 0;
  for (;;) {
    cleanup.throwIfAborted();
    const tick = performance.now();
    await Promise.all(exporters.map(async (exp, k) => {
      const { ms, result: body } = await timed(() => scrapeOf(ctx, exp));
      const e = parseExposition(body);
      scrapes++;
      lastScrape[k] = e;
      samples[k]?.push({ at: performance.now() - start, polls: pollCount(e), rss: rssOf(exp.pid), heap: e.other.get('nodejs_heap_size_used_bytes'), scrapeMs: ms });
    }));
    const done = samples.every((s) => (s.at(-1)?.polls ?? 0) >= settings.polls);
    if (done || performance.now() > deadline) break;
    await sleep(Math.max(0, SAMPLE_MS - (performance.now() - tick)));
  }
  const elapsedS = (performance.now() - start) / 1000;
  // The churn stops before the last reading, and each exporter polls twice more (a poll begun
  // before the stop may not have seen the last tick), so that the churning series can be compared
  // with what the helper holds.
  const churnStats = await askChurnStats(churn);
  const afterChurn = await Promise.all(exporters.map(async (exp, k) => {
    const from = lastScrape[k] ? pollCount(lastScrape[k]) : 0;
    const until = performance.now() + 10_000;
    for (;;) {
      const e = parseExposition(await scrapeOf(ctx, exp));
      if (pollCount(e) >= from + 2 || performance.now() > until) return e;
      await sleep(50);
    }
  }));
  const results = exporters.map((exp, k) => {
    const e = afterChurn[k] ?? lastScrape[k];
    const s = samples[k] ?? [];
    return { name: exp.name, contract: variants[k]?.contract ?? false, samples: s, last: e, problems: e ? memoryProblems(e, plan, variants[k]?.contract ? contract.expected : undefined) : ['never scraped'], stderr: exp.stderr() };
  });
  for (const exp of exporters) await exp.stop();
  return { results, churn: churnStats, elapsedS, warmupPolls, scrapes, contractYaml: contract.yaml };
}

/**
 * The contract of the --contract exporter, and the status each declared channel must get:
 * a channel meeting its warning threshold exactly (OK), one nobody subscribes (CRITICAL), a shard
 * channel (OK), and a pattern over the churning names with a rate threshold.
 * @param {Plan} plan
 */
function contractFor(plan) {
  const classic = plan.classicNames[0] ?? 'bench:ch:0';
  const shard = plan.shardNames[0];
  const have = plan.expected.perChannel.get(`classic\0${classic}`) ?? 0;
  /** @type {Map<string, number>} */
  const expected = new Map([
    [`classic\0${classic}`, 0],
    ['classic\0bench:contract:absent', 2],
  ]);
  const lines = [
    'channels:',
    `  - name: "${classic}"`,
    `    min_subscribers: ${Math.max(1, have - 1)}`,
    `    warn_subscribers: ${have}`,
    '  - name: "bench:contract:absent"',
    '    min_subscribers: 1',
  ];
  if (shard !== undefined) {
    lines.push(`  - name: "${shard}"`, '    kind: shard', '    min_subscribers: 1');
    expected.set(`shard\0${shard}`, 0);
  }
  lines.push('  - pattern: "bench:churn:*"', '    min_subscribers: 1', '    min_rate: 0.1', '');
  return { yaml: lines.join('\n'), expected };
}

/**
 * What is wrong at the end of the memory part: the channels that never churned must still have their
 * counts, and the contract's channels their status.
 * @param {Exposition} e
 * @param {Plan} plan
 * @param {Map<string, number> | undefined} contract
 */
function memoryProblems(e, plan, contract) {
  /** @type {Map<string, number>} */
  const planned = new Map([...e.subscribers].filter(([key]) => plan.expected.perChannel.has(key)));
  const problems = compareCounts(countsOf(planned), plan.expected);
  if (contract) {
    for (const [key, want] of contract) {
      const got = e.contractStatus.get(key);
      if (got !== want) problems.push(`pubsub_mon_contract_status of ${key.replace('\0', ' ')} is ${got ?? 'absent'}, expected ${want}`);
    }
    if (!e.subscribers.has('classic\0bench:contract:absent')) problems.push('the declared channel bench:contract:absent has no pubsub_mon_channel_subscribers series');
  }
  return problems;
}

/**
 * @param {import('node:child_process').ChildProcess} churn
 * @returns {Promise<ChurnStats>}
 */
function askChurnStats(churn) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the churn helper did not answer within 10 s')), 10_000);
    churn.once('message', (msg) => {
      clearTimeout(timer);
      resolve(/** @type {ChurnStats} */ (msg));
    });
    churn.send({ type: 'stop' });
  });
}

// ---------------------------------------------------------------------------------------------
// The report.

/**
 * @param {Context & {
 *   version: string, nodes: number, readyMs: number, firstStderr: string, firstRss: number | undefined, loadBefore: string, loadAfter: string, elapsedS: number,
 *   part1: Awaited<ReturnType<typeof measureScrapes>>, part2: Awaited<ReturnType<typeof measurePollCost>>, part3: Awaited<ReturnType<typeof measureMemory>>,
 * }} r
 */
function report(r) {
  const { settings, lib, plan, part1, part2, part3 } = r;
  /** @param {number} v */
  const ms = (v) => lib.formatMicros(v * 1000);
  /** @param {number} v */
  const mib = (v) => `${(v / 1024 / 1024).toFixed(1)} MiB`;
  /** @param {number} v */
  const signedMib = (v) => `${v >= 0 ? '+' : ''}${mib(v)}`;
  /** @param {number[]} v */
  const p99 = (v) => [...v].sort((a, b) => a - b)[Math.max(0, Math.ceil(v.length * 0.99) - 1)] ?? NaN;
  const isBusy = (/** @type {number | undefined} */ n) => n !== undefined && n > BUSY_NEIGHBOURS_CORES;
  const verdicts = new Verdicts();
  let countsOk = true;
  const out = [];
  out.push(`pubsub-mon exporter benchmark: ${plan.expected.channelRows} channels (${settings.channels} classic, ${settings.shardChannels} shard), ${plan.expected.subscribers} subscriptions, ${r.nodes} nodes (3 primaries + 3 replicas, redis-server ${r.version}), loopback; exporters run as child processes (node bin/pubsub-mon.js exporter ... --max-channels ${r.maxChannels})`);
  out.push(`machine: ${os.cpus().length} cores; load average before ${r.loadBefore}, after ${r.loadAfter}; took ${r.elapsedS.toFixed(0)} s`);
  out.push('');

  // Part 1.
  const scrapeMedian = median(part1.scrape.times);
  const cliMedian = median(part1.cli.times);
  const directMedian = median(part1.direct.times);
  out.push(`1. a scrape of /metrics (exporter --interval 1s; every scrape checked against the plan; first right exposition ${ms(r.readyMs)} after the exporter said where it serves)`);
  out.push(`   ${settings.scrapes} scrapes after 1 warm-up; exposition ${lib.formatBytes(part1.bytes)}, ${part1.series} channel series; others used ${formatCores(part1.neighbours)}`);
  const rows1 = [
    ['GET /metrics (kept-alive connection)', ms(Math.min(...part1.scrape.times)), ms(scrapeMedian), ms(p99(part1.scrape.times)), ms(Math.max(...part1.scrape.times)), '1.00x'],
    [`redis-cli PUBSUB NUMSUB of ${plan.classicNames.length} names, 1 node of ${r.nodes} (spawn to exit)`, ms(Math.min(...part1.cli.times)), ms(cliMedian), ms(p99(part1.cli.times)), ms(Math.max(...part1.cli.times)), formatRatio(cliMedian / scrapeMedian)],
    [`PUBSUB NUMSUB of ${plan.classicNames.length} names, 1 node, open connection`, ms(Math.min(...part1.direct.times)), ms(directMedian), ms(p99(part1.direct.times)), ms(Math.max(...part1.direct.times)), formatRatio(directMedian / scrapeMedian)],
    [`exporter's own poll of all ${r.nodes} nodes (mean of ${part1.polls} ${part1.pollsWhen}, its histogram)`, '', ms(part1.pollMs), '', '', formatRatio(part1.pollMs / scrapeMedian)],
  ];
  out.push(...table([['', 'min', 'median', 'p99', 'max', 'vs scrape'], ...rows1]).map((l) => `   ${l}`));
  const slow = part1.scrape.times.filter((t) => t > SLOW_SCRAPE_MS).length;
  const slowAfterPoll = part1.afterPoll.filter((t) => t > SLOW_SCRAPE_MS).length;
  out.push(`   scrapes over ${SLOW_SCRAPE_MS} ms: ${slow} of ${part1.scrape.times.length}, ${slowAfterPoll} of them the first served from a new poll (${part1.afterPoll.length} scrapes were; their median ${ms(median(part1.afterPoll))}): a scrape that comes while a poll builds its exposition waits for it`);
  out.push(`   ratio = median / scrape median (> 1: the scrape is faster). A scrape never reaches Redis: it is served from the last poll; NUMSUB by hand covers one node's`);
  out.push(`   classic channels only (the exporter sums ${r.nodes} nodes, classic and shard), so it is a floor for doing the same by hand, not the same work. redis-cli runs: ${part1.cli.times.length}.`);
  for (const [name, t] of /** @type {const} */ ([['scrapes', part1.scrape], ['redis-cli', part1.cli], ['NUMSUB', part1.direct]])) {
    if (t.badRuns === 0) continue;
    countsOk = false;
    out.push(`   counts MISMATCH in ${t.badRuns} ${name}; the first: ${t.firstProblems.join('; ')}`);
  }
  if (part1.scrape.badRuns === 0) out.push(`   counts OK in every scrape: ${plan.expected.classicRows} classic + ${plan.expected.shardRows} shard series, ${plan.expected.subscribers} subscribers, pubsub_mon_channels right, 0 omitted`);
  out.push(`   ${verdicts.line(`a scrape of ${plan.expected.channelRows} channels well under ${SCRAPE_GOAL_MS} ms`, outcomeOf(scrapeMedian <= SCRAPE_WELL_UNDER_MS, isBusy(part1.neighbours)), `median ${ms(scrapeMedian)}, p99 ${ms(p99(part1.scrape.times))}; pass at median <= ${SCRAPE_WELL_UNDER_MS} ms`)}`);
  out.push('');

  // Part 2.
  const w = part2.windows;
  const cpuPerPoll = w.polls > 0 ? w.cpuMs / w.polls : NaN;
  const pollMs = w.polls > 0 ? (w.pollSeconds * 1000) / w.polls : NaN;
  const watchWall = median(part2.watch.times);
  const watchCpu = median(part2.watch.cpu);
  const nodeWall = median(part2.node.times);
  const nodeCpu = median(part2.node.cpu);
  out.push(`2. the exporter's cost per poll beside ${part2.watchCommand} (${settings.runs} rounds after 1 warm-up, interleaved, order alternating; others used ${formatCores(part2.neighbours)})`);
  const rows2 = [
    [`exporter poll (${w.polls} polls in ${settings.runs} windows of ${(WINDOW_POLLS * SCRAPE_INTERVAL_MS) / 1000} s)`, ms(pollMs), ms(median(w.perWindowPollMs)), ms(cpuPerPoll), '1.00x'],
    ['watch --once --json (spawn to exit)', '', ms(watchWall), ms(watchCpu), formatRatio(watchCpu / cpuPerPoll)],
    ['node -e 0 (start-up floor)', '', ms(nodeWall), ms(nodeCpu), formatRatio(nodeCpu / cpuPerPoll)],
  ];
  out.push(...table([['', 'wall (mean)', 'wall (median)', 'CPU', 'CPU vs a poll'], ...rows2]).map((l) => `   ${l}`));
  out.push(`   exporter: wall from pubsub_mon_exporter_poll_duration_seconds (sum/count deltas); CPU from /proc/PID/stat utime+stime over the windows (idle time between polls included), divided by the polls.`);
  out.push(`   watch: spawn to exit, two snapshots ${WATCH_INTERVAL} apart, ${plan.expected.channelRows} channels printed as JSON; CPU (median) from this process's reaped-children time; node start-up included.`);
  out.push(`   one watch --once run costs ${formatRatio(watchCpu / cpuPerPoll)} the CPU of one exporter poll; ${formatRatio((watchCpu - nodeCpu) / cpuPerPoll)} without node's own start-up (watch's median CPU minus node -e 0's).`);
  if (w.badRuns > 0 || part2.watch.badRuns > 0 || part2.node.badRuns > 0) {
    countsOk = false;
    if (w.badRuns > 0) out.push(`   counts MISMATCH in ${w.badRuns} exporter windows; the first: ${w.firstProblems.join('; ')}`);
    if (part2.watch.badRuns > 0) out.push(`   counts MISMATCH in ${part2.watch.badRuns} watch runs; the first: ${part2.watch.firstProblems.join('; ')}`);
    if (part2.node.badRuns > 0) out.push(`   node -e 0 failed: ${part2.node.firstProblems.join('; ')}`);
  } else {
    out.push('   counts OK in every exporter scrape and every watch run of this part');
  }
  out.push(`   RSS of this exporter (--interval 1s, no --rates) after parts 1 and 2: ${lib.formatBytes(r.firstRss)}`);
  const strayStderr = r.firstStderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('serving http'));
  if (strayStderr.length > 0) out.push(`   the exporter printed on stderr: ${strayStderr.slice(0, 5).join(' | ')}`);
  out.push('');

  // Part 3.
  const c = part3.churn;
  const hour = (settings.polls * DEFAULT_INTERVAL_S) / 60;
  out.push(`3. memory over ${settings.polls} polls at --interval ${MEMORY_INTERVAL} (${hour.toFixed(0)} minutes at the default ${DEFAULT_INTERVAL_S} s), two exporters side by side, scraped every ${SAMPLE_MS} ms (${part3.scrapes} scrapes); ${part3.elapsedS.toFixed(0)} s`);
  out.push(`   churn every ${settings.churnMs} ms: ${c.ticks} ticks, ${c.subscribed} subscribed and ${c.unsubscribed} unsubscribed (new names each time: ${CHURN_CLASSIC_PER_TICK} classic + ${CHURN_SHARD_PER_TICK} shard a tick, ${CHURN_CLASSIC_LIVE} + ${CHURN_SHARD_LIVE} live), ${c.published} messages published to them, a named connection reconnected ${c.reconnects} times; ${c.errors} errors${c.errors > 0 ? ` (first: ${c.firstError})` : ''}`);
  out.push(`   RSS from /proc/PID/status VmRSS; warm-up = the first ${part3.warmupPolls} polls; heap = nodejs_heap_size_used_bytes of the same scrape`);
  const rows3 = [];
  /** @type {{ growth: number, polls: number }[]} */
  const outcomes = [];
  for (const res of part3.results) {
    const s = res.samples;
    const warmAt = s.findIndex((x) => x.polls >= part3.warmupPolls);
    const after = (warmAt >= 0 ? s.slice(warmAt) : []).filter((x) => x.rss !== undefined);
    const n = Math.max(1, Math.round(after.length * RSS_WINDOW_SHARE));
    const rssOfSamples = (/** @type {MemorySample[]} */ xs) => median(xs.map((x) => x.rss ?? NaN));
    const heapOfSamples = (/** @type {MemorySample[]} */ xs) => median(xs.map((x) => x.heap ?? NaN));
    const first = after.slice(0, n);
    const last = after.slice(-n);
    const growth = rssOfSamples(last) - rssOfSamples(first);
    const single = (after.at(-1)?.rss ?? NaN) - (after[0]?.rss ?? NaN);
    const polls = s.at(-1)?.polls ?? 0;
    const e = res.last;
    const pollMeanMs = e ? (pollSeconds(e) * 1000) / pollCount(e) : NaN;
    const rss = after.map((x) => x.rss ?? NaN);
    rows3.push([
      res.name, String(polls), ms(pollMeanMs), mib(s[0]?.rss ?? NaN), mib(rssOfSamples(first)), mib(Math.min(...rss)), mib(Math.max(...rss)), mib(rssOfSamples(last)),
      signedMib(growth), signedMib(single), `${signedMib(slope(after) * 100)}`, `${mib(heapOfSamples(first))} -> ${mib(heapOfSamples(last))}`,
    ]);
    outcomes.push({ growth, polls });
  }
  out.push(...table([['', 'polls', 'poll (mean)', 'RSS first', 'after warm-up', 'min', 'max', 'at the end', 'growth', 'single samples', 'trend /100 polls', 'heap used'], ...rows3]).map((l) => `   ${l}`));
  out.push(`   "after warm-up" and "at the end": medians of the first and last ${RSS_WINDOW_SHARE * 100}% of the samples after warm-up; growth = their difference (the goal);`);
  out.push('   single samples = the last sample minus the first after warm-up; trend = least-squares slope of RSS over the polls after warm-up; heap used: the same windows\' medians');
  for (const res of part3.results) {
    const s = res.samples;
    const points = 10;
    const picks = s.length <= points ? s : Array.from({ length: points }, (_, i) => s[Math.round((i * (s.length - 1)) / (points - 1))]);
    out.push(`   ${res.name}: RSS at poll ${picks.map((x) => (x ? `${x.polls}: ${((x.rss ?? NaN) / 1024 / 1024).toFixed(1)}` : '')).join(', ')} MiB; scrape median ${ms(median(s.map((x) => x.scrapeMs)))}, max ${ms(Math.max(...s.map((x) => x.scrapeMs)))}`);
  }
  for (const res of part3.results) {
    const e = res.last;
    if (!e) continue;
    const churnSeries = [...e.subscribers.keys()].filter((k) => k.startsWith('classic\0bench:churn:')).length;
    const churnShardSeries = [...e.subscribers.keys()].filter((k) => k.startsWith('shard\0bench:churnsh:')).length;
    const messageSeries = e.messages.size;
    out.push(`   ${res.name}, last scrape after the churn stopped: ${churnSeries} classic + ${churnShardSeries} shard churn series (the helper held ${c.liveClassic} + ${c.liveShard}); ${messageSeries} message counters; ${e.clientSeries} client series; ${e.contractStatus.size} contract status series`);
    if (churnSeries !== c.liveClassic || churnShardSeries !== c.liveShard) {
      res.problems.push(`churn series ${churnSeries} classic + ${churnShardSeries} shard, but the helper holds ${c.liveClassic} + ${c.liveShard}: stale or missing series`);
    }
    if (messageSeries === 0) res.problems.push('no pubsub_mon_channel_messages_total series with --rates while messages were published');
    const stray = res.stderr.split('\n').filter((l) => l.trim() !== '' && !l.includes('serving http'));
    if (stray.length > 0) out.push(`   ${res.name} printed on stderr: ${stray.slice(0, 5).join(' | ')}`);
    if (res.problems.length > 0) {
      countsOk = false;
      out.push(`   counts MISMATCH, ${res.name}: ${res.problems.join('; ')}`);
    } else {
      out.push(`   counts OK, ${res.name}: the ${plan.expected.channelRows} channels that never churned have their counts${res.contract ? ', and the contract\'s channels their status' : ''}`);
    }
  }
  if (c.errors > 0) {
    countsOk = false;
    out.push(`   the churn helper had ${c.errors} errors: the churn did not happen as planned`);
  }
  part3.results.forEach((res, k) => {
    const { growth = NaN, polls = 0 } = outcomes[k] ?? {};
    out.push(`   ${verdicts.line(`${res.name} polled ${settings.polls} times`, outcomeOf(polls >= settings.polls), `${polls} polls by its pubsub_mon_exporter_poll_duration_seconds_count`)}`);
    out.push(`   ${verdicts.line(`${res.name} memory flat`, outcomeOf(growth < RSS_GROWTH_GOAL_BYTES), `RSS grew ${mib(growth)} from after poll ${part3.warmupPolls} to the end (poll ${polls}), medians of ${RSS_WINDOW_SHARE * 100}% windows; pass under ${mib(RSS_GROWTH_GOAL_BYTES)}`)}`);
  });
  if (!countsOk) out.push('counts: MISMATCH (see above): exit 1');
  printReport(out);
  return countsOk ? verdicts.exitCode : 1;
}

/**
 * Least-squares slope of RSS over the poll count, in bytes per poll; NaN with fewer than two samples.
 * @param {MemorySample[]} samples
 */
function slope(samples) {
  const xs = samples.map((x) => x.polls);
  const ys = samples.map((x) => x.rss ?? NaN);
  const mean = (/** @type {number[]} */ v) => v.reduce((a, b) => a + b, 0) / v.length;
  const mx = mean(xs);
  const my = mean(ys);
  let num = 0;
  let den = 0;
  xs.forEach((x, i) => {
    num += (x - mx) * ((ys[i] ?? NaN) - my);
    den += (x - mx) ** 2;
  });
  return samples.length < 2 || den === 0 ? NaN : num / den;
}

// ---------------------------------------------------------------------------------------------
// Helper processes: the planned subscriptions, held until the parent goes away; and the churn.

function runSubscriberHelper() {
  const send = asHelper();
  process.once('message', async (msg) => {
    const { connections } = /** @type {SubscriberInstructions} */ (msg);
    try {
      await subscribePlan(connections, 'bench-exporter:subscriber');
      send({ type: 'ready' });
    } catch (err) {
      send({ type: 'error', error: err instanceof Error ? err.message : String(err) });
    }
  });
}

/**
 * A connection that fails fast, in a helper.
 * @param {number} port
 * @param {string} name
 */
async function helperConnection(port, name) {
  const client = new Redis({ host: HOST, port, lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectionName: name });
  client.on('error', () => {});
  await client.connect();
  return client;
}

/**
 * Keeps subscriptions churning: every tick the oldest live names are unsubscribed and as many new
 * names subscribed, messages are published to the newest, and one named connection is closed and
 * opened again every FLAP_MS. On `{ type: 'stop' }` it stops and answers with what it did.
 */
function runChurnHelper() {
  const send = asHelper();
  /** @type {ChurnStats} */
  const stats = { type: 'stats', ticks: 0, subscribed: 0, unsubscribed: 0, published: 0, reconnects: 0, liveClassic: 0, liveShard: 0, errors: 0, firstError: '' };
  let stopping = false;
  /** @type {Promise<void>[]} */
  const loops = [];
  /** @param {unknown} err */
  const failed = (err) => {
    if (stats.errors++ === 0) stats.firstError = err instanceof Error ? err.message : String(err);
  };
  process.on('message', async (msg) => {
    const m = /** @type {ChurnInstructions | { type: 'stop' }} */ (msg);
    if (m.type === 'stop') {
      stopping = true;
      await Promise.all(loops);
      send(stats);
      return;
    }
    try {
      const classicSubs = await Promise.all(m.classicPorts.map((p) => helperConnection(p, 'bench-exporter:churn')));
      /** @type {Map<number, Redis>} */
      const shardSubs = new Map();
      /** @type {Map<number, Redis>} */
      const publishers = new Map();
      for (const p of m.primaryPorts) {
        shardSubs.set(p, await helperConnection(p, 'bench-exporter:churn-shard'));
        publishers.set(p, await helperConnection(p, 'bench-exporter:publisher'));
      }
      const anyPublisher = publishers.get(m.primaryPorts[0] ?? NaN);
      if (!anyPublisher) throw new Error('no primary to publish on');
      /** @type {{ name: string, client: Redis }[]} */
      const classicLive = [];
      /** @type {{ name: string, port: number, client: Redis }[]} */
      const shardLive = [];
      let seq = 0;
      let poolAt = 0;
      const subscribeClassic = async () => {
        const name = `bench:churn:${seq}`;
        const client = classicSubs[seq++ % classicSubs.length];
        if (!client) throw new Error('no churn connection');
        await client.subscribe(name);
        classicLive.push({ name, client });
        stats.subscribed++;
      };
      const subscribeShard = async () => {
        const entry = m.shardPool[poolAt++ % m.shardPool.length];
        const client = entry && shardSubs.get(entry.port);
        if (!entry || !client) throw new Error('no shard churn connection');
        await client.ssubscribe(entry.name);
        shardLive.push({ ...entry, client });
        stats.subscribed++;
      };
      await Promise.all([...Array.from({ length: CHURN_CLASSIC_LIVE }, subscribeClassic), ...Array.from({ length: CHURN_SHARD_LIVE }, subscribeShard)]);

      const tick = async () => {
        const gone = classicLive.splice(0, CHURN_CLASSIC_PER_TICK);
        const goneShard = shardLive.splice(0, CHURN_SHARD_PER_TICK);
        await Promise.all([
          ...gone.map(async (g) => {
            await g.client.unsubscribe(g.name);
            stats.unsubscribed++;
          }),
          ...goneShard.map(async (g) => {
            await g.client.sunsubscribe(g.name);
            stats.unsubscribed++;
          }),
          ...Array.from({ length: CHURN_CLASSIC_PER_TICK }, subscribeClassic),
          ...Array.from({ length: CHURN_SHARD_PER_TICK }, subscribeShard),
        ]);
        const targets = classicLive.slice(-CHURN_PUBLISH_PER_TICK);
        await Promise.all([
          ...targets.map((t) => anyPublisher.publish(t.name, 'x')),
          ...shardLive.slice(-CHURN_SHARD_PER_TICK).map((t) => publishers.get(t.port)?.call('SPUBLISH', t.name, 'x')),
        ]);
        stats.published += targets.length + Math.min(CHURN_SHARD_PER_TICK, shardLive.length);
        stats.ticks++;
        stats.liveClassic = classicLive.length;
        stats.liveShard = shardLive.length;
      };
      stats.liveClassic = classicLive.length;
      stats.liveShard = shardLive.length;
      loops.push((async () => {
        while (!stopping) {
          const started = Date.now();
          await tick().catch(failed);
          await sleep(Math.max(0, m.churnMs - (Date.now() - started)));
        }
      })());
      loops.push((async () => {
        for (let n = 0; !stopping; n++) {
          const flap = await helperConnection(m.flapPort, 'bench-exporter:flap');
          if (n > 0) stats.reconnects++;
          await flap.subscribe('bench:flap');
          await sleep(FLAP_MS);
          flap.disconnect();
        }
      })().catch(failed));
      send({ type: 'ready' });
    } catch (err) {
      send({ type: 'error', error: err instanceof Error ? err.message : String(err) });
    }
  });
}
