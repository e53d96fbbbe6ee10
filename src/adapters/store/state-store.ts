import type { StoreData } from '../../core/store-data.js';

/** The embedded store: one in-memory document, flushed to disk in batches (the features see it only through the ports). */
export interface StateStore {
  readonly data: StoreData;
  /**
   * Persists every change made so far. Callers in the same tick share one write, so awaiting it is cheap;
   * resolve means what the caller changed before calling is on disk.
   */
  flush(): Promise<void>;
}
