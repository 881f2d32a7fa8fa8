// Benchmark: `pubsub-mon bench` against its goals and beside redis-benchmark, on a sandbox server: publish rate, paced latency, parse rate, memory.
//
// The goals from the issue, on the 2-core development machine:
//   1. max-rate PUBLISH of 128-byte payloads, no subscriber: at least 0.9x redis-benchmark -P 32 -c 50;
//   2. --rate 100000 to one subscriber: publish rate within 1% of the asked one, nothing lost, p99 < 2 ms;
//   3. one subscriber connection parses at least 500k messages/s (offline through the real parse path,
//      and live, where the server's fan-out also limits it, so that figure is a lower bound);
//   4. memory stays flat over a 30 s run at 50k/s: RSS growth from 5 s to the end under 20 MiB.
// The machine is small and shared, so the peers run in the same run, interleaved (A B C, C B A, ...),
// and the throughput goal is a ratio of medians. The CPU that processes other than ours used during
// each measurement is read from /proc: when a speed goal misses while others were busy, the verdict is
// "not measurable" rather than FAIL. Everything runs on loopback, on a throwaway sandbox server.
//
//   npm run bench:peers [-- --rounds 3]
//
// Exit code: 0 when every goal holds (or could not be measured), 1 when one fails or on any error.
// @ts-check
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { HOST, connectAdmin, serverVersion } from './lib/admin.js';
import { log, runBenchScript } from './lib/harness.js';
import { cpuMeter, formatCores, loadAverage, rssOf } from './lib/proc.js';
import { startProcess } from './lib/processes.js';
import { formatRatio, median, outcomeOf, printReport, table, Verdicts } from './lib/report.js';
import { alternating } from './lib/runs.js';

const PAYLOAD_BYTES = 128;
/** redis-benchmark's own channel; pubsub-mon picks its own names. Nobody subscribes to either in goal 1. */
const PEER_CHANNEL = 'bench-peers:ch';
/** Goal 1: pubsub-mon's max publish rate over redis-benchmark's, in the same run. */
const GOAL_PUBLISH_RATIO = 0.9;
/** redis-benchmark requests per run: about 4 s at the 1 M/s it reaches here, near pubsub-mon's 5 s. */
const PEER_REQUESTS = 4_000_000;
/** pubsub-mon publisher counts tried in goal 1. */
const PUBLISHER_COUNTS = [1, 4];
/** Goal 2. */
const GOAL_PACED_RATE = 100_000;
const GOAL_RATE_TOLERANCE = 0.01;
const GOAL_P99_US = 2000;
/** Goal 3. */
const GOAL_PARSE_RATE = 500_000;
const PARSE_MESSAGES = 1_000_000;
const PARSE_CHUNK_BYTES = 64 * 1024;
const PARSE_PASSES = 3;
/** Goal 4. */
const MEMORY_RATE = 50_000;
const MEMORY_DURATION_S = 30;
const GOAL_RSS_GROWTH_BYTES = 20 * 1024 * 1024;
const RSS_SAMPLE_MS = 1000;
/**
 * Other processes using more than this many cores on average during a measurement (of 2 here) make a
 * missed speed goal "not measurable": the figure then says more about the neighbours than about us.
 */
const BUSY_NEIGHBOURS_CORES = 0.5;
/** A bench child gets its duration, its warm-up and this much more before it is stopped. */
const CHILD_GRACE_MS = 25_000;
/** redis-benchmark gets this long. */
const PEER_TIMEOUT_MS = 60_000;
/** The whole script must finish well within this, or it cleans up and fails. */
const WATCHDOG_MS = 200_000;

const OPTIONS = {
  rounds: { default: 3, describe: 'interleaved rounds of goal 1 (redis-benchmark, pubsub-mon -P 1, pubsub-mon -P 4)' },
};

/** @typedef {import('./lib/options.js').NumberSettings<typeof OPTIONS>} Settings */
/** @typedef {Awaited<ReturnType<typeof loadLibrary>>} Library */
/** @typedef {import('./lib/cleanup.js').Cleanup} Cleanup */
/** @typedef {import('../dist/render/json/bench.js').BenchJson} BenchJson */
/** @typedef {import('../dist/render/json/bench.js').LatencyJson} LatencyJson */
/**
 * What every measurement needs: the sandbox, the library, and the CPU meter.
 * @typedef {{ url: string, port: number, lib: Library, cleanup: Cleanup, cpu: ReturnType<typeof cpuMeter> }} Context
 */
