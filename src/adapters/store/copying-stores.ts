import type { Stores } from '../../core/store-ports.js';
import { cloneRecord } from './clone-record.js';

/**
 * The wide reads the delivery loop makes many times a second (the whole queue, the threads it touches, the stale cards,
 * the open deploys): answered without a copy, as read-only views. Their callers only read them and take what they keep
 * (a seq, a card version) before they await anything; copying a thousand records per look was most of the bot's CPU
 * under a fleet's load.
 */
const VIEWS: Partial<Record<keyof Stores, readonly string[]>> = {
  outbox: ['all'],
  threads: ['byKeys', 'staleCards', 'open', 'unpaired'],
  confirmations: ['pending'],
};

/**
 * The ports with copy semantics, as a database gives them: what a call is given is copied in, and what it answers is
 * copied out, so a caller never holds an object the store keeps (a record read does not change under its reader, and
 * changing it changes nothing stored). Functions passed in (a `supersedes` predicate) are passed as they are. The
 * VIEWS above are the exception.
 */
export function copyingStores(stores: Stores): Stores {
  const out: Record<string, unknown> = {};
  for (const [name, port] of Object.entries(stores)) {
    if (typeof port === 'function') out[name] = wrap(port as (...a: unknown[]) => unknown);
    else {
      const wrapped: Record<string, unknown> = {};
      const views = VIEWS[name as keyof Stores] ?? [];
      for (const [m, f] of Object.entries(port as Record<string, unknown>)) {
        wrapped[m] = typeof f !== 'function' ? f : views.includes(m) ? viewOf(f as (...a: unknown[]) => unknown) : wrap(f as (...a: unknown[]) => unknown);
      }
      out[name] = wrapped;
    }
  }
  return out as unknown as Stores;
}

function wrap(f: (...a: unknown[]) => unknown): (...a: unknown[]) => Promise<unknown> {
  return async (...args) => copy(await f(...args.map(copy)));
}

function viewOf(f: (...a: unknown[]) => unknown): (...a: unknown[]) => Promise<unknown> {
  return async (...args) => f(...args.map(copy));
}

function copy<T>(v: T): T {
  return cloneRecord(v);
}
