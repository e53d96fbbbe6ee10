import type { Queryable } from './db.js';

/** The lease as it stands (for metrics and logs). */
export interface LeaseState {
  holder: string;
  epoch: number;
  expiresAt: Date;
  /** Not expired by the database's clock. */
  held: boolean;
}

/** The one leader among replicas: a row of `leader_lease`, timed by the database's clock (replicas' clocks never count). */
export interface LeaderLease {
  /** The lease name (the row); fenced stores check the same one. */
  readonly name: string;
  /**
   * Takes the lease for `ttlMs` when it is free or expired, or when `holder` holds it already; every acquisition gets
   * a new, greater epoch (so stores fenced with an earlier one stop working). Undefined when another holder has it.
   */
  tryAcquire(holder: string, ttlMs: number): Promise<{ epoch: number } | undefined>;
  /**
   * Extends the lease by `ttlMs` from now if `holder` still holds it at `epoch` (also after it lapsed, as long as nobody
   * took it over meanwhile: no other leader existed in between); false when it was taken over.
   */
  renew(holder: string, epoch: number, ttlMs: number): Promise<boolean>;
  /** Gives the lease up at once (another replica can take it without waiting for the expiry); the epoch stays. */
  release(holder: string, epoch: number): Promise<boolean>;
  /** The lease as it stands; undefined before anyone took it. */
  current(): Promise<LeaseState | undefined>;
}

/** The lease over the `leader_lease` table (created by the store migrations), on the pool. */
export function leaderLease(db: Queryable, o: { name?: string } = {}): LeaderLease {
  const name = o.name ?? 'leader';
  return {
    name,
    tryAcquire: async (holder, ttlMs) => {
      const { rows } = await db.query<{ epoch: string }>(
        `INSERT INTO leader_lease AS l (name, holder, epoch, expires_at) VALUES ($1, $2, 1, now() + $3::numeric * interval '1 millisecond')
         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, epoch = l.epoch + 1, expires_at = excluded.expires_at
         WHERE l.expires_at < now() OR l.holder = excluded.holder
         RETURNING epoch`,
        [name, holder, ttlMs],
      );
      return rows[0] ? { epoch: Number(rows[0].epoch) } : undefined;
    },
    renew: async (holder, epoch, ttlMs) => {
      const { rowCount } = await db.query(
        `UPDATE leader_lease SET expires_at = now() + $4::numeric * interval '1 millisecond' WHERE name = $1 AND holder = $2 AND epoch = $3`,
        [name, holder, epoch, ttlMs],
      );
      return (rowCount ?? 0) > 0;
    },
    release: async (holder, epoch) => {
      const { rowCount } = await db.query(`UPDATE leader_lease SET expires_at = now() - interval '1 millisecond' WHERE name = $1 AND holder = $2 AND epoch = $3`, [name, holder, epoch]);
      return (rowCount ?? 0) > 0;
    },
    current: async () => {
      const { rows } = await db.query<{ holder: string; epoch: string; expires_at: Date; held: boolean }>(
        'SELECT holder, epoch, expires_at, expires_at > now() AS held FROM leader_lease WHERE name = $1',
        [name],
      );
      const r = rows[0];
      return r ? { holder: r.holder, epoch: Number(r.epoch), expiresAt: r.expires_at, held: r.held } : undefined;
    },
  };
}
