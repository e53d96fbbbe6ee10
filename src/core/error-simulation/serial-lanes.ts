/** Work serialised per key: a job starts once the one before it on the same key has settled (whatever its outcome). */
export class SerialLanes {
  private readonly lanes = new Map<string, Promise<unknown>>();

  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.lanes.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.lanes.set(key, next);
    void next.catch(() => undefined).then(() => {
      if (this.lanes.get(key) === next) this.lanes.delete(key);
    });
    return next;
  }

  /** Waits for every job in flight. */
  async settled(): Promise<void> {
    await Promise.allSettled([...this.lanes.values()]);
  }
}