/** @typedef {{ s: number, bytes: number }} RssSample  seconds since the process was started, and its RSS */
/** @typedef {{ json: BenchJson, neighbours: number | undefined, rss: RssSample[] }} BenchRun */
/**
 * One goal-1 run, whichever tool: `claimed` is what the tool says it published.
 * @typedef {{ rate: number, claimed: number, problem: string | undefined, neighbours: number | undefined }} PublishRun
 */
/** @typedef {PublishRun & { round: number, serverCalls: number }} PublishRound */
/** @typedef {{ id: string, name: string, publishers?: number, measure: () => Promise<PublishRun>, runs: PublishRound[] }} PublishTool */

await runBenchScript({
  name: 'bench-peers',
  options: OPTIONS,
  watchdogMs: WATCHDOG_MS,
  library: loadLibrary,
  run,
});

async function loadLibrary() {
  return {
    ...(await import('../dist/sandbox/sandbox.js')),
    ...(await import('../dist/render/format.js')),
    ...(await import('../dist/redis/resp.js')),
    ...(await import('../dist/redis/raw-subscriber.js')),
    ...(await import('../dist/bench/payload-header.js')),
    ...(await import('../dist/bench/subscriber.js')),
    ...(await import('../dist/stats/sequence-tracker.js')),
    ...(await import('../dist/stats/histogram.js')),
  };
}

// ---------------------------------------------------------------------------------------------
// Sandbox, runs, report.

/**
 * @param {Settings} settings
 * @param {Library} lib
 * @param {Cleanup} cleanup
 */
async function run(settings, lib, cleanup) {
  const started = performance.now();
  const loadBefore = loadAverage();
  log('starting a standalone sandbox server ...');
  const sb = await cleanup.hold(lib.startSandbox(), (s) => s.stop());
  const server = sb.nodes[0];
  if (!server) throw new Error('the sandbox has no node');
  const { port } = server;
  // Counts PUBLISH calls on the server's side, to check what each tool says it published.
  const admin = await connectAdmin(cleanup, port, 'bench-peers:admin');
  const version = await serverVersion(admin);
  const publishCalls = async () => Number(/cmdstat_publish:calls=(\d+)/.exec(await admin.info('commandstats'))?.[1] ?? 0);
  const serverPid = server.process.pid;
  /** @type {Context} */
  const ctx = { url: sb.url, port, lib, cleanup, cpu: cpuMeter(serverPid === undefined ? [] : [serverPid]) };

  // Goal 1: interleaved, order alternating per round.
  /** @type {PublishTool[]} */
  const tools = [
    { id: 'peer', name: `redis-benchmark -P 32 -c 50 -n ${lib.formatCount(PEER_REQUESTS)}`, measure: () => runRedisBenchmark(ctx), runs: [] },
    ...PUBLISHER_COUNTS.map((p) => ({
      id: `pm${p}`,
      publishers: p,
      name: `pubsub-mon bench -P ${p}`,
      measure: async () => {
        const { json, neighbours } = await runBench(ctx, ['--rate', '0', '--subscribers', '0', '--size', String(PAYLOAD_BYTES), '--duration', '5s', '--warmup', '1s', '--publishers', String(p)], 6_000);
        return { rate: json.publish_rate, claimed: json.published, problem: benchProblem(json), neighbours };
      },
      /** @type {PublishRound[]} */
      runs: [],
    })),
  ];
  for (let r = 0; r < settings.rounds; r++) {
    for (const tool of alternating(tools, r)) {
      cleanup.throwIfAborted();
      log(`goal 1, round ${r + 1}/${settings.rounds}: ${tool.name} ...`);
      const callsBefore = await publishCalls();
      const m = await tool.measure();
      cleanup.throwIfAborted();
      const serverCalls = (await publishCalls()) - callsBefore;
      // The tool's own count must not exceed what the server executed (pubsub-mon's also excludes its warm-up).
      const problems = [m.problem, m.claimed > serverCalls ? `says ${m.claimed} published, the server counted ${serverCalls} PUBLISH calls` : undefined].filter(Boolean);
      tool.runs.push({ ...m, round: r + 1, serverCalls, problem: problems.length ? problems.join('; ') : undefined });
      log(`  ${lib.formatRate(m.rate)}; ${m.claimed} published of ${serverCalls} PUBLISH calls the server counted; other processes used ${formatCores(m.neighbours)}`);
    }
  }

  // Goal 2.
  cleanup.throwIfAborted();
  log(`goal 2: pubsub-mon bench --rate ${GOAL_PACED_RATE} -S 1, 10 s after 2 s of warm-up ...`);
  const paced = await runBench(ctx, ['--rate', String(GOAL_PACED_RATE), '--subscribers', '1', '--size', String(PAYLOAD_BYTES), '--duration', '10s', '--warmup', '2s'], 12_000);

  // Goal 3a: offline, in this process (nothing else of ours runs meanwhile).
  cleanup.throwIfAborted();
  log(`goal 3a: building ${lib.formatCount(PARSE_MESSAGES)} message pushes in memory and parsing them, ${PARSE_PASSES} passes per path ...`);
  const offline = measureOfflineParse(ctx);

  // Goal 3b: live, as fast as the publisher goes, then paced at the goal rate.
  cleanup.throwIfAborted();
  log('goal 3b: pubsub-mon bench --rate 0 -S 1 --duration 5s ...');
  const liveMax = await runBench(ctx, ['--rate', '0', '--subscribers', '1', '--size', String(PAYLOAD_BYTES), '--duration', '5s'], 7_000);
  cleanup.throwIfAborted();
  log(`goal 3b: pubsub-mon bench --rate ${GOAL_PARSE_RATE} -S 1 --duration 5s ...`);
  const liveGoal = await runBench(ctx, ['--rate', String(GOAL_PARSE_RATE), '--subscribers', '1', '--size', String(PAYLOAD_BYTES), '--duration', '5s'], 7_000);

  // Goal 4.
  cleanup.throwIfAborted();
  log(`goal 4: pubsub-mon bench --rate ${MEMORY_RATE} -S 1 --duration ${MEMORY_DURATION_S}s, RSS sampled every ${RSS_SAMPLE_MS / 1000} s ...`);
  const memory = await runBench(ctx, ['--rate', String(MEMORY_RATE), '--subscribers', '1', '--size', String(PAYLOAD_BYTES), '--duration', `${MEMORY_DURATION_S}s`, '--warmup', '2s'], (MEMORY_DURATION_S + 2) * 1000, { sampleRss: true });

  const elapsedS = (performance.now() - started) / 1000;
  return report({ settings, lib, version, tools, paced, offline, liveMax, liveGoal, memory, elapsedS, loadBefore, loadAfter: loadAverage() });
}

