// watch and demo in a real terminal (tmux) at the sizes people use: every frame fits, and the keys work.
import fs from 'node:fs';
import os from 'node:os';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { startSandbox, type Sandbox } from '../../src/sandbox/sandbox.js';
import { hashSlot } from '../../src/stats/hash-slot.js';
import { Clients, ownerOfSlot } from '../helpers/redis.js';
import { startTerminal, type Screen, type Terminal } from '../helpers/tmux.js';

// ---------------------------------------------------------------------------------------------
// What the screen is expected to say where the issue leaves the wording to the renderer. Each is a
// guess kept loose on purpose: adjust here, not in the tests, when the renderer settles on words.
// ---------------------------------------------------------------------------------------------

/** The frame's first line: the issue fixes only its start. */
const isTitle = (row: string) => row.startsWith('pubsub-mon watch');

/**
 * How many channel rows a footer line says are hidden, or undefined if `row` is not that footer.
 * Reads "291 more channels not shown", "291 channels hidden", "hidden: 291 channels", ...
 */
function hiddenChannelsIn(row: string): number | undefined {
  // The footer's own words: `channels 1-13 of 303 (j/k)` shows 13 rows of 303.
  const range = /\bchannels (\d+)-(\d+) of (\d+)\b/.exec(row);
  if (range) return Number(range[3]) - (Number(range[2]) - Number(range[1]) + 1);
  const m = /(\d[\d,]*)\s+(?:more\s+)?(?:channel\s+rows?|channels?)\b.*\b(?:hidden|not shown)/i.exec(row) ?? /\b(?:hidden|not shown)\b\D*(\d[\d,]*)\s+(?:channel\s+rows?|channels?)\b/i.exec(row);
  return m ? Number(m[1]!.replace(/,/g, '')) : undefined;
}

/** The nodes view: its table is headed ADDRESS (the issue says so). */
const isNodesHeader = (row: string) => /\bADDRESS\b/.test(row);

/** The clients view lists connections by their names; the test's subscribers are all called this. */
const SUBSCRIBER_NAME = 'tty:subscriber';

/** The `?` screen: each key on a line with a word for what it does (the words are a guess). */
const KEY_HELP: Array<[key: string, does: RegExp]> = [
  ['q', /quit|exit/i],
  ['p', /paus/i],
  ['s', /sort/i],
  ['/', /filter/i],
  ['r', /rate/i],
  ['Tab', /view/i],
  ['j', /scroll|down/i],
];

/** Whether `row` shows `key` as a word of its own ("q", "j/k", "<Tab>") next to what it does. */
function explainsKey(row: string, key: string, does: RegExp): boolean {
  const words = row.split(/\s+/).map((w) => w.replace(/^[<[(]+|[>\]):,]+$/g, ''));
  const named = words.some((w) => w.toLowerCase() === key.toLowerCase() || (key !== '/' && w.split(/[/,|]/).includes(key)));
  return named && does.test(row);
}

/** `p` says on screen that the frame is frozen. */
const isPausedMarker = (row: string) => /paused/i.test(row);

/** `r` adds a column of per-channel message rates to the channel table's header. */
const isRateHeader = (row: string) => /\bCHANNEL\b/.test(row) && /MSG\/S|RATE|MSGS\/S|\/S\b/i.test(row);

/** The demo says in its frame how to stop it: q and Ctrl-C. */
const isHowToStopDemo = (row: string) => /\bq\b/.test(row) && /ctrl[- +]?c|\^C/i.test(row);

// ---------------------------------------------------------------------------------------------
// The data: 300 classic channels and 3 shard channels, with subscriber counts from 1 to 12 (many
// equal), names from 2 to 80 characters, held by 12 subscriber connections spread over the nodes.
// ---------------------------------------------------------------------------------------------

interface TestChannel {
  name: string;
  kind: 'channel' | 'shard';
  subscribers: number;
}

const SIZES = [
  [80, 24],
  [100, 30],
  [120, 40],
  [200, 50],
] as const;
const INTERVAL = '300ms';
const SUBSCRIBER_CONNECTIONS = 12;

