/**
 * The national uplink's outbox on SQLite (migration 0017). A manifest row names its batch by number; reads join the
 * batch for the manifest's content, so nothing of the batch is copied.
 */
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { StoredBatch } from '../store.js';
import type { UplinkBatchTransaction, UplinkManifest, UplinkState, UplinkStore } from '../uplinkStore.js';
import type { Synchronous } from './serial.js';

interface ManifestRow {
  seq: number;
  manifest_id: string;
  created_at: string;
  jwe: string | null;
  state: UplinkState;
  attempts: number;
  retry_from: number;
  next_attempt_at: number;
  last_error: string | null;
  receipt: string | null;
  receipt_received_at: string | null;
  acknowledged_at: string | null;
  acknowledged_audit_index: number | null;
  batch_id: string;
  dataset: string;
  source: string;
  content_hash: string;
  format: string;
  row_count: number;
  as_of: string;
  received_at: string;
  batch_audit_index: number | null;
}

const MANIFEST_COLUMNS = `m.seq, m.manifest_id, m.created_at, m.jwe, m.state, m.attempts, m.retry_from, m.next_attempt_at, m.last_error,
  m.receipt, m.receipt_received_at, m.acknowledged_at, m.acknowledged_audit_index,
  b.batch_id, d.dataset, b.source, b.content_hash, b.format, b.row_count, b.as_of, b.received_at, b.audit_index AS batch_audit_index
  FROM uplink_manifests m JOIN batches b ON b.batch_no = m.batch_no JOIN datasets d ON d.dataset_no = b.dataset_no`;

function toManifest(row: ManifestRow): UplinkManifest {
  const batch: StoredBatch = {
    batchId: row.batch_id, dataset: row.dataset, source: row.source, contentHash: row.content_hash, format: row.format, rowCount: row.row_count,
    asOf: row.as_of, receivedAt: row.received_at,
  };
  return {
    seq: row.seq, manifestId: row.manifest_id, batch, batchAuditIndex: row.batch_audit_index ?? undefined, createdAt: row.created_at,
    jwe: row.jwe ?? undefined, state: row.state, attempts: row.attempts, retryFrom: row.retry_from, nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error ?? undefined,
    receipt: row.receipt === null ? undefined : {
      jws: row.receipt, receivedAt: row.receipt_received_at as string, acknowledgedAt: row.acknowledged_at as string,
      auditIndex: row.acknowledged_audit_index as number,
    },
  };
}

const INSERT_FOR_BATCH_ID = `INSERT INTO uplink_manifests (manifest_id, batch_no, created_at, state, retry_from, next_attempt_at)
  SELECT ?, batch_no, ?, 'pending', ?, ? FROM batches WHERE batch_id = ? ON CONFLICT (batch_no) DO NOTHING`;

