/**
 * Group commit: work items arriving in the same round of I/O are written by one call (one durable transaction),
 * flushed on setImmediate, and each caller's promise settles only after that write. Groups are written one after
 * another: items arriving while a group is being written form the next group. One fsync per item would cap a
 * process at a few thousand writes per second (../shared/design/performance-budget.md); one per round does not.
 */
export type GroupWriter<Item, Result> = (items: readonly Item[]) => Promise<readonly Result[]>;

export interface GroupCommit<Item, Result> {
  /** Queues an item; resolves with its result once its group is written, rejects if the group failed. */
  add(item: Item): Promise<Result>;
  /** Resolves once everything queued so far has been written (or failed). */
  flush(): Promise<void>;
}

export function createGroupCommit<Item, Result>(write: GroupWriter<Item, Result>, maxGroup = Number.MAX_SAFE_INTEGER): GroupCommit<Item, Result> {
  let pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];
  let flushed: Promise<void> = Promise.resolve();
  let writing = false;

  async function writeGroup(group: typeof pending): Promise<void> {
    try {
      const results = await write(group.map((entry) => entry.item));
      group.forEach((entry, index) => entry.resolve(results[index] as Result));
    } catch (error) {
      for (const entry of group) entry.reject(error);
    }
  }

  async function flush(): Promise<void> {
    writing = true;
    while (pending.length > 0) {
      // A bound on the group bounds the time the write lock is held.
      const group = pending.slice(0, maxGroup);
      pending = pending.slice(maxGroup);
      await writeGroup(group);
      // An engine that answers without I/O (SQLite) settles the write in microtasks: without a turn of the event
      // loop here, a steady stream of appends would starve timers (checkpoints) and requests.
      if (pending.length > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
    writing = false;
  }

  return {
    add: (item) => new Promise((resolve, reject) => {
      if (pending.length === 0 && !writing) flushed = new Promise((done) => setImmediate(() => {
        void flush().then(done);
      }));
      pending.push({ item, resolve, reject });
    }),
    flush: () => flushed,
  };
}