// ---------------------------------------------------------------------------------------------
// Children: redis-benchmark and `pubsub-mon bench --json`.

/**
 * redis-benchmark with a literal 128-byte payload (-d only sizes its built-in tests); --csv: "test","rps",...
 * @param {Context} ctx
 * @returns {Promise<PublishRun>}
 */
async function runRedisBenchmark(ctx) {
  const payload = 'x'.repeat(PAYLOAD_BYTES);
  const args = ['-h', HOST, '-p', String(ctx.port), '-P', '32', '-c', '50', '-n', String(PEER_REQUESTS), '--csv', 'PUBLISH', PEER_CHANNEL, payload];
  const before = ctx.cpu.sample();
  const child = await startProcess('redis-benchmark', args, { cleanup: ctx.cleanup, timeoutMs: PEER_TIMEOUT_MS }).finished;
  const neighbours = ctx.cpu.neighbours(before, ctx.cpu.sample());
  if (child.code !== 0) throw new Error(`redis-benchmark failed (${child.exit}): ${child.stderr.trim().slice(0, 300)}`);
  const row = child.stdout.split('\n').find((l) => l.startsWith('"PUBLISH'));
  const rate = Number(row?.split('","')[1]);
  if (!Number.isFinite(rate) || rate <= 0) throw new Error(`cannot read the rate from redis-benchmark --csv: ${child.stdout.slice(0, 300)}`);
  return { rate, claimed: PEER_REQUESTS, problem: undefined, neighbours };
}

/**
 * One `pubsub-mon bench --json` run against the sandbox; `expectedMs` is its duration plus warm-up.
 * @param {Context} ctx
 * @param {string[]} args
 * @param {number} expectedMs
 * @param {{ sampleRss?: boolean }} [options]
 * @returns {Promise<BenchRun>}
 */
