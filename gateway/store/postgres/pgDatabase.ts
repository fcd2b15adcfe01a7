/**
 * What the PostgreSQL store and audit store share: a pool whose BIGINTs read as numbers, one-statement and
 * one-transaction units of work, the mapping of PostgreSQL's errors to GatewayErrors, and the migrations.
 *
 * A transaction holds one pooled client from BEGIN to COMMIT (ROLLBACK on any throw). Calls that the transaction's
 * own callbacks make through the same store (AsyncLocalStorage says they are its own) run on that client, inside the
 * transaction, as they do on SQLite: waiting for a second pooled client from inside a transaction could deadlock
 * once the pool is exhausted by transactions doing the same.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { GatewayError } from '../../errors/index.js';
import { packageRoot } from '../../paths.js';

export const postgresMigrationsDir = path.join(packageRoot, 'gateway', 'store', 'postgres', 'migrations');

/** Fixed key of the session advisory lock that serialises migrations between instances ('gwmigrat' in ASCII). */
const MIGRATION_LOCK_KEY = '7455714420398694772';

const INT8_OID = 20;

/**
 * BIGINT (and count(*)) as JavaScript numbers, as better-sqlite3 returns them: every id, index and unix time the
 * gateway stores is below 2^53 (record ids are batch_no * 2^24 + row). A value beyond that is refused, not rounded.
 * Per pool, not pg.types globally, so that other users of pg in the process keep their own parsing.
 */
export const pgTypes: pg.CustomTypesConfig = {
  // Cast: pg's getTypeParser is overloaded (text and binary parsers), which a single function cannot be typed as.
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID && format !== 'binary') {
      return (value: string) => {
        const parsed = Number(value);
        if (!Number.isSafeInteger(parsed)) throw new GatewayError('internal_error', 'a stored integer is beyond 2^53');
        return parsed;
      };
    }
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export type Row = Record<string, unknown>;

