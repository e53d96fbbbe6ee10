import type { AuditLog, CommitStore, DeliveryClaims, EnvStore } from '../../core/store-ports.js';
import type { AuditEntry, CommitRecord, EnvRecord } from '../../core/store-data.js';
import type { Db } from './db.js';
import { jsonPatch, toJson } from './json-patch.js';

/** Per-environment records over `envs`: an update is one upsert merging the patch into the document. */
export function pgEnvStore(db: Db): EnvStore {
  return {
    get: async (envKey) => ({ ...((await db.query<{ doc: EnvRecord }>('SELECT doc FROM envs WHERE key = $1', [envKey])).rows[0]?.doc ?? {}) }),
    update: async (envKey, patch) => {
      const { set, clear } = jsonPatch(patch);
      await db.mutate('INSERT INTO envs (key, doc) VALUES ($1, $3::jsonb) ON CONFLICT (key) DO UPDATE SET doc = (envs.doc - $2::text[]) || $3::jsonb', [envKey, clear, set]);
    },
  };
}

/** The audit log over `audit` (appended, never edited). */
export function pgAuditLog(db: Db): AuditLog {
  return {
    append: async (entry) => {
      await db.mutate('INSERT INTO audit (doc) VALUES ($1::jsonb)', [toJson(entry)]);
    },
    recent: async (o = {}) => {
      const { rows } = await db.query<{ doc: AuditEntry }>(
        `SELECT doc FROM audit
         WHERE ($1::text IS NULL OR app = $1) AND ($2::text IS NULL OR env = $2) AND ($3::numeric IS NULL OR at >= $3)
         ORDER BY at DESC, id DESC LIMIT $4`,
        [o.app ?? null, o.env ?? null, o.since ?? null, o.limit ?? null],
      );
      return rows.map((r) => r.doc);
    },
  };
}

/** Delivery dedupe over `seen`: a claim is one INSERT … ON CONFLICT DO NOTHING, so exactly one caller inserts the key. */
export function pgDeliveryClaims(db: Db): DeliveryClaims {
  return {
    claim: async (key, at) => ((await db.mutate('INSERT INTO seen (key, at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING', [key, at])).rowCount ?? 0) > 0,
    seen: async (key) => ((await db.query('SELECT 1 FROM seen WHERE key = $1', [key])).rowCount ?? 0) > 0,
  };
}

/** LIKE's wildcards and escape character, escaped (a sha prefix is matched literally). */
const likePrefix = (s: string) => `${s.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;

/** Commits over `commits`, answered from the sha and (repo, sha) prefix indexes. */
export function pgCommitStore(db: Db): CommitStore {
  return {
    put: async (commit) => {
      await db.mutate('INSERT INTO commits (sha, doc) VALUES ($1, $2::jsonb) ON CONFLICT (sha) DO UPDATE SET doc = excluded.doc', [commit.sha, toJson(commit)]);
    },
    bySha: async (sha, repo) => {
      const exact = await db.query<{ doc: CommitRecord }>('SELECT doc FROM commits WHERE sha = $1 AND ($2::text IS NULL OR repo = $2)', [sha, repo ?? null]);
      if (exact.rows[0]) return exact.rows[0].doc;
      if (sha.length >= 40 || sha.length < 7) return undefined;
      // Two rows are enough to know a prefix is ambiguous.
      const found = await db.query<{ doc: CommitRecord }>(`SELECT doc FROM commits WHERE sha LIKE $1 AND ($2::text IS NULL OR repo = $2) LIMIT 2`, [likePrefix(sha), repo ?? null]);
      return found.rows.length === 1 ? found.rows[0]!.doc : undefined;
    },
  };
}
