/**
 * Group commit: work items arriving in the same round of I/O are written by one call (one durable transaction),
 * flushed on setImmediate, and each caller's promise settles only after that write. One fsync per item would cap a
 * process at a few thousand writes per second (../shared/design/performance-budget.md); one per round does not.
 */
export type GroupWriter<Item, Result> = (items: readonly Item[]) => readonly Result[];

export function createGroupCommit<Item, Result>(write: GroupWriter<Item, Result>): (item: Item) => Promise<Result> {
  let pending: { item: Item; resolve: (result: Result) => void; reject: (error: unknown) => void }[] = [];

  function flush(): void {
    const group = pending;
    pending = [];
    try {
      const results = write(group.map((entry) => entry.item));
      group.forEach((entry, index) => entry.resolve(results[index] as Result));
    } catch (error) {
      for (const entry of group) entry.reject(error);
    }
  }

  return (item) => new Promise((resolve, reject) => {
    if (pending.length === 0) setImmediate(flush);
    pending.push({ item, resolve, reject });
  });
}
