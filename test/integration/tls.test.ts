// TLS: rediss:// URLs, --tls, --cacert, --insecure, client certificates, and clean failures,
// against real redis-server processes that listen with TLS on a second loopback port.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { findFreePorts } from '../../src/sandbox/ports.js';
import { RunningCli, runCli, stackTraceLines } from '../helpers/cli.js';

interface WatchJson { mode: string; nodes: Array<{ address: string; up: boolean; error?: string }> }

let dir: string;
const file = (name: string) => path.join(dir, name);

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
function makeCertificates(): void {
  const days = ['-days', '2'];
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca-key.pem', '-out', 'ca.pem', ...days, '-subj', '/CN=pubsub-mon test CA');
  fs.writeFileSync(file('server.ext'), 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  fs.writeFileSync(file('client.ext'), 'extendedKeyUsage=clientAuth\n');
  for (const who of ['server', 'client']) {
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${who}-key.pem`, '-out', `${who}.csr`, '-subj', `/CN=pubsub-mon test ${who}`);
    openssl('x509', '-req', '-in', `${who}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca-key.pem', '-CAcreateserial', '-out', `${who}.pem`, ...days, '-extfile', `${who}.ext`);
  }
}

/**
 * A standalone server: plain on its sandbox port (what readiness PINGs), TLS on a free port of its
 * own, which is returned with it. The TLS port is picked before the server binds it, so another
 * process may take it in between: then start again on fresh ports.
 */
async function tlsSandbox(authClients: 'optional' | 'yes'): Promise<{ sb: Sandbox; tlsPort: number }> {
  for (let attempt = 1; ; attempt++) {
    const [tlsPort] = (await findFreePorts(1)) as [number];
    try {
      return { sb: await startTlsSandbox(tlsPort, authClients), tlsPort };
    } catch (err) {
      if (attempt >= 3) throw err;
    }
  }
}

function startTlsSandbox(tlsPort: number, authClients: 'optional' | 'yes'): Promise<Sandbox> {
  return startSandbox({
    serverArgs: [
      '--tls-port', String(tlsPort),
      '--tls-cert-file', file('server.pem'),
      '--tls-key-file', file('server-key.pem'),
      '--tls-ca-cert-file', file('ca.pem'),
      '--tls-auth-clients', authClients,
    ],
  });
}

function expectOneCleanLine(stderr: string): void {
  expect(stderr.trim().split('\n')).toHaveLength(1);
  expect(stderr).toMatch(/^pubsub-mon: /);
  expect(stackTraceLines(stderr)).toEqual([]);
}

let optional: Sandbox | undefined;
let required: Sandbox | undefined;
let tlsPort: number;
let mtlsPort: number;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-tls-'));
  makeCertificates();
  const [a, b] = await Promise.all([tlsSandbox('optional'), tlsSandbox('yes')]);
  [optional, tlsPort, required, mtlsPort] = [a.sb, a.tlsPort, b.sb, b.tlsPort];
});

