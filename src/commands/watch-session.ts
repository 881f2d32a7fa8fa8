// The two ways watch runs: plain refreshes (or JSON lines) anywhere, and a keyboard-driven full screen on a terminal that is restored on every way out.
import fs from 'node:fs';
import tty from 'node:tty';
import type { Monitor } from '../redis/monitor.js';
import type { Snapshot } from '../stats/snapshot.js';
import { applyContract, type Contract } from '../stats/contract.js';
import { arrangeChannels, filterChannels, StickyChannels, type SortKey } from '../stats/arrange.js';
import { groupClients, sortClients, type ClientGroupBy, type SubscriberClient } from '../stats/subscriber-clients.js';
import { globMatch } from '../stats/glob.js';
import { byteString, globFromArgument } from '../stats/channel-name.js';
import { plural } from '../stats/plural.js';
import type { TrafficRecording } from '../stats/traffic-recording.js';
import { renderScreen, type ScreenInput, type WatchView } from '../render/watch-screen.js';
import { snapshotToJson } from '../render/json/watch.js';
import { jsonLine } from '../render/json/line.js';
import { decodeKeys, KEY_HELP, pressKey, type WatchUi } from './watch-keys.js';
import { sleep, type Io, type KeyboardInput } from './io.js';

/** What the two ways of running need of watch's arguments. */
export interface SessionOptions {
  json: boolean;
  once: boolean;
  interval: number;
  rates: boolean;
  sort: SortKey;
  limit?: number | undefined;
  view: WatchView;
  groupBy?: ClientGroupBy | undefined;
  color: boolean;
  title: string;
  /** Declared channels and thresholds: rows marked, breaches first and summed up in a warning. */
  contract?: Contract | undefined;
  /** A traffic profile being recorded: every snapshot goes into it, and watch ends once its window is complete. */
  recording?: TrafficRecording | undefined;
}

/** How long to wait before the next refresh: an interval after the last one started, or less when a recording window ends sooner. */
function nextWait(o: Pick<SessionOptions, 'interval' | 'recording'>, started: number): number {
  const now = Date.now();
  const wait = Math.max(0, o.interval - (now - started));
  return o.recording ? Math.min(wait, o.recording.remainingMs(now)) : wait;
}

/** The snapshot marked against the contract, when watch has one. */
function judged(s: Snapshot, o: Pick<SessionOptions, 'contract'>): Snapshot {
  return o.contract ? applyContract(s, o.contract) : s;
}

/** Lines the plain output keeps besides the channels: the title, two blank lines, the node table and its header. */
const PLAIN_RESERVED_LINES = 12;

/** Clients whose name or address matches the glob typed after `/`. */
function filterClients(clients: readonly SubscriberClient[], glob: string | undefined): SubscriberClient[] {
  if (glob === undefined || glob === '') return [...clients];
  const pattern = byteString(glob);
  return clients.filter((c) => globMatch(pattern, byteString(c.name)) || globMatch(pattern, byteString(c.addr)));
}

/**
 * The snapshot as a view shows it: channels filtered, steadied and sorted; clients filtered,
 * sorted and, when asked, grouped; nodes filtered by address.
 */
function present(s: Snapshot, ui: Pick<WatchUi, 'view' | 'channelSort' | 'clientSort' | 'filter' | 'groupBy'>, limit?: number): Pick<ScreenInput, 'snapshot' | 'channels' | 'clients' | 'groups' | 'nodes' | 'filter'> {
  // The filter narrows the list being looked at; the other views' lists (and the title's counts) stay whole.
  // Typed as names are shown: `f\xff*` names the byte 0xff.
  const glob = ui.filter !== undefined ? globFromArgument(ui.filter) : undefined;
  const filter = (view: WatchUi['view']) => (ui.view === view ? glob : undefined);
  const channels = arrangeChannels(filterChannels(s.channels, filter('channels')), ui.channelSort, limit).rows;
  const clients = sortClients(filterClients(s.clients, filter('clients')), ui.clientSort, s.nodes.map((n) => n.address));
  const pattern = filter('nodes');
  const nodes = pattern ? s.nodes.filter((n) => globMatch(byteString(pattern), byteString(n.address))) : s.nodes;
  return { snapshot: s, nodes, channels, clients, ...(ui.filter !== undefined ? { filter: ui.filter } : {}), ...(ui.groupBy ? { groups: groupClients(clients, ui.groupBy) } : {}) };
}

