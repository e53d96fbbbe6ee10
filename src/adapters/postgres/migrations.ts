import type { Pool, QueryResultRow } from 'pg';
import type { Logger } from '../../core/logger.js';
import { withTransaction } from './db.js';

/**
 * The schema, as versioned migrations: migration `i` is version `i + 1`. Append only: a released migration is never
 * edited (replicas and existing databases have run it); a change is a new entry.
 *
 * Records are JSONB documents (`doc`), exactly the record types of src/core/store-data.ts; the columns the queries
 * filter and sort on are generated from the document, so they can never disagree with it and an update only writes
 * `doc`.
 */
export const migrations: readonly string[] = [
  `
  CREATE TABLE threads (
    key text PRIMARY KEY,
    doc jsonb NOT NULL,
    app text GENERATED ALWAYS AS (doc->>'app') STORED,
    env text GENERATED ALWAYS AS (doc->>'env') STORED,
    channel text GENERATED ALWAYS AS (doc->>'channel') STORED,
    root_ts text GENERATED ALWAYS AS (doc->>'rootTs') STORED,
    tag text GENERATED ALWAYS AS (doc->>'tag') STORED,
    started_at numeric GENERATED ALWAYS AS ((doc->>'startedAt')::numeric) STORED,
    finished_at numeric GENERATED ALWAYS AS ((doc->>'finishedAt')::numeric) STORED,
    outcome text GENERATED ALWAYS AS (doc->>'outcome') STORED,
    card_version numeric GENERATED ALWAYS AS ((doc->>'cardVersion')::numeric) STORED,
    card_sent numeric GENERATED ALWAYS AS ((doc->>'cardSent')::numeric) STORED,
    commit_sha text GENERATED ALWAYS AS (doc->>'commitSha') STORED
  );
  CREATE INDEX threads_by_root ON threads (channel, root_ts);
  CREATE INDEX threads_of_env ON threads (app, env, started_at DESC);
  CREATE INDEX threads_with_tag ON threads (app, tag);
  CREATE INDEX threads_commit ON threads (commit_sha);
  CREATE INDEX threads_open ON threads (started_at) WHERE coalesce(outcome, '') = '';
  CREATE INDEX threads_stale_cards ON threads (started_at) WHERE coalesce(root_ts, '') <> '' AND card_sent < card_version;
  CREATE INDEX threads_unpaired ON threads (started_at) WHERE coalesce(commit_sha, '') = '' AND coalesce(tag, '') <> '';

  CREATE TABLE envs (
    key text PRIMARY KEY,
    doc jsonb NOT NULL,
    thread_key text GENERATED ALWAYS AS (doc->>'threadKey') STORED
  );

  CREATE SEQUENCE outbox_seq;
  CREATE TABLE outbox (
    id text PRIMARY KEY,
    doc jsonb NOT NULL,
    seq bigint GENERATED ALWAYS AS ((doc->>'seq')::bigint) STORED,
    thread_key text GENERATED ALWAYS AS (doc->>'threadKey') STORED,
    kind text GENERATED ALWAYS AS (doc->>'kind') STORED
  );
  CREATE INDEX outbox_by_seq ON outbox (seq);
  CREATE INDEX outbox_by_thread ON outbox (thread_key);

  CREATE TABLE posted (
    id text PRIMARY KEY,
    doc jsonb NOT NULL,
    thread_key text GENERATED ALWAYS AS (doc->>'threadKey') STORED
  );
  CREATE INDEX posted_by_thread ON posted (thread_key);

  CREATE TABLE confirmations (
    id text PRIMARY KEY,
    doc jsonb NOT NULL,
    thread_key text GENERATED ALWAYS AS (doc->>'threadKey') STORED,
    status text GENERATED ALWAYS AS (doc->>'status') STORED,
    requested_at numeric GENERATED ALWAYS AS ((doc->>'requestedAt')::numeric) STORED
  );
  CREATE INDEX confirmations_of_thread ON confirmations (thread_key, requested_at DESC);
  CREATE INDEX confirmations_pending ON confirmations (requested_at) WHERE status = 'pending';

  CREATE TABLE audit (
    id bigserial PRIMARY KEY,
    doc jsonb NOT NULL,
    at numeric GENERATED ALWAYS AS ((doc->>'at')::numeric) STORED,
    app text GENERATED ALWAYS AS (doc->>'app') STORED,
    env text GENERATED ALWAYS AS (doc->>'env') STORED
  );
  CREATE INDEX audit_by_time ON audit (at DESC);
  CREATE INDEX audit_of_env ON audit (app, env, at DESC);

  CREATE TABLE seen (
    key text PRIMARY KEY,
    at numeric NOT NULL
  );
  CREATE INDEX seen_by_time ON seen (at);

  CREATE TABLE commits (
    sha text PRIMARY KEY,
    doc jsonb NOT NULL,
    repo text GENERATED ALWAYS AS (doc->>'repo') STORED,
    at numeric GENERATED ALWAYS AS ((doc->>'at')::numeric) STORED
  );
  CREATE INDEX commits_by_prefix ON commits (sha text_pattern_ops);
  CREATE INDEX commits_by_repo_prefix ON commits (repo, sha text_pattern_ops);
  CREATE INDEX commits_by_time ON commits (at);

  -- The small keyed records of every kind (errorSims, drills, reminders, digests, dispatches, …); ord keeps the order
  -- of first insertion, as the embedded store's maps do.
  CREATE TABLE keyed (
    kind text NOT NULL,
    key text NOT NULL,
    ord bigserial,
    doc jsonb NOT NULL,
    PRIMARY KEY (kind, key)
  );
  CREATE INDEX keyed_in_order ON keyed (kind, ord);

  CREATE SEQUENCE id_seq;

  CREATE TABLE leader_lease (
    name text PRIMARY KEY,
    holder text NOT NULL,
    epoch bigint NOT NULL,
    expires_at timestamptz NOT NULL
  );
  `,
];