afterAll(async () => {
  await Promise.all([optional?.stop(), required?.stop()]);
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

const tlsUrl = () => `rediss://127.0.0.1:${tlsPort}`;
const mtlsUrl = () => `rediss://127.0.0.1:${mtlsPort}`;

async function watchOnce(args: string[]): Promise<WatchJson> {
  const r = await runCli(['watch', '--once', '--json', '--interval', '200ms', ...args]);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const w = JSON.parse(r.stdout) as WatchJson;
  expect(w.mode).toBe('standalone');
  expect(w.nodes).toHaveLength(1);
  expect(w.nodes[0]!.up).toBe(true);
  return w;
}

describe('TLS with a server certificate from a private CA', () => {
  it('watch and check work over rediss:// with --cacert', async () => {
    const w = await watchOnce(['-u', tlsUrl(), '--cacert', file('ca.pem')]);
    expect(w.nodes[0]!.address).toContain(String(tlsPort));
    const c = await runCli(['check', '-u', tlsUrl(), '--cacert', file('ca.pem'), '-c', 'x', '-m', '0']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
  });

  it('without --cacert the untrusted certificate fails with one line that suggests --cacert or --insecure', async () => {
    const r = await runCli(['watch', '--once', '--json', '-u', tlsUrl()]);
    expect(r.code).toBe(1);
    expectOneCleanLine(r.stderr);
    expect(r.stderr).toMatch(/TLS|certificate/i);
    expect(r.stderr).toMatch(/--cacert|--insecure/);
    expect(r.stdout).toBe('');
  });

  it('--insecure accepts the certificate without the CA', async () => {
    await watchOnce(['-u', tlsUrl(), '--insecure']);
  });

  it('--tls with -p (no URL) and --cacert works', async () => {
    await watchOnce(['--tls', '-h', '127.0.0.1', '-p', String(tlsPort), '--cacert', file('ca.pem')]);
    const c = await runCli(['check', '--tls', '-p', String(tlsPort), '--cacert', file('ca.pem'), '-c', 'x', '-m', '0']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
  });

  it('a plain client on the TLS port fails with one line within --timeout, without hanging', async () => {
    const started = Date.now();
    const r = await runCli(['watch', '--once', '--json', '-p', String(tlsPort), '--timeout', '2s'], { timeoutMs: 15_000 });
    const elapsed = Date.now() - started;
    expect(r.code).toBe(1);
    expectOneCleanLine(r.stderr);
    // Within the 2 s timeout plus node's start-up; far below the 15 s kill.
    expect(elapsed).toBeLessThan(4_500);
  });
});

describe('TLS with client certificates required (--tls-auth-clients yes)', () => {
  it('--cert and --key get in', async () => {
    await watchOnce(['-u', mtlsUrl(), '--cacert', file('ca.pem'), '--cert', file('client.pem'), '--key', file('client-key.pem')]);
    const c = await runCli(['check', '-u', mtlsUrl(), '--cacert', file('ca.pem'), '--cert', file('client.pem'), '--key', file('client-key.pem'), '-c', 'x', '-m', '0']);
    expect(c.stderr).toBe('');
    expect(c.code).toBe(0);
  });

  it('without a client certificate the refusal is one clean line', async () => {
    const r = await runCli(['watch', '--once', '--json', '-u', mtlsUrl(), '--cacert', file('ca.pem'), '--timeout', '2s'], { timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    expectOneCleanLine(r.stderr);
    expect(r.stdout).toBe('');
  });
});

describe('tail and bench over TLS (their own sockets, not ioredis)', () => {
  const mtls = () => ['--cacert', file('ca.pem'), '--cert', file('client.pem'), '--key', file('client-key.pem')];

  it('bench publishes and subscribes with client certificates, from its worker threads', async () => {
    const r = await runCli(['bench', '-u', mtlsUrl(), ...mtls(), '--messages', '500', '--warmup', '0', '--json'], { timeoutMs: 30_000 });
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { published: number; received: number; lost: number };
    expect(doc).toMatchObject({ published: 500, received: 500, lost: 0 });
  });

  it('tail hears a message over rediss://', async () => {
    const tail = new RunningCli(['tail', '-u', mtlsUrl(), ...mtls(), '--json', '--count', '1', '--timeout', '20s']);
    try {
      // bench's messages go to channels only it knows the names of; tail's default * hears them. Until
      // tail has subscribed they reach nobody, so bench runs again until tail has printed a line; past
      // 20 s tail has given up by its own --timeout.
      await expect.poll(async () => {
        await runCli(['bench', '-u', mtlsUrl(), ...mtls(), '--messages', '5', '--warmup', '0', '-S', '0', '--json'], { timeoutMs: 30_000 });
        return tail.lines().length;
      }, { timeout: 20_000, interval: 0 }).toBeGreaterThan(0);
      const code = await tail.finished(20_000);
      expect(code).toBe(0);
      const line = JSON.parse(tail.lines()[0]!) as { kind: string; channel: string; encoding: 'utf8' | 'base64'; payload: string; bytes: number };
      expect(line.kind).toBe('pmessage');
      expect(line.channel).toMatch(/^pubsub-mon:bench:/);
      // A bench header is binary, but may happen to be valid UTF-8: either way the bytes come back whole.
      const bytes = Buffer.from(line.payload, line.encoding);
      expect(bytes.length).toBe(128);
      expect(line.bytes).toBe(128);
      expect(bytes.readUInt16LE(0)).toBe(0x4d50);
    } finally {
      await tail.interrupt();
    }
  });
});
