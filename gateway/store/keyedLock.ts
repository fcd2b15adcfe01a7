/**
 * A per-key lock within the process: work on one key runs one at a time, in arrival order, while work on other keys
 * runs freely. It is the whole of Coordination.exclusive on SQLite (one gateway process per database file), and the
 * first, in-process half of it on PostgreSQL.
 */
export interface KeyedLock {
  run<T>(key: string, work: () => Promise<T>): Promise<T>;
  /** Holds several keys at once, taken in sorted order so that two callers cannot deadlock. */
  runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T>;
}

export function createKeyedLock(): KeyedLock {
  const tails = new Map<string, Promise<void>>();

  async function run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => {
      release = resolve;
    });
    const tail = previous.then(() => mine);
    tails.set(key, tail);
    await previous;
    try {
      return await work();
    } finally {
      release();
      if (tails.get(key) === tail) tails.delete(key);
    }
  }

  return {
    run,
    runAll<T>(keys: readonly string[], work: () => Promise<T>): Promise<T> {
      const sorted = [...new Set(keys)].sort();
      const nest = (index: number): Promise<T> => (index === sorted.length ? work() : run(sorted[index] as string, () => nest(index + 1)));
      return nest(0);
    },
  };
}
