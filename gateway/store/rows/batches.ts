/** Batch rows as both engines read them, and the batches they become. */
import type { StoredBatch } from '../store.js';

export interface BatchRow {
  batch_id: string;
  dataset: string;
  source: string;
  content_hash: string;
  format: string;
  row_count: number;
  as_of: string;
  received_at: string;
}

export function toBatch(row: BatchRow): StoredBatch {
  return {
    batchId: row.batch_id,
    dataset: row.dataset,
    source: row.source,
    contentHash: row.content_hash,
    format: row.format,
    rowCount: row.row_count,
    asOf: row.as_of,
    receivedAt: row.received_at,
  };
}
