// Reading and writing profile files: the shared capped UTF-8 reader, one UsageError line for every failure, and the atomic write.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkWritable, loadProfile, writeProfile } from '../../src/commands/profile-file.js';
import { UsageError } from '../../src/errors.js';
import type { Profile } from '../../src/stats/profile.js';

let dir: string;
beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pubsub-mon-profile-file-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const PROFILE: Profile = {
  recordedAt: '2026-11-22T01:00:00.000Z',
  windowS: 60,
  source: '127.0.0.1:6379 (standalone)',
  groups: [{ name: 'orders', kind: 'channel', channels: [{ name: 'orders', rate: 12.5, subscribers: 3 }], sizes: [{ bytes: 128, weight: 1 }] }],
};

async function failure(work: Promise<unknown>): Promise<UsageError> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(UsageError);
  const e = err as UsageError;
  expect(e.message).not.toContain('\n');
  expect(e.exitCode).toBe(2);
  return e;
}

describe('writeProfile and loadProfile', () => {
  it('write through FILE.tmp and a rename, and read back what was written', async () => {
    const file = path.join(dir, 'p.json');
    const bytes = await writeProfile(file, PROFILE);
    expect(bytes).toBe(fs.statSync(file).size);
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
    expect(await loadProfile(file)).toEqual(PROFILE);
    // Written again over itself (the exporter, every window): still whole.
    await writeProfile(file, { ...PROFILE, windowS: 30 });
    expect((await loadProfile(file)).windowS).toBe(30);
  });

  it('say in one line what is wrong with a file that cannot be a profile', async () => {
    const bad = path.join(dir, 'bad.json');
    fs.writeFileSync(bad, '{"pubsub_mon_profile": 1, "groups": [{"name": "a", "channels": [{"name": "a", "rate": -1, "subscribers": 1}], "sizes": [{"bytes": 1, "weight": 1}]}]}');
    expect((await failure(loadProfile(bad))).message).toBe(`profile ${bad}: groups[0].channels[0].rate: must be a positive number, got -1`);
    expect((await failure(loadProfile(path.join(dir, 'none.json')))).message).toBe(`cannot read profile ${path.join(dir, 'none.json')}: no such file`);
    expect((await failure(loadProfile(dir))).message).toBe(`cannot read profile ${dir}: it is a directory`);
    expect((await failure(loadProfile('/dev/zero'))).message).toBe('profile /dev/zero is larger than 4 MiB: is it the right file?');
    const latin1 = path.join(dir, 'latin1.json');
    fs.writeFileSync(latin1, Buffer.concat([Buffer.from('{\n"a": "'), Buffer.from([0xff]), Buffer.from('"}')]));
    expect((await failure(loadProfile(latin1))).message).toBe(`profile ${latin1}:2: not valid UTF-8 (write a byte of a channel name as \\xNN)`);
  });

  it('refuse a regular file over the cap without reading it', async () => {
    const big = path.join(dir, 'big.json');
    fs.writeFileSync(big, '');
    fs.truncateSync(big, 5 * 1024 * 1024);
    expect((await failure(loadProfile(big))).message).toBe(`profile ${big} is larger than 4 MiB: is it the right file?`);
  });

  it('tell before a recording starts that the file cannot be written', async () => {
    await checkWritable(path.join(dir, 'ok.json'));
    expect(fs.existsSync(path.join(dir, 'ok.json.tmp'))).toBe(false);
    const missing = path.join(dir, 'no', 'p.json');
    expect((await failure(checkWritable(missing))).message).toBe(`cannot write profile ${missing}: no such directory`);
    expect((await failure(writeProfile(missing, PROFILE))).message).toBe(`cannot write profile ${missing}: no such directory`);
  });
});