export function uplinkStore(db: SqliteDatabase): Synchronous<UplinkStore> {
  const statements = {
    withoutManifest: db.prepare(`SELECT b.batch_id FROM batches b WHERE NOT EXISTS (SELECT 1 FROM uplink_manifests m WHERE m.batch_no = b.batch_no)
      ORDER BY b.batch_no LIMIT ?`),
    queue: db.prepare(INSERT_FOR_BATCH_ID),
    due: db.prepare(`SELECT ${MANIFEST_COLUMNS} WHERE m.state = 'pending' AND m.next_attempt_at <= ? AND b.audit_index IS NOT NULL ORDER BY m.seq LIMIT ?`),
    byId: db.prepare(`SELECT ${MANIFEST_COLUMNS} WHERE m.manifest_id = ?`),
    byBatch: db.prepare(`SELECT ${MANIFEST_COLUMNS} WHERE b.batch_id = ?`),
    list: db.prepare(`SELECT ${MANIFEST_COLUMNS} WHERE (@state IS NULL OR m.state = @state) AND m.seq > @after ORDER BY m.seq LIMIT @limit`),
    countByState: db.prepare('SELECT state, count(*) AS n FROM uplink_manifests GROUP BY state'),
    sealed: db.prepare('UPDATE uplink_manifests SET jwe = ? WHERE manifest_id = ? AND jwe IS NULL'),
    acknowledged: db.prepare(`UPDATE uplink_manifests SET state = 'acknowledged', attempts = attempts + 1, last_error = NULL, receipt = ?,
      receipt_received_at = ?, acknowledged_at = ?, acknowledged_audit_index = ? WHERE manifest_id = ? AND state = 'pending'`),
    failed: db.prepare(`UPDATE uplink_manifests SET state = ?, attempts = ?, next_attempt_at = ?, last_error = ? WHERE manifest_id = ? AND state = 'pending'`),
    replayOne: db.prepare(`UPDATE uplink_manifests SET state = 'pending', attempts = 0, retry_from = ?, next_attempt_at = ?, last_error = NULL
      WHERE manifest_id = ? AND state = 'dead' RETURNING manifest_id`),
    replayDead: db.prepare(`UPDATE uplink_manifests SET state = 'pending', attempts = 0, retry_from = ?, next_attempt_at = ?, last_error = NULL
      WHERE state = 'dead' RETURNING manifest_id`),
  };
  const manifest = (row: ManifestRow | undefined) => row && toManifest(row);
  return {
    batchesWithoutManifest: (limit) => (statements.withoutManifest.all(limit) as { batch_id: string }[]).map((row) => row.batch_id),
    queueManifests: (manifests) => db.transaction(() => manifests.reduce((queued, { manifestId, batchId, createdAt }) => {
      const at = Date.parse(createdAt);
      return queued + statements.queue.run(manifestId, createdAt, at, at, batchId).changes;
    }, 0)).immediate(),
    dueManifests: (nowMs, limit) => (statements.due.all(nowMs, limit) as ManifestRow[]).map(toManifest),
    getManifest: (manifestId) => manifest(statements.byId.get(manifestId) as ManifestRow | undefined),
    getManifestOfBatch: (batchId) => manifest(statements.byBatch.get(batchId) as ManifestRow | undefined),
    listManifests: (filter, afterSeq, limit) =>
      (statements.list.all({ state: filter.state ?? null, after: afterSeq, limit }) as ManifestRow[]).map(toManifest),
    countManifests() {
      const counts: Record<UplinkState, number> = { pending: 0, acknowledged: 0, dead: 0 };
      for (const row of statements.countByState.all() as { state: UplinkState; n: number }[]) counts[row.state] = row.n;
      return counts;
    },
    markManifestSealed(manifestId, jwe) {
      statements.sealed.run(jwe, manifestId);
    },
    markManifestAcknowledged: (manifestId, receipt) =>
      statements.acknowledged.run(receipt.jws, receipt.receivedAt, receipt.acknowledgedAt, receipt.auditIndex, manifestId).changes === 1,
    markManifestFailed(manifestId, failure) {
      statements.failed.run(failure.dead ? 'dead' : 'pending', failure.attempts, failure.nextAttemptAt, failure.error.slice(0, 500), manifestId);
    },
    replayManifests: (manifestIds, nowMs) => db.transaction(() => {
      if (manifestIds === 'all_dead') return (statements.replayDead.all(nowMs, nowMs) as { manifest_id: string }[]).map((row) => row.manifest_id);
      return manifestIds.flatMap((id) => (statements.replayOne.all(nowMs, nowMs, id) as { manifest_id: string }[]).map((row) => row.manifest_id));
    }).immediate(),
  };
}

/** Queues the manifest of the batch numbered `batchNo`, on `writer`, inside the batch's open transaction. */
export function uplinkBatchTransaction(writer: SqliteDatabase, batchNo: number): UplinkBatchTransaction {
  return {
    async queueManifest(manifestId, createdAt) {
      const at = Date.parse(createdAt);
      writer.prepare(`INSERT INTO uplink_manifests (manifest_id, batch_no, created_at, state, retry_from, next_attempt_at)
        VALUES (?, ?, ?, 'pending', ?, ?) ON CONFLICT (batch_no) DO NOTHING`).run(manifestId, batchNo, createdAt, at, at);
    },
  };
}
