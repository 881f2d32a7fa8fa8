// Unit tests for watch's keys: decoding raw terminal input, and what each key does to the view state.
import { describe, it, expect } from 'vitest';
import { decodeKeys, pressKey, type WatchUi } from '../../src/commands/watch-keys.js';

const ui = (over: Partial<WatchUi> = {}): WatchUi => ({
  view: 'channels',
  channelSort: 'subscribers',
  clientSort: 'omem',
  paused: false,
  rates: false,
  help: false,
  scroll: { channels: 0, nodes: 0, clients: 0 },
  ...over,
});

/** Presses each key in turn from `start`; returns the final state and the effects seen. */
function press(start: WatchUi, ...keys: string[]): { ui: WatchUi; effects: string[] } {
  let state = start;
  const effects: string[] = [];
  for (const key of keys) {
    const r = pressKey(state, key, { pageRows: 10 });
    state = r.ui;
    effects.push(r.effect);
  }
  return { ui: state, effects };
}

describe('decodeKeys', () => {
  it('names the keys a terminal sends as escape sequences and control characters', () => {
    expect(decodeKeys('q')).toEqual(['q']);
    expect(decodeKeys('\x1b[A\x1b[B\x1bOA\x1b[5~\x1b[6~\x1b[H\x1b[F\x1b[Z')).toEqual(['up', 'down', 'up', 'pageup', 'pagedown', 'home', 'end', 'backtab']);
    expect(decodeKeys('\t\r\x7f\x03')).toEqual(['tab', 'enter', 'backspace', 'ctrl-c']);
    expect(decodeKeys('\x1b')).toEqual(['escape']);
  });

  it('splits a burst of keys (a paste, or keys pressed while busy) and drops sequences it has no use for', () => {
    expect(decodeKeys('/news:*\r')).toEqual(['/', 'n', 'e', 'w', 's', ':', '*', 'enter']);
    // Right arrow, F5 and a mouse-ish CSI: all dropped whole, nothing of them typed.
    expect(decodeKeys('a\x1b[C\x1b[15~\x1b[200;1Rb')).toEqual(['a', 'b']);
    // Other control characters are not keys.
    expect(decodeKeys('\x00\x07x')).toEqual(['x']);
    expect(decodeKeys('é😀')).toEqual(['é', '😀']);
  });
});

describe('pressKey', () => {
  it('quits on q and Ctrl-C, toggles pause, opens and closes help', () => {
    expect(press(ui(), 'q').effects).toEqual(['quit']);
    expect(press(ui(), 'ctrl-c').effects).toEqual(['quit']);
    expect(press(ui(), 'p').ui.paused).toBe(true);
    expect(press(ui(), 'p', 'p').ui.paused).toBe(false);
    expect(press(ui(), '?').ui.help).toBe(true);
    // Any key closes the help without doing what it would otherwise do; q still quits.
    const closed = press(ui(), '?', 's');
    expect(closed.ui.help).toBe(false);
    expect(closed.ui.channelSort).toBe('subscribers');
    expect(press(ui(), '?', 'q').effects).toEqual(['none', 'quit']);
  });

  it('cycles the channel sort, offering rate only while rates are measured', () => {
    expect(press(ui(), 's').ui.channelSort).toBe('name');
    expect(press(ui(), 's', 's').ui.channelSort).toBe('subscribers');
    expect(press(ui({ rates: true }), 's').ui.channelSort).toBe('rate');
    // Turning rates off leaves no sort by a rate nobody measures.
    const off = press(ui({ rates: true, channelSort: 'rate' }), 'r');
    expect(off.effects).toEqual(['rates']);
    expect(off.ui).toMatchObject({ rates: false, channelSort: 'subscribers' });
  });

  it('cycles the clients sort and grouping in the clients view only', () => {
    expect(press(ui({ view: 'clients' }), 's').ui.clientSort).toBe('name');
    expect(press(ui({ view: 'clients' }), 'g').ui.groupBy).toBe('name');
    expect(press(ui({ view: 'clients' }), 'g', 'g', 'g').ui.groupBy).toBe('addr');
    expect(press(ui({ view: 'clients' }), 'g', 'g', 'g', 'g').ui.groupBy).toBeUndefined();
    expect(press(ui(), 'g').ui.groupBy).toBeUndefined();
    expect(press(ui({ view: 'nodes' }), 's').ui).toEqual(ui({ view: 'nodes' }));
  });

  it('switches views with Tab and Shift-Tab, keeping each view scrolled where it was', () => {
    expect(press(ui(), 'tab').ui.view).toBe('nodes');
    expect(press(ui(), 'tab', 'tab').ui.view).toBe('clients');
    expect(press(ui(), 'tab', 'tab', 'tab').ui.view).toBe('channels');
    expect(press(ui(), 'backtab').ui.view).toBe('clients');
    const s = press(ui(), 'j', 'j', 'tab', 'tab', 'tab').ui;
    expect(s.scroll.channels).toBe(2);
    // A filter belongs to the view it was typed in: the next view starts unfiltered.
    expect(press(ui({ filter: 'news:*' }), 'tab').ui.filter).toBeUndefined();
    expect(press(ui({ filter: 'news:*' }), 'backtab').ui.filter).toBeUndefined();
  });

  it('scrolls by row and page, never above the top', () => {
    expect(press(ui(), 'j', 'down', 'j').ui.scroll.channels).toBe(3);
    expect(press(ui(), 'j', 'k', 'up', 'k').ui.scroll.channels).toBe(0);
    expect(press(ui(), 'pagedown', 'pagedown', 'pageup').ui.scroll.channels).toBe(10);
    expect(press(ui(), 'end').ui.scroll.channels).toBeGreaterThan(1e6);
    expect(press(ui(), 'end', 'home').ui.scroll.channels).toBe(0);
  });

  it('types a filter after /: Enter applies it, Esc clears it, and keys are text meanwhile', () => {
    const typed = press(ui(), '/', 'n', 'q', 's', 'backspace', '*');
    expect(typed.ui.typing).toBe('nq*');
    expect(typed.effects).not.toContain('quit');
    expect(typed.ui.channelSort).toBe('subscribers');
    const applied = press(ui({ scroll: { channels: 40, nodes: 0, clients: 0 } }), '/', 'a', '*', 'enter').ui;
    expect(applied.filter).toBe('a*');
    expect(applied.typing).toBeUndefined();
    // A new filter starts at the top of the list.
    expect(applied.scroll.channels).toBe(0);
    // The prompt opens with the current filter to edit; Esc clears it, in the prompt or out of it.
    expect(press(applied, '/').ui.typing).toBe('a*');
    expect(press(applied, '/', 'escape').ui.filter).toBeUndefined();
    expect(press(applied, 'escape').ui.filter).toBeUndefined();
    // An empty filter is no filter.
    expect(press(applied, '/', 'backspace', 'backspace', 'enter').ui.filter).toBeUndefined();
    // Named keys are not typed as their names.
    expect(press(ui(), '/', 'up', 'tab').ui.typing).toBe('');
    // Ctrl-C still quits from the prompt.
    expect(press(ui(), '/', 'ctrl-c').effects).toEqual(['none', 'quit']);
  });
});
