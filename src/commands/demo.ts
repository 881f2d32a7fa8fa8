// `npm start`: a sandbox with demo traffic and `watch --rates` on it, so a newcomer sees the tool work.
import { defineCommand, prepareFrom } from './command.js';
import { bool, OUTPUT_FLAGS } from '../options.js';
import { PubsubMonError } from '../errors.js';
import { watchCommand } from './watch.js';
import { plural } from '../stats/plural.js';

const DEMO_FLAGS = {
  ...OUTPUT_FLAGS,
  standalone: bool({ describe: 'Use one server instead of a cluster' }),
} as const;

export const demoCommand = defineCommand({
  command: 'demo',
  describe: 'Start a sandbox with demo traffic and watch it (what npm start runs)',
  hidden: true,
  flags: DEMO_FLAGS,
  async run(args, io, signal) {
    const [{ startSandbox }, { startDemoTraffic }] = await Promise.all([import('../sandbox/sandbox.js'), import('../sandbox/demo-traffic.js')]);
    // Each line fits 80 columns: this is the first thing a newcomer sees.
    io.stderr.write(`Starting a throwaway Redis ${args.standalone ? 'server and replica' : 'cluster (3 primaries, 3 replicas)'} on loopback...\n`);
    const sb = await startSandbox(args.standalone ? { replicas: 1 } : { cluster: 3, replicas: 1 }).catch(async (err: unknown) => {
      if (args.standalone || !(err instanceof PubsubMonError) || err.kind !== 'environment' || /not found on PATH/.test(err.message)) throw err;
      io.stderr.write(`A cluster could not be started (${err.message}); using one server instead.\n`);
      return startSandbox({ replicas: 1 });
    });
    try {
      const traffic = await startDemoTraffic(sb);
      try {
        // watch's own parser fills in its defaults, exactly as if the user had typed this.
        const argv = ['--rates', '-u', sb.url, ...(args.json ? ['--json'] : []), ...(args.color ? [] : ['--no-color'])];
        io.stderr.write(`Demo traffic on ${sb.url}; now: pubsub-mon watch --rates\n`);
        const watch = await prepareFrom(watchCommand, argv);
        // watch takes the whole screen: what the demo started and how to stop it go in its frame.
        const what = sb.mode === 'cluster' ? `cluster (${plural(sb.nodes.length, 'server')})` : plural(sb.nodes.length, 'server');
        const banner = [`demo: throwaway ${what} ${sb.url} + traffic`, 'q or Ctrl-C stops the demo and removes its servers · Tab: nodes, clients'];
        return await watch({ ...io, banner }, signal);
      } finally {
        await traffic.stop();
      }
    } finally {
      io.stderr.write('Stopping the demo servers...\n');
      await sb.stop();
    }
  },
});
