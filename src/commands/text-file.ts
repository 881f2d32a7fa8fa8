// Reads a small UTF-8 file named on the command line (a contract, a traffic profile): size-capped, and every failure one clear line.
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { UsageError } from '../errors.js';
import { sequenceLength } from '../stats/channel-name.js';

/**
 * Far more than any real contract or profile (16,000 contract channels take about 500 KB, a
 * 10,000-channel profile about 1 MB); a device or a wrong file is refused before it fills memory.
 */
export const MAX_TEXT_FILE_BYTES = 4 * 1024 * 1024;

async function readCapped(file: string, what: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const tooLarge = () => new UsageError(`${what} ${file} is larger than ${MAX_TEXT_FILE_BYTES / 1024 / 1024} MiB: is it the right file?`);
    // A regular file says its size: refused without reading it. A device (/dev/zero) is read up to the cap.
    const stat = await handle.stat();
    if (stat.isFile() && stat.size > MAX_TEXT_FILE_BYTES) throw tooLarge();
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_TEXT_FILE_BYTES) throw tooLarge();
      chunks.push(chunk.subarray(0, bytesRead));
    }
    return Buffer.concat(chunks);
  } finally {
    await handle.close();
  }
}

function firstInvalidByte(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length) {
    if ((bytes[i] ?? 0) < 0x80) i++;
    else {
      const len = sequenceLength(bytes, i);
      if (len === 0) return i;
      i += len;
    }
  }
  return i;
}

/**
 * The text of `file`, which must be UTF-8 and at most MAX_TEXT_FILE_BYTES. `what` names the file's
 * role in every message (`cannot read contract FILE: no such file`); each failure is a UsageError.
 */
export async function readTextFile(file: string, what: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readCapped(file, what);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`cannot read ${what} ${file}: ${why}`);
  }
  if (!isUtf8(bytes)) {
    // Decoding would turn the bad bytes into U+FFFD and name another channel: a byte is written \xNN.
    const line = bytes.subarray(0, firstInvalidByte(bytes)).toString('utf8').split('\n').length;
    throw new UsageError(`${what} ${file}:${line}: not valid UTF-8 (write a byte of a channel name as \\xNN)`);
  }
  return bytes.toString('utf8');
}