async function runBench(ctx, args, expectedMs, { sampleRss = false } = {}) {
  const bin = new URL('../bin/pubsub-mon.js', import.meta.url).pathname;
  const before = ctx.cpu.sample();
  const proc = startProcess(process.execPath, [bin, 'bench', '-u', ctx.url, '--json', ...args], { cleanup: ctx.cleanup, timeoutMs: expectedMs + CHILD_GRACE_MS });
  /** @type {RssSample[]} */
  const rss = [];
  const spawnedAt = performance.now();
  const sampler = sampleRss
    ? setInterval(() => {
      const bytes = rssOf(proc.child.pid);
      if (bytes !== undefined) rss.push({ s: (performance.now() - spawnedAt) / 1000, bytes });
    }, RSS_SAMPLE_MS)
    : undefined;
  const child = await proc.finished.finally(() => clearInterval(sampler));
  const neighbours = ctx.cpu.neighbours(before, ctx.cpu.sample());
  try {
    return { json: JSON.parse(child.stdout), neighbours, rss };
  } catch {
    throw new Error(`pubsub-mon bench ${args.join(' ')} printed no JSON (${child.exit}): ${(child.stderr || child.stdout).trim().slice(0, 400)}`);
  }
}

/**
 * What the bench itself flags as not trustworthy in a run, or undefined.
 * @param {BenchJson} json
 */
function benchProblem(json) {
  const problems = [];
  if (json.publish_errors > 0) problems.push(`${json.publish_errors} publish errors`);
  problems.push(...json.incomplete);
  return problems.length ? problems.join('; ') : undefined;
}

// ---------------------------------------------------------------------------------------------
// Goal 3a: the subscriber's parse path, offline.

/** @typedef {{ ms: number, received: number, unique: number, recorded: number, foreign: number, other: number }} ParseCounts */
/** @typedef {ParseCounts | { unavailable: string }} ParseResult */
/** @typedef {{ rate: number, ms: number, problem: string | undefined }} ParsePass */
/**
 * @typedef {object} ParsePath
 * @property {string} id
 * @property {string} name
 * @property {(lib: Library, bytes: Buffer, measureFromNs: number) => ParseResult} parse
 * @property {ParsePass[]} passes
 * @property {string} [unavailable]  why this path could not be measured
 */
/** @typedef {{ bytes: number, buildMs: number, paths: ParsePath[], neighbours: number | undefined }} OfflineParse */

/**
 * The private parts of RawSubscriber that parseWithBenchObjects drives, as they are at run time.
 * @typedef {{ reader?: { feed(chunk: Buffer): void }, receivedAt?: number, onMessage: import('../dist/redis/raw-subscriber.js').MessageHandler }} RawSubscriberInside
 */
/**
 * The same for SubscriberLoop.
 * @typedef {{ onMessage?: (payload: Buffer, receivedAt: number) => void }} SubscriberLoopInside
 */

/**
 * One `message` push per bench payload, channel 0 of publisher 0, sequences 0..count-1, intended
 * send times 1 ns apart from `baseNs`: what a bench subscriber receives from one publisher.
 * @param {Library} lib
 * @param {number} count
 * @param {number} baseNs
 */
function buildPushes(lib, count, baseNs) {
  const channel = 'pubsub-mon:bench:offline:0';
  const prefix = Buffer.from(`*3\r\n$7\r\nmessage\r\n$${Buffer.byteLength(channel)}\r\n${channel}\r\n$${PAYLOAD_BYTES}\r\n`);
  const frameBytes = prefix.length + PAYLOAD_BYTES + 2;
  const frame = Buffer.alloc(frameBytes, lib.PAYLOAD_PAD);
  prefix.copy(frame);
  frame[frameBytes - 2] = 13;
  frame[frameBytes - 1] = 10;
  const bytes = Buffer.allocUnsafe(frameBytes * count);
  for (let i = 0; i < count; i++) {
    const at = i * frameBytes;
    frame.copy(bytes, at);
    lib.writeHeader(bytes, at + prefix.length, 0, 0, i, baseNs + i);
  }
  return bytes;
}

/** The monotonic clock the bench subscriber reads `receivedAt` from, in ns as a Number. */
function hrNow() {
  return Number(process.hrtime.bigint());
}

/**
 * As the brief describes it: RespReader, the `message` check RawSubscriber.dispatch makes, and the
 * per-message work of SubscriberLoop.onMessage, written out here from the exported pieces.
 * @param {Library} lib
 * @param {Buffer} bytes
 * @param {number} measureFromNs
 * @returns {ParseResult}
 */
