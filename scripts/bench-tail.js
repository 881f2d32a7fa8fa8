// Benchmark: messages per second `pubsub-mon tail` prints (--json and text, to a pipe and to /dev/null) while a publisher drives a sandbox server, beside `redis-cli --csv PSUBSCRIBE`.
//
// The goals from the issue: keep up with 200k messages/s of 128-byte payloads on the 2-core
// development machine, and print at least as many messages per second as redis-cli. The machine is
// small and noisy and its two cores are shared by the publisher, the server, the subscriber and the
// pipe reader, so the tools run one after another in the same run, in alternating order (A B C ...,
// then reversed), and the comparison is a ratio. Everything runs on loopback, against a throwaway
// sandbox server.
//
//   npm run bench:tail [-- --repeats 2 --messages 1000000 --max-messages 500000 --rate 200000]
//
// The publisher is a forked helper (this file, with --publisher-helper) writing the bench's own
// PUBLISH frames (dist/bench/frames.js) on a raw socket, paced open loop (a late tick catches up) or
// as fast as the socket drains. Each subscriber is a child process. Its stdout is either a pipe this script reads, counting
// every line so that every message is accounted for, or /dev/null as in the issue, which is not the
// same: Node writes a pipe asynchronously, a file synchronously, and redis-cli pays more per write()
// into a pipe (about 60 to 100k/s through the pipe here against 110 to 130k/s to /dev/null).
// Exit code: 0 when every goal holds (or could not be measured), 1 when one fails or on any error.
// @ts-check
import fs from 'node:fs';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { HOST, connectAdmin, serverVersion } from './lib/admin.js';
import { log, runBenchScript } from './lib/harness.js';
import { loadAverage, processCpuMs } from './lib/proc.js';
import { asHelper, forkHelper, startProcess } from './lib/processes.js';
import { formatRatio, outcomeOf, printReport, table, Verdicts } from './lib/report.js';
import { alternating, now, sleep, waitFor } from './lib/runs.js';

const PUBLISHER_HELPER_FLAG = '--publisher-helper';
const CHANNEL = 'bench:ch';
const PATTERN = 'bench:*';
const PAYLOAD_BYTES = 128;
/** The rate the issue asks `tail` to keep up with. */
const GOAL_RATE = 200_000;
/** A publisher that reaches less than this share of its target cannot show whether a subscriber keeps up. */
const PUBLISHER_ENOUGH = 0.95;
/** Keeping up: nothing lost, and the last line printed at most this long after the last PUBLISH was answered. */
const MAX_LAG_MS = 500;
/** When both tools print what the publisher sends at full speed, the publisher is the limit: ratios this close to 1 are a tie. */
const PUBLISHER_BOUND_SHARE = 0.97;
/** After publishing, a subscriber whose count has not grown for this long has printed all it will. */
const SETTLE_MS = 1000;
const MAX_DRAIN_MS = 30_000;
/** Frames per write() in the max-rate mode. */
const PIPELINE_FRAMES = 256;
/** Largest write() of the paced mode when it has to catch up. */
const MAX_FRAMES_PER_WRITE = 4096;
/**
 * The max-rate scenario measures printing, not the server's cut-off of slow subscribers (default
 * `pubsub 32mb 8mb 60`), so for it the limit is raised; the 200k/s scenario keeps the default.
 */
const MAX_RATE_OUTPUT_LIMIT = 'pubsub 2gb 0 0';
/** How often the server's queue for the subscriber (CLIENT LIST omem) is sampled. */
const SAMPLE_MS = 200;
/** The whole script must finish well within this, or it cleans up and fails. */
const WATCHDOG_MS = 180_000;

const OPTIONS = {
  repeats: { default: 2, describe: 'runs of every tool in every scenario, order alternating' },
  messages: { default: 1_000_000, describe: 'messages published per run at the paced rate' },
  'max-messages': { default: 500_000, describe: 'messages published per run at the max rate' },
  rate: { default: GOAL_RATE, describe: 'messages/s of the paced scenario' },
};

/** @typedef {import('./lib/options.js').NumberSettings<typeof OPTIONS>} Settings */
/** @typedef {Awaited<ReturnType<typeof loadLibrary>>} Library */
/** @typedef {import('./lib/cleanup.js').Cleanup} Cleanup */
/** @typedef {import('ioredis').Redis} Redis */
/** @typedef {import('node:child_process').ChildProcess} ChildProcess */
/**
 * A subscriber command: `ours` is pubsub-mon tail (it prints a summary line on stderr at exit).
 * @typedef {object} Tool
 * @property {string} id
 * @property {string} name
 * @property {string} command
 * @property {string[]} args
 * @property {boolean} ours
 * @property {(line: string) => boolean} [isMessageLine]  through a pipe: the first line that is a message (the ones before are header)
 * @property {boolean} [devNull]  its stdout is /dev/null rather than a pipe this script reads
 * @property {Scenario['id']} [onlyIn]  runs in this scenario only
 */
