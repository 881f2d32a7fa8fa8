// watch's keys on a terminal, as pure logic: bytes from raw-mode stdin become key names, and each key changes the view state.
import { SORT_KEYS, type SortKey } from '../stats/arrange.js';
import { WATCH_VIEWS, type WatchView } from '../render/watch-screen.js';
import { CLIENT_GROUP_BY, CLIENT_SORT_KEYS, type ClientGroupBy, type ClientSortKey } from '../stats/subscriber-clients.js';


/** What the screen shows and how; changed only by keys. */
export interface WatchUi {
  view: WatchView;
  channelSort: SortKey;
  clientSort: ClientSortKey;
  /** Clients view: one row per client name, library or host instead of per connection. */
  groupBy?: ClientGroupBy;
  /** The glob applied to names in every view. */
  filter?: string;
  /** The filter being typed after `/`; undefined when the prompt is closed. */
  typing?: string;
  paused: boolean;
  /** Message rates are measured (the sampler subscribes). */
  rates: boolean;
  help: boolean;
  /** First row shown of each view's list. */
  scroll: Record<WatchView, number>;
}

/** What the command must do after a key, beyond drawing the new state. */
export type KeyEffect = 'none' | 'quit' | 'rates';

/** Names of the keys that are not a printable character. */
const NAMED_KEYS = ['up', 'down', 'pageup', 'pagedown', 'home', 'end', 'tab', 'backtab', 'enter', 'escape', 'backspace', 'ctrl-c'] as const;
export type NamedKey = (typeof NAMED_KEYS)[number];
const NAMED: ReadonlySet<string> = new Set(NAMED_KEYS);

const SEQUENCES: ReadonlyArray<[string, NamedKey]> = [
  ['\x1b[A', 'up'], ['\x1bOA', 'up'], ['\x1b[B', 'down'], ['\x1bOB', 'down'],
  ['\x1b[5~', 'pageup'], ['\x1b[6~', 'pagedown'],
  ['\x1b[H', 'home'], ['\x1bOH', 'home'], ['\x1b[1~', 'home'], ['\x1b[7~', 'home'],
  ['\x1b[F', 'end'], ['\x1bOF', 'end'], ['\x1b[4~', 'end'], ['\x1b[8~', 'end'],
  ['\x1b[Z', 'backtab'],
];

/**
 * Splits what one read of stdin delivered into keys: printable characters as themselves, the rest
 * by name. Escape sequences this screen has no use for (arrows left/right, F-keys) are dropped whole.
 */
export function decodeKeys(data: string): Array<string | NamedKey> {
  const keys: Array<string | NamedKey> = [];
  for (let i = 0; i < data.length; ) {
    const ch = data[i]!;
    if (ch === '\x1b') {
      const known = SEQUENCES.find(([seq]) => data.startsWith(seq, i));
      if (known) {
        keys.push(known[1]);
        i += known[0].length;
        continue;
      }
      const next = data[i + 1];
      if (next === '[' || next === 'O') {
        // An unknown CSI/SS3 sequence: skip to its final byte.
        let j = i + 2;
        while (j < data.length && !/[@-~]/.test(data[j]!)) j++;
        i = j + 1;
        continue;
      }
      keys.push('escape');
      i += 1;
      continue;
    }
    i += 1;
    if (ch === '\r' || ch === '\n') keys.push('enter');
    else if (ch === '\t') keys.push('tab');
    else if (ch === '\x7f' || ch === '\b') keys.push('backspace');
    else if (ch === '\x03') keys.push('ctrl-c');
    else if (ch >= ' ') {
      // A character outside the BMP arrives as two UTF-16 units: keep them together.
      const code = ch.charCodeAt(0);
      if (code >= 0xd800 && code <= 0xdbff && i < data.length) keys.push(ch + data[i++]!);
      else keys.push(ch);
    }
  }
  return keys;
}

/** The sorts `s` steps through: by rate only while rates are measured. */
function channelSorts(rates: boolean): SortKey[] {
  return SORT_KEYS.filter((k) => rates || k !== 'rate');
}

function next<T>(list: readonly T[], current: T, step = 1): T {
  const at = list.indexOf(current);
  return list[(at + step + list.length) % list.length]!;
}

/** How many rows one page moves. */
export interface KeyContext {
  pageRows: number;
}

