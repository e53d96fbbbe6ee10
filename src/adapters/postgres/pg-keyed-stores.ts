import type { DispatchStore, KeyedStore } from '../../core/store-ports.js';
import type { DispatchRecord } from '../../core/store-data.js';
import type { Db } from './db.js';
import { toJson } from './json-patch.js';

/** The kinds of small keyed records, each a slice of the `keyed` table. */
export type KeyedKind = 'errorSims' | 'drills' | 'reminders' | 'digests' | 'dispatches' | 'installations' | 'deployments' | 'actionMarks' | 'locks' | 'noOpRevisions' | 'clustersDown';

/** One kind of keyed record over `keyed`; `all()` lists them in the order they were first set. */
export function pgKeyedStore<T>(db: Db, kind: KeyedKind): KeyedStore<T> {
  return {
    get: async (key) => (await db.query<{ doc: T }>('SELECT doc FROM keyed WHERE kind = $1 AND key = $2', [kind, key])).rows[0]?.doc,
    all: async () => (await db.query<{ key: string; doc: T }>('SELECT key, doc FROM keyed WHERE kind = $1 ORDER BY ord', [kind])).rows.map((r): [string, T] => [r.key, r.doc]),
    set: async (key, value) => {
      await db.mutate('INSERT INTO keyed (kind, key, doc) VALUES ($1, $2, $3::jsonb) ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc', [kind, key, toJson(value)]);
    },
    setIfAbsent: async (key, value) =>
      ((await db.mutate('INSERT INTO keyed (kind, key, doc) VALUES ($1, $2, $3::jsonb) ON CONFLICT (kind, key) DO NOTHING', [kind, key, toJson(value)])).rowCount ?? 0) > 0,
    delete: async (key) => {
      await db.mutate('DELETE FROM keyed WHERE kind = $1 AND key = $2', [kind, key]);
    },
  };
}

/** Deploy dispatches: the keyed slice plus their two atomic steps. */
export function pgDispatchStore(db: Db): DispatchStore {
  return {
    ...pgKeyedStore<DispatchRecord>(db, 'dispatches'),
    claim: (key, record, since) =>
      db.transaction(async (q) => {
        // The upsert replaces only a dispatch older than `since`; when it does not, it still locks the row, so the
        // record read next is the one that stood in the way.
        const { rowCount } = await q.query(
          `INSERT INTO keyed (kind, key, doc) VALUES ('dispatches', $1, $2::jsonb)
           ON CONFLICT (kind, key) DO UPDATE SET doc = excluded.doc WHERE coalesce((keyed.doc->>'at')::numeric < $3::numeric, true)`,
          [key, toJson(record), since],
        );
        if ((rowCount ?? 0) > 0) return undefined;
        return (await q.query<{ doc: DispatchRecord }>(`SELECT doc FROM keyed WHERE kind = 'dispatches' AND key = $1`, [key])).rows[0]?.doc;
      }),
    markAnnounced: async (key) => {
      const { rows } = await db.mutate<{ doc: DispatchRecord }>(
        `UPDATE keyed SET doc = jsonb_set(doc, '{announced}', 'true'::jsonb)
         WHERE kind = 'dispatches' AND key = $1 AND (doc->'announced') IS DISTINCT FROM 'true'::jsonb
         RETURNING doc`,
        [key],
      );
      return rows[0]?.doc;
    },
  };
}