/** @typedef {{ id: 'paced' | 'max', name: string, rate: number, messages: number, outputLimit: string }} Scenario */
/** @typedef {{ printed: number, received: number, dropped: number }} TailSummary */
/**
 * @typedef {object} Result
 * @property {Tool} tool
 * @property {Scenario} scenario
 * @property {number} repeat
 * @property {number} published  PUBLISHes the server accepted
 * @property {number} publishRate
 * @property {number} publisherBehindMs
 * @property {number | undefined} printed
 * @property {number | undefined} printRate
 * @property {number | undefined} lost
 * @property {number | undefined} lagMs
 * @property {TailSummary | undefined} summary
 * @property {boolean} disconnected
 * @property {number} maxOmem
 * @property {{ sub: number | undefined, server: number | undefined, publisher: number, reader: number | undefined }} cpu  shares of one core
 * @property {string[]} notices  the subscriber's stderr lines worth showing
 * @property {string[]} notes
 */
/** @typedef {{ type: 'run', rate: number, count: number } | { type: 'stop' }} PublisherOrder */
/**
 * What the publisher reports after a run. Times are now() values.
 * @typedef {object} Published
 * @property {'done'} type
 * @property {number} accepted  PUBLISH replies that were not errors
 * @property {number} zeroReceivers  replies that said nobody received the message
 * @property {number} errors
 * @property {number} firstWriteAt
 * @property {number | undefined} lastWriteAt
 * @property {number} lastReplyAt
 * @property {number} rate  accepted per second, first write to last reply
 * @property {number} maxBehindMs  how far behind its schedule the paced publisher fell at worst
 * @property {boolean} stoppedEarly
 * @property {number} cpuMs  the publisher's own CPU during the run
 */

if (process.argv.includes(PUBLISHER_HELPER_FLAG)) await runPublisherHelper();
else {
  await runBenchScript({
    name: 'bench-tail',
    options: OPTIONS,
    watchdogMs: WATCHDOG_MS,
    library: loadLibrary,
    run,
  });
}

async function loadLibrary() {
  return {
    ...(await import('../dist/sandbox/sandbox.js')),
    ...(await import('../dist/render/format.js')),
    ...(await import('../dist/stats/client-list.js')),
  };
}

// ---------------------------------------------------------------------------------------------
// Parent: sandbox, runs, report.

/**
 * @param {Settings} settings
 * @param {Library} lib
 * @param {Cleanup} cleanup
 */
async function run(settings, lib, cleanup) {
  log('starting a standalone sandbox server ...');
  const sb = await cleanup.hold(lib.startSandbox(), (s) => s.stop());
  const port = sb.nodes[0]?.port;
  if (port === undefined) throw new Error('the sandbox has no node');

  const admin = await connectAdmin(cleanup, port, 'bench-tail:admin');
  const version = await serverVersion(admin);
  // CONFIG GET answers [name, value].
  const defaultLimit = String((/** @type {unknown[]} */ (await admin.config('GET', 'client-output-buffer-limit')))[1] ?? '');
  const defaultPubsubLimit = /pubsub \S+ \S+ \S+/.exec(defaultLimit)?.[0] ?? 'pubsub 32mb 8mb 60';

  const publisher = await forkHelper(cleanup, import.meta.url, [PUBLISHER_HELPER_FLAG, String(port)]);

  const bin = new URL('../bin/pubsub-mon.js', import.meta.url).pathname;
  /** @param {boolean} json */
  const tail = (json) => ({ command: process.execPath, args: [bin, 'tail', '-u', sb.url, ...(json ? ['--json'] : []), PATTERN], ours: true });
  const cli = { command: 'redis-cli', args: ['-h', HOST, '-p', String(port), '--csv', 'PSUBSCRIBE', PATTERN], ours: false };
  // Through a pipe this script reads, every line is counted. To /dev/null, as the issue runs them, the
  // tools write differently: Node writes a pipe asynchronously (64 KiB per turn of its event loop) but
  // /dev/null synchronously, and redis-cli pays a write() per message either way, dearer into a pipe.
  /** @type {Tool[]} */
  const tools = [
    { id: 'json', name: 'pubsub-mon tail --json | pipe', ...tail(true), isMessageLine: (l) => l.startsWith('{') && l.includes('"kind":"pmessage"') },
    { id: 'text', name: 'pubsub-mon tail | pipe', ...tail(false), isMessageLine: (l) => l.includes(`  ${CHANNEL}  (${PATTERN})  `) },
    { id: 'cli', name: 'redis-cli --csv PSUBSCRIBE | pipe', ...cli, isMessageLine: (l) => l.startsWith('"pmessage",') },
    { id: 'json-null', name: 'pubsub-mon tail --json > /dev/null', ...tail(true), devNull: true },
    { id: 'text-null', name: 'pubsub-mon tail > /dev/null', ...tail(false), devNull: true },
    // At 200k/s redis-cli falls behind and the server cuts it off (see its pipe run): only max rate tells its speed.
    { id: 'cli-null', name: 'redis-cli --csv PSUBSCRIBE > /dev/null', ...cli, devNull: true, onlyIn: 'max' },
  ];
  /** @type {[Scenario, Scenario]} */
  const scenarios = [
    { id: 'paced', name: `${lib.formatRate(settings.rate)}`, rate: settings.rate, messages: settings.messages, outputLimit: defaultPubsubLimit },
    { id: 'max', name: 'max', rate: 0, messages: settings.maxMessages, outputLimit: MAX_RATE_OUTPUT_LIMIT },
  ];

  const started = performance.now();
  const loadBefore = loadAverage();
  /** @type {Result[]} */
  const results = [];
  for (let r = 0; r < settings.repeats; r++) {
    for (const scenario of scenarios) {
      await admin.config('SET', 'client-output-buffer-limit', scenario.outputLimit);
      const here = tools.filter((t) => t.onlyIn === undefined || t.onlyIn === scenario.id);
      for (const tool of alternating(here, r)) {
        cleanup.throwIfAborted();
        log(`run ${r + 1}/${settings.repeats}, ${scenario.name}: ${tool.name} ...`);
        const result = await measureOnce({ tool, scenario, repeat: r + 1, admin, port, publisher, cleanup, lib });
        results.push(result);
        log(`  published ${lib.formatRate(result.publishRate)}, printed ${lib.formatRate(result.printRate)}, ${result.printed ?? lib.UNKNOWN} of ${result.published}${result.notes.length ? `; ${result.notes.join('; ')}` : ''}`);
      }
    }
  }
  await admin.config('SET', 'client-output-buffer-limit', defaultPubsubLimit);
  const elapsedS = (performance.now() - started) / 1000;

  const load = { before: loadBefore, after: loadAverage() };
  return report({ results, tools, scenarios, settings, version, defaultPubsubLimit, elapsedS, load, lib });
}

