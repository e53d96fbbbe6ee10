/** Work started outside a request (webhook follow-ups, scheduled runs) that shutdown waits for. */
export interface BackgroundWork {
  /** Remembers `work` until it settles. */
  track(work: Promise<unknown>): void;
  /** Resolves once everything tracked so far has settled. */
  settled(): Promise<void>;
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
  };
}
