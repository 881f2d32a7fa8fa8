// Tells subscribers that keep reconnecting from stable ones, by following connection ids per identity from one CLIENT LIST to the next (clock injected).

/** How long an identity's history is kept after it was last seen, and the span reconnects are counted over. */
export const RECONNECT_WINDOW_MS = 60_000;
/** Reconnects within the window from which an identity is flapping. */
export const FLAPPING_RECONNECTS = 2;

export interface ReconnectTrackerOptions {
  /** @default RECONNECT_WINDOW_MS */
  windowMs?: number;
  /** @default FLAPPING_RECONNECTS */
  flappingReconnects?: number;
  /** @default Date.now */
  clock?: () => number;
}

/** What a connection is known by across reconnects: its node and its name, or the host it comes from when it has none. */
export function clientIdentity(c: { node: string; name: string; addr: string }): string {
  return `${c.node}\n${c.name !== '' ? `name ${c.name}` : `host ${hostOf(c.addr)}`}`;
}

/** The host part of a CLIENT LIST `addr` (`10.0.0.5:51234` -> `10.0.0.5`, `[::1]:6000` -> `[::1]`). */
export function hostOf(addr: string): string {
  const colon = addr.lastIndexOf(':');
  return colon < 0 ? addr : addr.slice(0, colon);
}

interface IdentityHistory {
  /** The connection ids it held when it was last seen. */
  ids: Set<string>;
  lastSeen: number;
  /** When connections appeared, and when others went, that no reconnect has paired yet. */
  appeared: number[];
  vanished: number[];
  /** When each reconnect was counted. */
  reconnects: number[];
}

/**
 * Counts reconnections per identity. A reconnect is one connection of an identity gone and a new
 * one (an id not held before) come, in either order, within the window: one pairing per reconnect,
 * so a pool that only grows or only shrinks never counts, nor does any number of identical stable
 * connections, and the first sight of an identity is never a reconnect. An identity that was
 * missing for a refresh and comes back with a new id reconnected. Identities not seen for the
 * window are forgotten, so memory follows the clients that exist, not those that ever did.
 */
export class ReconnectTracker {
  private readonly histories = new Map<string, IdentityHistory>();
  private readonly windowMs: number;
  private readonly flappingReconnects: number;
  private readonly clock: () => number;

  constructor(options: ReconnectTrackerOptions = {}) {
    this.windowMs = options.windowMs ?? RECONNECT_WINDOW_MS;
    this.flappingReconnects = options.flappingReconnects ?? FLAPPING_RECONNECTS;
    this.clock = options.clock ?? Date.now;
  }

  /**
   * Takes one node's complete list of subscriber connections, and returns them with `reconnects`
   * and `flapping` filled in. A node whose list is unknown this time must not be observed at all:
   * an empty list says every one of its subscribers left.
   */
  observe<C extends { node: string; id: string; name: string; addr: string; reconnects: number; flapping: boolean }>(node: string, clients: readonly C[]): C[] {
    const now = this.clock();
    this.forget(now);
    const current = new Map<string, Set<string>>();
    for (const c of clients) {
      const key = clientIdentity(c);
      let ids = current.get(key);
      if (!ids) current.set(key, (ids = new Set()));
      ids.add(c.id);
    }
    const prefix = `${node}\n`;
    for (const [key, h] of this.histories) {
      // Gone from a node that answered: its ids are kept, so a return with a new id still counts.
      if (key.startsWith(prefix) && !current.has(key)) this.expire(h, now);
    }
    for (const [key, ids] of current) {
      const h = this.histories.get(key);
      if (!h) {
        this.histories.set(key, { ids, lastSeen: now, appeared: [], vanished: [], reconnects: [] });
        continue;
      }
      for (const id of ids) if (!h.ids.has(id)) h.appeared.push(now);
      for (const id of h.ids) if (!ids.has(id)) h.vanished.push(now);
      this.expire(h, now);
      while (h.appeared.length > 0 && h.vanished.length > 0) {
        h.appeared.shift();
        h.vanished.shift();
        h.reconnects.push(now);
      }
      h.ids = ids;
      h.lastSeen = now;
    }
    return clients.map((c) => {
      const reconnects = this.histories.get(clientIdentity(c))?.reconnects.length ?? 0;
      return { ...c, reconnects, flapping: reconnects >= this.flappingReconnects };
    });
  }

  /** How many identities are remembered (for tests: memory must not grow without bound). */
  get size(): number {
    return this.histories.size;
  }

  private expire(h: IdentityHistory, now: number): void {
    const since = now - this.windowMs;
    for (const list of [h.appeared, h.vanished, h.reconnects]) {
      while (list.length > 0 && list[0]! <= since) list.shift();
    }
  }

  private forget(now: number): void {
    for (const [key, h] of this.histories) if (now - h.lastSeen > this.windowMs) this.histories.delete(key);
  }
}
