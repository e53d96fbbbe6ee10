import type { OutboxStore } from '../../core/store-ports.js';
import type { StoreData } from '../../core/store-data.js';
import { outboxKey, type HotCollection } from './state-store.js';

/** The outbox port over the document (see createDocumentStores); every change is told to `touch`. */
export function documentOutbox(data: () => StoreData, touch: (c: HotCollection, key: string) => void): OutboxStore {
  const touchOutbox = (ids: Iterable<string>): void => {
    for (const id of ids) {
      touch('outbox', id);
      touch('outbox', outboxKey({ id, kind: 'edit' }));
    }
  };
  return {
  enqueue: async (entry) => {
    const d = data();
    if (d.outbox.some((e) => e.id === entry.id)) return false;
    d.outbox.push({ ...entry, seq: d.seq++, attempts: 0 });
    touch('outbox', entry.id);
    touch('seq', 'seq');
    return true;
  },
  all: async () => [...data().outbox].sort((a, b) => a.seq - b.seq),
  markAttempted: async (ids, at) => {
    const set = new Set(ids);
    // Copy on write: an entry someone read keeps its fields.
    data().outbox = data().outbox.map((e) => {
      if (!set.has(e.id)) return e;
      touch('outbox', outboxKey(e));
      return { ...e, attemptedAt: at, attempts: e.attempts + 1 };
    });
  },
  clearAttempted: async (ids) => {
    const set = new Set(ids);
    data().outbox = data().outbox.map((e) => {
      if (!set.has(e.id)) return e;
      touch('outbox', outboxKey(e));
      const { attemptedAt: _cleared, ...rest } = e;
      return rest;
    });
  },
  remove: async (ids) => {
    const set = new Set(ids);
    data().outbox = data().outbox.filter((e) => !set.has(e.id));
    touchOutbox(set);
  },
  depth: async () => data().outbox.length,
  enqueueEdit: async (entry) => {
    const d = data();
    const queued = d.outbox.find((e) => e.id === entry.id && e.kind === 'edit');
    // Replaced, not changed in place: whoever is applying the older edit still holds its seq.
    if (queued) d.outbox[d.outbox.indexOf(queued)] = { ...queued, text: entry.text, blocks: entry.blocks, seq: d.seq++ };
    else d.outbox.push({ ...entry, kind: 'edit', seq: d.seq++, attempts: 0 });
    touch('outbox', outboxKey({ id: entry.id, kind: 'edit' }));
    touch('seq', 'seq');
  },
  postedOf: async (id) => data().posted?.[id],
  editDone: async (id, seq) => {
    data().outbox = data().outbox.filter((e) => !(e.id === id && e.kind === 'edit' && e.seq === seq));
    touch('outbox', outboxKey({ id, kind: 'edit' }));
  },
  delivered: async ({ ids, root, ts }) => {
    const set = new Set(ids);
    const d = data();
    for (const e of d.outbox) if (set.has(e.id) && e.editable && ts) {
      (d.posted ??= {})[e.id] = { ts, channel: e.channel, threadKey: e.threadKey, at: e.createdAt };
      touch('posted', e.id);
    }
    data().outbox = data().outbox.filter((e) => !set.has(e.id));
    touchOutbox(set);
    const t = root ? data().threads[root.threadKey] : undefined;
    if (root && t) {
      t.rootTs = root.ts;
      t.cardSent = root.cardSent;
      touch('threads', root.threadKey);
    }
  },
};
}
