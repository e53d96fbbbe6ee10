/** Work started outside a request (webhook follow-ups, scheduled runs) that shutdown waits for. */
export interface BackgroundWork {
  /** Remembers `work` until it settles. */
  track(work: Promise<unknown>): void;
  /** Resolves once everything tracked so far has settled. */
  settled(): Promise<void>;
  /** True when nothing tracked is still running. */
  idle(): boolean;
}

/** An empty set of background work. */
export function createBackgroundWork(): BackgroundWork {
  const pending = new Set<Promise<unknown>>();
  return {
    track(work) {
      pending.add(work);
      void work.finally(() => pending.delete(work));
    },
    async settled() {
      await Promise.allSettled([...pending]);
    },
    idle: () => pending.size === 0,
  };
}
