/**
 * The national uplink's outbox on PostgreSQL (migration 0003), statement for statement SQLite's
 * sqliteUplinkStore.ts. Several instances may share the database; only the one leading `uplink` sends, and every
 * state change is conditional on the state it leaves, so two instances cannot both acknowledge or fail one manifest.
 */
import type { StoredBatch } from '../store.js';
import type { UplinkBatchTransaction, UplinkManifest, UplinkState, UplinkStore } from '../uplinkStore.js';
import type { Database, Queryable } from './pgDatabase.js';

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
  [column: string]: unknown;
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

export function uplinkStore(db: Database): UplinkStore {
  const one = async (sql: string, values: readonly unknown[]) => {
    const row = (await db.query<ManifestRow>(sql, values)).rows[0];
    return row && toManifest(row);
  };
  return {
    batchesWithoutManifest: async (limit) =>
      (await db.query<{ batch_id: string }>(`SELECT b.batch_id FROM batches b
        WHERE NOT EXISTS (SELECT 1 FROM uplink_manifests m WHERE m.batch_no = b.batch_no) ORDER BY b.batch_no LIMIT $1`, [limit])).rows.map((row) => row.batch_id),
    async queueManifests(manifests) {
      if (manifests.length === 0) return 0;
      // One statement, so one transaction of its own.
      const { rowCount } = await db.query(`INSERT INTO uplink_manifests (manifest_id, batch_no, created_at, state, retry_from, next_attempt_at)
        SELECT u.m, b.batch_no, u.c, 'pending', u.r, u.r FROM unnest($1::text[], $2::text[], $3::text[], $4::bigint[]) WITH ORDINALITY AS u (m, i, c, r, n)
        JOIN batches b ON b.batch_id = u.i ORDER BY u.n
        ON CONFLICT (batch_no) DO NOTHING`, [
        manifests.map((manifest) => manifest.manifestId), manifests.map((manifest) => manifest.batchId), manifests.map((manifest) => manifest.createdAt),
        manifests.map((manifest) => Date.parse(manifest.createdAt)),
      ]);
      return rowCount;
    },
    dueManifests: async (nowMs, limit) =>
      (await db.query<ManifestRow>(`SELECT ${MANIFEST_COLUMNS} WHERE m.state = 'pending' AND m.next_attempt_at <= $1 AND b.audit_index IS NOT NULL
        ORDER BY m.seq LIMIT $2`, [nowMs, limit])).rows.map(toManifest),
    getManifest: (manifestId) => one(`SELECT ${MANIFEST_COLUMNS} WHERE m.manifest_id = $1`, [manifestId]),
    getManifestOfBatch: (batchId) => one(`SELECT ${MANIFEST_COLUMNS} WHERE b.batch_id = $1`, [batchId]),
    listManifests: async (filter, afterSeq, limit) =>
      (await db.query<ManifestRow>(`SELECT ${MANIFEST_COLUMNS} WHERE ($1::text IS NULL OR m.state = $1) AND m.seq > $2 ORDER BY m.seq LIMIT $3`,
        [filter.state ?? null, afterSeq, limit])).rows.map(toManifest),
    async countManifests() {
      const counts: Record<UplinkState, number> = { pending: 0, acknowledged: 0, dead: 0 };
      for (const row of (await db.query<{ state: UplinkState; n: number }>('SELECT state, count(*) AS n FROM uplink_manifests GROUP BY state')).rows) {
        counts[row.state] = row.n;
      }
      return counts;
    },
    async markManifestSealed(manifestId, jwe) {
      await db.query('UPDATE uplink_manifests SET jwe = $1 WHERE manifest_id = $2 AND jwe IS NULL', [jwe, manifestId]);
    },
    async markManifestAcknowledged(manifestId, receipt) {
      const { rowCount } = await db.query(`UPDATE uplink_manifests SET state = 'acknowledged', attempts = attempts + 1, last_error = NULL, receipt = $1,
        receipt_received_at = $2, acknowledged_at = $3, acknowledged_audit_index = $4 WHERE manifest_id = $5 AND state = 'pending'`,
      [receipt.jws, receipt.receivedAt, receipt.acknowledgedAt, receipt.auditIndex, manifestId]);
      return rowCount === 1;
    },
    async markManifestFailed(manifestId, failure) {
      await db.query(`UPDATE uplink_manifests SET state = $1, attempts = $2, next_attempt_at = $3, last_error = $4 WHERE manifest_id = $5 AND state = 'pending'`,
        [failure.dead ? 'dead' : 'pending', failure.attempts, failure.nextAttemptAt, failure.error.slice(0, 500), manifestId]);
    },
    replayManifests: (manifestIds, nowMs) => db.transaction(async (tx) => {
      const replay = `UPDATE uplink_manifests SET state = 'pending', attempts = 0, retry_from = $1, next_attempt_at = $1, last_error = NULL
        WHERE state = 'dead'`;
      if (manifestIds === 'all_dead') return (await tx.query<{ manifest_id: string }>(`${replay} RETURNING manifest_id`, [nowMs])).rows.map((row) => row.manifest_id);
      const replayed: string[] = [];
      for (const id of manifestIds) {
        const { rows } = await tx.query<{ manifest_id: string }>(`${replay} AND manifest_id = $2 RETURNING manifest_id`, [nowMs, id]);
        replayed.push(...rows.map((row) => row.manifest_id));
      }
      return replayed;
    }),
  };
}

/** Queues the manifest of the batch numbered `batchNo` on `client`, inside the batch's open transaction. */
export function uplinkBatchTransaction(client: Queryable, batchNo: number): UplinkBatchTransaction {
  return {
    async queueManifest(manifestId, createdAt) {
      const at = Date.parse(createdAt);
      await client.query(`INSERT INTO uplink_manifests (manifest_id, batch_no, created_at, state, retry_from, next_attempt_at)
        VALUES ($1, $2, $3, 'pending', $4, $4) ON CONFLICT (batch_no) DO NOTHING`, [manifestId, batchNo, createdAt, at]);
    },
  };
}
