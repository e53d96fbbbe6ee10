import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPostgresStores, type PostgresStores } from '../../src/adapters/postgres/open-postgres-stores.js';
import { migrations, runMigrations } from '../../src/adapters/postgres/migrations.js';
import { leaderLease } from '../../src/adapters/postgres/leader-lease.js';
import { FencedError, fencedStores } from '../../src/adapters/postgres/fenced-stores.js';
import { isDatabaseUnavailable } from '../../src/adapters/postgres/is-database-unavailable.js';
import { captureLogger } from '../support/capture-logger.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';
import { describeStoreContract } from '../support/store-contract.js';

const NOW = Date.UTC(2026, 0, 15);

let server: PostgresServer;
const opened: PostgresStores[] = [];
beforeAll(async () => {
  server = await startPostgresServer();
});
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server?.stop();
});

/** The PostgreSQL stores on a fresh database of the test server. */
async function freshStores(): Promise<PostgresStores> {
  const stores = await openPostgresStores(await server.createDatabase());
  opened.push(stores);
  return stores;
}

/** Polls `check` until it answers something, failing after `ms` (what it waits for is a condition, not a duration). */
async function eventually<T>(check: () => Promise<T | undefined>, ms = 5_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describeStoreContract('postgres', async () => {
  const stores = await openPostgresStores(await server.createDatabase());
  return { stores, close: () => stores.close() };
});

describe('postgres schema migrations', () => {
  it('runs every migration once: running them again is a no-op', async () => {
    const stores = await freshStores();
    expect(await runMigrations(stores.pool)).toEqual([]);
    const { rows } = await stores.pool.query<{ version: number }>('SELECT version FROM schema_migrations ORDER BY version');
    expect(rows.map((r) => r.version)).toEqual(migrations.map((_, i) => i + 1));
  });

  it('applies only the migrations a database lacks', async () => {
    const stores = await freshStores();
    const next = [...migrations, 'CREATE TABLE later_addition (id integer PRIMARY KEY)'];
    expect(await runMigrations(stores.pool, { list: next })).toEqual([next.length]);
    expect(await runMigrations(stores.pool, { list: next })).toEqual([]);
  });

  it('lets two replicas open a fresh database at the same time', async () => {
    const url = await server.createDatabase();
    const both = await Promise.all([openPostgresStores(url), openPostgresStores(url)]);
    opened.push(...both);
    expect(await both[0].claims.claim('k', NOW)).toBe(true);
    expect(await both[1].claims.claim('k', NOW)).toBe(false);
    const { rows } = await both[1].pool.query('SELECT version FROM schema_migrations');
    expect(rows).toHaveLength(migrations.length);
  });

  it('rolls a failing migration back entirely', async () => {
    const stores = await freshStores();
    const bad = [...migrations, 'CREATE TABLE half_done (id integer); SELECT no_such_function()'];
    await expect(runMigrations(stores.pool, { list: bad })).rejects.toThrow(/no_such_function/);
    const { rows } = await stores.pool.query(`SELECT to_regclass('half_done') AS t, (SELECT max(version) FROM schema_migrations) AS v`);
    expect(rows[0]).toEqual({ t: null, v: migrations.length });
  });
});

describe('postgres leader lease', () => {
  it('is taken by exactly one of several holders at once', async () => {
    const lease = leaderLease((await freshStores()).pool);
    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((h) => lease.tryAcquire(h, 10_000)));
    expect(results.filter(Boolean)).toHaveLength(1);
    const winner = ['a', 'b', 'c', 'd', 'e'][results.findIndex(Boolean)];
    expect(await lease.current()).toMatchObject({ holder: winner, epoch: 1, held: true });
  });

  it('is taken over after it expires, with a greater epoch', async () => {
    const lease = leaderLease((await freshStores()).pool);
    const first = await lease.tryAcquire('a', 300);
    expect(first).toEqual({ epoch: 1 });
    expect(await lease.tryAcquire('b', 300)).toBeUndefined();
    const second = await eventually(() => lease.tryAcquire('b', 10_000));
    expect(second.epoch).toBeGreaterThan(first!.epoch);
    expect(await lease.current()).toMatchObject({ holder: 'b', epoch: second.epoch, held: true });
  });

  it('renews only for the holder at its epoch', async () => {
    const lease = leaderLease((await freshStores()).pool);
    const a = (await lease.tryAcquire('a', 300))!;
    expect(await lease.renew('a', a.epoch, 300)).toBe(true);
    const b = await eventually(() => lease.tryAcquire('b', 10_000));
    expect(await lease.renew('a', a.epoch, 10_000)).toBe(false);
    expect(await lease.renew('b', a.epoch, 10_000)).toBe(false);
    expect(await lease.renew('b', b.epoch, 10_000)).toBe(true);
  });

  it('gets a new epoch when its holder acquires it again (a restarted replica fences its earlier self)', async () => {
    const lease = leaderLease((await freshStores()).pool);
    const one = (await lease.tryAcquire('a', 10_000))!;
    const two = (await lease.tryAcquire('a', 10_000))!;
    expect(two.epoch).toBe(one.epoch + 1);
  });

  it('can be taken at once after its holder releases it, and the epoch keeps growing', async () => {
    const lease = leaderLease((await freshStores()).pool);
    const a = (await lease.tryAcquire('a', 60_000))!;
    expect(await lease.release('b', a.epoch)).toBe(false);
    expect(await lease.release('a', a.epoch)).toBe(true);
    expect((await lease.current())?.held).toBe(false);
    expect(await lease.tryAcquire('b', 60_000)).toEqual({ epoch: a.epoch + 1 });
  });

  it('reports nothing before anyone took it', async () => {
    expect(await leaderLease((await freshStores()).pool).current()).toBeUndefined();
  });
});

