/**
 * One better-sqlite3 connection serves one unit of work at a time. A statement or a synchronous transaction runs to
 * its end within one call, so it runs at once; a transaction whose callback awaits (the audit log's build, a
 * subscription's baseline) holds the connection until it settles, and other calls queue behind it. Calls made from
 * inside that callback (AsyncLocalStorage says they are its own) run at once, inside its transaction: waiting for
 * the connection they already hold would deadlock.
 *
 * Waits for SQLite's write lock can be asynchronous: on a connection with busy_timeout 0, a unit of work that finds the
 * lock held (by a batch's commit in this process, by another process) fails with SQLITE_BUSY at once, and is tried
 * again after a timer, keeping its place in the queue. SQLite's own busy wait would block the event loop, and with it
 * the work in this process that holds the lock. Trying again is safe: a call writes in one transaction, or in
 * statements each safe to repeat, and SQLITE_BUSY leaves the one that failed undone.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { isBusy } from './errors.js';

/** How long a unit of work waits for the write lock before its SQLITE_BUSY is thrown. */
export const LOCK_WAIT_MS = 30_000;
const MAX_PAUSE_MS = 20;

/** Runs `work` until it gets the lock it needs, pausing on a timer between tries; after LOCK_WAIT_MS from `since`, throws its SQLITE_BUSY. */
export async function whenUnlocked<T>(work: () => T, since = Date.now()): Promise<T> {
  for (let pause = 1; ; pause = Math.min(pause * 2, MAX_PAUSE_MS)) {
    try {
      return work();
    } catch (error) {
      if (!isBusy(error) || Date.now() - since + pause > LOCK_WAIT_MS) throw error;
    }
    await sleep(pause);
  }
}

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
    const since = Date.now();
    if (queued === 0 || mine()) {
      try {
        return Promise.resolve(work());
      } catch (error) {
        // Inside a transaction the lock is held already: nothing to wait for.
        if (mine() || !isBusy(error)) return Promise.reject(error);
      }
    }
    return hold(() => whenUnlocked(work, since));
  }

  async function transaction<T>(work: () => Promise<T>): Promise<T> {
    if (mine()) throw new Error('a transaction is already open on this connection');
    return hold(async () => {
      await whenUnlocked(() => db.exec('BEGIN IMMEDIATE'));
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