function parseWithPieces(lib, bytes, measureFromNs) {
  const tracker = new lib.SequenceTracker(1);
  const latency = new lib.LatencyRecorder();
  const interval = new lib.LatencyRecorder();
  /** @type {number[]} */
  const perSecond = [];
  const channelCount = 1;
  let received = 0;
  let foreign = 0;
  let other = 0;
  let receivedAt = 0;
  /** @param {Buffer} payload @param {number} at */
  const onMessage = (payload, at) => {
    if (!lib.isBenchPayload(payload)) {
      foreign++;
      return;
    }
    const intended = lib.readIntendedNs(payload);
    if (intended < measureFromNs) return;
    received++;
    tracker.observe(lib.readPublisher(payload) * channelCount + lib.readChannel(payload), lib.readSeq(payload));
    const us = (at - intended) / 1000;
    latency.record(us);
    interval.record(us);
    const second = Math.floor((at - measureFromNs) / 1e9);
    if (second >= 0) perSecond[second] = (perSecond[second] ?? 0) + 1;
  };
  const reader = new lib.RespReader((v) => {
    if (Array.isArray(v)) {
      const head = v[0];
      if (Buffer.isBuffer(head) && head.length === 7 && lib.bufferIs(head, 'message')) {
        // Unchecked, as RawSubscriber.dispatch does: a message push's payload is a bulk string.
        onMessage(/** @type {Buffer} */ (v[2]), receivedAt);
        return;
      }
    }
    other++;
  });
  const start = performance.now();
  for (let at = 0; at < bytes.length; at += PARSE_CHUNK_BYTES) {
    receivedAt = hrNow();
    reader.feed(bytes.subarray(at, at + PARSE_CHUNK_BYTES));
  }
  const ms = performance.now() - start;
  return { ms, received, unique: tracker.unique, recorded: latency.histogram.totalCount, foreign, other };
}

/**
 * The bench's own objects: a RawSubscriber (its RespReader and dispatch) wired to a SubscriberLoop
 * exactly as SubscriberLoop.connect wires them, fed as the socket's 'data' handler feeds them. The
 * reader, receivedAt and onMessage are private in the TypeScript but plain properties at run time;
 * if they are renamed this path reports itself unavailable rather than measuring something else.
 * @param {Library} lib
 * @param {Buffer} bytes
 * @param {number} measureFromNs
 * @returns {ParseResult}
 */
function parseWithBenchObjects(lib, bytes, measureFromNs) {
  const node = { host: HOST, port: 0 };
  // Neither object connects here: the target is never read.
  const noTarget = /** @type {import('../dist/redis/target.js').ConnectionTarget} */ ({});
  const loop = new lib.SubscriberLoop(noTarget, { id: 0, connections: [] }, 1, 1);
  const sub = new lib.RawSubscriber(noTarget, node, 'bench-sub', hrNow);
  const subInside = /** @type {RawSubscriberInside} */ (/** @type {unknown} */ (sub));
  const loopOnMessage = /** @type {SubscriberLoopInside} */ (/** @type {unknown} */ (loop)).onMessage;
  const reader = subInside.reader;
  if (typeof reader?.feed !== 'function' || !('receivedAt' in sub) || typeof loopOnMessage !== 'function') {
    return { unavailable: 'RawSubscriber.reader/receivedAt or SubscriberLoop.onMessage not found in dist/ (renamed?)' };
  }
  sub.onMessage = (_kind, _pattern, _channel, payload, receivedAt) => loopOnMessage.call(loop, payload, receivedAt);
  loop.start({ startNs: measureFromNs, measureFromNs });
  const start = performance.now();
  for (let at = 0; at < bytes.length; at += PARSE_CHUNK_BYTES) {
    subInside.receivedAt = hrNow();
    reader.feed(bytes.subarray(at, at + PARSE_CHUNK_BYTES));
  }
  const ms = performance.now() - start;
  const r = loop.finish();
  return { ms, received: r.received, unique: r.unique, recorded: loop.latency.histogram.totalCount, foreign: r.foreign, other: 0 };
}

/**
 * @param {Context} ctx
 * @returns {OfflineParse}
 */
