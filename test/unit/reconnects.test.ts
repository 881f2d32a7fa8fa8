// Unit tests for ReconnectTracker: who reconnected, who flaps, and that stable crowds and growing pools never do.
import { describe, it, expect } from 'vitest';
import { clientIdentity, FLAPPING_RECONNECTS, hostOf, RECONNECT_WINDOW_MS, ReconnectTracker } from '../../src/stats/reconnects.js';

const NODE = '127.0.0.1:7001';

interface Conn {
  node: string;
  id: string;
  name: string;
  addr: string;
  reconnects: number;
  flapping: boolean;
}

function conn(id: number, name = '', addr = `10.0.0.5:${50000 + id}`, node = NODE): Conn {
  return { node, id: String(id), name, addr, reconnects: 0, flapping: false };
}

/** A tracker on a clock the test moves by hand. */
function tracker(): { t: ReconnectTracker; tick: (ms?: number) => void } {
  let now = 1_000_000;
  const t = new ReconnectTracker({ clock: () => now });
  return { t, tick: (ms = 1000) => (now += ms) };
}

const byName = (list: Conn[], name: string) => list.find((c) => c.name === name);

describe('clientIdentity', () => {
  it('is the node and the name, or the host without the port when unnamed', () => {
    expect(clientIdentity(conn(1, 'app'))).toBe(clientIdentity(conn(2, 'app', '10.9.9.9:1')));
    expect(clientIdentity(conn(1, 'app'))).not.toBe(clientIdentity(conn(1, 'app', '10.0.0.5:1', '127.0.0.1:7002')));
    expect(clientIdentity(conn(1))).toBe(clientIdentity(conn(2)));
    expect(clientIdentity(conn(1))).not.toBe(clientIdentity(conn(1, '', '10.0.0.6:50001')));
    // A name that looks like a host is still a name.
    expect(clientIdentity(conn(1, '10.0.0.5'))).not.toBe(clientIdentity(conn(1)));
  });

  it('takes the host from IPv4, IPv6 and unix-socket addresses', () => {
    expect(hostOf('10.0.0.5:51234')).toBe('10.0.0.5');
    expect(hostOf('[::1]:6000')).toBe('[::1]');
    expect(hostOf('/tmp/redis.sock:0')).toBe('/tmp/redis.sock');
    expect(hostOf('weird')).toBe('weird');
  });
});