/** How long migrating (and waiting for another replica's migration) may take. */
const MIGRATION_TIMEOUT_MS = 300_000;

/** Any fixed number: the advisory lock replicas starting at once queue on, so exactly one migrates at a time. */
const MIGRATION_LOCK = 7_152_015_001;

/**
 * Brings the schema up to date, in one transaction holding an advisory lock (a second replica starting at the same
 * time waits, then finds nothing left to do). Running it again is a no-op. Returns the versions it applied.
 */
export async function runMigrations(pool: Pool, o: { log?: Logger; list?: readonly string[] } = {}): Promise<number[]> {
  const list = o.list ?? migrations;
  const applied = await withTransaction(pool, async (client) => {
    // A migration (or the wait for another replica's) may outlast the pool's statement and client-side query timeouts.
    // (node-postgres reads a per-query `query_timeout`; its types do not list it, hence the variable.)
    const run = <R extends QueryResultRow>(text: string, values?: unknown[]) => {
      const config = { text, values, query_timeout: MIGRATION_TIMEOUT_MS + 5_000 };
      return client.query<R>(config);
    };
    await run(`SET LOCAL statement_timeout = ${MIGRATION_TIMEOUT_MS}`);
    await run('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await run('CREATE TABLE IF NOT EXISTS schema_migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())');
    const { rows } = await run<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => r.version));
    const newest = Math.max(0, ...done);
    if (newest > list.length) o.log?.warn({ schemaVersion: newest, known: list.length }, 'database schema is newer than this build (a newer replica migrated it)');
    const now: number[] = [];
    for (const [i, sql] of list.entries()) {
      const version = i + 1;
      if (done.has(version)) continue;
      await run(sql);
      await run('INSERT INTO schema_migrations (version) VALUES ($1)', [version]);
      now.push(version);
    }
    return now;
  });
  if (applied.length > 0) o.log?.info({ versions: applied }, 'database schema migrated');
  return applied;
}
