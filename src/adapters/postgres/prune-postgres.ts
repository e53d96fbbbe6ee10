import type { PruneCounts } from '../../core/store-ports.js';
import type { Db, Queryable } from './db.js';

const DAY_MS = 86_400_000;
/** Prunes queue on this advisory lock (two replicas' retention jobs never interleave). */
const PRUNE_LOCK = 7_152_015_003;

/** A thread still in use: an environment's current one, or one a queued entry, pending confirmation, running drill or errors banner belongs to. */
const IN_USE = `(
     EXISTS (SELECT 1 FROM envs e WHERE e.thread_key = t.key)
  OR EXISTS (SELECT 1 FROM outbox o WHERE o.thread_key = t.key)
  OR EXISTS (SELECT 1 FROM confirmations c WHERE c.thread_key = t.key AND c.status = 'pending')
  OR EXISTS (SELECT 1 FROM keyed k WHERE k.kind = 'drills' AND k.doc->>'threadKey' = t.key AND k.doc->>'status' = 'running')
  OR EXISTS (SELECT 1 FROM keyed k WHERE k.kind = 'errorSims' AND k.doc->>'threadKey' = t.key)
)`;
const THREAD_OF = (col: string) => `EXISTS (SELECT 1 FROM threads t WHERE t.key = ${col})`;

/**
 * Retention (`Stores.prune`) in one transaction, by the rules of src/adapters/store/prune-store-data.ts: threads first
 * (never one in use), then what hangs off threads (confirmations, posted replies, action marks, reminder marks), then
 * commits no kept thread points at, and the rest by age.
 */
export function prunePostgres(db: Db, o: { now: number; days: number }): Promise<PruneCounts> {
  const cutoff = o.now - o.days * DAY_MS;
  return db.transaction(async (q) => {
    await q.query('SELECT pg_advisory_xact_lock($1)', [PRUNE_LOCK]);
    const drop = (sql: string) => dropped(q, sql, sql.includes('$1') ? [cutoff] : []);
    const threads = await drop(`DELETE FROM threads t WHERE coalesce(t.finished_at, t.started_at) < $1 AND NOT ${IN_USE}`);
    const confirmations = await drop(`DELETE FROM confirmations c WHERE (NOT ${THREAD_OF('c.thread_key')} OR CASE
        WHEN c.status = 'pending' THEN (c.doc->>'expiresAt')::numeric < $1
        ELSE coalesce((c.doc->>'doneAt')::numeric, c.requested_at) < $1 END)`);
    const audit = await drop('DELETE FROM audit WHERE at < $1');
    const commits = await drop('DELETE FROM commits c WHERE c.at < $1 AND NOT EXISTS (SELECT 1 FROM threads t WHERE t.commit_sha = c.sha)');
    const seen = await drop('DELETE FROM seen WHERE at < $1');
    let other = 0;
    for (const sql of [
      `DELETE FROM posted p WHERE NOT ${THREAD_OF('p.thread_key')}`,
      `DELETE FROM keyed k WHERE k.kind = 'actionMarks' AND NOT (${THREAD_OF('k.key')} AND coalesce((k.doc->>'at')::numeric >= $1, false))`,
      `DELETE FROM keyed k WHERE k.kind = 'reminders' AND NOT ${THREAD_OF('k.key')}`,
      `DELETE FROM keyed k WHERE k.kind = 'drills' AND k.doc->>'status' IS DISTINCT FROM 'running'
         AND coalesce((k.doc->>'finishedAt')::numeric, (k.doc->>'startedAt')::numeric) < $1`,
      `DELETE FROM keyed k WHERE k.kind = 'noOpRevisions' AND (k.doc->>'notedAt')::numeric < $1`,
      `DELETE FROM keyed k WHERE k.kind = 'digests' AND (k.doc #>> '{}')::numeric < $1`,
    ]) other += await drop(sql);
    return { threads, audit, commits, seen, confirmations, other };
  });
}

/** Runs a DELETE (the cutoff, when it needs one, is $1); how many rows it removed. */
async function dropped(q: Queryable, sql: string, params: unknown[]): Promise<number> {
  const { rows } = await q.query<{ n: number }>(`WITH d AS (${sql} RETURNING 1) SELECT count(*)::integer AS n FROM d`, params);
  return rows[0]?.n ?? 0;
}
