import { THREAD_HEAD_FIELDS, type ThreadHead, type ThreadStore } from '../../core/store-ports.js';
import type { ThreadRecord } from '../../core/store-data.js';
import type { Db } from './db.js';
import { jsonPatch, toJson } from './json-patch.js';

/** `doc` with its card bumped (card_version is the row's value before the update). */
const BUMPED = `jsonb_set(doc, '{cardVersion}', to_jsonb(coalesce(card_version, 0) + 1))`;

/** A thread's head (ThreadHead) out of its document: only these fields cross the wire, not the observed state. */
const HEAD = `jsonb_strip_nulls(jsonb_build_object(${THREAD_HEAD_FIELDS.map((f) => `'${f}', doc->'${f}'`).join(', ')}))`;

/**
 * Deploy threads over the `threads` table. Every mutation is one UPDATE of the row's document, so concurrent calls on
 * one thread serialise on its row lock and each sees the other's change (nothing is read, awaited, then written).
 */
export function pgThreadStore(db: Db): ThreadStore {
  const list = async (sql: string, params: unknown[] = []) => (await db.query<{ doc: ThreadRecord }>(sql, params)).rows.map((r) => r.doc);
  const first = async (sql: string, params: unknown[]) => (await list(sql, params))[0];
  const changed = async (sql: string, params: unknown[]) => ((await db.mutate(sql, params)).rowCount ?? 0) > 0;
  return {
    byKey: (key) => first('SELECT doc FROM threads WHERE key = $1', [key]),
    byRoot: (channel, rootTs) => first('SELECT doc FROM threads WHERE channel = $1 AND root_ts = $2 ORDER BY started_at, key LIMIT 1', [channel, rootTs]),
    current: (envKey) => first(`SELECT t.doc FROM envs e JOIN threads t ON t.key = e.thread_key WHERE e.key = $1`, [envKey]),
    ofEnv: (envKey, o = {}) => {
      const i = envKey.lastIndexOf('/');
      return list('SELECT doc FROM threads WHERE app = $1 AND env = $2 ORDER BY started_at DESC, key LIMIT $3', [envKey.slice(0, i), envKey.slice(i + 1), o.limit ?? null]);
    },
    withTag: (app, tag) => list('SELECT doc FROM threads WHERE app = $1 AND tag = $2 ORDER BY started_at, key', [app, tag]),
    open: () => list(`SELECT doc FROM threads WHERE coalesce(outcome, '') = '' ORDER BY started_at, key`),
    staleCards: async () =>
      (await db.query<{ head: ThreadHead }>(`SELECT ${HEAD} AS head FROM threads WHERE coalesce(root_ts, '') <> '' AND card_sent < card_version ORDER BY started_at, key`)).rows.map((r) => r.head),
    unpaired: () => list(`SELECT doc FROM threads WHERE coalesce(commit_sha, '') = '' AND coalesce(tag, '') <> '' ORDER BY started_at, key`),
    byKeys: async (keys) => {
      const { rows } = await db.query<{ key: string; head: ThreadHead }>(`SELECT key, ${HEAD} AS head FROM threads WHERE key = ANY($1::text[])`, [keys]);
      return Object.fromEntries(rows.map((r) => [r.key, r.head]));
    },
    save: async (thread) => {
      await db.mutate('INSERT INTO threads (key, doc) VALUES ($1, $2::jsonb) ON CONFLICT (key) DO UPDATE SET doc = excluded.doc', [thread.key, toJson(thread)]);
    },
    recordAction: async (key, action) => {
      await db.mutate(
        `UPDATE threads SET doc = jsonb_set(${BUMPED}, '{actions}', coalesce(doc->'actions', '[]'::jsonb) || jsonb_build_array($2::jsonb)) WHERE key = $1`,
        [key, toJson(action)],
      );
    },
    trackWaiting: async (key, { waiting, now }) => {
      if (waiting) {
        await db.mutate(`UPDATE threads SET doc = jsonb_set(doc, '{waitingSince}', to_jsonb($2::numeric)) WHERE key = $1 AND doc->>'waitingSince' IS NULL`, [key, now]);
        return;
      }
      await db.mutate(
        `UPDATE threads SET doc = (doc - 'waitingSince')
           || jsonb_build_object('waitedMs', coalesce((doc->>'waitedMs')::numeric, 0) + ($2::numeric - (doc->>'waitingSince')::numeric))
         WHERE key = $1 AND doc->>'waitingSince' IS NOT NULL`,
        [key, now],
      );
    },
    markOnce: (key, mark) =>
      changed(`UPDATE threads SET doc = jsonb_set(doc, ARRAY[$2::text], 'true'::jsonb) WHERE key = $1 AND (doc->$2::text) IS DISTINCT FROM 'true'::jsonb`, [key, mark]),
    bumpCardsWithTag: async ({ app, tag, exceptKey }) => {
      await db.mutate(`UPDATE threads SET doc = ${BUMPED} WHERE app = $1 AND tag = $2 AND key <> $3`, [app, tag, exceptKey]);
    },
    observed: async (key, o) => {
      const { set, clear } = jsonPatch(o.set);
      await db.mutate(
        `UPDATE threads SET doc = CASE WHEN $4::boolean
             THEN jsonb_set((doc - $2::text[]) || $3::jsonb, '{cardVersion}', to_jsonb(coalesce(card_version, 0) + 1))
             ELSE (doc - $2::text[]) || $3::jsonb END
         WHERE key = $1`,
        [key, clear, set, o.bumpCard],
      );
    },
    markCardSent: async (key, version) => {
      await db.mutate(`UPDATE threads SET doc = jsonb_set(doc, '{cardSent}', to_jsonb($2::numeric)) WHERE key = $1 AND card_sent < $2::numeric`, [key, version]);
    },
    bumpCard: async (key) => {
      await db.mutate(`UPDATE threads SET doc = ${BUMPED} WHERE key = $1`, [key]);
    },
    setCommit: async (key, o) => {
      // The CTE locks the row and keeps its sha from before the update: whether this call paired it is known in the
      // same statement.
      const { rows } = await db.mutate<{ paired: boolean }>(
        `WITH prev AS (SELECT key, commit_sha FROM threads WHERE key = $1 FOR UPDATE)
         UPDATE threads t SET doc = t.doc
             || CASE WHEN $3::boolean THEN '{"commitLookedUp": true}'::jsonb ELSE '{}'::jsonb END
             || CASE WHEN $2::text IS NOT NULL AND coalesce(prev.commit_sha, '') = ''
                  THEN jsonb_build_object('commitSha', $2::text, 'cardVersion', coalesce(t.card_version, 0) + 1)
                  ELSE '{}'::jsonb END
         FROM prev WHERE t.key = prev.key
         RETURNING ($2::text IS NOT NULL AND coalesce(prev.commit_sha, '') = '') AS paired`,
        [key, o.sha || null, o.lookedUp === true],
      );
      return rows[0]?.paired === true;
    },
  };
}