// ---------------------------------------------------------------------------------------------
// One run: start a subscriber, wait for its PSUBSCRIBE, publish, wait until it has printed all it will.

/**
 * @typedef {object} RunSetup
 * @property {Tool} tool
 * @property {Scenario} scenario
 * @property {number} repeat
 * @property {Redis} admin
 * @property {number} port  the server's
 * @property {ChildProcess} publisher
 * @property {Cleanup} cleanup
 * @property {Library} lib
 */

/**
 * @param {RunSetup} setup
 * @returns {Promise<Result>}
 */
async function measureOnce({ tool, scenario, repeat, admin, port, publisher, cleanup, lib }) {
  await waitFor(async () => (await pubsubClients(admin, lib)).length === 0, 5000, 'the previous subscriber to leave the server');

  const sub = startSubscriber(tool, cleanup);
  try {
    /** @type {string | undefined} */
    let subscriberId;
    let subscriberPort = NaN;
    await waitFor(async () => {
      if (sub.exited) throw new Error(`${tool.name} ended before subscribing (${sub.exited}): ${sub.stderr.trim().slice(0, 300)}`);
      const mine = (await pubsubClients(admin, lib)).find((c) => (c.psub ?? 0) > 0);
      subscriberId = mine?.id;
      subscriberPort = Number(/:(\d+)$/.exec(mine?.addr ?? '')?.[1]);
      return mine !== undefined;
    }, 15_000, `${tool.name} to PSUBSCRIBE`);

    const cpuStart = { sub: processCpuMs(sub.child.pid), server: await serverCpuMs(admin), reader: readerCpuMs(), at: now() };
    // The subscriber's CPU is read again at every sample: a process the server cuts off is gone from /proc by the end.
    let subCpuEnd = { ms: cpuStart.sub, at: cpuStart.at };
    let maxOmem = 0;
    let vanished = false;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const mine = (await pubsubClients(admin, lib).catch(() => undefined))?.find((c) => c.id === subscriberId);
        if (mine) maxOmem = Math.max(maxOmem, mine.omem ?? 0);
        else if (sampling && !sub.stopping) vanished = true;
        const cpu = processCpuMs(sub.child.pid);
        if (cpu !== undefined) subCpuEnd = { ms: cpu, at: now() };
        await sleep(SAMPLE_MS);
      }
    })();

    // A subscriber the server has cut off hears nothing more: stop publishing rather than wait out the run.
    const watcher = setInterval(() => {
      if (sub.exited || vanished) {
        clearInterval(watcher);
        /** @type {PublisherOrder} */
        const stop = { type: 'stop' };
        publisher.send(stop);
      }
    }, 50);
    const pub = await publish(publisher, { type: 'run', rate: scenario.rate, count: scenario.messages }).finally(() => clearInterval(watcher));

    const drainStart = now();
    // Writing to /dev/null: done when nothing is left on the way, neither queued in the server nor in
    // either end's socket buffer (Linux /proc/net/tcp; elsewhere the socket buffers are not seen).
    /** @type {number | undefined} */
    let emptyAt;
    while (tool.devNull && !sub.exited && now() - drainStart < MAX_DRAIN_MS) {
      const mine = (await pubsubClients(admin, lib)).find((c) => c.id === subscriberId);
      if (!mine) break;
      if (mine.omem === 0 && mine.raw.obl === '0' && !((socketBytesInFlight(port, subscriberPort) ?? 0) > 0)) {
        emptyAt = now();
        break;
      }
      await sleep(10);
    }
    // Through the pipe: done when every message has been counted, nothing more came for SETTLE_MS, or the subscriber is gone.
    let lastCount = -1;
    let lastGrowth = now();
    while (!tool.devNull && sub.counter.messages < pub.accepted && !sub.exited && now() - lastGrowth < SETTLE_MS && now() - drainStart < MAX_DRAIN_MS) {
      if (sub.counter.messages !== lastCount) {
        lastCount = sub.counter.messages;
        lastGrowth = now();
      }
      await sleep(50);
    }
    const cpuEnd = { server: await serverCpuMs(admin), reader: readerCpuMs(), at: now() };
    const subCpu = processCpuMs(sub.child.pid);
    if (subCpu !== undefined) subCpuEnd = { ms: subCpu, at: cpuEnd.at };
    sampling = false;
    await sampler;
    const exitedEarly = sub.exited;
    await stopSubscriber(sub, 'SIGTERM');

    const c = sub.counter;
    const wallMs = cpuEnd.at - cpuStart.at;
    /** @param {number | undefined} a @param {number | undefined} b */
    const share = (a, b, at = cpuEnd.at) => (a === undefined || b === undefined ? undefined : (b - a) / (at - cpuStart.at));
    const summary = tool.ours ? parseTailSummary(sub.stderr) : undefined;
    const notices = sub.stderr.split('\n').filter((l) => l.startsWith('pubsub-mon:') || (l !== '' && !tool.ours));
    const gaps = notices.filter((l) => /missed|gap|closed|reconnect|back after/i.test(l)).length;
    // tail writes a marker line to stdout for each gap and each resume, and says so on stderr.
    const markerLines = tool.ours ? notices.filter((l) => /until it is back are missed|is back after/.test(l)).length : 0;
    // To /dev/null only tail can say what it printed (its summary); redis-cli cannot.
    const printed = tool.devNull ? summary?.printed : Math.max(0, c.messages - markerLines);
    const disconnected = Boolean(exitedEarly) || vanished || gaps > 0;
    const notes = [];
    if (exitedEarly) notes.push(`subscriber ended by itself (${exitedEarly})`);
    if (pub.stoppedEarly) notes.push(`publishing stopped early, after ${pub.accepted}, the subscriber being gone`);
    if (vanished) notes.push('its connection left the server during the run');
    if (gaps) notes.push(`${gaps} gap notice(s) on stderr`);
    if (tool.devNull && emptyAt === undefined && !disconnected) notes.push(`the server queue did not empty within ${MAX_DRAIN_MS / 1000} s: no rate`);
    if (tool.ours && !summary) notes.push('no summary line on stderr');
    if (!tool.devNull && summary && summary.printed !== printed) notes.push(`its summary says ${summary.printed} printed, the pipe counted ${printed}`);
    if (pub.zeroReceivers) notes.push(`${pub.zeroReceivers} PUBLISH replies said 0 receivers`);
    if (pub.errors) notes.push(`${pub.errors} PUBLISH error replies`);
    let printRate;
    let lagMs;
    if (tool.devNull) {
      const window = emptyAt === undefined ? undefined : emptyAt - pub.firstWriteAt;
      printRate = window === undefined ? undefined : ((printed ?? pub.accepted) * 1000) / window;
      lagMs = emptyAt === undefined ? undefined : emptyAt - pub.lastReplyAt;
    } else {
      printRate = c.rate();
      lagMs = c.lastAt === undefined || disconnected ? undefined : c.lastAt - pub.lastReplyAt;
    }
    return {
      tool,
      scenario,
      repeat,
      published: pub.accepted,
      publishRate: pub.rate,
      publisherBehindMs: pub.maxBehindMs,
      printed,
      printRate,
      lost: printed === undefined ? undefined : pub.accepted - printed,
      lagMs,
      summary,
      disconnected,
      maxOmem,
      cpu: { sub: share(cpuStart.sub, subCpuEnd.ms, subCpuEnd.at), server: share(cpuStart.server, cpuEnd.server), publisher: pub.cpuMs / wallMs, reader: share(cpuStart.reader, cpuEnd.reader) },
      notices,
      notes,
    };
  } finally {
    // Already stopped unless the run failed; then no summary is wanted, only that it is gone.
    await stopSubscriber(sub, 'SIGKILL');
  }
}

