import type { OutboxStore } from '../../core/store-ports.js';
import type { OutboxEntry, PostedReply } from '../../core/store-data.js';
import type { Db } from './db.js';
import { toJson } from './json-patch.js';

/**
 * The outbox over the `outbox` table (sequence numbers from the `outbox_seq` sequence, so replicas never hand out the
 * same one) and `posted` (where editable replies landed).
 */
export function pgOutboxStore(db: Db): OutboxStore {
  return {
    enqueue: async (entry) => {
      const { rowCount } = await db.mutate(
        `INSERT INTO outbox (id, doc) VALUES ($1, $2::jsonb || jsonb_build_object('seq', nextval('outbox_seq'), 'attempts', 0))
         ON CONFLICT (id) DO NOTHING`,
        [entry.id, toJson(entry)],
      );
      return (rowCount ?? 0) > 0;
    },
    all: async () => (await db.query<{ doc: OutboxEntry }>('SELECT doc FROM outbox ORDER BY seq')).rows.map((r) => r.doc),
    markAttempted: async (ids, at) => {
      await db.mutate(
        `UPDATE outbox SET doc = doc || jsonb_build_object('attemptedAt', $2::numeric, 'attempts', coalesce((doc->>'attempts')::integer, 0) + 1)
         WHERE id = ANY($1::text[])`,
        [ids, at],
      );
    },
    clearAttempted: async (ids) => {
      await db.mutate(`UPDATE outbox SET doc = doc - 'attemptedAt' WHERE id = ANY($1::text[])`, [ids]);
    },
    remove: async (ids) => {
      await db.mutate('DELETE FROM outbox WHERE id = ANY($1::text[])', [ids]);
    },
    depth: async () => Number((await db.query<{ n: string }>('SELECT count(*) AS n FROM outbox')).rows[0]?.n ?? 0),
    enqueueEdit: async (entry) => {
      // A queued edit under the same id takes the new content and a new sequence number; anything else under that id
      // (not an edit) is left alone.
      const content = { text: entry.text, ...(entry.blocks === undefined ? {} : { blocks: entry.blocks }) };
      await db.mutate(
        `INSERT INTO outbox (id, doc) VALUES ($1, $2::jsonb || jsonb_build_object('kind', 'edit', 'seq', nextval('outbox_seq'), 'attempts', 0))
         ON CONFLICT (id) DO UPDATE SET doc = (outbox.doc - 'blocks') || $3::jsonb || jsonb_build_object('seq', nextval('outbox_seq'))
         WHERE outbox.kind = 'edit'`,
        [entry.id, toJson(entry), toJson(content)],
      );
    },
    postedOf: async (id) => (await db.query<{ doc: PostedReply }>('SELECT doc FROM posted WHERE id = $1', [id])).rows[0]?.doc,
    editDone: async (id, seq) => {
      await db.mutate(`DELETE FROM outbox WHERE id = $1 AND kind = 'edit' AND seq = $2`, [id, seq]);
    },
    delivered: async ({ ids, root, ts }) => {
      // One statement: the entries leave, editable ones are remembered where they landed, the root's thread learns its ts.
      await db.mutate(
        `WITH gone AS (DELETE FROM outbox WHERE id = ANY($1::text[]) RETURNING id, doc),
         kept AS (
           INSERT INTO posted (id, doc)
           SELECT id, jsonb_build_object('ts', $2::text, 'channel', doc->'channel', 'threadKey', doc->'threadKey', 'at', doc->'createdAt')
           FROM gone WHERE $2::text IS NOT NULL AND $2::text <> '' AND (doc->'editable') = 'true'::jsonb
           ON CONFLICT (id) DO UPDATE SET doc = excluded.doc
         ),
         rooted AS (
           UPDATE threads SET doc = doc || jsonb_build_object('rootTs', $4::text, 'cardSent', $5::numeric)
           WHERE $3::text IS NOT NULL AND key = $3::text
         )
         SELECT 1`,
        [ids, ts ?? null, root?.threadKey ?? null, root?.ts ?? null, root?.cardSent ?? null],
      );
    },
  };
}
