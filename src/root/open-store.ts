import type { Settings } from '../config/settings.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/ports.js';
import type { Stores } from '../core/store-ports.js';
import { isDatabaseUnavailable } from '../adapters/postgres/is-database-unavailable.js';
import { leaderLease } from '../adapters/postgres/leader-lease.js';
import { openPostgresStores } from '../adapters/postgres/open-postgres-stores.js';
import { openEmbeddedStore } from '../adapters/store/open-embedded-store.js';
import { leaseLeadership, soleLeader, type Leadership } from './leadership.js';
import { StartupError } from './startup-error.js';

export interface OpenedStore {
  /** The ports for every replica's own work (commands, presses, webhooks). */
  stores: Stores;
  /** Who leads, and the fenced ports for the leader-only work. */
  leadership: Leadership;
  /** `embedded` or `postgres`, for /readyz and logs. */
  kind: 'embedded' | 'postgres';
  close(): Promise<void>;
}

/**
 * The embedded store under DATA_DIR (one replica, which leads), or with DATABASE_URL the PostgreSQL store shared by
 * every replica, with a lease electing the leader.
 */
export async function openStore(o: { settings: Settings; clock: Clock; log: Logger; onLeaderChange?: (x: { leader: boolean; epoch: number }) => void; lease?: { ttlMs?: number; everyMs?: number } }): Promise<OpenedStore> {
  const { settings, log } = o;
  if (!settings.database) {
    const store = await openEmbeddedStore(settings.dataDir, { now: () => o.clock.now(), log: log.child({ component: 'store' }) });
    return { stores: store.stores, leadership: soleLeader(store.stores), kind: 'embedded', close: () => store.close() };
  }
  let pg: Awaited<ReturnType<typeof openPostgresStores>>;
  try {
    pg = await openPostgresStores(settings.database.url, { log: log.child({ component: 'store' }) });
  } catch (err) {
    const why = isDatabaseUnavailable(err) ? 'cannot reach PostgreSQL' : 'PostgreSQL refused to open the store';
    throw new StartupError(`DATABASE_URL: ${why} (${(err as Error).message}); check the URL, the network and the credentials`);
  }
  const leadership = leaseLeadership({
    pg,
    lease: leaderLease(pg.pool),
    holder: settings.database.holder,
    log: log.child({ component: 'leader' }),
    onChange: o.onLeaderChange,
    ...o.lease,
  });
  return { stores: pg, leadership, kind: 'postgres', close: () => pg.close() };
}
