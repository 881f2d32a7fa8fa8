// Reads a traffic profile named on the command line, and writes one atomically: every failure is one clear line (a usage error).
import { open, rename, rm, stat, writeFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { parseProfile, type Profile } from '../stats/profile.js';
import { profileText } from '../render/json/profile.js';
import { MAX_TEXT_FILE_BYTES, readTextFile } from './text-file.js';

/** Reads and parses a profile (bench --profile); every problem is a UsageError of one line, `profile FILE: ...`. */
export async function loadProfile(file: string): Promise<Profile> {
  const text = await readTextFile(file, 'profile');
  const parsed = parseProfile(text, file);
  if (!parsed.ok) throw new UsageError(`profile ${parsed.problem}`);
  return parsed.profile;
}

function writeProblem(file: string, err: unknown): UsageError {
  const code = (err as NodeJS.ErrnoException).code;
  const why = code === 'ENOENT' ? 'no such directory' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
  return new UsageError(`cannot write profile ${file}: ${why}`);
}

/** Fails now, in one line, when `file` could not be written at the end of a recording window (a missing directory, no permission). */
export async function checkWritable(file: string): Promise<void> {
  const tmp = `${file}.tmp`;
  try {
    // The rename at the end would fail on a directory: say so now, not after the window.
    if ((await stat(file).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? undefined : Promise.reject(err))))?.isDirectory()) {
      throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    }
    const handle = await open(tmp, 'w', 0o644);
    await handle.close();
    await rm(tmp, { force: true });
  } catch (err) {
    throw writeProblem(file, err);
  }
}

/**
 * Writes `profile` to `file` through `FILE.tmp` and a rename, so a reader (a replay, a copy) never
 * sees half a file, and an exporter rewriting it every window never leaves a broken one. Returns
 * the bytes written. A file the reader would refuse as too large is not written.
 */
export async function writeProfile(file: string, profile: Profile): Promise<number> {
  const text = profileText(profile);
  const bytes = Buffer.byteLength(text);
  if (bytes > MAX_TEXT_FILE_BYTES) {
    throw new UsageError(`profile ${file} would be ${(bytes / 1024 / 1024).toFixed(1)} MiB, more than the ${MAX_TEXT_FILE_BYTES / 1024 / 1024} MiB a profile may be: record fewer channels (--pattern) or group them (--record-group)`);
  }
  const tmp = `${file}.tmp`;
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, file);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    throw writeProblem(file, err);
  }
  return bytes;
}
