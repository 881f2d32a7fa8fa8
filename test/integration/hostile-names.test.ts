// Names that try to drive the terminal: nothing a server sends reaches stdout or stderr raw, in any command or format.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { Clients } from '../helpers/redis.js';
import { runCli, type CliResult } from '../helpers/cli.js';
import type { WatchJson } from '../helpers/watch.js';

/** Sets the window title and clears the screen when printed raw. */
const TITLE_AND_CLEAR = '\u001b]2;pwned\u0007\u001b[2J';
/** Reorders what follows it (Trojan Source), hides text, breaks lines unseen, and a C1 CSI. */
const INVISIBLE = 'a\u202eb\u200bc\u2028d\ufeffe\u00adf\u009b31mg';

/** Every character a terminal acts on or hides: C0 but newline, DEL, C1, bidi, zero-width, separators, BOM, soft hyphen. */
const DANGEROUS = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]/;

function expectTerminalSafe(r: CliResult): void {
  expect(r.stdout).not.toMatch(DANGEROUS);
  expect(r.stderr).not.toMatch(DANGEROUS);
}

describe('hostile channel names on every output path', () => {
  let sb: Sandbox;
  const clients = new Clients();
  beforeAll(async () => {
    sb = await startSandbox({ replicas: 1 });
  });
  afterEach(() => clients.closeAll());
  afterAll(async () => {
    await sb?.stop();
  });

  async function subscribeHostile(): Promise<void> {
    await clients.ssubscribe(sb.nodes[0]!, TITLE_AND_CLEAR);
    await clients.subscribe(sb.nodes[1]!, INVISIBLE, `${TITLE_AND_CLEAR}classic`);
    await expect
      .poll(async () => (await runCli(['watch', '-u', sb.url, '--once', '--json', '--interval', '100ms'])).stdout, { timeout: 10_000 })
      .toContain('classic');
  }

  it('tail\'s stderr hint about shard channels shows the name escaped', async () => {
    await subscribeHostile();
    const r = await runCli(['tail', '-u', sb.url, 'nothing:*', '--timeout', '300ms']);
    expect(r.code).toBe(0);
    expectTerminalSafe(r);
    expect(r.stderr).toContain('(e.g. \\x1b]2;pwned\\x07\\x1b[2J)');
  });

  it('watch: the table and the JSON, which still parses back to the exact names', async () => {
    await subscribeHostile();
    const text = await runCli(['watch', '-u', sb.url, '--once', '--interval', '100ms']);
    expect(text.code).toBe(0);
    expectTerminalSafe(text);
    expect(text.stdout).toContain('a\\u202eb\\u200bc\\u2028d\\ufeffe\\u00adf\\u009b31mg');
    const json = await runCli(['watch', '-u', sb.url, '--once', '--json', '--interval', '100ms']);
    expectTerminalSafe(json);
    const names = (JSON.parse(json.stdout) as WatchJson).channels.map((c) => c.name);
    expect(names).toEqual(expect.arrayContaining([TITLE_AND_CLEAR, INVISIBLE, `${TITLE_AND_CLEAR}classic`]));
  });

  it('check in every format, and a check that fails on them', async () => {
    await subscribeHostile();
    for (const format of ['text', 'json', 'nagios', 'prometheus']) {
      const r = await runCli(['check', '-u', sb.url, '--pattern', '*', '-m', '2', '--format', format]);
      expect(r.code).toBe(2);
      expectTerminalSafe(r);
    }
    const json = await runCli(['check', '-u', sb.url, '--pattern', '*', '-m', '2', '--format', 'json']);
    const doc = JSON.parse(json.stdout) as { channels: { name: string }[] };
    expect(doc.channels.map((c) => c.name)).toEqual(expect.arrayContaining([INVISIBLE]));
    const prom = await runCli(['check', '-u', sb.url, '--pattern', '*', '--format', 'prometheus']);
    expect(prom.stdout).toContain('channel="a\\\\u202eb');
  });

  it('a name given on the command line is echoed escaped, in the summary and on stderr', async () => {
    const r = await runCli(['check', '-u', sb.url, '-c', `${INVISIBLE}-gone`, '--format', 'nagios']);
    expect(r.code).toBe(2);
    expectTerminalSafe(r);
    expect(r.stdout).toContain('a\\u202eb\\u200bc');
    const bad = await runCli(['tail', '-u', sb.url, '--format', `%${TITLE_AND_CLEAR}`]);
    expect(bad.code).toBe(2);
    expectTerminalSafe(bad);
    expect(bad.stderr).toMatch(/unknown format token '%\\x1b'/);
  });
});
