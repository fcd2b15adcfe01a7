/**
 * Retention on SQLite (migration 0018). A batch's records are one record-id range (batch_no * 2^24 onwards), so a
 * purge deletes by primary key; a key's records are found by the index on their sealed bytes' header.
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { reclaimWal } from './sqliteStore.js';
import { sealedHeaders } from '../../crypto/envelope.js';
import type { ExpiredBatch, RetentionStore } from '../retentionStore.js';
import type { Synchronous } from './serial.js';

export function retentionStore(db: SqliteDatabase, rowsPerBatch: number): Synchronous<RetentionStore> {
  const statements = {
    expired: db.prepare(`
      SELECT b.batch_id, d.dataset, b.source, b.row_count, b.as_of,
        (SELECT count(*) FROM records r WHERE r.record_id BETWEEN b.batch_no * @rows AND b.batch_no * @rows + @rows - 1) AS stored
      FROM batches b JOIN datasets d ON d.dataset_no = b.dataset_no
      WHERE d.dataset = @dataset AND b.purged_at IS NULL AND b.as_of < @before ORDER BY b.as_of, b.batch_no LIMIT @limit`),
    batch: db.prepare('SELECT batch_no, dataset_no, purged_at FROM batches WHERE batch_id = ?'),
    deleteRecords: db.prepare('DELETE FROM records WHERE record_id BETWEEN @batch * @rows AND @batch * @rows + @rows - 1'),
    markPurged: db.prepare('UPDATE batches SET purged_at = ?, purge_audit_index = ? WHERE batch_no = ?'),
    // The dataset's current records changed, and its facts may hold the purged ones (factsStore.ts).
    nextGeneration: db.prepare('UPDATE datasets SET generation = generation + 1 WHERE dataset_no = ?'),
    deleteFacts: db.prepare('DELETE FROM subject_facts WHERE dataset_no = ?'),
    deleteFactsUnderKey: db.prepare('DELETE FROM subject_facts WHERE substr(sealed, 1, 5) IN (?, ?)'),
    countPurged: db.prepare(`SELECT d.dataset, count(*) AS n FROM batches b JOIN datasets d ON d.dataset_no = b.dataset_no
      WHERE b.purged_at IS NOT NULL GROUP BY d.dataset ORDER BY d.dataset`),
    keys: db.prepare('SELECT key_id FROM data_keys ORDER BY key_id').pluck(),
    keyExists: db.prepare('SELECT 1 FROM data_keys WHERE key_id = ?').pluck(),
    newestKey: db.prepare('SELECT max(key_id) FROM data_keys').pluck(),
    // The same expression as the index, so the probe uses it.
    sealsRecord: db.prepare('SELECT EXISTS (SELECT 1 FROM records WHERE substr(sealed, 1, 5) IN (?, ?))').pluck(),
    deleteKey: db.prepare('DELETE FROM data_keys WHERE key_id = ?'),
    rememberDestroyed: db.prepare('INSERT INTO destroyed_data_keys (key_id, destroyed_at) VALUES (?, ?)'),
    destroyed: db.prepare('SELECT key_id, destroyed_at FROM destroyed_data_keys ORDER BY key_id'),
  };
  const sealsRecord = (keyId: number): boolean => statements.sealsRecord.get(...sealedHeaders(keyId)) === 1;
  /**
   * Runs `work` with secure_delete on: SQLite then zeroes what it deletes instead of leaving it in free pages, so the
   * purged records and a destroyed wrapped key are not left readable in the database file. Only for these deletes:
   * it costs a write of every freed page.
   */
  const erasing = <T>(work: () => T): T => {
    db.pragma('secure_delete = ON');
    try {
      return work();
    } finally {
      db.pragma('secure_delete = OFF');
    }
  };
  return {
    expiredBatches: (dataset, asOfBefore, limit) =>
      (statements.expired.all({ rows: rowsPerBatch, dataset, before: asOfBefore, limit }) as { batch_id: string; dataset: string; source: string; row_count: number; as_of: string; stored: number }[])
        .map((row): ExpiredBatch => ({
          batchId: row.batch_id, dataset: row.dataset, source: row.source, rowCount: row.row_count, asOf: row.as_of, storedRecords: row.stored,
        })),
    purgeBatch: (batchId, at, auditIndex) => erasing(() => db.transaction(() => {
      const batch = statements.batch.get(batchId) as { batch_no: number; dataset_no: number; purged_at: string | null } | undefined;
      if (batch === undefined || batch.purged_at !== null) return undefined;
      const deleted = statements.deleteRecords.run({ batch: batch.batch_no, rows: rowsPerBatch }).changes;
      statements.markPurged.run(at, auditIndex, batch.batch_no);
      statements.nextGeneration.run(batch.dataset_no);
      statements.deleteFacts.run(batch.dataset_no);
      return deleted;
    }).immediate()),
    countPurgedBatches: () =>
      Object.fromEntries((statements.countPurged.all() as { dataset: string; n: number }[]).map((row) => [row.dataset, row.n])),
    dataKeysWithoutRecords() {
      const keys = statements.keys.all() as number[];
      // The newest key is the current one: records are sealed under it from now on, whether or not any is yet.
      return keys.slice(0, -1).filter((keyId) => !sealsRecord(keyId));
    },
    destroyDataKey(keyId, at) {
      const outcome = erasing(() => db.transaction(() => {
        if (statements.keyExists.get(keyId) === undefined) return 'absent';
        if (statements.newestKey.get() === keyId || sealsRecord(keyId)) return 'in_use';
        statements.deleteKey.run(keyId);
        statements.rememberDestroyed.run(keyId, at);
        statements.deleteFactsUnderKey.run(...sealedHeaders(keyId));
        return 'destroyed';
      }).immediate());
      // The WAL still holds the page as it was, wrapped key included, until it is checkpointed and truncated.
      if (outcome === 'destroyed') reclaimWal(db);
      return outcome;
    },
    destroyedDataKeys: () =>
      (statements.destroyed.all() as { key_id: number; destroyed_at: string }[]).map((row) => ({ keyId: row.key_id, destroyedAt: row.destroyed_at })),
  };
}