describe('postgres fenced stores', () => {
  it('let the leader change the store', async () => {
    const stores = await freshStores();
    const { epoch } = (await leaderLease(stores.pool).tryAcquire('a', 10_000))!;
    const fenced = fencedStores(stores, { holder: 'a', epoch });
    expect(await fenced.claims.claim('k', NOW)).toBe(true);
    expect(await fenced.outbox.enqueue({ id: 't1#a', threadKey: 't1', channel: 'C1', kind: 'reply', priority: 'normal', text: 'hi', createdAt: NOW })).toBe(true);
    await fenced.outbox.markAttempted(['t1#a'], NOW);
    expect(await fenced.newId('c', NOW)).toMatch(/^c/);
    expect(await fenced.prune({ now: NOW, days: 90 })).toMatchObject({ threads: 0 });
    expect((await stores.outbox.all())[0]).toMatchObject({ attemptedAt: NOW, attempts: 1 });
  });

  it('match the holder literally: quotes in it are its own, and a holder that is not it is refused', async () => {
    const stores = await freshStores();
    const holder = "pod-a'; DELETE FROM outbox; --";
    const { epoch } = (await leaderLease(stores.pool).tryAcquire(holder, 10_000))!;
    await stores.outbox.enqueue({ id: 't1#a', threadKey: 't1', channel: 'C1', kind: 'reply', priority: 'normal', text: 'hi', createdAt: NOW });
    expect(await fencedStores(stores, { holder, epoch }).claims.claim('k', NOW)).toBe(true);
    await expect(fencedStores(stores, { holder: "pod-a'", epoch }).claims.claim('k2', NOW)).rejects.toBeInstanceOf(FencedError);
    await expect(fencedStores(stores, { holder, epoch: epoch + 1 }).claims.claim('k3', NOW)).rejects.toBeInstanceOf(FencedError);
    expect(await stores.outbox.depth()).toBe(1);
    expect(await stores.claims.seen('k2')).toBe(false);
  });

  it('of a deposed leader throw FencedError and change nothing', async () => {
    const stores = await freshStores();
    const lease = leaderLease(stores.pool);
    const a = (await lease.tryAcquire('a', 300))!;
    const deposed = fencedStores(stores, { holder: 'a', epoch: a.epoch });
    await deposed.outbox.enqueue({ id: 't1#a', threadKey: 't1', channel: 'C1', kind: 'reply', priority: 'normal', text: 'hi', createdAt: NOW });
    await deposed.confirmations.open({ id: 'c1', threadKey: 't1', app: 'a', env: 'qa', action: 'promote', full: false, force: false, requestedBy: 'U1', requestedAt: NOW, expiresAt: NOW + 1, snapshot: { phase: 'Paused', pauseReasons: [], aborted: false, specPaused: false }, describe: 'x', status: 'pending' }, () => false);
    await eventually(() => lease.tryAcquire('b', 10_000));

    await expect(deposed.outbox.markAttempted(['t1#a'], NOW)).rejects.toBeInstanceOf(FencedError);
    await expect(deposed.claims.claim('k', NOW)).rejects.toThrow(/lease .* was lost/);
    await expect(deposed.confirmations.approve('c1', 'U2', NOW, 2)).rejects.toBeInstanceOf(FencedError);
    await expect(deposed.confirmations.claim('c1', 'U2', NOW)).rejects.toBeInstanceOf(FencedError);
    await expect(deposed.prune({ now: NOW + 1000 * 86_400_000, days: 1 })).rejects.toBeInstanceOf(FencedError);

    expect((await stores.outbox.all())[0]).toMatchObject({ attempts: 0 });
    expect((await stores.outbox.all())[0]?.attemptedAt).toBeUndefined();
    expect(await stores.claims.seen('k')).toBe(false);
    expect(await stores.confirmations.get('c1')).toMatchObject({ status: 'pending' });
    expect((await stores.confirmations.get('c1'))?.approvals).toBeUndefined();
    // Reads are not fenced.
    expect(await deposed.outbox.depth()).toBe(1);
  });

  it('of a leader whose lease lapsed refuse changes until it renews (nobody took over meanwhile)', async () => {
    const stores = await freshStores();
    const lease = leaderLease(stores.pool);
    const a = (await lease.tryAcquire('a', 300))!;
    const fenced = fencedStores(stores, { holder: 'a', epoch: a.epoch });
    await eventually(async () => ((await lease.current())?.held === false ? true : undefined));
    await expect(fenced.claims.claim('k', NOW)).rejects.toBeInstanceOf(FencedError);
    expect(await lease.renew('a', a.epoch, 10_000)).toBe(true);
    expect(await fenced.claims.claim('k', NOW)).toBe(true);
  });

  it('make a takeover wait for a fenced change in progress to commit', async () => {
    const stores = await freshStores();
    const lease = leaderLease(stores.pool);
    const a = (await lease.tryAcquire('a', 300))!;
    // Holds the lease row as a fenced change does (its check passed), and lets the lease lapse meanwhile.
    const client = await stores.pool.connect();
    try {
      await client.query('BEGIN');
      expect((await client.query(`SELECT 1 FROM leader_lease WHERE name = 'leader' AND holder = 'a' AND epoch = $1 AND expires_at > now() FOR SHARE`, [a.epoch])).rowCount).toBe(1);
      await eventually(async () => ((await lease.current())?.held === false ? true : undefined));
      let settled = false;
      const takeover = lease.tryAcquire('b', 10_000).finally(() => (settled = true));
      await eventually(async () => ((await stores.pool.query(`SELECT 1 FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'INSERT INTO leader_lease%'`)).rowCount ? true : undefined));
      expect(settled).toBe(false);
      await client.query('COMMIT');
      expect(await takeover).toEqual({ epoch: a.epoch + 1 });
    } finally {
      client.release();
    }
  });
});

