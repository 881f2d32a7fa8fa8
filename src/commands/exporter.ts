// `pubsub-mon exporter`: serves per-channel subscriber counts, node health and the contract to Prometheus, from one poll loop.
import { defineCommand } from './command.js';
import { complain, sleep, targetFor } from './io.js';
import { bool, CONNECTION_FLAGS, custom, duration, integer, text } from '../options.js';
import { parseListenAddress } from '../values.js';
import { ConnectionError, TimeoutError, UsageError } from '../errors.js';
import { rethrowIfBug } from '../redis/errors.js';
import { declaredChannels, loadContract } from './contract-file.js';
import { checkWritable } from './profile-file.js';
import { DEFAULT_RECORD_WINDOW_MS, recordingFlagsProblem, RECORDING_FLAGS, saveRecording, tell } from './recording.js';
import type { Snapshot } from '../stats/snapshot.js';
import type { TrafficRecording } from '../stats/traffic-recording.js';

/** Not a registered exporter port; loopback, so nothing is exposed unless asked for. */
const DEFAULT_LISTEN = '127.0.0.1:9484';

const EXPORTER_FLAGS = {
  ...CONNECTION_FLAGS,
  listen: custom({ type: 'string', default: DEFAULT_LISTEN, describe: 'Address to serve /metrics and /healthz on (HOST:PORT; :PORT for every interface)' }, (value, flag) =>
    parseListenAddress(value, flag),
  ),
  contract: text({ describe: 'YAML file declaring channels and their thresholds: exported even with no subscriber, with their status' }),
  rates: bool({ alias: 'r', describe: 'Count messages per channel (pubsub_mon_channel_messages_total), with sampling subscriptions not counted anywhere' }),
  interval: duration({ alias: 'i', default: '15s', min: 100, describe: 'Time between polls of the deployment; scrapes are served from the last one' }),
  'top-clients': integer({ default: 10, min: 0, max: 1000, describe: 'Subscriber connections exported by output buffer, the largest first' }),
  'max-channels': integer({ default: 1000, min: 0, describe: 'Channels exported at most, the most subscribed first (contract channels always)' }),
  'include-keyspace': bool({ describe: 'Include keyspace-notification channels (__keyspace@*, __keyevent@*)' }),
  ...RECORDING_FLAGS,
} as const;

