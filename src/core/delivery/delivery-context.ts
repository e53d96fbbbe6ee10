import type { ChatPort, Clock } from '../ports.js';
import type { Logger } from '../logger.js';
import type { OutboxEntry } from '../store-data.js';
import type { Stores, ThreadHead } from '../store-ports.js';
import type { DeliveryMetrics } from './delivery-metrics.js';
import type { Pacing } from './pacing.js';

/** The store ports delivery uses: the outbox, the threads (root ts, card versions), and flushing. */
export type DeliveryStores = Pick<Stores, 'outbox' | 'threads' | 'flush'>;

/** The queue as one look at the store found it: the entries in sequence order and the threads they belong to. */
export interface QueueView {
  /** What is to be posted (never an edit). */
  outbox: OutboxEntry[];
  /** Edits of posted replies (`kind: 'edit'`), in sequence order. */
  edits: OutboxEntry[];
  /** The heads of the threads the entries belong to. */
  threads: Record<string, ThreadHead>;
}

/** What the dispatcher's parts share: the ports, the pacing, and its count of calls in flight. */
export interface DeliveryContext {
  chat: ChatPort;
  stores: DeliveryStores;
  clock: Clock;
  log: Logger;
  metrics?: DeliveryMetrics;
  pacing: Pacing;
  /** Starts a call counted as in flight: `done` runs when it has settled, then the dispatcher looks for work again. */
  run(start: () => Promise<void>, done: () => void): void;
}