/** A client or the pool: what a statement runs on. */
export interface Queryable {
  query<R extends object = Row>(sql: string, values?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
}

export interface Database {
  readonly pool: pg.Pool;
  /** The URL without its password, for logs and /readyz. */
  readonly location: string;
  /** One statement: on the current transaction's client when called from inside one, else on the pool. */
  query<R extends object = Row>(sql: string, values?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }>;
  /**
   * Runs `work` in one transaction on one pooled client, held until `work` settles; rolled back whole if it throws.
   * Called from inside a transaction of this database it joins it (as a savepoint, so its own failure undoes only itself).
   */
  transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T>;
  /** A client of its own, for a unit of work that spans calls (a batch); the caller releases it. */
  connect(): Promise<pg.PoolClient>;
  close(): Promise<void>;
}

/** The URL with its password removed (and nothing else changed), so that it can be shown. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '';
    return parsed.toString();
  } catch {
    // Not a URL (a key=value connection string): show only that it is one.
    return 'postgres (connection string)';
  }
}

interface PgErrorFields {
  code?: unknown;
  constraint?: unknown;
}

export function sqlState(error: unknown): string | undefined {
  const { code } = (error ?? {}) as PgErrorFields;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isUniqueViolation(error: unknown): boolean {
  return sqlState(error) === '23505';
}

export function constraintOf(error: unknown): string | undefined {
  const { constraint } = (error ?? {}) as PgErrorFields;
  return typeof constraint === 'string' ? constraint : undefined;
}

/** The connection is gone or cannot be made: node's socket errors, pg's own, and PostgreSQL's class 08 and 57P0x. */
export function isConnectionFailure(error: unknown): boolean {
  const state = sqlState(error);
  if (state !== undefined) return state.startsWith('08') || state === '57P01' || state === '57P02' || state === '57P03' || state === '53300';
  if (!(error instanceof Error)) return false;
  const { code } = error as Error & { code?: unknown };
  if (typeof code === 'string' && ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOENT'].includes(code)) return true;
  return /Connection terminated|Client has encountered a connection error|Client was closed|Cannot use a pool after calling end|timeout exceeded when trying to connect/i
    .test(error.message);
}

/**
 * What an error of the driver means to the gateway. A PostgreSQL error's `detail` names the offending values (a
 * duplicate key's bytes, say), so it never travels further: only the message and SQLSTATE are kept.
 */
export function mapError(error: unknown, location: string): unknown {
  if (error instanceof GatewayError) return error;
  const state = sqlState(error);
  if (state === '53100') {
    return new GatewayError('storage_full', `the disk holding the PostgreSQL database ${location} is full: the change was not stored; free space and retry`,
      { cause: sanitized(error) });
  }
  if (isConnectionFailure(error)) {
    return new GatewayError('storage_unavailable', `the PostgreSQL database ${location} cannot be reached`, { cause: sanitized(error) });
  }
  return state === undefined ? error : sanitized(error);
}

/** A copy of a PostgreSQL error with only its message and SQLSTATE (no detail, hint, where or query text). */
function sanitized(error: unknown): Error {
  if (!(error instanceof Error)) return new Error(String(error));
  const copy = new Error(error.message) as Error & { code?: string; constraint?: string };
  copy.name = 'PostgresError';
  const state = sqlState(error);
  if (state !== undefined) copy.code = state;
  const constraint = constraintOf(error);
  if (constraint !== undefined) copy.constraint = constraint;
  return copy;
}

/** pg accepts Buffers as BYTEA; a plain Uint8Array is viewed as one without copying. */
export function bytes(value: Uint8Array): Buffer {
  return Buffer.isBuffer(value) ? value : Buffer.from(value.buffer, value.byteOffset, value.byteLength);
}

function statementOn(client: pg.Pool | pg.PoolClient | pg.Client, location: string): Queryable['query'] {
  return async <R extends object>(sql: string, values?: readonly unknown[]) => {
    try {
      const result = await client.query(sql, values as unknown[] | undefined);
      // The row shape is the statement's, which the caller names: pg cannot check it.
      return { rows: result.rows as R[], rowCount: result.rowCount ?? 0 };
    } catch (error) {
      throw mapError(error, location);
    }
  };
}

/**
 * A pool takes concurrent queries; one connection (a transaction's, the coordination session) runs them one after
 * another, so they are queued here: pg 8 queues them itself but deprecates it, and pg 9 will refuse.
 */
export function queryable(client: pg.Pool | pg.PoolClient | pg.Client, location: string): Queryable {
  const query = statementOn(client, location);
  if (client instanceof pg.Pool) return { query };
  let tail: Promise<unknown> = Promise.resolve();
  return {
    query<R extends object>(sql: string, values?: readonly unknown[]) {
      const result = tail.then(() => query<R>(sql, values));
      tail = result.catch(() => undefined);
      return result;
    },
  };
}

export function createDatabase(options: { url: string; poolSize?: number; applicationName?: string }): Database {
  const location = redactUrl(options.url);
  const pool = new pg.Pool({
    connectionString: options.url,
    max: options.poolSize ?? 10,
    types: pgTypes,
    application_name: options.applicationName ?? 'gateway',
    connectionTimeoutMillis: 10_000,
  });
  // An idle client that loses its connection emits 'error' on the pool; without a listener that would end the
  // process. The pool drops the client; the next statement gets a fresh one or fails with storage_unavailable.
  pool.on('error', () => undefined);
  /**
   * The transaction a call belongs to. `open` turns false at its end: work the callback started and left running
   * (a promise that outlives it) must not reach a client that has gone back to the pool.
   */
  const ambient = new AsyncLocalStorage<{ client: Queryable; savepoints: number; open: boolean }>();
  const inTransaction = () => {
    const context = ambient.getStore();
    return context?.open ? context : undefined;
  };
  /**
   * A pooled client for the caller to hold. pg-pool listens for errors only on idle clients; one held across awaits
   * (a batch between its chunks, a transaction awaiting its callback) that loses its connection would otherwise
   * emit an unhandled 'error' and end the process. Its next statement fails instead, as storage_unavailable.
   */
  async function checkout(): Promise<pg.PoolClient> {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (error) {
      // Whatever keeps a connection from being made (refused, a wrong password, a missing database, too many
      // clients, a pool exhausted for connectionTimeoutMillis) leaves the store unable to serve.
      const mapped = mapError(error, location);
      throw mapped instanceof GatewayError ? mapped
        : new GatewayError('storage_unavailable', `no connection to the PostgreSQL database ${location} could be made`, { cause: mapped });
    }
    const ignore = () => undefined;
    client.on('error', ignore);
    const release = client.release.bind(client);
    client.release = (destroy?: boolean | Error) => {
      client.removeListener('error', ignore);
      release(destroy);
    };
    return client;
  }

  /** One statement on a pooled client of its own (what pool.query does, with connection errors mapped as above). */
  const onPool: Queryable = {
    async query<R extends object>(sql: string, values?: readonly unknown[]) {
      const client = await checkout();
      let failure: unknown;
      try {
        return await queryable(client, location).query<R>(sql, values);
      } catch (error) {
        failure = error;
        throw error;
      } finally {
        // A client whose connection failed is destroyed, not handed to the next caller.
        client.release(failure instanceof GatewayError && failure.code === 'storage_unavailable' ? true : undefined);
      }
    },
  };

  async function transaction<T>(work: (client: Queryable) => Promise<T>): Promise<T> {
    const outer = inTransaction();
    if (outer) {
      const name = `sp_${++outer.savepoints}`;
      await outer.client.query(`SAVEPOINT ${name}`);
      try {
        const result = await work(outer.client);
        await outer.client.query(`RELEASE SAVEPOINT ${name}`);
        return result;
      } catch (error) {
        await outer.client.query(`ROLLBACK TO SAVEPOINT ${name}`).catch(() => undefined);
        throw error;
      }
    }
    const client = await checkout();
    const tx = queryable(client, location);
    const context = { client: tx, savepoints: 0, open: true };
    let broken: unknown;
    try {
      await tx.query('BEGIN');
      const result = await ambient.run(context, () => work(tx));
      await tx.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // The connection itself failed: it must not go back to the pool.
        broken = rollbackError;
      }
      throw error;
    } finally {
      context.open = false;
      client.release(broken === undefined ? undefined : true);
    }
  }

  return {
    pool,
    location,
    query: (sql, values) => (inTransaction()?.client ?? onPool).query(sql, values),
    transaction,
    connect: checkout,
    async close() {
      // A second close (or one after a failed open) is a no-op.
      if (!pool.ended && !pool.ending) await pool.end();
    },
  };
}

/**
 * Applies the migrations not yet applied, each in its own transaction and recorded in schema_migrations, under a
 * session advisory lock, so that instances starting together apply each once. A database already migrated past the
 * newest migration this code knows was written by a newer gateway: it refuses to open it rather than misread it.
 */
export async function applyMigrations(db: Database, directory: string = postgresMigrationsDir): Promise<void> {
  const files = fs.readdirSync(directory).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).sort();
  const known = files.map((file) => Number(file.slice(0, 4)));
  const newest = known.at(-1) ?? 0;
  const client = await db.connect();
  const q = queryable(client, db.location);
  let broken = false;
  try {
    await q.query('SELECT pg_advisory_lock($1::bigint)', [MIGRATION_LOCK_KEY]);
    try {
      await q.query('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
      const applied = new Set((await q.query<{ version: number }>('SELECT version FROM schema_migrations')).rows.map((row) => row.version));
      const beyond = [...applied].filter((version) => version > newest);
      if (beyond.length > 0) {
        throw new GatewayError('storage_unavailable', `the PostgreSQL database ${db.location} has schema version ${Math.max(...beyond)}, newer than this `
          + `gateway knows (${newest}): it was migrated by a newer gateway; run that version, or restore a backup made for this one`);
      }
      for (const [position, file] of files.entries()) {
        const version = known[position] as number;
        if (applied.has(version)) continue;
        const sql = fs.readFileSync(path.join(directory, file), 'utf8');
        await q.query('BEGIN');
        try {
          await q.query(sql);
          await q.query('INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)', [version, file, new Date().toISOString()]);
          await q.query('COMMIT');
        } catch (error) {
          await q.query('ROLLBACK').catch(() => undefined);
          throw error;
        }
      }
    } finally {
      await q.query('SELECT pg_advisory_unlock($1::bigint)', [MIGRATION_LOCK_KEY]).catch(() => {
        broken = true;
      });
    }
  } catch (error) {
    broken ||= isConnectionFailure(error) || (error instanceof GatewayError && error.code === 'storage_unavailable' && error.cause !== undefined);
    throw error;
  } finally {
    // A client whose unlock failed may still hold the lock: destroy it rather than hand it on.
    client.release(broken ? true : undefined);
  }
}