describe('postgres records', () => {
  it('keeps text PostgreSQL cannot hold (NUL, a lone surrogate) with that character replaced, instead of failing', async () => {
    const stores = await freshStores();
    expect(await stores.outbox.enqueue({ id: 't1#a', threadKey: 't1', channel: 'C1', kind: 'reply', priority: 'normal', text: 'a\u0000b\uD800c', createdAt: NOW })).toBe(true);
    expect((await stores.outbox.all())[0]?.text).toBe('a\uFFFDb\uFFFDc');
  });

  it('answers the delivery loop thread heads: the planning fields, not the observed state', async () => {
    const stores = await freshStores();
    const thread = {
      key: 't1', app: 'a', env: 'qa', namespace: 'a-qa', rollout: 'vote', revision: '2', channel: 'C1', rootTs: '1.1', createdAt: NOW, startedAt: NOW,
      attempt: 1, announced: ['deploy-started'], cardVersion: 2, cardSent: 1, actions: [{ at: NOW, who: 'U1', what: 'promoted' }],
      lastState: { name: 'vote', namespace: 'a-qa', phase: 'Paused', steps: [{ setWeight: 20 }] } as never,
    };
    await stores.threads.save(thread);
    const head = { key: 't1', channel: 'C1', rootTs: '1.1', cardVersion: 2, cardSent: 1, announced: ['deploy-started'], createdAt: NOW, startedAt: NOW };
    expect(await stores.threads.staleCards()).toEqual([head]);
    expect(await stores.threads.byKeys(['t1', 'gone'])).toEqual({ t1: head });
    expect((await stores.threads.byKey('t1'))?.lastState).toMatchObject({ phase: 'Paused' });
  });
});

