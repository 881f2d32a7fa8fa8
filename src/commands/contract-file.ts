// Reads a channel contract named on the command line: a file that cannot be read or parsed is one clear line (a usage error).
import { UsageError } from '../errors.js';
import { parseContract, type Contract } from '../stats/contract.js';
import { readTextFile } from './text-file.js';

/** Reads and parses a contract; every problem is a UsageError of one line (escaped where it is printed). */
export async function loadContract(file: string): Promise<Contract> {
  const text = await readTextFile(file, 'contract');
  const parsed = parseContract(text, file);
  if (!parsed.ok) throw new UsageError(`contract ${parsed.problem}`);
  return parsed.contract;
}

/** The channels a contract names outright: every snapshot gets a row for each, with 0 subscribers when nobody subscribes. */
export function declaredChannels(contract: Contract | undefined): Array<{ name: string; kind: 'channel' | 'shard' }> {
  return (contract?.entries ?? []).flatMap((e) => (e.name !== undefined ? [{ name: e.name, kind: e.kind }] : []));
}