function measureOfflineParse(ctx) {
  const { lib } = ctx;
  const buildStart = performance.now();
  const baseNs = hrNow();
  const bytes = buildPushes(lib, PARSE_MESSAGES, baseNs);
  const buildMs = performance.now() - buildStart;
  /** @type {ParsePath[]} */
  const paths = [
    { id: 'pieces', name: 'RespReader + onMessage work (exported pieces)', parse: parseWithPieces, passes: [] },
    { id: 'objects', name: 'RawSubscriber -> SubscriberLoop (the bench objects)', parse: parseWithBenchObjects, passes: [] },
  ];
  const before = ctx.cpu.sample();
  // Alternating, so that a neighbour's burst does not land on one path only.
  for (let pass = 0; pass < PARSE_PASSES; pass++) {
    for (const path of paths) {
      if (path.unavailable) continue;
      const r = path.parse(lib, bytes, baseNs);
      if ('unavailable' in r) {
        path.unavailable = r.unavailable;
        continue;
      }
      const problems = [];
      if (r.received !== PARSE_MESSAGES) problems.push(`received ${r.received}`);
      if (r.unique !== PARSE_MESSAGES) problems.push(`unique ${r.unique}`);
      if (r.recorded !== PARSE_MESSAGES) problems.push(`latencies recorded ${r.recorded}`);
      if (r.foreign || r.other) problems.push(`${r.foreign} foreign, ${r.other} other values`);
      path.passes.push({ rate: (PARSE_MESSAGES * 1000) / r.ms, ms: r.ms, problem: problems.length ? `of ${PARSE_MESSAGES}: ${problems.join(', ')}` : undefined });
    }
  }
  const neighbours = ctx.cpu.neighbours(before, ctx.cpu.sample());
  return { bytes: bytes.length, buildMs, paths, neighbours };
}

// ---------------------------------------------------------------------------------------------
// Report.

/**
 * @typedef {object} Figures
 * @property {Settings} settings
 * @property {Library} lib
 * @property {string} version
 * @property {PublishTool[]} tools
 * @property {BenchRun} paced
 * @property {OfflineParse} offline
 * @property {BenchRun} liveMax
 * @property {BenchRun} liveGoal
 * @property {BenchRun} memory
 * @property {number} elapsedS
 * @property {string} loadBefore
 * @property {string} loadAfter
 */

/**
 * Prints the report and returns the exit code.
 * @param {Figures} figures
 */
