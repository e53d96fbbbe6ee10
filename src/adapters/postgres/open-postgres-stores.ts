import pg, { type Pool, type PoolConfig } from 'pg';
import type { Logger } from '../../core/logger.js';
import type { Stores } from '../../core/store-ports.js';
import { poolDb, type Db } from './db.js';
import { runMigrations } from './migrations.js';
import { postgresStoresOver } from './postgres-stores-over.js';

/** The PostgreSQL store: every port, plus what the composition root needs to fence, share and close it. */
export interface PostgresStores extends Stores {
  /** The connection pool (the leader lease and fenced stores run on it too). */
  pool: Pool;
  /** The same ports over another `Db` (a fenced one, or `clientDb(client)` inside a caller's transaction). */
  over(db: Db): Stores;
  /** Ends the pool (waits for the calls running). */
  close(): Promise<void>;
}

/** Pool settings: a few connections, a prompt error when the server cannot be reached, no statement running forever. */
const POOL_DEFAULTS: PoolConfig = {
  max: 10,
  connectionTimeoutMillis: 3_000,
  idleTimeoutMillis: 30_000,
  statement_timeout: 10_000,
  // A replica paused inside a transaction (SIGSTOP, a stopped VM) would hold its row locks (the lease row, FOR SHARE)
  // for as long as it sleeps, and no other could take the lease over: the server ends such a transaction after 5 s.
  idle_in_transaction_session_timeout: 5_000,
  // Client-side bound for a server that stopped answering (statement_timeout cannot fire across a dead link).
  query_timeout: 15_000,
  keepAlive: true,
  application_name: 'rollout-chatops',
};

/**
 * Opens the PostgreSQL store at `url` (`DATABASE_URL`): runs the schema migrations (two replicas starting at once
 * queue on an advisory lock), then returns the ports. Each call is committed when its promise resolves. A call made
 * while the server is unreachable rejects with an error `isDatabaseUnavailable` recognises.
 */
export async function openPostgresStores(url: string, o: { log?: Logger; pool?: PoolConfig } = {}): Promise<PostgresStores> {
  const pool = new pg.Pool({ ...POOL_DEFAULTS, ...o.pool, connectionString: url });
  // An idle client whose connection drops emits `error` on the pool; unheard, that would end the process.
  pool.on('error', (err) => o.log?.warn({ err }, 'idle PostgreSQL connection failed (the pool replaces it)'));
  try {
    await runMigrations(pool, { log: o.log });
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    ...postgresStoresOver(poolDb(pool)),
    pool,
    over: (db) => postgresStoresOver(db),
    close: () => (closed ??= pool.end()),
  };
}
