// The channel contract on the command line: precedence over -c and --pattern, refusals in one line, and a down node judged per shard.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { runCli, stackTraceLines } from '../helpers/cli.js';

let sb: Sandbox;
let dir: string;
const clients = new Clients();

beforeAll(async () => {
  sb = await startSandbox({ replicas: 1 });
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-contract-test-'));
});
afterAll(async () => {
  await sb?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});
afterEach(() => clients.closeAll());

function file(name: string, content: string | Buffer): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, content);
  return f;
}

describe('check --contract', () => {
  it('keeps the contract\'s terms for a channel that -c or --pattern also names', async () => {
    const primary = sb.nodes.find((n) => n.role === 'primary')!;
    await clients.subscribe(primary, 'orders');
    await clients.subscribe(primary, 'orders');
    await clients.subscribe(primary, 'orders');
    const contract = file('five.yaml', 'channels:\n  - name: orders\n    min_subscribers: 5\n');
    for (const extra of [[], ['--pattern', '*'], ['-c', 'orders', '-m', '1']]) {
      const r = await runCli(['check', '-u', sb.url, '--contract', contract, ...extra, '--format', 'json']);
      expect(r.code, extra.join(' ')).toBe(2);
      const doc = JSON.parse(r.stdout) as { channels: Array<{ name: string; status: string; contract?: { min_subscribers: number } }> };
      expect(doc.channels.find((c) => c.name === 'orders')).toMatchObject({ status: 'CRITICAL', contract: { min_subscribers: 5 } });
    }
  });

  it('refuses a malformed file in one line naming file and line, escaped once, exit 3', async () => {
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['esc.yaml', 'channels:\n  - name: a\n    \u001b[31mevil: 1\n', /esc\.yaml:3: unknown key "\\x1b\[31mevil"/],
      ['latin1.yaml', Buffer.concat([Buffer.from('channels:\n  - name: a\n  - name: '), Buffer.from([0xff, 0xfe]), Buffer.from('\n')]), /latin1\.yaml:3: not valid UTF-8/],
      ['dq.yaml', 'channels:\n  - name: "f\\xffo"\n', /dq\.yaml:2: name in double quotes has a backslash/],
    ];
    for (const [name, content, message] of cases) {
      const r = await runCli(['check', '-u', sb.url, '--contract', file(name, content)]);
      expect(r.code, name).toBe(3);
      expect(r.stderr.trim().split('\n'), name).toHaveLength(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/[\u0000-\u0009\u000b-\u001f]/);
      expect(r.stderr).not.toContain('\\\\x1b');
      expect(stackTraceLines(r.stderr)).toEqual([]);
    }
  });

  it('refuses a file too large to be a contract without reading it all', async () => {
    const r = await runCli(['check', '-u', sb.url, '--contract', '/dev/zero']);
    expect(r.code).toBe(3);
    expect(r.stderr).toMatch(/contract \/dev\/zero is larger than 4 MiB/);
  });
});

describe('watch --contract', () => {
  it('cannot be combined with --pattern, which would judge part of the channels', async () => {
    const r = await runCli(['watch', '-u', sb.url, '--once', '--contract', file('one.yaml', 'channels:\n  - name: a\n'), '--pattern', 'q*']);
    expect(r.code).toBe(2);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('--contract judges every channel it declares');
  });
});

describe('a node down on a cluster', () => {
  it('leaves a shard channel of another shard decided, and one of its own shard undecided', async () => {
    const cluster = await startSandbox({ cluster: 3, replicas: 1 });
    const local = new Clients();
    try {
      const a = '{a}:events';
      const b = '{b}:events';
      const ownerA = await ownerOfSlot(cluster, local, hashSlot(a));
      const ownerB = await ownerOfSlot(cluster, local, hashSlot(b));
      expect(ownerA.primary.address).not.toBe(ownerB.primary.address);
      local.closeAll();
      await ownerA.replicas[0]!.process.kill();
      const seed = `redis://${ownerB.primary.address}`;
      const other = await runCli(['check', '-u', seed, '-s', b, '--timeout', '1s']);
      expect(other.stdout).toMatch(/^CRITICAL/);
      expect(other.code).toBe(2);
      const own = await runCli(['check', '-u', seed, '-s', a, '--timeout', '1s']);
      expect(own.stdout).toMatch(/^UNKNOWN/);
      expect(own.code).toBe(3);
    } finally {
      local.closeAll();
      await cluster.stop();
    }
  });
});
