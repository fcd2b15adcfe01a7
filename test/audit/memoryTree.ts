/** Test helper: a transparency-log tree whose stored hashes live in an array, appended through merkle.ts. */
import { leafHash } from '../../gateway/crypto/merkleHash.js';
import { storedHashIndex, storedHashesForRecord } from '../../gateway/audit/merkle.js';
import type { HashReader } from '../../gateway/audit/merkle.js';

export interface MemoryTree {
  /** The stored hashes, in storage order. */
  readonly stored: Buffer[];
  /** Reads stored hashes, counting the calls and indexes asked for. */
  readonly read: HashReader;
  readonly reads: { calls: number; indexes: number };
  size(): number;
  append(entry: Uint8Array): Promise<void>;
}

export async function memoryTree(entries: readonly Uint8Array[] = []): Promise<MemoryTree> {
  const stored: Buffer[] = [];
  const reads = { calls: 0, indexes: 0 };
  let size = 0;
  const read: HashReader = async (indexes) => {
    reads.calls += 1;
    reads.indexes += indexes.length;
    return indexes.map((index) => {
      const hash = stored[index];
      if (hash === undefined) throw new RangeError(`no stored hash at ${index}`);
      return hash;
    });
  };
  const tree: MemoryTree = {
    stored,
    read,
    reads,
    size: () => size,
    async append(entry) {
      const hashes = await storedHashesForRecord(size, leafHash(entry), read);
      if (stored.length !== storedHashIndex(0, size)) throw new Error('the new hashes would not start at the record\'s leaf index');
      stored.push(...hashes);
      size += 1;
    },
  };
  for (const entry of entries) await tree.append(entry);
  return tree;
}
