import type { Pool, PoolClient, QueryResult, QueryResultRow } from 'pg';

/** What runs one statement: the pool, or a client inside a transaction. */
export interface Queryable {
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
}

/**
 * Where the store ports run their statements. Reads go through `query`; a mutation is either one statement (`mutate`)
 * or several that must commit together (`transaction`). Over the pool a single-statement mutation runs as it is (one
 * statement is atomic in PostgreSQL) and a transaction takes a client for BEGIN … COMMIT; inside a caller's transaction
 * both run on its client; the fenced variant runs every mutation in a transaction that first checks the lease.
 */
export interface Db {
  query<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  mutate<R extends QueryResultRow = QueryResultRow>(sql: string, params?: unknown[]): Promise<QueryResult<R>>;
  transaction<T>(fn: (q: Queryable) => Promise<T>): Promise<T>;
}

/**
 * Runs `fn` between BEGIN and COMMIT on one client of `pool` (ROLLBACK when it throws). `begin`, when given, is sent
 * with the BEGIN in one round trip (a parameterless statement: the simple protocol runs both) and its result handed to
 * `fn`.
 */
export async function withTransaction<T>(pool: Pool, fn: (client: PoolClient, begun?: QueryResult) => Promise<T>, begin?: string): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    const begun: QueryResult | QueryResult[] = await client.query(begin ? `BEGIN; ${begin}` : 'BEGIN');
    const out = await fn(client, Array.isArray(begun) ? begun[1] : undefined);
    await client.query('COMMIT');
    return out;
  } catch (err) {
    await client.query('ROLLBACK').catch((rollbackErr: unknown) => {
      // A client that cannot even roll back is not given back to the pool.
      broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
    });
    throw err;
  } finally {
    client.release(broken);
  }
}

/** The ports' statements over the pool. */
export function poolDb(pool: Pool): Db {
  return {
    query: (sql, params) => pool.query(sql, params),
    mutate: (sql, params) => pool.query(sql, params),
    transaction: (fn) => withTransaction(pool, fn),
  };
}

/** The ports' statements on `client`, which is inside a transaction the caller opened (and commits). */
export function clientDb(client: Queryable): Db {
  return {
    query: (sql, params) => client.query(sql, params),
    mutate: (sql, params) => client.query(sql, params),
    transaction: (fn) => fn(client),
  };
}
