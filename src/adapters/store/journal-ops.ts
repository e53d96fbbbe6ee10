import type { OutboxEntry, StoreData } from '../../core/store-data.js';
import type { HotCollection } from './state-store.js';

/**
 * One change of a batch: the collection, the key and the new value (absent: removed); or, with a fourth element, the
 * top-level fields that changed and those removed (a patch of the record as the journal last had it).
 */
export type Op = [collection: HotCollection, key: string, value?: unknown, unset?: string[]];

/** The op that brings the journal from `prev` (what it last had) to `value`: whole, as a patch, or none when equal. */
export function opFor(c: HotCollection, k: string, value: unknown, prev: unknown): Op | undefined {
  if (value === undefined) return [c, k];
  const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isRecord(value) || !isRecord(prev) || prev === value) return [c, k, value];
  const set: Record<string, unknown> = {};
  const unset: string[] = [];
  let changed = false;
  for (const [f, v] of Object.entries(value)) {
    if (v === undefined) continue;
    if (v !== prev[f]) {
      set[f] = v;
      changed = true;
    }
  }
  for (const f of Object.keys(prev)) if (prev[f] !== undefined && value[f] === undefined) {
    unset.push(f);
    changed = true;
  }
  return changed ? [c, k, set, unset] : undefined;
}

export function apply(data: StoreData, outbox: Map<string, OutboxEntry>, [c, k, value, unset]: Op): void {
  if (unset) {
    const target = c === 'outbox' ? outbox.get(k) : (data as unknown as Record<string, Record<string, Record<string, unknown>> | undefined>)[c]?.[k];
    if (!target) return;
    const patched: Record<string, unknown> = { ...(target as Record<string, unknown>), ...(value as Record<string, unknown>) };
    for (const f of unset) delete patched[f];
    if (c === 'outbox') outbox.set(k, patched as unknown as OutboxEntry);
    else (data as unknown as Record<string, Record<string, unknown>>)[c]![k] = patched;
    return;
  }
  if (c === 'seq') {
    if (typeof value === 'number') data.seq = value;
    return;
  }
  if (c === 'outbox') {
    if (value === undefined) outbox.delete(k);
    else outbox.set(k, value as OutboxEntry);
    return;
  }
  const map = ((data as unknown as Record<string, Record<string, unknown> | undefined>)[c] ??= {});
  if (value === undefined) delete map[k];
  else map[k] = value;
}

