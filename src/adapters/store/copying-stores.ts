import type { Stores } from '../../core/store-ports.js';

/**
 * The ports with copy semantics, as a database gives them: what a call is given is copied in, and what it answers is
 * copied out, so a caller never holds an object the store keeps (a record read does not change under its reader, and
 * changing it changes nothing stored). Functions passed in (a `supersedes` predicate) are passed as they are.
 */
export function copyingStores(stores: Stores): Stores {
  const out: Record<string, unknown> = {};
  for (const [name, port] of Object.entries(stores)) {
    if (typeof port === 'function') out[name] = wrap(port as (...a: unknown[]) => unknown);
    else {
      const wrapped: Record<string, unknown> = {};
      for (const [m, f] of Object.entries(port as Record<string, unknown>)) wrapped[m] = typeof f === 'function' ? wrap(f as (...a: unknown[]) => unknown) : f;
      out[name] = wrapped;
    }
  }
  return out as unknown as Stores;
}

function wrap(f: (...a: unknown[]) => unknown): (...a: unknown[]) => Promise<unknown> {
  return async (...args) => copy(await f(...args.map(copy)));
}

function copy<T>(v: T): T {
  return v !== null && typeof v === 'object' ? structuredClone(v) : v;
}
