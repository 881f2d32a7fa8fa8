// `npm start`: a sandbox with demo traffic and `watch --rates` on it, so a newcomer sees the tool work.
import type { Argv } from 'yargs';
import type { CommandModule } from './command.js';
import type { Io } from './io.js';
import { OUTPUT_OPTIONS } from '../options.js';
import { startSandbox, type Sandbox } from '../sandbox/sandbox.js';
import { startDemoTraffic } from '../sandbox/demo-traffic.js';
import { watchCommand } from './watch.js';
import { PubsubMonError } from '../errors.js';

export const demoCommand: CommandModule = {
  command: 'demo',
  describe: 'Start a sandbox with demo traffic and watch it (what npm start runs)',
  hidden: true,
  builder: (y: Argv) => y.options(OUTPUT_OPTIONS).option('standalone', { type: 'boolean', default: false, describe: 'Use one server instead of a cluster' }),
  async run(raw, io: Io, signal) {
    io.stderr.write('Starting a throwaway Redis cluster (3 primaries, 3 replicas) on free loopback ports...\n');
    let sb: Sandbox;
    try {
      sb = raw.standalone ? await startSandbox({ replicas: 1 }) : await startSandbox({ cluster: 3, replicas: 1 });
    } catch (err) {
      if (raw.standalone || !(err instanceof PubsubMonError) || err.kind !== 'environment' || /not found on PATH/.test(err.message)) throw err;
      io.stderr.write(`A cluster could not be started (${err.message}); using one server instead.\n`);
      sb = await startSandbox({ replicas: 1 });
    }
    try {
      const traffic = await startDemoTraffic(sb);
      try {
        io.stderr.write(`Demo traffic running on ${sb.url}. Starting: pubsub-mon watch --rates -u ${sb.url}\n`);
        return await watchCommand.run(
          { url: sb.url, rates: true, interval: '1s', sort: 'subscribers', once: false, includeKeyspace: false, json: Boolean(raw.json), color: raw.color !== false, timeout: '5s' },
          io,
          signal,
        );
      } finally {
        await traffic.stop();
      }
    } finally {
      io.stderr.write('Stopping the demo servers...\n');
      await sb.stop();
    }
  },
};
