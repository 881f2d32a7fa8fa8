// What the tests see of other processes through /proc (Linux): whose child each is, and whether it still runs.
import fs from 'node:fs';

export interface ProcessEntry {
  pid: number;
  ppid: number;
  /** One letter: R running, S sleeping, Z zombie (dead, not yet reaped), ... */
  state: string;
  /** The executable's name as the kernel knows it (redis-server, sh, node). */
  comm: string;
}

function readStat(pid: number): ProcessEntry | undefined {
  let text: string;
  try {
    text = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  // comm sits in parentheses and may itself hold spaces or parentheses: split after the last ')'.
  const close = text.lastIndexOf(')');
  const [state = '?', ppid = '0'] = text.slice(close + 2).split(' ');
  return { pid, ppid: Number(ppid), state, comm: text.slice(text.indexOf('(') + 1, close) };
}

/** True while the process runs; a zombie has died (its parent, maybe init, just has not reaped it). */
export function isAlive(pid: number): boolean {
  const s = readStat(pid);
  return s !== undefined && s.state !== 'Z' && s.state !== 'X';
}

/** Every live process whose parent is `ppid`. */
export function childrenOf(ppid: number): ProcessEntry[] {
  return fs
    .readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .map((name) => readStat(Number(name)))
    .filter((s): s is ProcessEntry => s !== undefined && s.ppid === ppid && isAlive(s.pid));
}

/** The command line, arguments joined by spaces ('' once it has gone). */
export function commandLine(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
}

/** The working directory of a live process. */
export function workingDir(pid: number): string {
  return fs.readlinkSync(`/proc/${pid}/cwd`);
}