function report({ settings, lib, version, tools, paced, offline, liveMax, liveGoal, memory, elapsedS, loadBefore, loadAfter }) {
  const rate = lib.formatRate;
  const us = lib.formatMicros;
  const bytes = lib.formatBytes;
  const cores = formatCores;
  /** @type {string[]} */
  const out = [];
  const verdicts = new Verdicts();
  /** @param {number | undefined} n */
  const isBusy = (n) => n !== undefined && n > BUSY_NEIGHBOURS_CORES;
  /** @param {PublishTool} t */
  const rates = (t) => t.runs.map((r) => r.rate);

  out.push(`pubsub-mon bench beside redis-benchmark and against its goals: ${PAYLOAD_BYTES}-byte payloads, standalone redis-server ${version} sandbox on loopback`);
  out.push(`machine: ${os.cpus().length} cores; load average before ${loadBefore}, after ${loadAfter}; took ${elapsedS.toFixed(0)} s`);
  out.push(`"others" = CPU used by processes other than this script, its children and the sandbox server during a measurement, in cores (/proc/stat)`);
  out.push('');

  // Goal 1.
  out.push(`1. publish as fast as possible, no subscriber (${settings.rounds} rounds, interleaved, order alternating; ratio of medians)`);
  const header = ['tool', ...(tools[0]?.runs ?? []).map((r) => `round ${r.round}`), 'median', 'best', 'others (median)', 'vs redis-benchmark'];
  const peer = tools.find((t) => t.id === 'peer');
  if (!peer) throw new Error('no redis-benchmark runs');
  const peerMedian = median(rates(peer));
  const rows = tools.map((t) => [t.name, ...rates(t).map(rate), rate(median(rates(t))), rate(Math.max(...rates(t))), cores(median(t.runs.map((r) => r.neighbours ?? 0))), formatRatio(median(rates(t)) / peerMedian)]);
  out.push(...table([header, ...rows]).map((l) => `   ${l}`));
  out.push('   pubsub-mon: bench --rate 0 --subscribers 0 --size 128 --duration 5s --warmup 1s; publish_rate. redis-benchmark: -P 32 -c 50 --csv PUBLISH <ch> <128 bytes>; rps');
  out.push(`   server check (cmdstat_publish calls during the run, warm-up included, vs the tool's count): ${tools.map((t) => `${t.name.replace(/ -n .*/, '')} ${t.runs.map((r) => `${lib.formatCount(r.claimed)}/${lib.formatCount(r.serverCalls)}`).join(' ')}`).join('; ')}`);
  for (const t of tools) for (const r of t.runs) if (r.problem) out.push(`   round ${r.round}, ${t.name}: ${r.problem}`);
  const ours = tools.filter((t) => t.id !== 'peer');
  const best = ours.reduce((a, b) => (median(rates(b)) > median(rates(a)) ? b : a));
  const bestMedian = median(rates(best));
  const ratio1 = bestMedian / peerMedian;
  const busy1 = isBusy(median(tools.flatMap((t) => t.runs.map((r) => r.neighbours ?? 0))));
  const clean1 = tools.every((t) => t.runs.every((r) => !r.problem));
  out.push(`   best pubsub-mon configuration: -P ${best.publishers}, median ${rate(bestMedian)} vs redis-benchmark median ${rate(peerMedian)}: ${formatRatio(ratio1)} (goal >= ${GOAL_PUBLISH_RATIO}x)`);
  out.push(`   ${verdicts.line('1', outcomeOf(ratio1 >= GOAL_PUBLISH_RATIO && clean1, busy1), `${formatRatio(ratio1)} with -P ${best.publishers}${clean1 ? '' : '; a run had publish errors or was incomplete'}`)}`);
  out.push('');

  // Goal 2.
  const j2 = paced.json;
  const rateOff = j2.publish_rate / GOAL_PACED_RATE - 1;
  const rateOk = Math.abs(rateOff) <= GOAL_RATE_TOLERANCE;
  const lostOk = j2.lost === 0 && j2.received === j2.expected && !j2.incomplete?.length;
  const p99 = j2.latency_us?.p99;
  const p99Ok = p99 !== undefined && p99 < GOAL_P99_US;
  out.push(`2. bench --rate ${GOAL_PACED_RATE} --subscribers 1 --size 128 --duration 10s --warmup 2s (others used ${cores(paced.neighbours)})`);
  out.push(`   publish rate ${rate(j2.publish_rate)} (${j2.publish_rate.toFixed(0)}/s), ${signedPercent(rateOff)} off the asked ${rate(GOAL_PACED_RATE)}: ${rateOk ? 'ok' : 'MISSED'} (goal within 1%)`);
  out.push(`   received ${j2.received} of ${j2.expected} expected, lost ${j2.lost}, duplicates ${j2.duplicates}, reordered ${j2.reordered}: ${lostOk ? 'ok' : 'MISSED'} (goal nothing lost)`);
  out.push(`   latency ${latencyLine(j2.latency_us, us)}: p99 ${p99Ok ? 'ok' : 'MISSED'} (goal p99 < ${us(GOAL_P99_US)})`);
  out.push(`   p99 per second: ${j2.timeseries.flatMap((s) => (s.p99_us === null ? [] : [us(s.p99_us)])).join(', ')}`);
  if (j2.incomplete?.length) for (const i of j2.incomplete) out.push(`   incomplete: ${i}`);
  // Lost messages are not a matter of load: the subscriber was cut off or the bench lost count.
  out.push(`   ${verdicts.line('2', outcomeOf(rateOk && lostOk && p99Ok, isBusy(paced.neighbours) && lostOk), `rate ${signedPercent(rateOff)}, lost ${j2.lost}, p99 ${us(p99)}`)}`);
  out.push('');

  // Goal 3.
  out.push(`3. one subscriber connection's parse rate (goal >= ${rate(GOAL_PARSE_RATE)})`);
  out.push(`   a) offline: ${lib.formatCount(PARSE_MESSAGES)} message pushes (${bytes(offline.bytes)}, built in ${us(offline.buildMs * 1000)}) fed in ${bytes(PARSE_CHUNK_BYTES)} chunks, ${PARSE_PASSES} passes per path, alternating (others used ${cores(offline.neighbours)})`);
  const offlineRates = [];
  let offlineClean = true;
  for (const path of offline.paths) {
    if (path.unavailable) {
      out.push(`      ${path.name}: not available: ${path.unavailable}`);
      continue;
    }
    const rates = path.passes.map((p) => p.rate);
    offlineRates.push(median(rates));
    out.push(`      ${path.name}: ${rates.map(rate).join(', ')}; median ${rate(median(rates))} (${(median(rates) / GOAL_PARSE_RATE).toFixed(2)}x the goal)`);
    for (const p of path.passes) {
      if (p.problem) {
        offlineClean = false;
        out.push(`         wrong count: ${p.problem}`);
      }
    }
  }
  const jm = liveMax.json;
  out.push(`   b) live, bench --rate 0 --subscribers 1 --size 128 --duration 5s (others used ${cores(liveMax.neighbours)}): delivery_rate ${rate(jm.delivery_rate)} (published ${rate(jm.publish_rate)}), received ${jm.received} of ${jm.expected}, lost ${jm.lost}`);
  const peakSecond = Math.max(0, ...jm.timeseries.map((s) => s.received));
  out.push(`      busiest second received ${rate(peakSecond)}; a lower bound for the parser: the server's fan-out and the publisher share the same 2 cores`);
  if (jm.incomplete?.length) for (const i of jm.incomplete) out.push(`      incomplete: ${i}`);
  const jg = liveGoal.json;
  out.push(`      and paced at the goal, bench --rate ${GOAL_PARSE_RATE} -S 1 --duration 5s (others used ${cores(liveGoal.neighbours)}): delivery_rate ${rate(jg.delivery_rate)} (published ${rate(jg.publish_rate)}), lost ${jg.lost}, p99 ${us(jg.latency_us?.p99)}`);
  if (jg.incomplete?.length) for (const i of jg.incomplete) out.push(`      incomplete: ${i}`);
  // The offline figure is the parser's own speed; the lower of the two paths decides.
  const offlineRate = offlineRates.length ? Math.min(...offlineRates) : undefined;
  const pass3 = offlineRate !== undefined && offlineRate >= GOAL_PARSE_RATE && offlineClean;
  out.push(`   ${verdicts.line('3', outcomeOf(pass3, isBusy(offline.neighbours) && offlineClean), `offline ${rate(offlineRate)} (the slower path's median); live ${rate(jm.delivery_rate)} at --rate 0, ${rate(jg.delivery_rate)} with ${jg.lost} lost at --rate ${GOAL_PARSE_RATE}`)}`);
  out.push('');

  // Goal 4.
  const j4 = memory.json;
  out.push(`4. bench --rate ${MEMORY_RATE} --subscribers 1 --duration ${MEMORY_DURATION_S}s --warmup 2s: RSS of the bench process (worker threads included), seconds since it was started (others used ${cores(memory.neighbours)})`);
  let pass4 = false;
  /** @type {number | undefined} */
  let growth;
  const firstSample = memory.rss[0];
  const last = memory.rss.at(-1);
  if (!firstSample || !last || memory.rss.length < 2) {
    out.push('   no RSS samples (no /proc?)');
  } else {
    /** The sample nearest to `s` seconds. @param {number} s */
    const at = (s) => memory.rss.reduce((a, b) => (Math.abs(b.s - s) < Math.abs(a.s - s) ? b : a), firstSample);
    const first = at(5);
    const fromFive = last.bytes - first.bytes;
    // A garbage collection after 5 s can hide growth behind a drop: also measure from the low point.
    const low = Math.min(...memory.rss.filter((r) => r.s >= first.s).map((r) => r.bytes));
    const fromLow = last.bytes - low;
    growth = Math.max(fromFive, fromLow);
    const peak = Math.max(...memory.rss.map((r) => r.bytes));
    out.push(`   RSS at ${first.s.toFixed(0)} s ${bytes(first.bytes)}, at ${at(15).s.toFixed(0)} s ${bytes(at(15).bytes)}, at ${at(30).s.toFixed(0)} s ${bytes(at(30).bytes)}, last sample (${last.s.toFixed(0)} s) ${bytes(last.bytes)}, peak ${bytes(peak)}`);
    out.push(`   every ${RSS_SAMPLE_MS / 1000} s: ${memory.rss.map((r) => (r.bytes / 1048576).toFixed(0)).join(' ')} MiB`);
    out.push(`   growth from ${first.s.toFixed(0)} s to the end: ${bytes(fromFive)}; from the lowest sample after ${first.s.toFixed(0)} s (${bytes(low)}) to the end: ${bytes(fromLow)}; the larger counts (goal < ${bytes(GOAL_RSS_GROWTH_BYTES)})`);
    pass4 = growth < GOAL_RSS_GROWTH_BYTES;
  }
  out.push(`   the run: published ${rate(j4.publish_rate)}, received ${j4.received} of ${j4.expected}, lost ${j4.lost}, latency ${latencyLine(j4.latency_us, us)}`);
  if (j4.incomplete?.length) for (const i of j4.incomplete) out.push(`   incomplete: ${i}`);
  out.push(`   ${verdicts.line('4', outcomeOf(pass4), `growth ${bytes(growth)}`)}`);

  printReport(out);
  return verdicts.exitCode;
}

// ---------------------------------------------------------------------------------------------
// Small helpers.

/**
 * @param {LatencyJson | null} l
 * @param {(us: number) => string} us
 */
function latencyLine(l, us) {
  if (!l) return 'none recorded';
  return `p50 ${us(l.p50)}, p90 ${us(l.p90)}, p99 ${us(l.p99)}, p99.9 ${us(l.p999)}, max ${us(l.max)}`;
}

/** @param {number} x */
function signedPercent(x) {
  return `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;
}
