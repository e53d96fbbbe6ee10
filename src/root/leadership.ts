import type { Logger } from '../core/logger.js';
import type { Stores } from '../core/store-ports.js';
import { fencedStores } from '../adapters/postgres/fenced-stores.js';
import type { LeaderLease } from '../adapters/postgres/leader-lease.js';
import type { PostgresStores } from '../adapters/postgres/open-postgres-stores.js';

/** What runs only on the leader: started when this replica takes the lease, stopped when it loses it. */
export interface LeaderWork {
  lead(epoch: number): Promise<void> | void;
  stepDown(): Promise<void> | void;
}

export interface Leadership {
  /**
   * The stores for the leader-only parts (watches, delivery, timers, cron). With PostgreSQL every change goes through
   * the lease this replica holds, in the same transaction: when it lost the lease (or never had it) the change throws
   * and nothing is written, so a leader paused past its lease can't post or patch when it wakes up.
   */
  stores: Stores;
  isLeader(): boolean;
  /** Leads, and by this replica's own clock the lease is still well within its time (checked right before a post). */
  surelyLeading(): boolean;
  start(work: LeaderWork): void;
  stop(): Promise<void>;
}

/** The embedded store has one writer: its one replica leads from the start. */
export function soleLeader(stores: Stores): Leadership {
  let work: LeaderWork | undefined;
  return {
    stores,
    isLeader: () => work !== undefined,
    surelyLeading: () => work !== undefined,
    start: (w) => {
      work = w;
      void w.lead(0);
    },
    stop: async () => {
      const w = work;
      work = undefined;
      await w?.stepDown();
    },
  };
}

export interface LeaseOptions {
  pg: PostgresStores;
  lease: LeaderLease;
  holder: string;
  log: Logger;
  /** How long a lease lasts without renewal (default 10 s): the longest a dead leader's work waits for a new one. */
  ttlMs?: number;
  /** How often the leader renews and the others try to take over (default 2 s). */
  everyMs?: number;
  /** Told of every change: leader or not, and the epoch. */
  onChange?: (o: { leader: boolean; epoch: number }) => void;
}

/**
 * Leadership through a lease row in PostgreSQL with an epoch that only grows. Every replica tries to take the lease
 * every `everyMs`; the holder renews it. A renewal that fails (taken over, or the database unreachable) or that would
 * come too late steps this replica down at once: its leader-only work stops, and its fenced stores refuse changes.
 */
export function leaseLeadership(o: LeaseOptions): Leadership {
  const ttl = o.ttlMs ?? 10_000;
  const every = o.everyMs ?? 2_000;
  let epoch: number | undefined;
  /** When the lease was last known held (local monotonic time): past `ttl - every` without a renewal, step down. */
  let heldSince = 0;
  let work: LeaderWork | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  let running: Promise<void> = Promise.resolve();
  const notLeader = fencedStores(o.pg, { holder: o.holder, epoch: -1, name: o.lease.name });
  let fenced: Stores = notLeader;

  const stores = new Proxy({} as Stores, {
    get: (_t, port: string) => {
      const current = () => fenced[port as keyof Stores];
      const sample = current();
      if (typeof sample === 'function') return (...args: unknown[]) => (current() as (...a: unknown[]) => unknown)(...args);
      return new Proxy({}, { get: (_u, method: string) => (...args: unknown[]) => (current() as unknown as Record<string, (...a: unknown[]) => unknown>)[method]!(...args) });
    },
  });

  const stepDown = async (why: string, err?: unknown) => {
    if (epoch === undefined) return;
    o.log.warn({ err, epoch, holder: o.holder }, `leadership lost: ${why}`);
    epoch = undefined;
    fenced = notLeader;
    o.onChange?.({ leader: false, epoch: 0 });
    await work?.stepDown();
  };

  const round = async () => {
    const now = performance.now();
    try {
      if (epoch !== undefined) {
        if (now - heldSince > ttl - every) return await stepDown('the last renewal is too old');
        if (await o.lease.renew(o.holder, epoch, ttl)) heldSince = now;
        else await stepDown('another replica took the lease');
        return;
      }
      const won = await o.lease.tryAcquire(o.holder, ttl);
      if (!won || stopped) return;
      epoch = won.epoch;
      heldSince = now;
      fenced = fencedStores(o.pg, { holder: o.holder, epoch: won.epoch, name: o.lease.name });
      o.log.info({ epoch: won.epoch, holder: o.holder }, 'leading');
      o.onChange?.({ leader: true, epoch: won.epoch });
      await work?.lead(won.epoch);
    } catch (err) {
      if (epoch !== undefined) await stepDown('the lease could not be renewed', err);
      else o.log.warn({ err }, 'trying to take the leader lease failed, will retry');
    }
  };

  const loop = () => {
    if (stopped) return;
    running = round().finally(() => {
      if (!stopped) timer = setTimeout(loop, every);
    });
  };

  return {
    stores,
    isLeader: () => epoch !== undefined,
    surelyLeading: () => epoch !== undefined && performance.now() - heldSince < ttl - every,
    start: (w) => {
      work = w;
      loop();
    },
    stop: async () => {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
      const held = epoch;
      await stepDown('shutting down');
      // Hand over at once rather than after the expiry.
      if (held !== undefined) await o.lease.release(o.holder, held).catch(() => undefined);
    },
  };
}
