import pg, { type Pool } from 'pg';
import type { Stores } from '../../core/store-ports.js';
import { clientDb, withTransaction, type Db } from './db.js';
import type { PostgresStores } from './open-postgres-stores.js';

/** A fenced store was asked to change something after its leader lost the lease: nothing was changed. */
export class FencedError extends Error {
  override readonly name = 'FencedError';
  constructor(readonly lease: { name: string; holder: string; epoch: number }) {
    super(`the leader lease "${lease.name}" was lost (held by someone else now, or expired): ${lease.holder} at epoch ${lease.epoch} may no longer change the store`);
  }
}

/**
 * The lease check that opens every fenced mutation. FOR SHARE holds the lease row until the mutation commits: a
 * takeover (an UPDATE of that row) waits for it, so no fenced change lands after another leader took over. It goes
 * with the BEGIN in one round trip, so its values are literals: the name and holder quoted by the driver's
 * escapeLiteral, the epoch an integer.
 */
function checkOf(lease: { name: string; holder: string; epoch: number }): string {
  if (!Number.isSafeInteger(lease.epoch)) throw new Error(`a lease epoch is an integer, not ${lease.epoch}`);
  return `SELECT 1 FROM leader_lease WHERE name = ${pg.escapeLiteral(lease.name)} AND holder = ${pg.escapeLiteral(lease.holder)} AND epoch = ${lease.epoch} AND expires_at > now() FOR SHARE`;
}

/** A `Db` whose every mutation runs in a transaction that first checks the lease (reads are not fenced). */
export function fencedDb(pool: Pool, lease: { name: string; holder: string; epoch: number }): Db {
  const check = checkOf(lease);
  const fenced = <T>(fn: (db: Db) => Promise<T>) =>
    withTransaction(
      pool,
      async (client, begun) => {
        if (!begun?.rowCount) throw new FencedError(lease);
        return fn(clientDb(client));
      },
      check,
    );
  return {
    query: (sql, params) => pool.query(sql, params),
    mutate: (sql, params) => fenced((db) => db.mutate(sql, params)),
    transaction: (fn) => fenced((db) => db.transaction(fn)),
  };
}

/**
 * The stores of the leader that holds the lease as `holder` at `epoch`: every mutating call runs in a transaction that
 * first checks the lease, and throws FencedError, changing nothing, when the lease was lost. Handed to the leader-only
 * parts (watchers, outbox delivery, timers, cron): a leader paused past its lease wakes up unable to change anything,
 * so it cannot post either (delivery marks an entry attempted, through these stores, before it calls Slack).
 */
export function fencedStores(pg: PostgresStores, lease: { holder: string; epoch: number; name?: string }): Stores {
  return pg.over(fencedDb(pg.pool, { name: lease.name ?? 'leader', holder: lease.holder, epoch: lease.epoch }));
}
