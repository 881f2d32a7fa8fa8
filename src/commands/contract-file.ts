// Reads a channel contract named on the command line: a file that cannot be read or parsed is one clear line (a usage error).
import { readFile } from 'node:fs/promises';
import { UsageError } from '../errors.js';
import { parseContract, type Contract } from '../stats/contract.js';
import { escapeText } from '../render/escape.js';

export async function loadContract(file: string): Promise<Contract> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new UsageError(`cannot read contract ${escapeText(file)}: ${why}`);
  }
  const parsed = parseContract(text, file);
  if (!parsed.ok) throw new UsageError(`contract ${escapeText(parsed.problem)}`);
  return parsed.contract;
}

/** The channels a contract names outright: every snapshot gets a row for each, with 0 subscribers when nobody subscribes. */
export function declaredChannels(contract: Contract | undefined): Array<{ name: string; kind: 'channel' | 'shard' }> {
  return (contract?.entries ?? []).flatMap((e) => (e.name !== undefined ? [{ name: e.name, kind: e.kind }] : []));
}