/**
 * Bytes sitting in the kernel between the server (port `serverPort`) and a client (port
 * `clientPort`): the send queue of one end plus the receive queue of the other, both directions,
 * from /proc/net/tcp (hex `address:port`, `tx_queue:rx_queue`). Undefined where there is no such file.
 * @param {number} serverPort
 * @param {number} clientPort
 */
function socketBytesInFlight(serverPort, clientPort) {
  let text;
  try {
    text = fs.readFileSync('/proc/net/tcp', 'utf8');
  } catch {
    return undefined;
  }
  let bytes = 0;
  for (const line of text.split('\n').slice(1)) {
    const [, local = '', remote = '', , queues = ''] = line.trim().split(/\s+/);
    if (!queues) continue;
    const localPort = parseInt(local.split(':')[1] ?? '', 16);
    const remotePort = parseInt(remote.split(':')[1] ?? '', 16);
    if ((localPort === serverPort && remotePort === clientPort) || (localPort === clientPort && remotePort === serverPort)) {
      const [tx = 0, rx = 0] = queues.split(':').map((h) => parseInt(h, 16));
      bytes += tx + rx;
    }
  }
  return bytes;
}

/**
 * @param {Redis} admin
 * @param {Library} lib
 */
async function pubsubClients(admin, lib) {
  const text = String(await admin.call('CLIENT', 'LIST', 'TYPE', 'pubsub'));
  return lib.parseClientList(text);
}

