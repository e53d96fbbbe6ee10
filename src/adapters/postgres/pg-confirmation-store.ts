import type { ConfirmationStore } from '../../core/store-ports.js';
import type { Confirmation } from '../../core/store-data.js';
import type { Approval } from '../../core/promotion/confirmation-record.js';
import type { Db } from './db.js';
import { jsonPatch, toJson } from './json-patch.js';

/** Opening confirmations queue on this advisory lock: two opens at once each see the other's request (or it sees theirs). */
const OPEN_LOCK = 7_152_015_002;

/**
 * Confirmations over the `confirmations` table. Deciding one (claim, cancel, settleCard) is one conditional UPDATE, so
 * exactly one caller's UPDATE finds it pending; approvals lock the row, so exactly one caller reaches `required`.
 */
export function pgConfirmationStore(db: Db): ConfirmationStore {
  const decide = async (id: string, status: 'done' | 'cancelled', by: string, at: number) => {
    const { rowCount } = await db.mutate(
      `UPDATE confirmations SET doc = doc || jsonb_build_object('status', $2::text, 'doneBy', $3::text, 'doneAt', $4::numeric)
       WHERE id = $1 AND status = 'pending'`,
      [id, status, by, at],
    );
    return (rowCount ?? 0) > 0;
  };
  return {
    get: async (id) => (await db.query<{ doc: Confirmation }>('SELECT doc FROM confirmations WHERE id = $1', [id])).rows[0]?.doc,
    ofThread: async (threadKey) =>
      (await db.query<{ doc: Confirmation }>('SELECT doc FROM confirmations WHERE thread_key = $1 ORDER BY requested_at DESC, id DESC', [threadKey])).rows.map((r) => r.doc),
    pending: async () => (await db.query<{ doc: Confirmation }>(`SELECT doc FROM confirmations WHERE status = 'pending' ORDER BY requested_at, id`)).rows.map((r) => r.doc),
    open: (c, supersedes) =>
      db.transaction(async (q) => {
        await q.query('SELECT pg_advisory_xact_lock($1)', [OPEN_LOCK]);
        const { rows } = await q.query<{ doc: Confirmation }>(`SELECT doc FROM confirmations WHERE status = 'pending' ORDER BY id FOR UPDATE`);
        const superseded = rows.map((r) => r.doc).filter((other) => supersedes(other)).map((other) => other.id);
        if (superseded.length > 0) {
          await q.query(`UPDATE confirmations SET doc = doc || jsonb_build_object('status', 'superseded', 'supersededBy', $2::text) WHERE id = ANY($1::text[])`, [superseded, c.id]);
        }
        await q.query('INSERT INTO confirmations (id, doc) VALUES ($1, $2::jsonb) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc', [c.id, toJson(c)]);
        return superseded;
      }),
    claim: (id, by, at) => decide(id, 'done', by, at),
    cancel: (id, by, at) => decide(id, 'cancelled', by, at),
    approve: (id, user, at, required) =>
      db.transaction(async (q) => {
        const { rows } = await q.query<{ doc: Confirmation }>('SELECT doc FROM confirmations WHERE id = $1 FOR UPDATE', [id]);
        const c = rows[0]?.doc;
        if (!c || c.status !== 'pending') return undefined;
        const approvals: Approval[] = c.approvals ?? [];
        if (approvals.some((a) => a.by === user)) return { added: false, complete: false, approvals };
        const next = [...approvals, { by: user, at }];
        await q.query(`UPDATE confirmations SET doc = jsonb_set(doc, '{approvals}', $2::jsonb) WHERE id = $1`, [id, toJson(next)]);
        return { added: true, complete: next.length === required, approvals: next };
      }),
    update: async (id, patch) => {
      const { set, clear } = jsonPatch(patch);
      await db.mutate('UPDATE confirmations SET doc = (doc - $2::text[]) || $3::jsonb WHERE id = $1', [id, clear, set]);
    },
    settleCard: async (id, outcome) => {
      const { rows } = await db.mutate<{ doc: Confirmation }>(
        `UPDATE confirmations SET doc = jsonb_set(doc, '{cardOutcome}', to_jsonb($2::text))
         WHERE id = $1 AND coalesce(doc->>'cardKey', '') <> '' AND coalesce(jsonb_typeof(doc->'card'), 'null') <> 'null' AND doc->'cardOutcome' IS NULL
         RETURNING doc`,
        [id, outcome],
      );
      return rows[0]?.doc;
    },
  };
}
