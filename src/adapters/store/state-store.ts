import type { StoreData } from '../../core/store-data.js';

/** A collection of the store document a change can touch (`seq` is the sequence counter, under key `seq`). */
export type HotCollection =
  | 'threads'
  | 'envs'
  | 'outbox'
  | 'confirmations'
  | 'seen'
  | 'installations'
  | 'errorSims'
  | 'drills'
  | 'reminders'
  | 'digestsSent'
  | 'deployments'
  | 'dispatches'
  | 'posted'
  | 'actionMarks'
  | 'locks'
  | 'noOpRevisions'
  | 'clustersDown'
  | 'seq';

/** The outbox has one entry per id and kind: an edit shares the id of the reply it changes. */
export function outboxKey(e: { id: string; kind: string }): string {
  return e.kind === 'edit' ? `edit:${e.id}` : e.id;
}

/** One in-memory document the store ports work on (the features see it only through the ports). */
export interface StateStore {
  readonly data: StoreData;
  /**
   * Persists every change made so far. Callers in the same tick share one write, so awaiting it is cheap;
   * resolve means what the caller changed before calling is on disk.
   */
  flush(): Promise<void>;
  /** Told of every record a port call changed (the embedded store journals exactly those); `outbox` keys by outboxKey. */
  touch?(collection: HotCollection, key: string): void;
}
