// Reads a channel contract named on the command line: a file that cannot be read or parsed is one clear line (a usage error).
import { open } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import { UsageError } from '../errors.js';
import { parseContract, type Contract } from '../stats/contract.js';
import { sequenceLength } from '../stats/channel-name.js';

/** Far more than any real contract (16,000 channels take about 500 KB); a device or a wrong file is refused before it fills memory. */
const MAX_CONTRACT_BYTES = 4 * 1024 * 1024;

async function readCapped(file: string): Promise<Buffer> {
  const handle = await open(file, 'r');
  try {
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.alloc(64 * 1024);
      const { bytesRead } = await handle.read(chunk, 0, chunk.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > MAX_CONTRACT_BYTES) throw new UsageError(`contract ${file} is larger than ${MAX_CONTRACT_BYTES / 1024 / 1024} MiB: is it the right file?`);
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

/** Reads and parses a contract; every problem is a UsageError of one line (escaped where it is printed). */
export async function loadContract(file: string): Promise<Contract> {
  let bytes: Buffer;
  try {
    bytes = await readCapped(file);
  } catch (err) {
    if (err instanceof UsageError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`cannot read contract ${file}: ${why}`);
  }
  if (!isUtf8(bytes)) {
    // Decoding would turn the bad bytes into U+FFFD and name another channel: a byte is written \xNN.
    const line = bytes.subarray(0, firstInvalidByte(bytes)).toString('utf8').split('\n').length;
    throw new UsageError(`contract ${file}:${line}: not valid UTF-8 (write a byte of a channel name as \\xNN)`);
  }
  const parsed = parseContract(bytes.toString('utf8'), file);
  if (!parsed.ok) throw new UsageError(`contract ${parsed.problem}`);
  return parsed.contract;
}

/** The channels a contract names outright: every snapshot gets a row for each, with 0 subscribers when nobody subscribes. */
export function declaredChannels(contract: Contract | undefined): Array<{ name: string; kind: 'channel' | 'shard' }> {
  return (contract?.entries ?? []).flatMap((e) => (e.name !== undefined ? [{ name: e.name, kind: e.kind }] : []));
}