function classicChannels(): TestChannel[] {
  const out: TestChannel[] = [];
  const add = (name: string, subscribers: number) => out.push({ name, kind: 'channel', subscribers });
  // The busiest sort last by name, so sorting by name visibly changes the first rows.
  add('zeta:hot:1', 12);
  add('zeta:hot:2', 12);
  add('midway:busy', 11);
  // What `/news:*` must keep ...
  const topics = ['world', 'sport', 'tech', 'weather', 'markets', 'science', 'health', 'culture'];
  for (let i = 0; i < 24; i++) add(`news:${topics[i % topics.length]}:${String(i).padStart(2, '0')}`, 1 + (i % 6));
  add('news:sport:football:premier-league:live-scores:minute-by-minute:v2', 9);
  // ... and what it must drop although "news" is in the name (globs are case-sensitive and anchored).
  add('breaking-news:flash', 8);
  add('xnews:tech', 7);
  add('News:Caps', 6);
  // Short names, and names long enough that every terminal width cuts them.
  for (const name of ['aa', 'q7', 'zz', 'x:1', 'k9']) add(name, 1 + (name.charCodeAt(0) % 3));
  for (let i = 0; i < 40; i++) {
    add(`telemetry-${String(i).padStart(3, '0')}:eu-west-1:fleet-alpha:vehicle-sensors:engine-temperature-celsius`, 1 + ((i * 5) % 10));
  }
  for (let i = 0; out.length < 300; i++) {
    const name = i % 2 === 0 ? `orders:${['eu', 'us', 'ap'][i % 3]}:${String(i).padStart(5, '0')}` : `chat:room-${i}`;
    add(name, 1 + ((i * 7) % 9));
  }
  return out;
}

const SHARD_CHANNELS: TestChannel[] = [
  { name: '{user:1}:events', kind: 'shard', subscribers: 2 },
  { name: '{user:2}:events', kind: 'shard', subscribers: 1 },
  { name: '{cart:9}:updates', kind: 'shard', subscribers: 1 },
];
const CHANNELS = [...classicChannels(), ...SHARD_CHANNELS];

// ---------------------------------------------------------------------------------------------
// Reading channel rows off the screen without knowing the columns: a row is a channel row when one
// of its words is a channel's name, whole or cut with an ellipsis (at the end or in the middle).
// ---------------------------------------------------------------------------------------------

/** The channels a word on screen can be: one for a whole or well-cut name, several if cut short. */
function channelsNamedBy(word: string): TestChannel[] {
  const exact = CHANNELS.filter((c) => c.name === word);
  if (exact.length > 0 || !word.includes('…')) return exact;
  const [head = '', tail = ''] = word.split('…');
  if (head.length + tail.length < 2) return [];
  return CHANNELS.filter((c) => c.name.length > head.length + tail.length && c.name.startsWith(head) && c.name.endsWith(tail));
}

interface ChannelRowOnScreen {
  /** The name as shown (cut or whole): what identifies the row from one frame to the next. */
  shown: string;
  /** The channel, when the shown name leaves no doubt. */
  channel?: TestChannel;
}

function channelRows(s: Screen): ChannelRowOnScreen[] {
  const out: ChannelRowOnScreen[] = [];
  for (const row of s.rows) {
    // A selection marker may sit in front of the name.
    for (const word of row.trim().split(/\s+/).map((w) => w.replace(/^[>▶►*•|]+/, ''))) {
      const found = channelsNamedBy(word);
      if (found.length === 0) continue;
      out.push({ shown: word, ...(found.length === 1 ? { channel: found[0]! } : {}) });
      break;
    }
  }
  return out;
}

const byCodeUnits = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Why the rows are not in descending subscriber order (ties in any order), or nothing. */
function subscriberOrderProblems(rows: ChannelRowOnScreen[]): string[] {
  const known = rows.flatMap((r) => (r.channel ? [r.channel] : []));
  for (let i = 1; i < known.length; i++) {
    if (known[i]!.subscribers > known[i - 1]!.subscribers) {
      return [`not by subscribers: ${known[i - 1]!.name} (${known[i - 1]!.subscribers}) before ${known[i]!.name} (${known[i]!.subscribers})`];
    }
  }
  return [];
}

/** Whether the rows are in ascending name order, by code units (Redis's) or by locale. */
function isNameOrder(rows: ChannelRowOnScreen[]): boolean {
  const names = rows.flatMap((r) => (r.channel ? [r.channel.name] : []));
  const sorted = (cmp: (a: string, b: string) => number) => names.every((n, i) => i === 0 || cmp(names[i - 1]!, n) <= 0);
  return names.length >= 2 && (sorted(byCodeUnits) || sorted((a, b) => a.localeCompare(b)));
}

const shownNames = (s: Screen) => channelRows(s).map((r) => r.shown);

/**
 * What keeps `s` from fitting the terminal, whatever the view: a wrapped row, or a first row that is
 * not the title (a frame taller than the terminal scrolls its title away).
 */
