/**
 * Retention on PostgreSQL (migration 0004), as on SQLite: a batch's records are one record-id range, deleted by
 * primary key; a key's records are found by the index on their sealed bytes' header.
 */
import { sealedHeaders } from '../../crypto/envelope.js';
import type { ExpiredBatch, RetentionStore } from '../retentionStore.js';
import type { Database, Queryable } from './pgDatabase.js';

// The same expression as the index, so the probe uses it.
const SEALS_RECORD = 'SELECT EXISTS (SELECT 1 FROM records WHERE substring(sealed from 1 for 5) = ANY($1::bytea[])) AS found';

async function sealsRecord(q: Queryable, keyId: number): Promise<boolean> {
  return (await q.query<{ found: boolean }>(SEALS_RECORD, [sealedHeaders(keyId)])).rows[0]?.found === true;
}

export function retentionStore(db: Database, rowsPerBatch: number): RetentionStore {
  return {
    async expiredBatches(dataset, asOfBefore, limit) {
      const { rows } = await db.query<{ batch_id: string; dataset: string; source: string; row_count: number; as_of: string; stored: number }>(`
        SELECT b.batch_id, d.dataset, b.source, b.row_count, b.as_of,
          (SELECT count(*) FROM records r WHERE r.record_id BETWEEN b.batch_no * $1 AND b.batch_no * $1 + $1 - 1) AS stored
        FROM batches b JOIN datasets d ON d.dataset_no = b.dataset_no
        WHERE d.dataset = $2 AND b.purged_at IS NULL AND b.as_of < $3 ORDER BY b.as_of, b.batch_no LIMIT $4`, [rowsPerBatch, dataset, asOfBefore, limit]);
      return rows.map((row): ExpiredBatch => ({
        batchId: row.batch_id, dataset: row.dataset, source: row.source, rowCount: row.row_count, asOf: row.as_of, storedRecords: row.stored,
      }));
    },
    purgeBatch: (batchId, at, auditIndex) => db.transaction(async (tx) => {
      // FOR UPDATE: two instances purging the same batch at once, the second sees it purged.
      const batch = (await tx.query<{ batch_no: number; dataset_no: number; purged_at: string | null }>(
        'SELECT batch_no, dataset_no, purged_at FROM batches WHERE batch_id = $1 FOR UPDATE', [batchId])).rows[0];
      if (batch === undefined || batch.purged_at !== null) return undefined;
      const deleted = await tx.query('DELETE FROM records WHERE record_id BETWEEN $1::bigint * $2 AND $1::bigint * $2 + $2 - 1', [batch.batch_no, rowsPerBatch]);
      await tx.query('UPDATE batches SET purged_at = $1, purge_audit_index = $2 WHERE batch_no = $3', [at, auditIndex, batch.batch_no]);
      // The dataset's current records changed, and its facts may hold the purged ones (factsStore.ts).
      await tx.query('UPDATE datasets SET generation = generation + 1 WHERE dataset_no = $1', [batch.dataset_no]);
      await tx.query('DELETE FROM subject_facts WHERE dataset_no = $1', [batch.dataset_no]);
      return deleted.rowCount ?? 0;
    }),
    async countPurgedBatches() {
      const { rows } = await db.query<{ dataset: string; n: number }>(`SELECT d.dataset, count(*) AS n FROM batches b
        JOIN datasets d ON d.dataset_no = b.dataset_no WHERE b.purged_at IS NOT NULL GROUP BY d.dataset ORDER BY d.dataset`);
      return Object.fromEntries(rows.map((row) => [row.dataset, row.n]));
    },
    async dataKeysWithoutRecords() {
      const keys = (await db.query<{ key_id: number }>('SELECT key_id FROM data_keys ORDER BY key_id')).rows.map((row) => row.key_id);
      const free: number[] = [];
      // The newest key is the current one: records are sealed under it from now on, whether or not any is yet.
      for (const keyId of keys.slice(0, -1)) if (!(await sealsRecord(db, keyId))) free.push(keyId);
      return free;
    },
    destroyDataKey: (keyId, at) => db.transaction(async (tx) => {
      // The lock addDataKey takes: no key is added (becoming the newest) while this one is checked and destroyed.
      await tx.query('LOCK TABLE data_keys IN SHARE ROW EXCLUSIVE MODE');
      const keys = (await tx.query<{ key_id: number }>('SELECT key_id FROM data_keys ORDER BY key_id')).rows.map((row) => row.key_id);
      if (!keys.includes(keyId)) return 'absent';
      if (keys[keys.length - 1] === keyId || await sealsRecord(tx, keyId)) return 'in_use';
      await tx.query('DELETE FROM data_keys WHERE key_id = $1', [keyId]);
      await tx.query('INSERT INTO destroyed_data_keys (key_id, destroyed_at) VALUES ($1, $2)', [keyId, at]);
      await tx.query('DELETE FROM subject_facts WHERE substring(sealed from 1 for 5) = ANY($1::bytea[])', [sealedHeaders(keyId)]);
      return 'destroyed';
    }),
    destroyedDataKeys: async () =>
      (await db.query<{ key_id: number; destroyed_at: string }>('SELECT key_id, destroyed_at FROM destroyed_data_keys ORDER BY key_id'))
        .rows.map((row) => ({ keyId: row.key_id, destroyedAt: row.destroyed_at })),
  };
}
