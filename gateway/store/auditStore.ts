/**
 * The audit log's storage contract. The log (gateway/audit/) decides what to write; an engine keeps it.
 *
 * Contract, in short:
 * - append() runs `build` inside one durable write transaction, given the tree size at that moment (the next
 *   entry's index); reads made while it runs see everything committed before. The entries get consecutive
 *   indexes from that size, and the hashes are stored from storedHashCount(size) on. Nothing of a
 *   failed append is stored. Appends from several processes are serialised by the engine.
 * - Entries, hashes, checkpoints and cosignatures are never changed once written: the log only grows.
 */

export interface NewAuditEntry {
  /** Canonical JSON bytes; what the leaf hash covers. */
  readonly entry: Uint8Array;
  readonly kind: string;
  readonly actor: string;
  readonly subject: string | undefined;
  readonly consentId: string | undefined;
  readonly recordedAt: string;
}

export interface StoredAuditEntry extends NewAuditEntry {
  readonly index: number;
}

export interface AppendBatch {
  readonly entries: readonly NewAuditEntry[];
  /** Stored hashes to write, in storage order, from storedHashCount(size) on. */
  readonly hashes: readonly Uint8Array[];
}

export interface AuditEntryQuery {
  /** First index, inclusive. */
  readonly start: number;
  /** Last index, exclusive. */
  readonly end: number;
  readonly actor?: string | undefined;
  readonly subject?: string | undefined;
  readonly consentId?: string | undefined;
  readonly kind?: string | undefined;
  /** recorded_at bounds (RFC 3339), inclusive from, exclusive to. */
  readonly from?: string | undefined;
  readonly to?: string | undefined;
  readonly limit: number;
}

export interface StoredCheckpoint {
  readonly treeSize: number;
  readonly rootHash: Uint8Array;
  readonly note: string;
  readonly createdAt: string;
}

export interface StoredCosignature {
  readonly witness: string;
  readonly signatureLine: string;
}

export interface AuditStore {
  append(build: (size: number) => Promise<AppendBatch>): Promise<{ firstIndex: number; size: number }>;
  size(): Promise<number>;
  /** Stored hashes by index; throws if one is missing (a truncated or damaged store). */
  readHashes(indexes: readonly number[]): Promise<Buffer[]>;
  /** Entries in index order matching the query. */
  entries(query: AuditEntryQuery): Promise<StoredAuditEntry[]>;
  addCheckpoint(checkpoint: StoredCheckpoint): Promise<void>;
  latestCheckpoint(): Promise<StoredCheckpoint | undefined>;
  checkpointAt(treeSize: number): Promise<StoredCheckpoint | undefined>;
  /** All checkpoints, oldest first. */
  checkpoints(): Promise<StoredCheckpoint[]>;
  addCosignature(treeSize: number, cosignature: StoredCosignature, receivedAt: string): Promise<void>;
  cosignatures(treeSize: number): Promise<StoredCosignature[]>;
  /** What the engine's own consistency check finds wrong with the stored bytes (empty: nothing). */
  integrityProblems(): Promise<string[]>;
  close(): Promise<void>;
}