/** The state after `key`, and what the command must do about it. Pure: the same state and key give the same answer. */
export function pressKey(ui: WatchUi, key: string, ctx: KeyContext): { ui: WatchUi; effect: KeyEffect } {
  if (key === 'ctrl-c') return { ui, effect: 'quit' };
  const same = { ui, effect: 'none' as const };
  const scrollTo = (row: number) => ({ ui: { ...ui, scroll: { ...ui.scroll, [ui.view]: Math.max(0, row) } }, effect: 'none' as const });
  if (ui.typing !== undefined) {
    // The filter prompt takes every key until Enter or Esc.
    if (key === 'enter') {
      const { typing, filter: _old, ...rest } = ui;
      return { ui: { ...rest, ...(typing !== '' ? { filter: typing } : {}), scroll: { channels: 0, nodes: 0, clients: 0 } }, effect: 'none' };
    }
    if (key === 'escape') {
      const { typing: _t, filter: _f, ...rest } = ui;
      return { ui: { ...rest, scroll: { channels: 0, nodes: 0, clients: 0 } }, effect: 'none' };
    }
    if (key === 'backspace') return { ui: { ...ui, typing: Array.from(ui.typing).slice(0, -1).join('') }, effect: 'none' };
    // decodeKeys gives printable characters or names: every one that is not a name is text.
    if (!NAMED.has(key)) return { ui: { ...ui, typing: ui.typing + key }, effect: 'none' };
    return same;
  }
  if (ui.help) {
    // Any key closes the help; q still quits.
    return key === 'q' ? { ui, effect: 'quit' } : { ui: { ...ui, help: false }, effect: 'none' };
  }
  const at = ui.scroll[ui.view];
  switch (key) {
    case 'q':
      return { ui, effect: 'quit' };
    case 'p':
      return { ui: { ...ui, paused: !ui.paused }, effect: 'none' };
    case '?':
      return { ui: { ...ui, help: true }, effect: 'none' };
    case 's':
      if (ui.view === 'channels') return { ui: { ...ui, channelSort: next(channelSorts(ui.rates), ui.channelSort) }, effect: 'none' };
      if (ui.view === 'clients') return { ui: { ...ui, clientSort: next(CLIENT_SORT_KEYS, ui.clientSort) }, effect: 'none' };
      return same;
    case 'g':
      if (ui.view !== 'clients') return same;
      return { ui: withGroup(ui, ui.groupBy === undefined ? CLIENT_GROUP_BY[0] : CLIENT_GROUP_BY[CLIENT_GROUP_BY.indexOf(ui.groupBy) + 1]), effect: 'none' };
    case 'r': {
      const rates = !ui.rates;
      return { ui: { ...ui, rates, channelSort: !rates && ui.channelSort === 'rate' ? 'subscribers' : ui.channelSort }, effect: 'rates' };
    }
    case '/':
      return { ui: { ...ui, typing: ui.filter ?? '' }, effect: 'none' };
    case 'escape':
      return { ui: withoutFilter(ui), effect: 'none' };
    // A filter belongs to the list it was typed over: another view starts unfiltered.
    case 'tab':
      return { ui: { ...withoutFilter(ui), view: next(WATCH_VIEWS, ui.view) }, effect: 'none' };
    case 'backtab':
      return { ui: { ...withoutFilter(ui), view: next(WATCH_VIEWS, ui.view, -1) }, effect: 'none' };
    case 'j':
    case 'down':
      return scrollTo(at + 1);
    case 'k':
    case 'up':
      return scrollTo(at - 1);
    case 'pagedown':
    case ' ':
      return scrollTo(at + Math.max(1, ctx.pageRows));
    case 'pageup':
      return scrollTo(at - Math.max(1, ctx.pageRows));
    case 'home':
      return scrollTo(0);
    case 'end':
      // The screen clamps it to the last full page.
      return scrollTo(Number.MAX_SAFE_INTEGER);
    default:
      return same;
  }
}

function withoutFilter(ui: WatchUi): WatchUi {
  const { filter: _f, ...rest } = ui;
  return rest;
}

function withGroup(ui: WatchUi, groupBy: ClientGroupBy | undefined): WatchUi {
  const { groupBy: _g, ...rest } = ui;
  return { ...rest, ...(groupBy !== undefined ? { groupBy } : {}), scroll: { ...ui.scroll, clients: 0 } };
}

/** The keys, as `?` shows them. */
export const KEY_HELP: ReadonlyArray<[string, string]> = [
  ['q, Ctrl-C', 'quit'],
  ['p', 'pause / resume refreshing'],
  ['s', 'next sort order (channels, clients)'],
  ['/', 'filter this view by glob (Enter applies, Esc clears)'],
  ['Esc', 'clear the filter'],
  ['r', 'measure message rates on / off'],
  ['Tab, Shift-Tab', 'next / previous view: channels, nodes, clients'],
  ['g', 'clients: group by name, library, host, none'],
  ['j k, arrows', 'scroll a row'],
  ['PgUp PgDn, space', 'scroll a page'],
  ['Home End', 'first / last rows'],
  ['?', 'this help (any key closes it)'],
];
