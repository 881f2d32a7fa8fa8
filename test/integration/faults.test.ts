// Bad input and faults: one clear line on stderr, the right exit code, no stack trace, no password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { findFreePorts } from '../../src/sandbox/ports.js';
import { Clients } from '../helpers/redis.js';
import { RunningCli, runCli, stackTraceLines } from '../helpers/cli.js';
import type { WatchJson } from '../helpers/watch.js';


const SECRET = 'hunter2-secret';

function expectOneCleanLine(stderr: string) {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^pubsub-mon: /);
  expect(stackTraceLines(stderr)).toEqual([]);
  expect(stderr).not.toContain(SECRET);
}

describe('bad input', () => {
  it.each([
    [['watch', '--port', '99999'], /--port must be a port from 1 to 65535/],
    [['watch', '--url', 'http://example'], /must start with redis:\/\/ or rediss:\/\//],
    [['watch', '--url', `redis://:${SECRET}@[bad`], /not a valid URL/],
    [['watch', '--interval', 'soon'], /--interval takes a duration/],
    [['watch', '--limit', '-3'], /--limit must be at least 1/],
    [['watch', '--sort', 'size'], /Invalid values/],
    [['watch', '--cert', 'a.pem'], /--cert and --key go together/],
    [['watch', '--cacert', '/nonexistent/ca.pem'], /--cacert \/nonexistent\/ca.pem: cannot read the file/],
    [['watch', '--bogus'], /Unknown argument: bogus/],
    [['sandbox', '--cluster', 'many'], /--cluster takes a whole number/],
    [[], /Name a command/],
  ])('%j is refused with a usage error (exit 2)', async (args, message) => {
    const r = await runCli(args as string[]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expectOneCleanLine(r.stderr);
  });

  it('check turns every usage error into UNKNOWN (exit 3)', async () => {
    const r = await runCli(['check', '-c', 'x', '--min-subscribers', 'lots']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/--min-subscribers takes a whole number/);
    expectOneCleanLine(r.stderr);
  });

  it('prints help with every shared flag and exits 0', async () => {
    const r = await runCli(['watch', '--help']);
    expect(r.code).toBe(0);
    for (const flag of ['--url', '--host', '--port', '--password', '--user', '--tls', '--cacert', '--cert', '--key', '--insecure', '--cluster', '--json', '--color', '--timeout', '--interval', '--rates', '--pattern', '--sort', '--limit', '--once', '--include-keyspace']) {
      expect(r.stdout).toContain(flag);
    }
  });
});

describe('sandbox without redis-server', () => {
  it('says how to install it, in one line (exit 1)', async () => {
    const r = await runCli(['sandbox'], { env: { PATH: '/nonexistent' } });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/redis-server was not found on PATH; install it \(Debian\/Ubuntu: sudo apt-get install redis-server, macOS: brew install redis\) or start the servers in docker-compose.yml/);
    expectOneCleanLine(r.stderr);
  });
});

describe('faults', () => {
  let sb: Sandbox;
  beforeAll(async () => {
    sb = await startSandbox({ password: SECRET });
  });
  afterAll(async () => {
    await sb?.stop();
  });
  const port = () => String(sb.nodes[0]!.port);

  it('an unreachable server: exit 1 for watch, UNKNOWN (3) for check', async () => {
    const [free] = await findFreePorts(1);
    const w = await runCli(['watch', '-p', String(free), '--once']);
    expect(w.code).toBe(1);
    expect(w.stderr).toMatch(/cannot connect to 127.0.0.1:\d+: connection refused/);
    expectOneCleanLine(w.stderr);
    const c = await runCli(['check', '-p', String(free), '-c', 'orders', '--format', 'nagios']);
    expect(c.code).toBe(3);
    expect(c.stdout).toMatch(/^PUBSUB UNKNOWN - cannot connect/);
    expectOneCleanLine(c.stderr);
  });

  it('a missing or wrong password is said plainly and the password is never shown', async () => {
    const missing = await runCli(['watch', '-p', port(), '--once']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/requires a password/);
    expectOneCleanLine(missing.stderr);
    const wrong = await runCli(['watch', '-u', `redis://default:${SECRET}x@127.0.0.1:${port()}`, '--once', '--no-auth-warning']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/refused the credentials/);
    expectOneCleanLine(wrong.stderr);
    const fromEnv = await runCli(['check', '-p', port(), '-c', 'x', '-m', '0'], { env: { REDISCLI_AUTH: SECRET } });
    expect(fromEnv.code).toBe(0);
  });

  it('an ACL user without the PUBSUB command: the command is named, check is UNKNOWN', async () => {
    const clients = new Clients();
    try {
      const admin = await clients.open(sb.nodes[0]!, 'test:admin', SECRET);
      await admin.call('ACL', 'SETUSER', 'infoonly', 'on', '>pw', '+ping', '+info', '+client', '+config|get', '+cluster|info');
      const c = await runCli(['check', '-p', port(), '--user', 'infoonly', '-a', 'pw', '--no-auth-warning', '-c', 'orders']);
      expect(c.code).toBe(3);
      expect(c.stderr).toMatch(/ACL user 'infoonly' may not run PUBSUB CHANNELS/);
      expectOneCleanLine(c.stderr);
      const w = await runCli(['watch', '-p', port(), '--user', 'infoonly', '-a', 'pw', '--no-auth-warning', '--once']);
      expect(w.code).toBe(1);
      expect(w.stderr).toMatch(/may not run PUBSUB/);
      expectOneCleanLine(w.stderr);
    } finally {
      clients.closeAll();
    }
  });

  it('an ACL user without channel rights: watch --rates still counts, and says why rates are missing', async () => {
    const clients = new Clients();
    try {
      const admin = await clients.open(sb.nodes[0]!, 'test:admin', SECRET);
      // Since 7.0 a new user gets no channels (acl-pubsub-default resetchannels).
      await admin.call('ACL', 'SETUSER', 'nochannels', 'on', '>pw', '+@all', 'resetchannels');
      const sub = await clients.open(sb.nodes[0]!, 'test:subscriber', SECRET);
      await sub.subscribe('orders');
      const r = await runCli(['watch', '-p', port(), '--user', 'nochannels', '-a', 'pw', '--once', '--json', '--rates', '--interval', '300ms']);
      expect(r.code).toBe(0);
      const w = JSON.parse(r.stdout) as WatchJson;
      expect(w.channels.find((c) => c.name === 'orders')).toMatchObject({ subscribers: 1, rate: null });
      expect(w.warnings.join('\n')).toMatch(/message rates incomplete: .*ACL user 'nochannels' may not use these channels.*&\*/);
    } finally {
      clients.closeAll();
    }
  });
});

describe('servers going away under watch', () => {
  it('a standalone restart: watch marks the node down, then carries on when it is back', async () => {
    const sb = await startSandbox();
    const clients = new Clients();
    const watch = new RunningCli(['watch', '-u', sb.url, '--json', '--interval', '300ms']);
    try {
      await watch.waitForLine((l) => (JSON.parse(l) as WatchJson).nodes[0]?.up === true);
      await sb.nodes[0]!.process.kill();
      const down = JSON.parse(await watch.waitForLine((l) => (JSON.parse(l) as WatchJson).nodes[0]?.up === false)) as WatchJson;
      expect(down.nodes[0]!.error).toMatch(/reconnecting|lost|refused/);
      expect(down.warnings.join(' ')).toMatch(/is down/);
      await sb.nodes[0]!.process.start();
      await clients.subscribe(sb.nodes[0]!, 'back');
      await watch.waitForLine((l) => (JSON.parse(l) as WatchJson).channels.some((c) => c.name === 'back' && c.subscribers === 1));
      expect(await watch.interrupt()).toBe(0);
      expect(stackTraceLines(watch.stderr)).toEqual([]);
      // Many refreshes in: no listener leak or other warning from Node.
      expect(watch.stderr).not.toMatch(/Warning/);
    } finally {
      clients.closeAll();
      await watch.interrupt();
      await sb.stop();
    }
  });

  it('a cluster node killed during watch: that node shows down, the rest keep being counted', async () => {
    const sb = await startSandbox({ cluster: 3, replicas: 1 });
    const clients = new Clients();
    const victim = sb.nodes.find((n) => n.role === 'replica')!;
    const survivor = sb.nodes.find((n) => n.role === 'primary')!;
    await clients.subscribe(victim, 'orders');
    await clients.subscribe(survivor, 'orders');
    const watch = new RunningCli(['watch', '-u', sb.url, '--json', '--interval', '300ms']);
    try {
      await watch.waitForLine((l) => (JSON.parse(l) as WatchJson).channels.some((c) => c.name === 'orders' && c.subscribers === 2));
      await victim.process.kill();
      const line = await watch.waitForLine((l) => (JSON.parse(l) as WatchJson).nodes.some((n) => n.address === victim.address && !n.up));
      const w = JSON.parse(line) as WatchJson;
      expect(w.nodes.filter((n) => n.up)).toHaveLength(5);
      expect(w.channels.find((c) => c.name === 'orders')?.subscribers).toBe(1);
      expect(w.warnings.join(' ')).toContain(`${victim.address} (replica) is down`);
      expect(await watch.interrupt()).toBe(0);
      expect(stackTraceLines(watch.stderr)).toEqual([]);
      // Many refreshes in: no listener leak or other warning from Node.
      expect(watch.stderr).not.toMatch(/Warning/);
    } finally {
      clients.closeAll();
      await watch.interrupt();
      await sb.stop();
    }
  });
});
