/**
 * Group commit: work items arriving in the same round of I/O are written by one call (one durable transaction),
 * flushed on setImmediate, and each caller's promise settles only after that write. One fsync per item would cap a
 * process at a few thousand writes per second (../shared/design/performance-budget.md); one per round does not.
 */
export type GroupWriter<Item, Result> = (items: readonly Item[]) => readonly Result[];

export interface GroupCommit<Item, Result> {
  /** Queues an item; resolves with its result once its group is written, rejects if the group failed. */
  add(item: Item): Promise<Result>;
  /** Resolves once everything queued so far has been written (or failed). */
  flush(): Promise<void>;
}

export function createGroupCommit<Item, Result>(write: GroupWriter<Item, Result>, maxGroup = Number.MAX_SAFE_INTEGER): GroupCommit<Item, Result> {
  let pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  let flushed: Promise<void> = Promise.resolve();

  function writeGroup(group: typeof pending): void {
    try {
      const results = write(group.map((entry) => entry.item));
      group.forEach((entry, index) => entry.resolve(results[index] as Result));
    } catch (error) {
      for (const entry of group) entry.reject(error);
    }
  }

  function flush(): void {
    while (pending.length > 0) {
      // A bound on the group bounds the time the write lock is held.
      writeGroup(pending.slice(0, maxGroup));
      pending = pending.slice(maxGroup);
    }
  }

  return {
    add: (item) => new Promise((resolve, reject) => {
      if (pending.length === 0) flushed = new Promise((done) => setImmediate(() => {
        flush();
        done();
      }));
      pending.push({ item, resolve, reject });
    }),
    flush: () => flushed,
  };
}
