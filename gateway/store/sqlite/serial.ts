/**
 * One better-sqlite3 connection serves one unit of work at a time. A statement or a synchronous transaction runs to
 * its end within one call, so it runs at once; a transaction whose callback awaits (the audit log's build, a
 * subscription's baseline) holds the connection until it settles, and other calls queue behind it. Calls made from
 * inside that callback (AsyncLocalStorage says they are its own) run at once, inside its transaction: waiting for
 * the connection they already hold would deadlock.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { Database as SqliteDatabase } from 'better-sqlite3';

export type Synchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : T[K];
};

export type Asynchronous<T> = {
  [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Promise<Awaited<R>> : T[K];
};

export interface Serial {
  /** Runs a self-contained synchronous call on the connection, after any transaction that holds it. */
  call<T>(work: () => T): Promise<T>;
  /** Runs `work` inside one IMMEDIATE transaction that holds the connection until it settles; rolled back whole if it throws. */
  transaction<T>(work: () => Promise<T>): Promise<T>;
  /** Each method of `methods` as a serialized call. */
  wrap<T extends object>(methods: T): Asynchronous<T>;
}

export function createSerial(db: SqliteDatabase): Serial {
  const owner = new AsyncLocalStorage<symbol>();
  let holder: symbol | undefined;
  /** Units of work holding or waiting for the connection: while there are any, a new call queues behind them (FIFO). */
  let queued = 0;
  let tail: Promise<void> = Promise.resolve();

  const mine = () => holder !== undefined && owner.getStore() === holder;

  async function hold<T>(work: () => Promise<T>): Promise<T> {
    queued += 1;
    const previous = tail;
    let release!: () => void;
    tail = new Promise((resolve) => {
      release = resolve;
    });
    await previous;
    const token = Symbol('unit of work');
    holder = token;
    try {
      return await owner.run(token, work);
    } finally {
      holder = undefined;
      queued -= 1;
      release();
    }
  }

  function call<T>(work: () => T): Promise<T> {
    if (queued === 0 || mine()) {
      try {
        return Promise.resolve(work());
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return hold(async () => work());
  }

  async function transaction<T>(work: () => Promise<T>): Promise<T> {
    if (mine()) throw new Error('a transaction is already open on this connection');
    return hold(async () => {
      db.exec('BEGIN IMMEDIATE');
      try {
        const result = await work();
        db.exec('COMMIT');
        return result;
      } catch (error) {
        // SQLite may have rolled back already (it does on SQLITE_FULL).
        if (db.inTransaction) db.exec('ROLLBACK');
        throw error;
      }
    });
  }

  return {
    call,
    transaction,
    wrap<T extends object>(methods: T): Asynchronous<T> {
      const wrapped: Record<string, unknown> = {};
      for (const [name, value] of Object.entries(methods)) {
        wrapped[name] = typeof value === 'function' ? (...args: unknown[]) => call(() => (value as (...a: unknown[]) => unknown)(...args)) : value;
      }
      return wrapped as Asynchronous<T>;
    },
  };
}