describe('ReconnectTracker', () => {
  it('never counts the first sight of a client', () => {
    const { t } = tracker();
    const seen = t.observe(NODE, [conn(1, 'a'), conn(2, 'b'), conn(3)]);
    expect(seen.map((c) => [c.reconnects, c.flapping])).toEqual([[0, false], [0, false], [0, false]]);
  });

  it('flags a client that reconnects every refresh by the third refresh', () => {
    const { t, tick } = tracker();
    expect(byName(t.observe(NODE, [conn(1, 'flappy')]), 'flappy')).toMatchObject({ reconnects: 0, flapping: false });
    tick();
    expect(byName(t.observe(NODE, [conn(2, 'flappy')]), 'flappy')).toMatchObject({ reconnects: 1, flapping: false });
    tick();
    expect(byName(t.observe(NODE, [conn(3, 'flappy')]), 'flappy')).toMatchObject({ reconnects: FLAPPING_RECONNECTS, flapping: true });
  });

  it('counts a client that was missing for a refresh and came back with a new id', () => {
    const { t, tick } = tracker();
    t.observe(NODE, [conn(1, 'app'), conn(9, 'other')]);
    tick();
    t.observe(NODE, [conn(9, 'other')]);
    tick();
    expect(byName(t.observe(NODE, [conn(2, 'app'), conn(9, 'other')]), 'app')).toMatchObject({ reconnects: 1 });
  });

  it('counts a replacement made before the old connection went (make before break)', () => {
    const { t, tick } = tracker();
    t.observe(NODE, [conn(1, 'app')]);
    tick();
    t.observe(NODE, [conn(1, 'app'), conn(2, 'app')]);
    tick();
    expect(t.observe(NODE, [conn(2, 'app')])[0]).toMatchObject({ reconnects: 1 });
  });

  it('keeps 50 identical stable unnamed clients of one host quiet, however many refreshes', () => {
    const { t, tick } = tracker();
    const crowd = Array.from({ length: 50 }, (_, i) => conn(i + 1));
    for (let i = 0; i < 10; i++) {
      const seen = t.observe(NODE, crowd);
      expect(seen.every((c) => c.reconnects === 0 && !c.flapping)).toBe(true);
      tick();
    }
    expect(t.size).toBe(1);
  });

  it('does not take a pool that grows, or shrinks, for reconnects', () => {
    const { t, tick } = tracker();
    const pool = (ids: number[]) => ids.map((id) => conn(id, 'pool'));
    t.observe(NODE, pool([1, 2]));
    tick();
    t.observe(NODE, pool([1, 2, 3, 4, 5]));
    tick();
    expect(t.observe(NODE, pool([1, 2, 3, 4, 5]))[0]).toMatchObject({ reconnects: 0 });
    tick(RECONNECT_WINDOW_MS + 1);
    // Long after it grew, it shrinks: nothing pairs with an appearance that old.
    expect(t.observe(NODE, pool([1, 2]))[0]).toMatchObject({ reconnects: 0 });
  });

  it('counts one reconnect per connection replaced in a crowd, not one per member', () => {
    const { t, tick } = tracker();
    const crowd = Array.from({ length: 50 }, (_, i) => conn(i + 1));
    t.observe(NODE, crowd);
    tick();
    const seen = t.observe(NODE, [...crowd.slice(1), conn(100)]);
    expect(seen[0]).toMatchObject({ reconnects: 1, flapping: false });
  });

  it('forgets reconnects older than the window, and then stops flapping', () => {
    const { t, tick } = tracker();
    t.observe(NODE, [conn(1, 'f')]);
    tick();
    t.observe(NODE, [conn(2, 'f')]);
    tick();
    expect(t.observe(NODE, [conn(3, 'f')])[0]?.flapping).toBe(true);
    tick(RECONNECT_WINDOW_MS);
    expect(t.observe(NODE, [conn(3, 'f')])[0]).toMatchObject({ reconnects: 0, flapping: false });
  });

  it('keeps nodes apart, and leaves a node alone when it is not observed', () => {
    const { t, tick } = tracker();
    const other = '127.0.0.1:7002';
    t.observe(NODE, [conn(1, 'app')]);
    t.observe(other, [conn(1, 'app', '10.0.0.5:1', other)]);
    tick();
    // Only the other node answered: NODE's client is not taken as gone.
    t.observe(other, [conn(2, 'app', '10.0.0.5:2', other)]);
    tick();
    expect(t.observe(NODE, [conn(1, 'app')])[0]).toMatchObject({ reconnects: 0 });
    expect(t.observe(other, [conn(2, 'app', '10.0.0.5:2', other)])[0]).toMatchObject({ reconnects: 1 });
  });

  it('forgets identities not seen for the window: memory follows the clients that exist', () => {
    const { t, tick } = tracker();
    for (let i = 0; i < 1000; i++) {
      t.observe(NODE, [conn(i, `one-off-${i}`)]);
      tick(1000);
    }
    expect(t.size).toBeLessThanOrEqual(RECONNECT_WINDOW_MS / 1000 + 1);
    // Back after being forgotten: a first sight again, not a reconnect.
    expect(t.observe(NODE, [conn(5000, 'one-off-0')])[0]).toMatchObject({ reconnects: 0 });
  });

  it('does not change the clients it is given', () => {
    const { t, tick } = tracker();
    t.observe(NODE, [conn(1, 'a')]);
    tick();
    const input = [conn(2, 'a')];
    t.observe(NODE, input);
    expect(input[0]).toMatchObject({ reconnects: 0, flapping: false });
  });
});
