import type { Stores } from '../../core/store-ports.js';
import type { ActionMark, DeploymentMark, DrillRecord, ErrorSimRecord, ReminderMark } from '../../core/store-data.js';
import type { LockRecord } from '../../core/locks/lock-record.js';
import type { NoOpMark } from '../../core/rollout-threads/no-op-mark.js';
import type { ClusterDown } from '../../core/store-data.js';
import type { Db } from './db.js';
import { pgThreadStore } from './pg-thread-store.js';
import { pgOutboxStore } from './pg-outbox-store.js';
import { pgConfirmationStore } from './pg-confirmation-store.js';
import { pgAuditLog, pgCommitStore, pgDeliveryClaims, pgEnvStore } from './pg-record-stores.js';
import { pgDispatchStore, pgKeyedStore } from './pg-keyed-stores.js';
import { prunePostgres } from './prune-postgres.js';

/**
 * Every store port over `db` (the pool, a caller's transaction, or the fenced variant). Each call is committed when it
 * resolves, so `flush()` has nothing to wait for.
 */
export function postgresStoresOver(db: Db): Stores {
  return {
    threads: pgThreadStore(db),
    envs: pgEnvStore(db),
    outbox: pgOutboxStore(db),
    confirmations: pgConfirmationStore(db),
    audit: pgAuditLog(db),
    claims: pgDeliveryClaims(db),
    commits: pgCommitStore(db),
    errorSims: pgKeyedStore<ErrorSimRecord>(db, 'errorSims'),
    drills: pgKeyedStore<DrillRecord>(db, 'drills'),
    reminders: pgKeyedStore<ReminderMark>(db, 'reminders'),
    digests: pgKeyedStore<number>(db, 'digests'),
    dispatches: pgDispatchStore(db),
    installations: pgKeyedStore<number>(db, 'installations'),
    deployments: pgKeyedStore<DeploymentMark>(db, 'deployments'),
    actionMarks: pgKeyedStore<ActionMark>(db, 'actionMarks'),
    locks: pgKeyedStore<LockRecord>(db, 'locks'),
    noOpRevisions: pgKeyedStore<NoOpMark>(db, 'noOpRevisions'),
    clustersDown: pgKeyedStore<ClusterDown>(db, 'clustersDown'),
    prune: (o) => prunePostgres(db, o),
    // The sequence makes the id unique across replicas; the dash keeps `<time><n>` from reading two ways.
    newId: async (prefix, now) => `${prefix}${now.toString(36)}-${(await db.query<{ n: string }>(`SELECT nextval('id_seq') AS n`)).rows[0]!.n}`,
    flush: async () => undefined,
  };
}