/** One report per refresh (or one only, with --once), as text or a JSON line; nothing read from the keyboard. */
export async function plain(monitor: Monitor, o: SessionOptions, io: Io, signal: AbortSignal): Promise<number> {
  const width = io.stdout.isTTY && io.stdout.columns ? io.stdout.columns : undefined;
  const sticky = new StickyChannels();
  const show = (raw: Snapshot): string => {
    // Judged after the sticky rows are added: a channel that just lost its last subscriber is judged at 0.
    const s = judged(o.once ? raw : { ...raw, channels: sticky.apply(raw.channels, raw.time, o.rates) }, o);
    // On a terminal the channels are cut to what fits; elsewhere all of them, unless --limit says.
    const limit = o.limit ?? (width !== undefined && io.stdout.rows ? Math.max(3, io.stdout.rows - s.nodes.length - PLAIN_RESERVED_LINES) : undefined);
    const { rows, hidden } = arrangeChannels(s.channels, o.sort, limit);
    const warnings = hidden > 0 ? [`${plural(hidden, 'more channel')} not shown (--limit, --pattern or --sort choose which)`, ...s.warnings] : s.warnings;
    const shown = { ...s, channels: rows, warnings };
    if (o.json) return jsonLine(snapshotToJson(shown, { clients: o.view === 'clients' }));
    const view = present(shown, { view: o.view, channelSort: o.sort, clientSort: 'omem', ...(o.groupBy ? { groupBy: o.groupBy } : {}) });
    const screen = renderScreen({ ...view, view: o.view, title: 'pubsub-mon', banner: [], showRates: o.rates, color: o.color, ...(width !== undefined ? { width } : {}), scroll: 0, status: [], ...(o.groupBy ? { groupBy: o.groupBy } : {}) });
    return `${screen.lines.join('\n')}\n\n`;
  };
  if (o.once) {
    // Rates are differences: the first sample only starts the counters.
    await monitor.snapshot();
    await sleep(o.interval, signal);
    if (signal.aborted) return 0;
    io.stdout.write(show(await monitor.snapshot()).replace(/\n\n$/, '\n'));
    return 0;
  }
  while (!signal.aborted) {
    const started = Date.now();
    const snapshot = await monitor.snapshot();
    if (signal.aborted) break;
    o.recording?.observe(snapshot);
    io.stdout.write(show(snapshot));
    if (o.recording?.complete) break;
    await sleep(nextWait(o, started), signal);
  }
  return 0;
}

const ALT_SCREEN_ON = '\x1b[?1049h';
const ALT_SCREEN_OFF = '\x1b[?1049l';
const HOME = '\x1b[H';
const CLEAR_SCREEN = '\x1b[2J';
const CLEAR_LINE_END = '\x1b[K';
const CLEAR_BELOW = '\x1b[J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';

/**
 * Takes the terminal (alternate screen, hidden cursor, raw keys) and gives it back exactly once,
 * whichever way watch ends: q, Ctrl-C, SIGTERM, an error, or the process exiting under it.
 */
function takeTerminal(io: Io, keyboard: KeyboardInput | undefined): () => void {
  io.stdout.write(ALT_SCREEN_ON + HIDE_CURSOR + HOME);
  keyboard?.setRawMode?.(true);
  let restored = false;
  const restore = () => {
    if (restored) return;
    restored = true;
    process.removeListener('exit', restore);
    try {
      keyboard?.setRawMode?.(false);
      keyboard?.pause();
    } catch {
      // The terminal is gone (closed window): nothing to give back.
    }
    io.stdout.write(SHOW_CURSOR + ALT_SCREEN_OFF);
  };
  process.once('exit', restore);
  return restore;
}

/**
 * Where keys come from: stdin when it is the terminal, else the terminal itself (/dev/tty), as
 * `less` does, so `producer | pubsub-mon watch` still has keys and typing never reaches the shell.
 * None when there is no terminal to read (then only Ctrl-C ends watch).
 */
function openKeyboard(io: Io): { keyboard: KeyboardInput | undefined; release: () => void } {
  if (io.stdin?.isTTY && io.stdin.setRawMode) return { keyboard: io.stdin, release: () => {} };
  try {
    const input = new tty.ReadStream(fs.openSync('/dev/tty', 'r'));
    return { keyboard: input, release: () => input.destroy() };
  } catch {
    return { keyboard: undefined, release: () => {} };
  }
}

