/** Audit entry and checkpoint rows as both engines read them, and the records they become. */
import type { StoredAuditEntry, StoredCheckpoint } from '../auditStore.js';

export interface EntryRow {
  entry_index: number;
  entry: Buffer;
  kind: string;
  actor: string;
  subject: string | null;
  consent_id: string | null;
  recorded_at: string;
}

export interface CheckpointRow {
  tree_size: number;
  root_hash: Buffer;
  note: string;
  created_at: string;
}

export function toEntry(row: EntryRow): StoredAuditEntry {
  return {
    index: row.entry_index, entry: row.entry, kind: row.kind, actor: row.actor, subject: row.subject ?? undefined,
    consentId: row.consent_id ?? undefined, recordedAt: row.recorded_at,
  };
}

export function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  return { treeSize: row.tree_size, rootHash: row.root_hash, note: row.note, createdAt: row.created_at };
}
