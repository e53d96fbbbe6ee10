import type { EnvTarget } from '../catalog.js';
import type { ThreadRecord } from '../store-data.js';
import { timeoutFor } from './plan-timeout.js';

/**
 * When a deploy in progress passes its environment's timeout (ms since the epoch), counting only active time: undefined
 * while it waits for a person (the moment moves on until the wait ends), once warned, or when there is nothing to time.
 */
export function timeoutDueAt(thread: ThreadRecord, target: EnvTarget): number | undefined {
  if (thread.timeoutWarned || thread.outcome || !thread.lastState || thread.waitingSince !== undefined) return undefined;
  // The warning goes out once the active time is past the limit, i.e. one millisecond after it.
  return thread.startedAt + (thread.waitedMs ?? 0) + timeoutFor(target, thread.lastState) + 1;
}