export const exporterCommand = defineCommand({
  command: 'exporter',
  describe: 'Prometheus exporter: per-channel subscribers (classic and sharded, summed over the cluster), node health and the channel contract',
  flags: EXPORTER_FLAGS,
  examples: [
    ['pubsub-mon exporter -p 7000', 'serve http://127.0.0.1:9484/metrics for a cluster seeded at port 7000'],
    ['pubsub-mon exporter --contract channels.yaml --rates', 'declared channels with their thresholds and status, and message counters'],
    ['pubsub-mon exporter --listen :9484', 'listen on every interface (put it behind a firewall or a proxy)'],
    ['pubsub-mon exporter --record traffic.json --record-window 5m', 'also rewrite a traffic profile (for bench --profile) every 5 minutes'],
  ],
  epilog: 'Scrapes never reach Redis: they are served from the last poll, and pubsub_mon_exporter_snapshot_age_seconds says how old it is. SIGTERM or Ctrl-C stops it.',
  async run(args, io, signal) {
    const recordProblem = recordingFlagsProblem(args);
    if (recordProblem !== undefined) throw new UsageError(recordProblem);
    const contract = args.contract !== undefined ? await loadContract(args.contract) : undefined;
    if (args.record !== undefined) await checkWritable(args.record);
    const target = targetFor(args, io);
    const [{ needsRates }, { Monitor }, { Exporter }, { serve }, { TrafficRecording }] = await Promise.all([
      import('../stats/contract.js'),
      import('../redis/monitor.js'),
      import('../exporter/exporter.js'),
      import('../exporter/server.js'),
      import('../stats/traffic-recording.js'),
    ]);
    const recordFile = args.record;
    const windowMs = args.recordWindow ?? DEFAULT_RECORD_WINDOW_MS;
    let recording: TrafficRecording | undefined = recordFile !== undefined ? new TrafficRecording(windowMs) : undefined;
    let lastSnapshot: Snapshot | undefined;
    const rated = contract ? needsRates(contract) : undefined;
    if (rated && !args.rates) throw new UsageError(`contract ${contract?.file}:${rated.line} sets min_rate: measuring message rates needs --rates`);
    const open = () =>
      Monitor.open(target, {
        role: 'exporter',
        includeKeyspace: args.includeKeyspace,
        // A recording is made of the rates and payload sizes the sampler measures.
        rates: args.rates || recordFile !== undefined,
        payloadSizes: recordFile !== undefined,
        reconnect: true,
        // A poll waits for slow nodes no longer than one interval: the others are still reported on time.
        waitMs: Math.min(target.timeoutMs, args.interval),
        declared: declaredChannels(contract),
      });
    let monitor: Awaited<ReturnType<typeof open>> | undefined;
    let problem: string | undefined;
    try {
      monitor = await open();
    } catch (err) {
      // Wrong credentials or flags end it now; a server not up yet is waited for (an exporter often starts first).
      if (!(err instanceof ConnectionError || err instanceof TimeoutError)) throw err;
      problem = (err as Error).message;
      complain(io, `${problem}; trying again every ${args.interval / 1000} s (/healthz answers 503 until a poll succeeds)`);
    }
    const source = {
      snapshot: async () => {
        monitor ??= await open();
        const s = await monitor.snapshot();
        recording?.observe(s);
        lastSnapshot = s;
        return s;
      },
    };
    let written = 0;
    let writeProblem: string | undefined;
    /** At the end of each window: the profile rewritten, and the next window started from the snapshot that ended this one. */
    const endWindow = async (r: TrafficRecording, file: string, last: Snapshot) => {
      recording = new TrafficRecording(windowMs);
      recording.observe(last);
      try {
        const line = await saveRecording(file, r, args.recordGroup, `${target.host}:${target.port} (${last.mode})`);
        // Said for the first file, and when writing works again: the exporter may run for weeks.
        if (written === 0 || writeProblem !== undefined) tell(io, 'exporter', `${line} (rewritten every ${windowMs / 1000} s)`);
        written++;
        writeProblem = undefined;
      } catch (err) {
        rethrowIfBug(err);
        const message = (err as Error).message;
        if (message !== writeProblem) complain(io, `${message} (trying again at the end of the next window)`);
        writeProblem = message;
      }
    };
    try {
      const exporter = new Exporter(source, {
        ...(contract ? { contract } : {}),
        maxChannels: args.maxChannels,
        topClients: args.topClients,
        intervalMs: args.interval,
        rates: args.rates,
      });
      const server = await serve(exporter, args.listen);
      const shown = server.address.host.includes(':') ? `[${server.address.host}]` : server.address.host;
      io.stderr.write(`pubsub-mon exporter: serving http://${shown}:${server.address.port}/metrics, polling ${target.display} every ${args.interval / 1000} s\n`);
      try {
        while (!signal.aborted) {
          const started = Date.now();
          try {
            await exporter.poll();
            if (problem !== undefined) io.stderr.write('pubsub-mon exporter: polling again\n');
            problem = undefined;
            // Polls come an interval apart, not on the window's edge: the poll nearest the edge ends it.
            if (recording && recordFile !== undefined && lastSnapshot && recording.elapsedMs + args.interval / 2 >= windowMs) await endWindow(recording, recordFile, lastSnapshot);
          } catch (err) {
            rethrowIfBug(err);
            // Said once per distinct problem, not at every poll: the exporter may run for weeks.
            const message = (err as Error).message;
            if (message !== problem) complain(io, `poll failed (serving the last snapshot): ${message}`);
            problem = message;
          }
          await sleep(Math.max(0, args.interval - (Date.now() - started)), signal);
        }
      } finally {
        await server.close();
      }
      return 0;
    } finally {
      monitor?.close();
    }
  },
});