function fitProblems(s: Screen): string[] {
  const problems: string[] = [];
  if (s.wrapped.length > 0) problems.push(`${s.wrapped.length} line(s) wrapped at ${s.width} columns:\n    ${s.wrapped.join('\n    ')}`);
  if (!isTitle(s.rows[0] ?? '')) problems.push(`the first row is not the title: ${JSON.stringify(s.rows[0])}`);
  return problems;
}

/**
 * What keeps `s` from being a whole channels frame that fits the terminal: `fitProblems`, and the
 * hidden-rows footer visible (the frame's last line, so the whole frame is on screen), its count
 * adding up with the rows shown.
 */
function frameProblems(s: Screen): string[] {
  const problems = fitProblems(s);
  const rows = channelRows(s);
  if (rows.length === 0) problems.push('no channel rows');
  const footer = s.rows.map(hiddenChannelsIn).find((n) => n !== undefined);
  if (footer === undefined) problems.push('no footer saying how many channel rows are hidden');
  else if (footer + rows.length !== CHANNELS.length) problems.push(`${rows.length} channel rows shown + ${footer} hidden != ${CHANNELS.length} channels`);
  return problems;
}

/**
 * Some frame with channel rows is on screen, fitting or not: where a test is about a key, waiting for
 * this rather than a fitting frame keeps its failure about the key.
 */
const drawn = (s: Screen) => channelRows(s).length > 0;

// ---------------------------------------------------------------------------------------------

let sb: Sandbox;
const clients = new Clients();
let term: Terminal | undefined;

async function watch(width: number, height: number, ...extra: string[]): Promise<Terminal> {
  term = await startTerminal({ width, height, args: ['watch', '-u', sb.url, '--interval', INTERVAL, ...extra] });
  return term;
}

beforeAll(async () => {
  sb = await startSandbox({ cluster: 3, replicas: 1 });
  const classic = CHANNELS.filter((c) => c.kind === 'channel');
  // Connection j holds every channel with more than j subscribers; classic channels count on every node.
  for (let j = 0; j < SUBSCRIBER_CONNECTIONS; j++) {
    const c = await clients.open(sb.nodes[j % sb.nodes.length]!, SUBSCRIBER_NAME);
    await c.subscribe(...classic.filter((ch) => ch.subscribers > j).map((ch) => ch.name));
  }
  for (const ch of SHARD_CHANNELS) {
    const owner = await ownerOfSlot(sb, clients, hashSlot(ch.name));
    const nodes = [owner.primary, ...owner.replicas];
    for (let k = 0; k < ch.subscribers; k++) {
      const c = await clients.open(nodes[k % nodes.length]!, SUBSCRIBER_NAME);
      await c.ssubscribe(ch.name);
    }
  }
});
afterAll(async () => {
  clients.closeAll();
  await sb?.stop();
});
afterEach(async () => {
  await term?.kill();
  term = undefined;
});

