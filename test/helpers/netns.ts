// Separate Linux network namespaces ("hosts") on this one machine, for tests that run pubsub-mon (or
// redis-cli) as if on other computers, talking to a sandbox Redis in the root namespace over veth links.
//
// Layout, for createNetHosts(2) with the range 10.213.57.0/24 chosen at random:
//
//   root namespace:  bridge pmbr<sfx> 10.213.57.1/24  (hostAddress: bind a sandbox here)
//                      ├─ veth pmv<sfx>r0 ── pmv<sfx>n0 10.213.57.10/24 in namespace pm-<sfx>-0
//                      └─ veth pmv<sfx>r1 ── pmv<sfx>n1 10.213.57.11/24 in namespace pm-<sfx>-1
//
// Each namespace has only that /24 (and its own lo): no default route and no NAT, so nothing it sends
// goes beyond the bridge. A server in the root namespace bound to 127.0.0.1 cannot be reached from a
// namespace (its 127.0.0.1 is its own lo); bind to hostAddress instead.
//
// Needs Linux, the `ip` command (iproute2) and root (CAP_NET_ADMIN and CAP_SYS_ADMIN).
//
// Names carry a random suffix, so test files running at the same time never clash, and the range is
// chosen afresh per call among those no route or address on this machine already covers.
//
// Cleanup: call remove() (an afterAll). Should a test process end without it, an exit handler removes
// everything synchronously, and a small watchdog process removes it when we die without running any
// JS (SIGKILL, or SIGTERM with no handler). Processes started with exec() are killed by remove() and
// the exit handler; nothing else is.
import { execFile, execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import crypto from 'node:crypto';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** How many random ranges to try before giving up. */
const RANGE_ATTEMPTS = 50;
/** How many times to pick another range when someone else took ours at the same moment. */
const CLASH_ATTEMPTS = 5;
/** The namespace ends get x.y.z.(FIRST_HOST + i). */
const FIRST_HOST = 10;
const MAX_HOSTS = 254 - FIRST_HOST;
/** How long remove() waits for a killed exec() child to be gone. */
const KILL_WAIT_MS = 2000;

export interface NetHosts {
  /** The bridge's address in the root namespace, reachable from every namespace. */
  hostAddress: string;
  /** One per namespace: `name` is the namespace's name (for exec), `address` its address on the bridge. */
  hosts: Array<{ name: string; address: string }>;
  /** Spawns `ip netns exec <host> ...argv`; `opts` go to child_process.spawn as they are. */
  exec(host: string, argv: string[], opts?: SpawnOptions): ChildProcess;
  /** Kills what exec() started and still runs, deletes the namespaces, their veths and the bridge. Safe to call twice. */
  remove(): Promise<void>;
}

interface IpError extends Error {
  code?: string | number;
  stderr?: string;
}

function ipFailure(args: string[], what: string, err: unknown): Error {
  const e = err as IpError;
  if (e.code === 'ENOENT') return new Error('netns: the `ip` command (iproute2) was not found on PATH; Debian/Ubuntu: apt-get install iproute2');
  const detail = (e.stderr ?? '').trim() || e.message;
  return new Error(`netns: could not ${what}: \`ip ${args.join(' ')}\` failed: ${detail}`);
}

async function ip(args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await run('ip', args, { encoding: 'utf8' });
    return stdout;
  } catch (err) {
    throw ipFailure(args, what, err);
  }
}

/** An IPv4 prefix as a 32-bit number and a length. */
interface Prefix {
  net: number;
  len: number;
}

function parsePrefix(text: string): Prefix | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text);
  if (!m) return undefined;
  const net = ((Number(m[1]) << 24) | (Number(m[2]) << 16) | (Number(m[3]) << 8) | Number(m[4])) >>> 0;
  return { net, len: m[5] === undefined ? 32 : Number(m[5]) };
}

/** Two prefixes overlap when they agree on the bits of the shorter one. */
function overlaps(a: Prefix, b: Prefix): boolean {
  const len = Math.min(a.len, b.len);
  if (len === 0) return true;
  const mask = (0xffffffff << (32 - len)) >>> 0;
  return ((a.net & mask) >>> 0) === ((b.net & mask) >>> 0);
}

interface AddrEntry {
  ifname: string;
  addr_info?: Array<{ family?: string; local?: string; prefixlen?: number }>;
}