describe('postgres unavailable', () => {
  it('recognises connection failures and the server going away, and nothing else', () => {
    const coded = (code: string, message = 'x') => Object.assign(new Error(message), { code });
    expect(isDatabaseUnavailable(coded('ECONNREFUSED'))).toBe(true);
    expect(isDatabaseUnavailable(coded('57P01'))).toBe(true);
    expect(isDatabaseUnavailable(coded('08006'))).toBe(true);
    expect(isDatabaseUnavailable(coded('53300'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDatabaseUnavailable(new AggregateError([coded('ECONNREFUSED')], ''))).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: coded('ECONNRESET') }))).toBe(true);
    expect(isDatabaseUnavailable(coded('23505'))).toBe(false);
    expect(isDatabaseUnavailable(coded('42P01'))).toBe(false);
    expect(isDatabaseUnavailable(new FencedError({ name: 'leader', holder: 'a', epoch: 1 }))).toBe(false);
    expect(isDatabaseUnavailable('ECONNREFUSED')).toBe(false);
  });

  it('fails to open an unreachable database with an error it recognises', async () => {
    const err = await openPostgresStores('postgres://postgres@127.0.0.1:1/none', { pool: { connectionTimeoutMillis: 1000 } }).catch((e: unknown) => e);
    expect(isDatabaseUnavailable(err)).toBe(true);
  });

  it('rejects calls while the server is down, stays up, and works again once it is back', async () => {
    const own = await startPostgresServer();
    const log = captureLogger();
    const stores = await openPostgresStores(own.url, { log, pool: { connectionTimeoutMillis: 1000 } });
    try {
      expect(await stores.claims.claim('before', NOW)).toBe(true);
      await own.pause();
      // The pooled connection the server dropped is reported on the pool, and logged, not thrown at the process.
      await eventually(async () => (log.entries.some((e) => e.msg.startsWith('idle PostgreSQL connection failed')) ? true : undefined));
      const err = await stores.claims.claim('during', NOW).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(Error);
      expect(isDatabaseUnavailable(err)).toBe(true);
      const read = await stores.threads.byKey('t1').catch((e: unknown) => e);
      expect(isDatabaseUnavailable(read)).toBe(true);
      await own.start();
      expect(await eventually(() => stores.claims.claim('after', NOW).catch(() => undefined))).toBe(true);
      expect(await stores.claims.seen('before')).toBe(true);
      expect(await stores.claims.seen('during')).toBe(false);
    } finally {
      await stores.close();
      await own.stop();
    }
  });
});