describe('watch in a terminal, 6 nodes and 303 channels', () => {
  it.each(SIZES)('fits %ix%i: no wrapped line, the title first, the hidden-rows footer last', async (width, height) => {
    const t = await watch(width, height);
    await t.until(frameProblems, { what: `a whole frame at ${width}x${height}` });
  });

  it('hides the cursor while it draws; q exits with status 0 and shows the cursor again', async () => {
    const t = await watch(80, 24);
    await t.waitFor(drawn, 'a frame');
    expect(await t.cursorVisible()).toBe(false);
    await t.sendKeys('q');
    expect(await t.waitForExit(5000)).toEqual({ status: 0, signal: null });
    expect(await t.cursorVisible()).toBe(true);
  });

  it('reads keys from the terminal itself when stdin is not one (producer | watch)', async () => {
    term = await startTerminal({ width: 80, height: 24, args: ['watch', '-u', sb.url, '--interval', INTERVAL], stdinNotTerminal: true });
    const t = term;
    await t.waitFor(drawn, 'a frame');
    await t.sendKeys('Tab');
    await t.waitFor((s) => s.rows.some(isNodesHeader) && !s.rows.some((r) => /\bCHANNEL\b/.test(r)), 'the nodes view after Tab');
    await t.sendKeys('q');
    expect(await t.waitForExit(5000)).toEqual({ status: 0, signal: null });
    expect(await t.cursorVisible()).toBe(true);
  });

  it('gives the terminal back on SIGTERM: main screen, cursor shown, exit 0', async () => {
    const t = await watch(80, 24);
    await t.waitFor(drawn, 'a frame');
    process.kill(await t.pid(), 'SIGTERM');
    expect(await t.waitForExit(5000)).toEqual({ status: 0, signal: null });
    expect(await t.cursorVisible()).toBe(true);
    const out = await t.output();
    // The last screen switch is back to the main screen: the frame is gone, the shell's lines are back.
    expect(out.lastIndexOf('\x1b[?1049l')).toBeGreaterThan(out.lastIndexOf('\x1b[?1049h'));
    expect((await t.capture()).rows.some((r) => /\bCHANNEL\b/.test(r))).toBe(false);
  });

  it('gives the terminal back when a refresh fails (permissions revoked), and the error is readable after it', async () => {
    const admins = await Promise.all(sb.nodes.map((n) => clients.open(n, 'test:acl')));
    await Promise.all(admins.map((a) => a.call('ACL', 'SETUSER', 'tty-watcher', 'on', '>tty-pw', '~*', '&*', '+@all')));
    try {
      const seed = sb.nodes[0]!;
      term = await startTerminal({ width: 80, height: 24, args: ['watch', '-u', `redis://tty-watcher:tty-pw@${seed.host}:${seed.port}`, '--interval', INTERVAL] });
      const t = term;
      await t.waitFor(drawn, 'a frame');
      // PUBSUB itself refused: a refusal the user must fix, not a node down; watch stops with it.
      await Promise.all(admins.map((a) => a.call('ACL', 'SETUSER', 'tty-watcher', '-pubsub')));
      const exit = await t.waitForExit(10_000);
      expect(exit.status).not.toBe(0);
      expect(exit.signal).toBeNull();
      expect(await t.cursorVisible()).toBe(true);
      const out = await t.output();
      expect(out.lastIndexOf('\x1b[?1049l')).toBeGreaterThan(out.lastIndexOf('\x1b[?1049h'));
      // The message was written after the main screen came back, so it is still there to read.
      const screen = await t.capture();
      expect(screen.rows, screen.rows.join('\n')).toContainEqual(expect.stringMatching(/^pubsub-mon: .*may not run PUBSUB/));
    } finally {
      await Promise.all(admins.map((a) => a.call('ACL', 'DELUSER', 'tty-watcher')));
    }
  });

  it('s changes the order of the channel rows from subscribers to name', async () => {
    const t = await watch(80, 24);
    const first = await t.until((s) => (drawn(s) ? subscriberOrderProblems(channelRows(s)) : ['no channel rows']), { what: 'rows by subscribers' });
    const before = shownNames(first);
    await t.sendKeys('s');
    let after = await t.waitFor((s) => drawn(s) && shownNames(s).join('\n') !== before.join('\n'), 'the order to change after s');
    // Rates are off, so a rate order would look like the subscriber one; name order is at most one more press away.
    if (!isNameOrder(channelRows(after))) {
      await t.sendKeys('s');
      after = await t.waitFor((s) => isNameOrder(channelRows(s)), 'name order after a second s');
    }
    expect(frameProblems(after)).toEqual([]);
  });

  it('Tab switches to the nodes view, then the clients view, then back to channels', async () => {
    const t = await watch(80, 24);
    await t.waitFor(drawn, 'the channels view');
    await t.sendKeys('Tab');
    await t.until((s) => {
      const problems = fitProblems(s);
      if (!s.rows.some(isNodesHeader)) problems.push('no ADDRESS header');
      const missing = sb.nodes.filter((n) => !s.rows.some((r) => r.includes(n.address))).map((n) => n.address);
      if (missing.length > 0) problems.push(`nodes not listed: ${missing.join(', ')}`);
      if (drawn(s)) problems.push('channel rows still shown');
      return problems;
    }, { what: 'the nodes view' });
    await t.sendKeys('Tab');
    await t.until((s) => {
      const problems = fitProblems(s);
      if (!s.rows.some((r) => r.includes(SUBSCRIBER_NAME))) problems.push(`no connection named ${SUBSCRIBER_NAME}`);
      if (drawn(s)) problems.push('channel rows shown');
      return problems;
    }, { what: 'the clients view' });
    await t.sendKeys('Tab');
    await t.until(frameProblems, { what: 'the channels view again' });
  });

  it('/ filters by glob: Enter applies news:*, Escape clears it', async () => {
    const t = await watch(80, 24);
    await t.waitFor(drawn, 'a frame');
    await t.sendKeys('/');
    await t.type('news:*');
    await t.sendKeys('Enter');
    const news = CHANNELS.filter((c) => c.name.startsWith('news:'));
    await t.until((s) => {
      const rows = channelRows(s);
      const problems = fitProblems(s);
      if (rows.length === 0) problems.push('no channel rows');
      const strays = rows.filter((r) => !(r.channel ? news.includes(r.channel) : r.shown.startsWith('news:')));
      if (strays.length > 0) problems.push(`not news:*: ${strays.map((r) => r.shown).join(', ')}`);
      return problems;
    }, { what: 'only news:* channels' });
    await t.sendKeys('Escape');
    await t.until((s) => [...frameProblems(s), ...(channelRows(s).some((r) => !r.shown.startsWith('news:')) ? [] : ['still only news:* rows'])], {
      what: 'every channel again',
    });
  });

  it('j and Down scroll the channel rows forward, k back', async () => {
    const t = await watch(80, 24);
    const top = shownNames(await t.waitFor(drawn, 'a frame'));
    // Forward: the new first row was below the first row of `before`.
    const forwardOf = (before: string[]) => (s: Screen) => {
      const now = shownNames(s);
      return now.length > 0 && before.indexOf(now[0]!) > 0;
    };
    await t.sendKeys('j');
    const afterJ = shownNames(await t.waitFor(forwardOf(top), 'j to scroll forward'));
    await t.sendKeys('Down');
    const afterDown = shownNames(await t.waitFor(forwardOf(afterJ), 'Down to scroll further'));
    await t.sendKeys('k');
    // Back: the first row of `afterDown` moved down.
    await t.waitFor((s) => shownNames(s).indexOf(afterDown[0]!) > 0, 'k to scroll back');
    expect(fitProblems(await t.capture())).toEqual([]);
  });

  it('a resize from 200x50 to 80x24 takes effect at the next refresh, without wrapping', async () => {
    const t = await watch(200, 50);
    const wide = await t.until(frameProblems, { what: 'a frame at 200x50' });
    await t.resize(80, 24);
    const narrow = await t.until((s) => [...(s.width === 80 && s.height === 24 ? [] : [`pane is ${s.width}x${s.height}`]), ...frameProblems(s)], {
      // The next refresh is one interval away; a slow one on a busy machine, a few.
      timeoutMs: 3000,
      what: 'a frame at 80x24 after the resize',
    });
    expect(channelRows(narrow).length).toBeLessThan(channelRows(wide).length);
  });

  it('p pauses the refresh and says so; p again resumes', async () => {
    const t = await watch(80, 24);
    await t.waitFor(drawn, 'a frame');
    await t.sendKeys('p');
    const paused = await t.waitFor((s) => s.rows.some(isPausedMarker), 'a paused marker');
    // Three refreshes later nothing has changed, the clock in the title included.
    await new Promise((r) => setTimeout(r, 1000));
    expect((await t.capture()).rows).toEqual(paused.rows);
    await t.sendKeys('p');
    await t.until((s) => [...frameProblems(s), ...(s.rows.some(isPausedMarker) ? ['still paused'] : [])], { what: 'the refresh to resume' });
  });

  it('--record says how far the recording is on the footer at 80x24, where other footer facts give way, and ends by itself', async () => {
    const file = `${fs.mkdtempSync(`${os.tmpdir()}/pubsub-mon-record-`)}/mix.json`;
    // Traffic to record (without any, watch rightly writes nothing and exits 1).
    const channel = CHANNELS.find((c) => c.kind === 'channel')!.name;
    const publisher = await clients.open(sb.nodes[0]!, 'test:publisher');
    const traffic = setInterval(() => void publisher.publish(channel, 'x'.repeat(40)), 50);
    onTestFinished(() => clearInterval(traffic));
    const t = await watch(80, 24, '--record', file, '--record-window', '3s');
    const screen = await t.until((s) => [...frameProblems(s), ...(/recording \d of 3 s/.test(s.rows.at(-1) ?? '') ? [] : ['no "recording N of 3 s" on the footer'])], { what: 'the recording on the footer' });
    // The footer is full at this width: the sort order, a lower-priority fact, has given way.
    expect(screen.rows.at(-1)).not.toContain('sort subscribers');
    expect(await t.waitForExit(20_000)).toEqual({ status: 0, signal: null });
    const profile = JSON.parse(fs.readFileSync(file, 'utf8')) as { groups: Array<{ channels: Array<{ name: string }> }> };
    expect(profile.groups.flatMap((g) => g.channels.map((c) => c.name))).toContain(channel);
  });

  it('r toggles the rate column, and the frame still fits', async () => {
    const t = await watch(80, 24);
    await t.until((s) => (!drawn(s) ? ['no channel rows'] : s.rows.some(isRateHeader) ? ['a rate column without --rates'] : []), { what: 'a frame without rates' });
    await t.sendKeys('r');
    await t.until((s) => [...frameProblems(s), ...(s.rows.some(isRateHeader) ? [] : ['no rate column'])], { what: 'the rate column' });
    await t.sendKeys('r');
    await t.until((s) => [...frameProblems(s), ...(s.rows.some(isRateHeader) ? ['the rate column is still there'] : [])], { what: 'no rate column' });
  });

  it('? shows the keys, within the terminal', async () => {
    const t = await watch(80, 24);
    await t.waitFor(drawn, 'a frame');
    await t.sendKeys('?');
    await t.until((s) => {
      const problems = KEY_HELP.filter(([key, does]) => !s.rows.some((r) => explainsKey(r, key, does))).map(([key, does]) => `no line names ${key} and ${does}`);
      if (s.wrapped.length > 0) problems.push(`${s.wrapped.length} line(s) wrapped:\n    ${s.wrapped.join('\n    ')}`);
      return problems;
    }, { what: 'the key help' });
  });

  it('--view nodes starts in the nodes view', async () => {
    const t = await watch(80, 24, '--view', 'nodes');
    await t.until((s) => {
      const problems = fitProblems(s);
      if (!s.rows.some(isNodesHeader)) problems.push('no ADDRESS header');
      if (drawn(s)) problems.push('channel rows shown');
      return problems;
    }, { what: 'the nodes view' });
  });
});

