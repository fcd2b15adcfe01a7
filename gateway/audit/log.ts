/**
 * The audit log: an append-only RFC 6962 Merkle tree of canonical JSON entries, kept in an AuditStore.
 *
 * Appends are group-committed: the entries arriving in one round of I/O are written in one durable transaction,
 * together with the tree's stored hashes, and each caller's promise resolves only after that commit — so nothing is
 * acknowledged before it is on disk, and an action whose entry could not be written fails (fail closed). Stored
 * hashes never change once written, so those read for later appends are cached.
 */
import { leafHash } from '../crypto/merkleHash.js';
import { GatewayError } from '../errors/index.js';
import { createGroupCommit } from '../store/groupCommit.js';
import type { AuditEntryQuery, AuditStore, NewAuditEntry, StoredAuditEntry } from '../store/index.js';
import { entryBytes } from './events.js';
import type { AuditEvent } from './events.js';
import { consistencyProof, inclusionProof, storedHashCount, storedHashesForRecord, treeHash } from './merkle.js';

/** Entries per transaction at most: bounds the time the write lock is held. */
const MAX_GROUP = 1024;
/**
 * Cached stored hashes at most; the cache is dropped and refilled when it is full. Appends read only the hashes along
 * the tree's right border (about log2(size)) and a root or proof about twice that, so a few thousand cover the hot
 * path. Each cached hash costs about 400 bytes of heap and buffer space: 2^17 of them held ~50 MiB under sustained
 * load before the first drop, which read as memory growing without end (docs/benchmarks.md, soak).
 */
const MAX_CACHED_HASHES = 1 << 12;

export interface AppendedEntry {
  readonly index: number;
  /** SHA-256(0x00 ‖ entry). */
  readonly leafHash: Buffer;
  /** The tree size right after this entry's commit. */
  readonly treeSize: number;
}

export interface AuditLog {
  /** Appends an entry; resolves once it is durable, rejects if it could not be written. */
  append(event: AuditEvent): Promise<AppendedEntry>;
  size(): Promise<number>;
  rootAt(size: number): Promise<Buffer>;
  inclusionProof(index: number, size: number): Promise<Buffer[]>;
  consistencyProof(first: number, second: number): Promise<Buffer[]>;
  entries(query: AuditEntryQuery): Promise<StoredAuditEntry[]>;
  /** Waits for pending appends. */
  flush(): Promise<void>;
  /**
   * Stops all appends, for good in this process: the stored log does not extend what the gateway signed (anchor.ts),
   * so nothing more is written to it. Every later append rejects with `reason`.
   */
  halt(reason: GatewayError): void;
  /** Why appends are stopped, if they are. */
  halted(): GatewayError | undefined;
}

export function createAuditLog(store: AuditStore, now: () => Date = () => new Date()): AuditLog {
  const cache = new Map<number, Buffer>();
  let haltedBy: GatewayError | undefined;
  /** The largest size this process has seen committed: the log only grows, so a smaller one means entries were removed. */
  let highWater = 0;

  const readHashes = async (indexes: readonly number[]): Promise<Buffer[]> => {
    // The answer is built from local values before anything is cached: remembering may clear the cache.
    const known = indexes.map((index) => cache.get(index));
    const missing = indexes.filter((_, position) => known[position] === undefined);
    const fetched = missing.length > 0 ? await store.readHashes(missing) : [];
    let next = 0;
    const answer = known.map((hash) => hash ?? (fetched[next++] as Buffer));
    missing.forEach((index, offset) => remember(index, fetched[offset] as Buffer));
    return answer;
  };

  function remember(index: number, hash: Buffer): void {
    if (cache.size >= MAX_CACHED_HASHES) cache.clear();
    cache.set(index, hash);
  }

  /** Writes one group in one transaction; each entry's result, or a throw for the whole group (fail closed). */
  async function commit(group: readonly NewAuditEntry[]): Promise<AppendedEntry[]> {
    if (haltedBy) throw haltedBy;
    const leaves = group.map((entry) => leafHash(entry.entry));
    const hashes: Buffer[] = [];
    let result: { firstIndex: number; size: number };
    try {
      result = await store.append(async (size) => {
        if (size < highWater) {
          throw new GatewayError('audit_log_inconsistent', `the audit log shrank from ${highWater} to ${size} entries while the gateway was running: `
            + 'entries were removed. Writes are stopped; investigate with `gateway audit verify`');
        }
        hashes.length = 0;
        const firstHash = storedHashCount(size);
        // This group's own hashes are not stored yet; the earlier ones come from the cache or the store.
        const read = async (indexes: readonly number[]) => {
          const stored = await readHashes(indexes.filter((index) => index < firstHash));
          let next = 0;
          return indexes.map((index) => (index >= firstHash ? hashes[index - firstHash] as Buffer : stored[next++] as Buffer));
        };
        // One after another: each record's hashes may read those of the records before it in this group.
        for (const [offset, leaf] of leaves.entries()) hashes.push(...await storedHashesForRecord(size + offset, leaf, read));
        return { entries: group, hashes };
      });
    } catch (cause) {
      if (cause instanceof GatewayError && cause.code === 'audit_log_inconsistent') {
        haltedBy ??= cause;
        throw cause;
      }
      if (cause instanceof GatewayError && cause.code === 'storage_full') {
        throw new GatewayError('storage_full', `${cause.message}: the audit entry could not be written, so the action was not done`, { cause });
      }
      throw new GatewayError('audit_unavailable', 'the audit entry could not be written, so the action was not done', { cause });
    }
    highWater = result.size;
    // Committed: the new hashes are immutable from now on, so they may be cached.
    const firstHash = storedHashCount(result.firstIndex);
    hashes.forEach((hash, offset) => remember(firstHash + offset, hash));
    return leaves.map((leaf, offset) => ({ index: result.firstIndex + offset, leafHash: leaf, treeSize: result.size }));
  }

  const appends = createGroupCommit(commit, MAX_GROUP);

  return {
    append(event) {
      if (haltedBy) return Promise.reject(haltedBy);
      const recordedAt = now().toISOString();
      let entry: NewAuditEntry;
      try {
        entry = { entry: entryBytes(event, recordedAt), kind: event.kind, actor: event.actor, subject: event.subject, consentId: event.consentId, recordedAt };
      } catch (error) {
        return Promise.reject(error);
      }
      return appends.add(entry);
    },
    size: () => store.size(),
    rootAt: (size) => treeHash(size, readHashes),
    inclusionProof: (index, size) => inclusionProof(index, size, readHashes),
    consistencyProof: (first, second) => consistencyProof(first, second, readHashes),
    entries: (query) => store.entries(query),
    flush: () => appends.flush(),
    halt(reason) {
      haltedBy ??= reason;
    },
    halted: () => haltedBy,
  };
}

