// `pubsub-mon sandbox`: throwaway local servers in the foreground until Ctrl-C, then nothing left behind.
import { defineCommand } from './command.js';
import { useColor } from './io.js';
import { custom, integer, OUTPUT_FLAGS, text } from '../options.js';
import { parseInteger } from '../values.js';
import type { Sandbox } from '../sandbox/sandbox.js';
import { makePalette } from '../render/color.js';
import { jsonLine } from '../render/json/line.js';

export const SANDBOX_FLAGS = {
  ...OUTPUT_FLAGS,
  // `--cluster` alone means 3 primaries; absent means a standalone server (0).
  cluster: custom({ type: 'string', describe: 'Start a cluster of N primaries (--cluster alone: 3) instead of one standalone server' }, (value, flag) =>
    value === undefined ? 0 : value === '' ? 3 : parseInteger(value, flag, 1, 100),
  ),
  replicas: integer({ min: 0, max: 10, describe: 'Replicas per primary (default: 1 for a cluster, 0 standalone)' }),
  password: text({ alias: 'a', describe: 'Require this password (requirepass) on every server' }),
} as const;

/** What `sandbox` prints for people: one line per node and how to use them. */
function describeSandbox(sb: Sandbox, color: boolean): string {
  const p = makePalette(color);
  const primaries = sb.nodes.filter((n) => n.role === 'primary').length;
  const replicas = sb.nodes.length - primaries;
  const kind = sb.mode === 'cluster' ? `cluster of ${primaries} primaries and ${replicas} replicas` : `standalone server${replicas ? ` with ${replicas} replica${replicas > 1 ? 's' : ''}` : ''}`;
  // Every line fits 80 columns, the default terminal.
  const lines = [p.bold(`pubsub-mon sandbox: ${kind}`)];
  for (const [i, n] of sb.nodes.entries()) lines.push(`  ${sb.urls[i]}  ${n.role}`);
  lines.push('', `Try:  pubsub-mon watch -u ${sb.url}`);
  if (sb.mode === 'cluster') lines.push('      (any node will do: the cluster is discovered)');
  lines.push(p.dim(`Files: ${sb.dir}`), p.dim('Ctrl-C (or closing this terminal) stops the servers and removes the files.'));
  return `${lines.join('\n')}\n`;
}

export const sandboxCommand = defineCommand({
  command: 'sandbox',
  describe: 'Start throwaway local redis-server processes (standalone or cluster) until Ctrl-C',
  flags: SANDBOX_FLAGS,
  examples: [
    ['pubsub-mon sandbox', 'one server on a free loopback port'],
    ['pubsub-mon sandbox --cluster 3 --replicas 1', 'a 3-primary/3-replica cluster'],
    ['pubsub-mon sandbox --json', 'the URLs as JSON, for scripts'],
  ],
  async run(args, io, signal) {
    const primaries = args.cluster;
    const replicas = args.replicas ?? (primaries > 0 ? 1 : 0);
    const { startSandbox } = await import('../sandbox/sandbox.js');
    const sb = await startSandbox({ cluster: primaries, replicas, ...(args.password ? { password: args.password } : {}) });
    try {
      if (args.json) {
        const doc = { mode: sb.mode, url: sb.url, dir: sb.dir, nodes: sb.nodes.map((n, i) => ({ url: sb.urls[i], address: n.address, role: n.role })) };
        io.stdout.write(jsonLine(doc));
      } else {
        io.stdout.write(describeSandbox(sb, useColor(io, args.color)));
      }
      if (!signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
      if (!args.json) io.stderr.write('stopping the sandbox servers...\n');
      return 0;
    } finally {
      await sb.stop();
    }
  },
});