/**
 * CPU time the server has used, from INFO cpu (seconds with µs resolution).
 * @param {Redis} admin
 */
async function serverCpuMs(admin) {
  const info = await admin.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)?.[1]);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)?.[1]);
  return Number.isFinite(user + sys) ? (user + sys) * 1000 : undefined;
}

/** This process's CPU time in ms: it reads the subscriber's pipe. */
function readerCpuMs() {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

/**
 * The line `tail` writes to stderr at exit: `pubsub-mon tail: N printed of M received (...), D dropped`.
 * @param {string} stderr
 * @returns {TailSummary | undefined}
 */
function parseTailSummary(stderr) {
  const m = /pubsub-mon tail: (\d+) printed of (\d+) received.*?(\d+) dropped/.exec(stderr);
  return m ? { printed: Number(m[1]), received: Number(m[2]), dropped: Number(m[3]) } : undefined;
}

// ---------------------------------------------------------------------------------------------
// Subscribers: child processes whose stdout this script reads and counts.

/**
 * @typedef {object} Subscriber
 * @property {ChildProcess} child
 * @property {(signal: NodeJS.Signals) => Promise<void>} stop
 * @property {Promise<void>} ended  settles once it has exited and `exited` and `stderr` are set
 * @property {LineCounter} counter
 * @property {string | undefined} exited  how it ended, once it has
 * @property {string} stderr  once it has ended
 * @property {boolean} stopping  this script is stopping it: its connection leaving the server is expected
 */

/**
 * @param {Tool} tool
 * @param {Cleanup} cleanup
 * @returns {Subscriber}
 */
function startSubscriber(tool, cleanup) {
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  const counter = lineCounter(tool.isMessageLine ?? (() => false));
  const { child, finished, stop } = startProcess(tool.command, tool.args, { cleanup, env, stdout: tool.devNull ? 'devnull' : (chunk) => counter.feed(chunk) });
  /** @type {Subscriber} */
  const sub = {
    child,
    stop,
    counter,
    exited: undefined,
    stderr: '',
    stopping: false,
    ended: finished.then(
      (f) => {
        sub.exited = f.exit;
        sub.stderr = f.stderr;
      },
      (err) => {
        sub.exited = err instanceof Error ? err.message : String(err);
      },
    ),
  };
  return sub;
}

/**
 * @param {Subscriber} sub
 * @param {NodeJS.Signals} signal  SIGTERM lets tail print its summary line
 */
async function stopSubscriber(sub, signal) {
  sub.stopping = true;
  await sub.stop(signal);
  await sub.ended;
}

/**
 * @typedef {object} LineCounter
 * @property {number} messages
 * @property {number | undefined} firstAt  when the first chunk with a message came (now())
 * @property {number} firstChunkMessages
 * @property {number | undefined} lastAt
 * @property {(chunk: Buffer) => void} feed
 * @property {() => number | undefined} rate  lines per second from the first chunk to the last (the first chunk's lines arrived before the clock started)
 */

/**
 * Counts the lines of one subscriber's output and when they came. Lines before the first message
 * (redis-cli's "Reading messages..." and its psubscribe confirmation) are header, not counted;
 * from the first message on every line is counted, found with a native indexOf per line.
 * `tail` also writes gap markers to stdout, each announced on stderr: the caller subtracts those.
 * @param {(line: string) => boolean} isMessageLine
 * @returns {LineCounter}
 */
function lineCounter(isMessageLine) {
  /** @type {LineCounter} */
  const counter = {
    messages: 0,
    firstAt: undefined,
    firstChunkMessages: 0,
    lastAt: undefined,
    feed,
    rate() {
      if (counter.firstAt === undefined || counter.lastAt === undefined || counter.lastAt === counter.firstAt) return undefined;
      return ((counter.messages - counter.firstChunkMessages) * 1000) / (counter.lastAt - counter.firstAt);
    },
  };
  let header = '';
  let inMessages = false;

  /** @param {Buffer} chunk */
  function feed(chunk) {
    const at = now();
    let from = 0;
    if (!inMessages) {
      // Header lines are few and short: look at them as text until the first message line.
      const text = header + chunk.toString('latin1');
      let nl;
      let used = 0;
      while ((nl = text.indexOf('\n', used)) !== -1) {
        if (isMessageLine(text.slice(used, nl))) {
          inMessages = true;
          break;
        }
        used = nl + 1;
      }
      if (!inMessages) {
        header = text.slice(used).slice(-64 * 1024);
        return;
      }
      // Where in this chunk the first message line starts (latin1: one char per byte).
      from = Math.max(0, used - header.length);
      header = '';
    }
    let n = 0;
    let i = from;
    while ((i = chunk.indexOf(10, i)) !== -1) {
      n++;
      i++;
    }
    if (n === 0) return;
    if (counter.firstAt === undefined) {
      counter.firstAt = at;
      counter.firstChunkMessages = n;
    }
    counter.messages += n;
    counter.lastAt = at;
  }
  return counter;
}

// ---------------------------------------------------------------------------------------------
// Publisher helper: pre-encoded PUBLISH frames on a raw socket; its own event loop and CPU.

/**
 * One run of the publisher; resolves with its report.
 * @param {ChildProcess} child
 * @param {PublisherOrder & { type: 'run' }} order
 * @returns {Promise<Published>}
 */
function publish(child, order) {
  return new Promise((resolve, reject) => {
    /** @param {number | null} code @param {NodeJS.Signals | null} signal */
    const onExit = (code, signal) => reject(new Error(`publisher process ended (${signal ?? `exit ${code}`})`));
    child.once('exit', onExit);
    child.once('message', (msg) => {
      child.removeListener('exit', onExit);
      const m = /** @type {Published | { type: 'error', error: string }} */ (msg);
      if (m.type === 'done') resolve(m);
      else reject(new Error(`publisher failed: ${m.error ?? JSON.stringify(m)}`));
    });
    child.send(order);
  });
}

async function runPublisherHelper() {
  const port = Number(process.argv[process.argv.indexOf(PUBLISHER_HELPER_FLAG) + 1]);
  const send = asHelper();
  const { publishFrame } = await import('../dist/bench/frames.js');
  const { HEADER_BYTES, PAYLOAD_PAD } = await import('../dist/bench/payload-header.js');
  // The bench's own PUBLISH frame, its header area padded like the rest of the payload instead of
  // stamped with writeHeader: a header is binary, which tail prints escaped (text lines grow from 164
  // to about 225 characters and take about twice as long to format) or, in JSON, as \u0000 escapes
  // or base64. The payload stays printable, as this benchmark has always measured it.
  const { frame, payloadOffset } = publishFrame('PUBLISH', CHANNEL, PAYLOAD_BYTES);
  frame.fill(PAYLOAD_PAD, payloadOffset, payloadOffset + HEADER_BYTES);
  const frames = Buffer.concat(Array.from({ length: MAX_FRAMES_PER_WRITE }, () => frame));
  /** @param {number} k */
  const framesOf = (k) => frames.subarray(0, k * frame.length);

  const socket = net.connect({ host: HOST, port });
  socket.setNoDelay(true);
  socket.on('error', (err) => {
    send({ type: 'error', error: `publisher socket: ${err.message}` });
    process.exit(1);
  });
  await new Promise((resolve) => socket.once('connect', resolve));

  /**
   * @typedef {object} PublishRun
   * @property {number} count  frames to write; lowered to those sent when told to stop
   * @property {NodeJS.CpuUsage} cpu
   * @property {number} startAt
   * @property {number | undefined} lastWriteAt
   * @property {number} maxBehindMs
   * @property {boolean} stoppedEarly
   * @property {() => number} sent
   */
  /** @type {PublishRun | undefined} */
  let current;
  // Replies are `:N\r\n` (receivers) or `-ERR ...\r\n`: count lines, and those that are not `:1`-like.
  let replies = 0;
  let zeroReceivers = 0;
  let errors = 0;
  let lineLength = 0;
  let first = 0;
  let second = 0;
  socket.on('data', (/** @type {Buffer} */ buf) => {
    for (let i = 0; i < buf.length; i++) {
      const b = /** @type {number} */ (buf[i]); // i < buf.length
      if (lineLength === 0) first = b;
      else if (lineLength === 1) second = b;
      lineLength++;
      if (b === 10) {
        replies++;
        if (first !== 58) errors++;
        else if (second === 48 && lineLength === 4) zeroReceivers++;
        lineLength = 0;
      }
    }
    if (current && replies >= current.count) finish(current);
  });

  /** @param {PublishRun} run */
  const finish = (run) => {
    current = undefined;
    const lastReplyAt = now();
    const cpu = process.cpuUsage(run.cpu);
    /** @type {Published} */
    const done = {
      type: 'done',
      accepted: replies - errors,
      zeroReceivers,
      errors,
      firstWriteAt: run.startAt,
      lastWriteAt: run.lastWriteAt,
      lastReplyAt,
      rate: ((replies - errors) * 1000) / (lastReplyAt - run.startAt),
      maxBehindMs: run.maxBehindMs,
      stoppedEarly: run.stoppedEarly,
      cpuMs: (cpu.user + cpu.system) / 1000,
    };
    send(done);
  };

  process.on('message', (msg) => {
    const order = /** @type {PublisherOrder} */ (msg);
    if (order.type === 'stop') {
      if (!current) return;
      // Nothing more is written; the run ends once what was sent is answered.
      current.stoppedEarly = true;
      current.count = current.sent();
      if (replies >= current.count) finish(current);
      return;
    }
    replies = 0;
    zeroReceivers = 0;
    errors = 0;
    const { rate, count } = order;
    let sent = 0;
    /** @type {PublishRun} */
    const run = { count, cpu: process.cpuUsage(), startAt: now(), lastWriteAt: undefined, maxBehindMs: 0, stoppedEarly: false, sent: () => sent };
    current = run;
    if (rate > 0) {
      // Open loop: each tick writes everything due by now, so a late tick catches up rather than
      // lowering the rate (a subscriber that slows the server down does not slow the schedule).
      const tick = () => {
        if (sent >= run.count) return;
        const due = Math.min(run.count, Math.floor(((now() - run.startAt) * rate) / 1000));
        run.maxBehindMs = Math.max(run.maxBehindMs, ((due - sent) * 1000) / rate - 1);
        while (sent < due) {
          const k = Math.min(due - sent, MAX_FRAMES_PER_WRITE);
          const flowing = socket.write(framesOf(k));
          sent += k;
          run.lastWriteAt = now();
          if (!flowing) {
            socket.once('drain', tick);
            return;
          }
        }
        setTimeout(tick, 1);
      };
      tick();
    } else {
      // As fast as the socket drains, in pipelined batches.
      const pump = () => {
        while (sent < run.count) {
          const k = Math.min(run.count - sent, PIPELINE_FRAMES);
          const flowing = socket.write(framesOf(k));
          sent += k;
          run.lastWriteAt = now();
          if (!flowing) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    }
  });
  send({ type: 'ready' });
}

// ---------------------------------------------------------------------------------------------
// Report.

/**
 * @typedef {object} Figures
 * @property {Result[]} results
 * @property {Tool[]} tools
 * @property {[Scenario, Scenario]} scenarios  paced, max
 * @property {Settings} settings
 * @property {string} version
 * @property {string} defaultPubsubLimit
 * @property {number} elapsedS
 * @property {{ before: string, after: string }} load
 * @property {Library} lib
 */

/**
 * Prints the report and returns the exit code.
 * @param {Figures} figures
 */
function report({ results, tools, scenarios, settings, version, defaultPubsubLimit, elapsedS, load, lib }) {
  const rate = lib.formatRate;
  const pct = lib.formatPercent;
  /** @param {number | undefined} v */
  const ms = (v) => (v === undefined ? lib.UNKNOWN : lib.formatMicros(v * 1000));
  /** @param {Result} r @param {string} id */
  const peerOf = (r, id) => results.find((x) => x.tool.id === id && x.scenario === r.scenario && x.repeat === r.repeat);
  /** @param {number | undefined} a @param {number | undefined} b */
  const ratio = (a, b) => (a === undefined || b === undefined || b === 0 ? undefined : a / b);
  /** @param {number | undefined} v */
  const fmtRatio = (v) => (v === undefined ? lib.UNKNOWN : formatRatio(v));
  const [paced, max] = scenarios;

  /** @type {string[]} */
  const out = [];
  out.push(`pubsub-mon tail throughput benchmark: PSUBSCRIBE ${PATTERN}, PUBLISH ${CHANNEL} with ${PAYLOAD_BYTES}-byte payloads; redis-server ${version}, standalone sandbox on loopback`);
  out.push(`${settings.repeats} repeats, tools in alternating order (A B C ..., then reversed); took ${elapsedS.toFixed(0)} s; load average ${load.before} before, ${load.after} after (others share this machine)`);
  out.push(`scenario ${paced.name}: ${lib.formatCount(paced.messages)} messages per run, paced open loop; client-output-buffer-limit ${defaultPubsubLimit} (the default)`);
  out.push(`scenario max: ${lib.formatCount(max.messages)} messages per run, published as fast as the socket drains; limit raised to ${MAX_RATE_OUTPUT_LIMIT} so that printing is measured, not the cut-off`);
  out.push('| pipe: this script is the reader of the subscriber\'s stdout and counts its lines (its CPU is the "reader" column);');
  out.push('> /dev/null: stdout is /dev/null, as in the issue; tail\'s own stderr summary says what it printed, redis-cli\'s lines cannot be counted');
  out.push('');

  const header = ['scenario', 'run', 'tool', 'published/s', 'printed/s', 'printed', 'lost', 'tail drops', 'lag', 'vs redis-cli', 'vs >/dev/null'];
  const rows = results.map((r) => [
    r.scenario.name,
    String(r.repeat),
    r.tool.name,
    rate(r.publishRate),
    rate(r.printRate),
    r.printed === undefined ? lib.UNKNOWN : pct(r.printed / r.published),
    r.lost === undefined ? lib.UNKNOWN : String(r.lost),
    r.summary ? String(r.summary.dropped) : lib.UNKNOWN,
    ms(r.lagMs),
    fmtRatio(ratio(r.printRate, peerOf(r, 'cli')?.printRate)),
    fmtRatio(ratio(r.printRate, peerOf(r, 'cli-null')?.printRate)),
  ]);
  out.push(...table([header, ...rows], 3));
  out.push('');
  out.push('| pipe: printed/s = lines per second from the first to the last line read; lag = last line read - last PUBLISH answered');
  out.push('> /dev/null: printed/s = printed (tail\'s summary; for redis-cli, PUBLISHes accepted) / (first PUBLISH -> nothing left for the subscriber');
  out.push('  in the server\'s queue nor in either socket buffer); lag = that moment - last PUBLISH answered');
  out.push('lost = PUBLISHes accepted - printed; tail drops = what tail\'s summary counts as dropped (its output queue was full); ratios: same repeat');
  out.push('');

  const cpuHeader = ['scenario', 'run', 'tool', 'subscriber CPU', 'redis-server CPU', 'publisher CPU', 'reader CPU', 'server queue max', 'publisher late'];
  const cpuRows = results.map((r) => [
    r.scenario.name,
    String(r.repeat),
    r.tool.name,
    pct(r.cpu.sub),
    pct(r.cpu.server),
    pct(r.cpu.publisher),
    pct(r.cpu.reader),
    lib.formatBytes(r.maxOmem),
    r.scenario.rate > 0 ? ms(Math.max(0, r.publisherBehindMs)) : lib.UNKNOWN,
  ]);
  out.push(...table([cpuHeader, ...cpuRows], 3));
  out.push('');
  out.push('CPU: share of one core from subscribed to drained (2 cores in all); server queue max: largest CLIENT LIST omem of the subscriber, sampled every 200 ms;');
  out.push('publisher late: how far behind its schedule the paced publisher fell at worst (it then catches up)');

  const notes = results.filter((r) => r.notes.length > 0 || r.notices.length > 0);
  if (notes.length > 0) {
    out.push('');
    for (const r of notes) {
      out.push(`${r.scenario.name} run ${r.repeat}, ${r.tool.name}: ${r.notes.join('; ') || 'stderr:'}`);
      const times = new Map();
      for (const line of r.notices) times.set(line, (times.get(line) ?? 0) + 1);
      for (const [line, n] of [...times].slice(0, 4)) out.push(`    ${n > 1 ? `${n} x ` : ''}${line}`);
    }
  }

  // Goals.
  out.push('');
  const verdicts = new Verdicts();
  const goalLabel = paced.rate === GOAL_RATE ? '200k msg/s' : `${rate(paced.rate)} (the goal is 200k msg/s)`;
  for (const tool of tools.filter((t) => t.ours)) {
    const runs = results.filter((r) => r.tool === tool && r.scenario === paced);
    const measurable = runs.filter((r) => r.publishRate >= paced.rate * PUBLISHER_ENOUGH);
    /** @param {Result} r */
    const keptUp = (r) => r.lost === 0 && !r.disconnected && (r.summary?.dropped ?? 0) === 0 && r.lagMs !== undefined && r.lagMs <= MAX_LAG_MS;
    const failing = measurable.filter((r) => !keptUp(r));
    const goal = `${tool.name} keeps up with ${goalLabel} (nothing lost, lag <= ${MAX_LAG_MS} ms, every run)`;
    if (measurable.length === 0) out.push(verdicts.line(goal, outcomeOf(false, true), `the publisher reached only ${runs.map((r) => rate(r.publishRate)).join(', ')}; needs ${rate(paced.rate * PUBLISHER_ENOUGH)}`));
    else if (failing.length > 0) out.push(verdicts.line(goal, outcomeOf(false), failing.map((r) => `run ${r.repeat}: printed ${rate(r.printRate)}, lost ${r.lost}, tail drops ${r.summary?.dropped ?? lib.UNKNOWN}, lag ${ms(r.lagMs)}${r.disconnected ? ', disconnected' : ''}`).join('; ')));
    else out.push(verdicts.line(goal, outcomeOf(true), `${measurable.length} of ${runs.length} runs measurable, printed ${measurable.map((r) => rate(r.printRate)).join(', ')}, nothing lost, lag <= ${ms(Math.max(...measurable.map((r) => r.lagMs ?? NaN)))}`));
  }
  /** The run of `tool` at max rate that printed the most. @param {Tool | undefined} tool */
  const best = (tool) => results.filter((r) => r.tool === tool && r.scenario === max).reduce(
    (/** @type {Result | undefined} */ a, b) => ((b.printRate ?? 0) > (a?.printRate ?? -1) ? b : a),
    undefined,
  );
  // The peer's better figure: through the pipe, or to /dev/null as the issue runs it, whichever is faster.
  const cliBest = [best(tools.find((t) => t.id === 'cli')), best(tools.find((t) => t.id === 'cli-null'))].reduce((a, b) => ((b?.printRate ?? -1) > (a?.printRate ?? -1) ? b : a), undefined);
  for (const tool of tools.filter((t) => t.ours)) {
    const goal = `${tool.name} prints at least as many msg/s as redis-cli (max rate, better of ${settings.repeats} runs each, redis-cli's faster figure)`;
    const mine = best(tool);
    const v = ratio(mine?.printRate, cliBest?.printRate);
    if (v === undefined || !mine || !cliBest) {
      out.push(verdicts.line(goal, outcomeOf(false), 'no rate measured'));
      continue;
    }
    const figures = `${rate(mine.printRate)} vs ${rate(cliBest.printRate)} ${cliBest.tool.devNull ? 'to /dev/null' : 'through the pipe'}`;
    const publisherBound = [mine, cliBest].every((r) => (r.printRate ?? 0) >= r.publishRate * PUBLISHER_BOUND_SHARE && !r.lost);
    if (v >= 1) out.push(verdicts.line(goal, outcomeOf(true), `ratio ${v.toFixed(2)}: ${figures}`));
    else if (publisherBound) out.push(verdicts.line(goal, outcomeOf(true), `ratio ${v.toFixed(2)}, but both printed everything at the publisher's pace: ${figures}; a tie`));
    else out.push(verdicts.line(goal, outcomeOf(false), `ratio ${v.toFixed(2)}: ${figures}`));
  }
  printReport(out);
  return verdicts.exitCode;
}