// ---------------------------------------------------------------------------------------------
// The demo: its own cluster, found through /proc as the redis-server children of the CLI.
// ---------------------------------------------------------------------------------------------

/** Pids of the redis-server processes whose parent is `ppid`. */
function redisChildren(ppid: number): number[] {
  const out: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      // "pid (comm) state ppid ...": comm may hold spaces, so read after the last ')'.
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const [, ppidField] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (comm.startsWith('redis-server') && Number(ppidField) === ppid) out.push(Number(entry));
    } catch {
      // gone while reading
    }
  }
  return out;
}

/** Alive and not a zombie. */
function isRunning(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilStopped(pids: number[], timeoutMs = 10_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  while (pids.some(isRunning) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return pids.filter(isRunning);
}

describe('the demo in a terminal', () => {
  let servers: number[] = [];
  afterEach(() => {
    // Whatever the test did, no server of the demo outlives it.
    for (const pid of servers.filter(isRunning)) process.kill(pid, 'SIGKILL');
    servers = [];
  });

  async function demo(): Promise<Terminal> {
    term = await startTerminal({ width: 80, height: 24, args: ['demo'] });
    const t = term;
    const pid = await t.pid();
    // Cluster first, then the watch's first frame: a cluster takes a few seconds to agree. Fitting
    // or not, a frame shows the title or the channel table's header.
    await t.waitFor((s) => s.rows.some((r) => isTitle(r) || /\bCHANNEL\b/.test(r)), 'the first frame of the demo', 45_000);
    servers = redisChildren(pid);
    return t;
  }

  it('fits 80x24: no wrapped line, the title first, how to stop it in the frame; q exits and stops its servers', async () => {
    const t = await demo();
    expect(servers.length).toBeGreaterThan(0);
    await t.until((s) => {
      const problems = fitProblems(s);
      if (!s.rows.some(isHowToStopDemo)) problems.push('no line saying that q or Ctrl-C stops the demo');
      return problems;
    }, { what: 'the demo frame' });
    await t.sendKeys('q');
    expect(await t.waitForExit(15_000)).toEqual({ status: 0, signal: null });
    expect(await waitUntilStopped(servers)).toEqual([]);
    expect(await t.cursorVisible()).toBe(true);
  }, 90_000);

  it('Ctrl-C stops the demo and its servers too', async () => {
    const t = await demo();
    expect(servers.length).toBeGreaterThan(0);
    await t.sendKeys('C-c');
    const exit = await t.waitForExit(15_000);
    // Ctrl-C is how a user stops it, not a failure (exit 0, as q); 130 is the shell's convention for SIGINT.
    expect([0, 130]).toContain(exit.status);
    expect(await waitUntilStopped(servers)).toEqual([]);
    expect(await t.cursorVisible()).toBe(true);
  });
});
