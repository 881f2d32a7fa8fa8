// What a benchmark script holds (sandbox servers, connections, child processes), released newest first.
// @ts-check

export class Cleanup {
  /**
   * Set when the script is being stopped (Ctrl-C, the watchdog): the run gives up at its next
   * throwIfAborted() rather than go on against servers that are going away.
   */
  aborted = false;
  /** @type {{ release: () => unknown }[]} */
  #held = [];

  /**
   * Has `release` run at cleanup, before whatever was added earlier. Returns a function that
   * releases it now instead, and not again at cleanup: for what one run holds only for a while.
   * @param {() => unknown} release
   * @returns {() => Promise<void>}
   */
  add(release) {
    const entry = { release };
    this.#held.push(entry);
    return async () => {
      const at = this.#held.indexOf(entry);
      if (at < 0) return;
      this.#held.splice(at, 1);
      await release();
    };
  }

  /**
   * Waits for something being started and has `release` run on it at cleanup. A cleanup that comes
   * while it is still starting waits for the start to end, then releases it: a sandbox interrupted
   * half-way is still stopped in order.
   * @template T
   * @param {Promise<T>} starting
   * @param {(value: T) => unknown} release
   * @returns {Promise<T>}
   */
  async hold(starting, release) {
    this.add(() => starting.then(release, () => {}));
    const value = await starting;
    this.throwIfAborted();
    return value;
  }

  throwIfAborted() {
    if (this.aborted) throw new Error('aborted');
  }

  /**
   * Releases everything held, newest first. One release failing does not keep the others from
   * running: each failure is passed to `report`.
   * @param {(err: unknown) => void} report
   */
  async releaseAll(report) {
    for (let entry = this.#held.pop(); entry; entry = this.#held.pop()) {
      try {
        await entry.release();
      } catch (err) {
        report(err);
      }
    }
  }
}