/** The full-screen view: refreshes every --interval (unless paused), and redraws at once on a key or a resize. */
export async function interactive(monitor: Monitor, o: SessionOptions, io: Io, signal: AbortSignal): Promise<number> {
  let ui: WatchUi = {
    view: o.view,
    channelSort: o.sort,
    clientSort: 'omem',
    ...(o.groupBy ? { groupBy: o.groupBy } : {}),
    paused: false,
    rates: o.rates,
    help: false,
    scroll: { channels: 0, nodes: 0, clients: 0 },
  };
  const { keyboard, release } = openKeyboard(io);
  const quit = new AbortController();
  const stop = AbortSignal.any([signal, quit.signal]);
  const sticky = new StickyChannels();
  let last: Snapshot | undefined;
  let pageRows = 1;

  const draw = () => {
    if (!last) return;
    const width = io.stdout.columns ?? 80;
    const height = io.stdout.rows ?? 24;
    const status = [
      ui.view === 'channels' ? `sort ${ui.channelSort}` : ui.view === 'clients' ? (ui.groupBy ? `grouped by ${ui.groupBy} (g)` : `sort ${ui.clientSort}`) : '',
      ui.rates ? '' : 'rates off (r)',
    ].filter((x) => x !== '');
    const screen = renderScreen({
      ...present(last, ui, o.limit),
      view: ui.view,
      title: o.title,
      banner: io.banner ?? [],
      showRates: ui.rates,
      color: o.color,
      width,
      height,
      scroll: ui.scroll[ui.view],
      status,
      // A frozen screen looks like a live one, and a recording ends watch by itself: the footer
      // always says so, whatever else gives way on a narrow terminal.
      alerts: [
        ...(ui.paused ? ['PAUSED (p)'] : []),
        ...(o.recording ? [`recording ${Math.floor(o.recording.elapsedMs / 1000)} of ${o.recording.windowMs / 1000} s`] : []),
      ],
      keys: keyboard !== undefined,
      ...(ui.groupBy ? { groupBy: ui.groupBy } : {}),
      ...(ui.typing !== undefined ? { prompt: ui.typing } : {}),
      ...(ui.help ? { help: [...KEY_HELP, ...last.warnings.map((w): [string, string] => ['!', w])] } : {}),
    });
    ui = { ...ui, scroll: { ...ui.scroll, [ui.view]: screen.scroll } };
    pageRows = screen.pageRows;
    // No newline after the last line: on a full screen it would scroll the title away.
    io.stdout.write(HOME + screen.lines.join(`${CLEAR_LINE_END}\n`) + CLEAR_LINE_END + CLEAR_BELOW);
  };

  const onKeys = (data: Buffer | string) => {
    for (const key of decodeKeys(String(data))) {
      const result = pressKey(ui, key, { pageRows });
      ui = result.ui;
      if (result.effect === 'quit') quit.abort();
      // A recording is made of the measured rates: they stay on until its window is over.
      if (result.effect === 'rates' && o.recording) ui = { ...ui, rates: true };
      else if (result.effect === 'rates') monitor.setRates(ui.rates);
    }
    if (!stop.aborted) draw();
  };

  const restore = takeTerminal(io, keyboard);
  keyboard?.setEncoding?.('utf8');
  keyboard?.on('data', onKeys);
  // A closed terminal fails the read (EIO): that ends watch like q, never as an uncaught error.
  const onKeyboardError = () => quit.abort();
  keyboard?.on('error', onKeyboardError);
  keyboard?.resume();
  // A resized terminal reflows the old frame (and marks its rows wrapped): start from a clean screen.
  const onResize = () => {
    io.stdout.write(CLEAR_SCREEN);
    draw();
  };
  io.stdout.on('resize', onResize);
  try {
    while (!stop.aborted) {
      const started = Date.now();
      if (!ui.paused || !last) {
        const s = await monitor.snapshot();
        if (stop.aborted) break;
        o.recording?.observe(s);
        last = judged({ ...s, channels: sticky.apply(s.channels, s.time, ui.rates) }, o);
        draw();
        if (o.recording?.complete) break;
      } else if (o.recording) {
        // Paused, the screen stays still, but the recording goes on: its window is time, not screens.
        const s = await monitor.snapshot();
        if (stop.aborted) break;
        o.recording.observe(s);
        if (o.recording.complete) break;
      }
      await sleep(nextWait(o, started), stop);
    }
    return 0;
  } finally {
    keyboard?.removeListener('data', onKeys);
    keyboard?.removeListener('error', onKeyboardError);
    io.stdout.removeListener('resize', onResize);
    restore();
    release();
  }
}
