import type { ChatPort, Clock, StateStore } from '../ports.js';
import type { Logger } from '../logger.js';
import type { DeliveryMetrics } from './delivery-metrics.js';
import type { Pacing } from './pacing.js';

/** What the dispatcher's parts share: the ports, the pacing, and its count of calls in flight. */
export interface DeliveryContext {
  chat: ChatPort;
  store: StateStore;
  clock: Clock;
  log: Logger;
  metrics?: DeliveryMetrics;
  pacing: Pacing;
  /** Starts a call counted as in flight: `done` runs when it has settled, then the dispatcher looks for work again. */
  run(start: () => Promise<void>, done: () => void): void;
}