/** Every IPv4 address on this machine's interfaces, with its prefix length and interface. */
async function addresses(): Promise<Array<{ ifname: string; prefix: Prefix }>> {
  const out = JSON.parse(await ip(['-j', '-4', 'addr', 'show'], 'list addresses')) as AddrEntry[];
  const found: Array<{ ifname: string; prefix: Prefix }> = [];
  for (const entry of out) {
    for (const a of entry.addr_info ?? []) {
      const p = a.local === undefined ? undefined : parsePrefix(`${a.local}/${a.prefixlen ?? 32}`);
      if (p) found.push({ ifname: entry.ifname, prefix: p });
    }
  }
  return found;
}

/** Every IPv4 destination some routing table covers, the default route aside (it covers everything). */
async function routes(): Promise<Prefix[]> {
  const out = JSON.parse(await ip(['-j', '-4', 'route', 'show', 'table', 'all'], 'list routes')) as Array<{ dst?: string }>;
  return out.map((r) => (r.dst === undefined || r.dst === 'default' ? undefined : parsePrefix(r.dst))).filter((p): p is Prefix => p !== undefined);
}

/** A random 10.213.N.0/24 (N from 0 to 255) that no route or address here already covers; its first three octets. */
async function freeRange(): Promise<string> {
  const [taken, addrs] = await Promise.all([routes(), addresses()]);
  const used = [...taken, ...addrs.map((a) => a.prefix)];
  for (let i = 0; i < RANGE_ATTEMPTS; i++) {
    const base = `10.213.${crypto.randomInt(256)}`;
    const candidate = parsePrefix(`${base}.0/24`)!;
    if (!used.some((u) => overlaps(u, candidate))) return base;
  }
  throw new Error(`netns: no free 10.213.N.0/24 range in ${RANGE_ATTEMPTS} tries; routes and addresses here cover them (see \`ip -4 route\`, \`ip -4 addr\`)`);
}

/**
 * The watchdog: holds a pipe from us and, at its end (we closed it or died, even by SIGKILL), deletes
 * whatever of ours is still there. `ip -force -batch` goes on past the lines that fail (already gone).
 * It ignores HUP, INT and TERM, which reach a whole process group, so that it outlives us.
 */
const WATCHDOG = `
trap '' HUP INT TERM
cat >/dev/null
printf '%s\\n' "$@" | ip -force -batch - >/dev/null 2>&1
exit 0
`;

function startWatchdog(batch: string[]): { close(): void } {
  const child = spawn('sh', ['-c', WATCHDOG, 'pubsub-mon-netns-watchdog', ...batch], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  child.on('error', () => undefined);
  child.stdin!.on('error', () => undefined);
  // Neither the process nor the pipe may keep the event loop alive; the pipe stays open until we exit.
  child.unref();
  (child.stdin as typeof child.stdin & { unref?: () => void }).unref?.();
  return {
    close: () => {
      if (child.stdin!.writable) child.stdin!.end();
    },
  };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

/** Errors of a delete that mean the thing is already gone. */
const ALREADY_GONE = /Cannot find device|No such file or directory|does not exist|not found/i;

/**
 * Creates a bridge in the root namespace and `count` namespaces linked to it, each by one veth pair.
 * Rejects (having removed what it made) when a step fails, with `ip`'s own message.
 */
export async function createNetHosts(count: number): Promise<NetHosts> {
  if (!Number.isInteger(count) || count < 1 || count > MAX_HOSTS) {
    throw new Error(`netns: count must be a whole number from 1 to ${MAX_HOSTS}, got ${count}`);
  }
  // Interface names hold at most 15 characters: 'pmv' + 6 + 'r' + up to 3 digits = 13.
  const sfx = crypto.randomBytes(3).toString('hex');
  const bridge = `pmbr${sfx}`;
  const names = Array.from({ length: count }, (_, i) => ({
    ns: `pm-${sfx}-${i}`,
    rootEnd: `pmv${sfx}r${i}`,
    nsEnd: `pmv${sfx}n${i}`,
  }));
  // Deleting the root end of a veth deletes both ends, even when a process still holds the namespace
  // open (then `ip netns del` only removes its name and the namespace lives on without one).
  const batch = [...names.flatMap((n) => [`link del ${n.rootEnd}`, `netns del ${n.ns}`]), `link del ${bridge}`];

  const children = new Set<ChildProcess>();
  const watchdog = startWatchdog(batch);
  let removed = false;

  const removeNow = () => {
    for (const c of children) if (c.pid !== undefined && !exited(c)) c.kill('SIGKILL');
    try {
      execFileSync('ip', ['-force', '-batch', '-'], { input: `${batch.join('\n')}\n`, stdio: ['pipe', 'ignore', 'ignore'] });
    } catch {
      // nothing more can be done while exiting; the watchdog tries again
    }
  };
  process.once('exit', removeNow);

  const remove = async () => {
    if (removed) return;
    removed = true;
    process.removeListener('exit', removeNow);
    const problems: string[] = [];
    try {
      // A child that never started (spawn failed) has no pid and will not emit 'exit'.
      const running = [...children].filter((c) => c.pid !== undefined && !exited(c));
      await Promise.all(
        running.map(
          (c) =>
            new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, KILL_WAIT_MS);
              c.once('exit', () => {
                clearTimeout(timer);
                resolve();
              });
              c.kill('SIGKILL');
            }),
        ),
      );
      for (const line of batch) {
        const args = line.split(' ');
        try {
          await run('ip', args, { encoding: 'utf8' });
        } catch (err) {
          const e = err as IpError;
          if (e.code !== 'ENOENT' && ALREADY_GONE.test(e.stderr ?? '')) continue;
          problems.push(ipFailure(args, 'clean up', err).message);
        }
      }
    } finally {
      watchdog.close();
    }
    if (problems.length > 0) throw new Error(problems.join('\n'));
  };

  try {
    await ip(['link', 'add', 'name', bridge, 'type', 'bridge'], `create bridge ${bridge}`);
    let base = '';
    for (let attempt = 1; ; attempt++) {
      base = await freeRange();
      await ip(['addr', 'add', `${base}.1/24`, 'dev', bridge], `give bridge ${bridge} the address ${base}.1/24`);
      // Another caller may have picked the same range in the same instant: then both let go and pick again.
      const clash = (await addresses()).find((a) => a.ifname !== bridge && overlaps(a.prefix, parsePrefix(`${base}.0/24`)!));
      if (!clash) break;
      await ip(['addr', 'flush', 'dev', bridge], `take ${base}.1/24 off bridge ${bridge}`);
      if (attempt >= CLASH_ATTEMPTS) throw new Error(`netns: ${clash.ifname} took ${base}.0/24 as ${bridge} did, ${attempt} times over`);
    }
    const hostAddress = `${base}.1`;
    await ip(['link', 'set', bridge, 'up'], `bring bridge ${bridge} up`);

    const hosts: Array<{ name: string; address: string }> = [];
    for (const [i, n] of names.entries()) {
      const address = `${base}.${FIRST_HOST + i}`;
      await ip(['netns', 'add', n.ns], `create namespace ${n.ns}`);
      await ip(['link', 'add', 'name', n.rootEnd, 'type', 'veth', 'peer', 'name', n.nsEnd, 'netns', n.ns], `create veth ${n.rootEnd} into ${n.ns}`);
      await ip(['link', 'set', n.rootEnd, 'master', bridge], `attach ${n.rootEnd} to bridge ${bridge}`);
      await ip(['link', 'set', n.rootEnd, 'up'], `bring ${n.rootEnd} up`);
      await ip(['-n', n.ns, 'addr', 'add', `${address}/24`, 'dev', n.nsEnd], `give ${n.nsEnd} in ${n.ns} the address ${address}/24`);
      await ip(['-n', n.ns, 'link', 'set', n.nsEnd, 'up'], `bring ${n.nsEnd} in ${n.ns} up`);
      await ip(['-n', n.ns, 'link', 'set', 'lo', 'up'], `bring lo in ${n.ns} up`);
      hosts.push({ name: n.ns, address });
    }

    return {
      hostAddress,
      hosts,
      exec(host, argv, opts = {}) {
        if (removed) throw new Error(`netns: exec in ${host} after remove()`);
        if (!names.some((n) => n.ns === host)) throw new Error(`netns: ${host} is not one of ${names.map((n) => n.ns).join(', ')}`);
        const child = spawn('ip', ['netns', 'exec', host, ...argv], opts);
        children.add(child);
        // exitCode/signalCode are set by now: nothing more to kill for this one.
        child.once('exit', () => children.delete(child));
        return child;
      },
      remove,
    };
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  }
}
