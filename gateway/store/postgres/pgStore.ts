/**
 * The PostgreSQL engine (node-postgres, one pool). Every method is one statement, or one transaction on one pooled
 * client; a batch keeps a client of its own from beginBatch to commit or abort, so its long transaction holds no
 * one else up. Several gateway instances may share the database: what SQLite gets from having one writer at a time,
 * this engine gets from locks — transaction-level advisory locks order batch commits per dataset, subscriptions
 * against batch commits, and inserts into cursor-paged tables (seq order is commit order); session-level advisory
 * locks on connections of their own implement Coordination. docs/storage-postgres.md says more.
 */
import pg from 'pg';
import { GatewayError } from '../../errors/index.js';
import { createKeyedLock } from '../keyedLock.js';
import type {
  BatchMetadata, BatchTransaction, BatchWriter, CommitResult, ConsentStore, Coordination, IdentityStore, MonitorStore, ParticipantRecord, ParticipantRole,
  ParticipantStatus, ReconciledConsentUse, SealedRecord, SealedRow, StoredConsentState, StoredRecord, Store, WrappedDataKey } from '../store.js';
import type { ReportStore } from '../reportStore.js';
import type { ScorecardStore } from '../scorecardStore.js';
import type { EnrolmentStore } from '../enrolmentStore.js';
import type { UplinkStore } from '../uplinkStore.js';
import type { RetentionStore } from '../retentionStore.js';
import type { FactsStore } from '../factsStore.js';
import {
  applyMigrations, bytes, constraintOf, createDatabase, isUniqueViolation, mapError, pgTypes, queryable, type Database, type Queryable,
} from './pgDatabase.js';
import { batchTransaction, MONITOR_LOCK, monitorStore, sequenceLock } from './pgMonitorStore.js';
import { reportStore } from './pgReportStore.js';
import { enrolmentStore, scorecardStore } from './pgScorecardStore.js';
import { uplinkBatchTransaction, uplinkStore } from './pgUplinkStore.js';
import { retentionStore } from './pgRetentionStore.js';
import { factsStore } from './pgFactsStore.js';
import { toConsent } from '../rows/consents.js';
import type { ConsentRow } from '../rows/consents.js';
import { toBatch } from '../rows/batches.js';
import type { BatchRow } from '../rows/batches.js';

/** As on SQLite: record_id = batch_no * 2^24 + row number, so ids and ciphertexts are the same on either engine. */
const ROWS_PER_BATCH = 2 ** 24;

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database; the password never appears in logs or errors. */
  readonly url: string;
  /** Pooled connections (default 10). Each open batch holds one for its whole life. */
  readonly poolSize?: number;
}

const BATCH_COLUMNS = `b.batch_id, d.dataset, b.source, b.content_hash, b.format, b.row_count, b.as_of, b.received_at
  FROM batches b JOIN datasets d ON d.dataset_no = b.dataset_no`;

const xactLock = (q: Queryable, key: string) => q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [key]);

export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const db = createDatabase({ url: options.url, poolSize: options.poolSize });
  try {
    await applyMigrations(db);
  } catch (error) {
    await db.close();
    throw error;
  }

  const datasetNumbers = new Map<string, number>();
  /** The number of a dataset already stored, for reads: a read never adds a dataset (as on SQLite). */
  async function storedDatasetNo(dataset: string): Promise<number | undefined> {
    let found = datasetNumbers.get(dataset);
    if (found === undefined) {
      found = (await db.query<{ dataset_no: number }>('SELECT dataset_no FROM datasets WHERE dataset = $1', [dataset])).rows[0]?.dataset_no;
      if (found !== undefined) datasetNumbers.set(dataset, found);
    }
    return found;
  }
  /** The number of a dataset, stored first if it is new (a batch is about to write to it). */
  async function datasetNo(dataset: string): Promise<number> {
    const stored = await storedDatasetNo(dataset);
    if (stored !== undefined) return stored;
    await db.query('INSERT INTO datasets (dataset) VALUES ($1) ON CONFLICT (dataset) DO NOTHING', [dataset]);
    const found = await storedDatasetNo(dataset);
    if (found === undefined) throw new GatewayError('internal_error', 'a dataset number could not be allocated');
    return found;
  }

  const findBatch = async (dataset: string, contentHash: string, on: Queryable = db) =>
    (await on.query<BatchRow>(`SELECT ${BATCH_COLUMNS} WHERE d.dataset = $1 AND b.content_hash = $2`, [dataset, contentHash])).rows[0];
  const findBatchById = async (batchId: string, on: Queryable = db) =>
    (await on.query<BatchRow>(`SELECT ${BATCH_COLUMNS} WHERE b.batch_id = $1`, [batchId])).rows[0];

  /** The outcome for a batch whose content or id is already stored (duplicate), or the conflict SQLite reports. */
  function existingOutcome(metadata: BatchMetadata, sameContent: BatchRow | undefined, sameId: BatchRow | undefined): CommitResult | undefined {
    if (sameId && (sameId.content_hash !== metadata.contentHash || sameId.dataset !== metadata.dataset)) {
      throw new GatewayError('batch_id_conflict', `batch id "${metadata.batchId}" was already used for different content`);
    }
    const existing = sameContent ?? sameId;
    return existing && { outcome: 'duplicate', batch: toBatch(existing) };
  }

  async function beginBatch(dataset: string): Promise<BatchWriter> {
    const dsNo = await datasetNo(dataset);
    const batchNo = (await db.query<{ n: number }>(`SELECT nextval('batch_numbers') AS n`)).rows[0]?.n as number;
    const firstId = batchNo * ROWS_PER_BATCH;
    const lastId = firstId + ROWS_PER_BATCH - 1;
    const client = await db.connect();
    const q = queryable(client, db.location);
    let state: 'idle' | 'open' | 'done' = 'idle';

    /** Rolls back what is open and gives the client back, once; a client whose connection failed is destroyed. */
    const finish = async () => {
      if (state === 'done') return;
      const wasOpen = state === 'open';
      state = 'done';
      let broken: unknown;
      if (wasOpen) {
        try {
          await client.query('ROLLBACK');
        } catch (error) {
          broken = error;
        }
      }
      client.release(broken === undefined ? undefined : true);
    };
    const begin = async () => {
      if (state === 'done') throw new GatewayError('internal_error', 'the batch was already committed or aborted');
      if (state === 'idle') {
        await q.query('BEGIN');
        state = 'open';
      }
    };
    /** A full disk is said plainly, with what it means for the batch. */
    const storageError = (error: unknown): unknown => (error instanceof GatewayError && error.code === 'storage_full'
      ? new GatewayError('storage_full', `the disk holding the PostgreSQL database ${db.location} is full: the batch was not stored (nothing of it was kept); `
        + 'free space and send it again', { cause: error })
      : error);

    const recordId = (rowNumber: number): number => {
      if (!Number.isInteger(rowNumber) || rowNumber < 1 || rowNumber >= ROWS_PER_BATCH) {
        throw new GatewayError('too_many_rows', `a batch holds at most ${ROWS_PER_BATCH - 1} rows`);
      }
      return firstId + rowNumber;
    };

    return {
      recordId,
      async add(records: readonly SealedRecord[]) {
        const ids = records.map((record) => recordId(record.rowNumber));
        if (records.length === 0) return [];
        try {
          await begin();
          // One statement for the chunk. A natural key already in this batch (earlier, or earlier in this chunk) is
          // skipped, not an error, so the transaction stays usable; the rows skipped are then matched to the earlier ones.
          const inserted = await q.query<{ record_id: number }>(`INSERT INTO records (record_id, dataset_no, batch_no, key_index, subject_index, sealed)
            SELECT id, $5, $6, k, s, v FROM unnest($1::bigint[], $2::bytea[], $3::bytea[], $4::bytea[]) WITH ORDINALITY AS u (id, k, s, v, n) ORDER BY n
            ON CONFLICT (dataset_no, subject_index, key_index, batch_no) DO NOTHING RETURNING record_id`, [
            ids, records.map((record) => bytes(record.keyIndex)), records.map((record) => bytes(record.subjectIndex)),
            records.map((record) => bytes(record.sealed)), dsNo, batchNo,
          ]);
          const stored = new Set(inserted.rows.map((row) => row.record_id));
          const skipped = records.flatMap((record, position) => (stored.has(ids[position] as number) ? [] : [{ record, position }]));
          const answer: (number | undefined)[] = records.map(() => undefined);
          if (skipped.length === 0) return answer;
          const { rows } = await q.query<{ record_id: number; n: number }>(`SELECT r.record_id, u.n FROM unnest($1::bytea[], $2::bytea[]) WITH ORDINALITY AS u (k, s, n)
            JOIN records r ON r.dataset_no = $3 AND r.subject_index = u.s AND r.key_index = u.k AND r.batch_no = $4`, [
            skipped.map(({ record }) => bytes(record.keyIndex)), skipped.map(({ record }) => bytes(record.subjectIndex)), dsNo, batchNo,
          ]);
          for (const row of rows) {
            const entry = skipped[row.n - 1];
            if (entry) answer[entry.position] = row.record_id - firstId;
          }
          return answer;
        } catch (error) {
          // A failed statement leaves the transaction unusable: the batch is over.
          await finish();
          throw storageError(error);
        }
      },
      async commit(metadata: BatchMetadata, beforeCommit?: (transaction: BatchTransaction) => Promise<void>): Promise<CommitResult> {
        try {
          await begin();
          // Batches of one dataset commit one at a time (supersession reads what the one before made current, as on
          // SQLite's single writer); a subscription's baseline excludes all of them (pgMonitorStore.ts).
          await xactLock(q, `tx:batch:${dsNo}`);
          await q.query('SELECT pg_advisory_xact_lock_shared(hashtextextended($1, 0))', [MONITOR_LOCK]);
          const duplicate = existingOutcome(metadata, await findBatch(metadata.dataset, metadata.contentHash, q), await findBatchById(metadata.batchId, q));
          if (duplicate) {
            await finish();
            return duplicate;
          }
          try {
            await q.query(`INSERT INTO batches (batch_no, batch_id, dataset_no, source, content_hash, format, row_count, as_of, received_at)
              VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
              batchNo, metadata.batchId, dsNo, metadata.source, metadata.contentHash, metadata.format, metadata.rowCount, metadata.asOf, metadata.receivedAt,
            ]);
          } catch (error) {
            if (!isUniqueViolation(error)) throw error;
            // Another instance committed the same batch id (in another dataset) meanwhile: answered as if it had been first.
            await finish();
            const raced = existingOutcome(metadata, await findBatch(metadata.dataset, metadata.contentHash), await findBatchById(metadata.batchId));
            if (raced) return raced;
            throw error;
          }
          await supersede(q, dsNo, batchNo, firstId, metadata.asOf);
          // The dataset's current records changed: facts derived before are no longer served (factsStore.ts).
          await q.query('UPDATE datasets SET generation = generation + 1 WHERE dataset_no = $1', [dsNo]);
          // The client is this batch's alone, so awaiting here lets nothing else into its transaction.
          await beforeCommit?.({ ...batchTransaction(q, firstId, lastId), ...uplinkBatchTransaction(q, batchNo) });
          await q.query('COMMIT');
          state = 'done';
          client.release();
          return { outcome: 'stored', batch: { ...metadata } };
        } catch (error) {
          await finish();
          throw storageError(error);
        }
      },
      abort: () => finish(),
    };
  }

  const records: Omit<Store, keyof IdentityStore | keyof ConsentStore | keyof MonitorStore | keyof ReportStore | keyof ScorecardStore | keyof EnrolmentStore
    | keyof UplinkStore | keyof RetentionStore | keyof FactsStore | keyof Coordination | 'engine'> = {
    maxBatchRows: ROWS_PER_BATCH - 1,
    findBatch: async (dataset, contentHash) => {
      const row = await findBatch(dataset, contentHash);
      return row && toBatch(row);
    },
    findBatchById: async (batchId) => {
      const row = await findBatchById(batchId);
      return row && toBatch(row);
    },
    listBatches: async (limit) => (await db.query<BatchRow & { audit_index: string | number | null }>(`SELECT b.audit_index, ${BATCH_COLUMNS} ORDER BY b.batch_no DESC LIMIT $1`, [limit]))
      // BIGINT: pg may hand it over as text.
      .rows.map((row) => ({ ...toBatch(row), auditIndex: row.audit_index === null ? undefined : Number(row.audit_index) })),
    beginBatch,
    async recordsBySubject(dataset, subjectIndex, { includeHistory = false } = {}) {
      const dsNo = await storedDatasetNo(dataset);
      if (dsNo === undefined) return [];
      const { rows } = await db.query<{
        record_id: number; dataset: string; sealed: Buffer; batch_id: string; source: string; as_of: string; received_at: string; superseded_by: string | null;
      }>(`SELECT r.record_id, d.dataset, r.sealed, b.batch_id, b.source, b.as_of, b.received_at, sb.batch_id AS superseded_by
        FROM records r
        JOIN datasets d ON d.dataset_no = r.dataset_no
        JOIN batches b ON b.batch_no = r.batch_no
        LEFT JOIN batches sb ON sb.batch_no = r.superseded_by
        WHERE r.dataset_no = $1 AND r.subject_index = $2 AND ($3::boolean OR r.superseded_by IS NULL)
        ORDER BY r.superseded_by IS NOT NULL, r.record_id`, [dsNo, bytes(subjectIndex), includeHistory]);
      return rows.map((row): StoredRecord => ({
        recordId: row.record_id, dataset: row.dataset, sealed: row.sealed, batchId: row.batch_id, source: row.source, asOf: row.as_of,
        receivedAt: row.received_at, supersededBy: row.superseded_by ?? undefined,
      }));
    },
    async countRecords(dataset) {
      if (dataset === undefined) return (await db.query<{ n: number }>('SELECT count(*) AS n FROM records')).rows[0]?.n ?? 0;
      const dsNo = await storedDatasetNo(dataset);
      return dsNo === undefined ? 0 : (await db.query<{ n: number }>('SELECT count(*) AS n FROM records WHERE dataset_no = $1', [dsNo])).rows[0]?.n ?? 0;
    },
    listDataKeys: async () =>
      (await db.query<{ key_id: number; wrapped: Buffer; created_at: string }>('SELECT key_id, wrapped, created_at FROM data_keys ORDER BY key_id'))
        .rows.map((row): WrappedDataKey => ({ keyId: row.key_id, wrapped: row.wrapped, createdAt: row.created_at })),
    addDataKey: (wrap, createdAt) => db.transaction(async (tx) => {
      // Two instances adding a key at once would pick the same next id: the table lock orders them.
      await tx.query('LOCK TABLE data_keys IN SHARE ROW EXCLUSIVE MODE');
      // A destroyed key's id is never reused: a record sealed under it, surviving somewhere, must not open under another.
      const keyId = (await tx.query<{ id: number }>(`SELECT greatest(coalesce((SELECT max(key_id) FROM data_keys), 0),
        coalesce((SELECT max(key_id) FROM destroyed_data_keys), 0)) + 1 AS id`)).rows[0]?.id as number;
      await tx.query('INSERT INTO data_keys (key_id, wrapped, created_at) VALUES ($1, $2, $3)', [keyId, bytes(wrap(keyId)), createdAt]);
      return keyId;
    }),
    scanSealed: async (afterRecordId, limit) =>
      (await db.query<{ record_id: number; dataset: string; sealed: Buffer }>(`SELECT r.record_id, d.dataset, r.sealed FROM records r
        JOIN datasets d ON d.dataset_no = r.dataset_no WHERE r.record_id > $1 ORDER BY r.record_id LIMIT $2`, [afterRecordId, limit]))
        .rows.map((row): SealedRow => ({ recordId: row.record_id, dataset: row.dataset, sealed: row.sealed })),
    async replaceSealed(rows) {
      if (rows.length === 0) return;
      // One statement, so one transaction of its own.
      await db.query('UPDATE records r SET sealed = u.s FROM unnest($1::bigint[], $2::bytea[]) AS u (id, s) WHERE r.record_id = u.id',
        [rows.map((row) => row.recordId), rows.map((row) => bytes(row.sealed))]);
    },
    async markBatchAudited(batchId, auditIndex) {
      await db.query('UPDATE batches SET audit_index = $1 WHERE batch_id = $2', [auditIndex, batchId]);
    },
    unauditedBatches: async () => (await db.query<BatchRow>(`SELECT ${BATCH_COLUMNS} WHERE b.audit_index IS NULL ORDER BY b.batch_no`)).rows.map(toBatch),
    async ping() {
      await db.query('SELECT 1');
    },
    async recordKeyFingerprints(candidate, at) {
      await db.query('INSERT INTO key_fingerprints (id, fingerprints, recorded_at) VALUES (1, $1, $2) ON CONFLICT (id) DO NOTHING', [candidate, at]);
      return (await db.query<{ fingerprints: string }>('SELECT fingerprints FROM key_fingerprints WHERE id = 1')).rows[0]?.fingerprints as string;
    },
    async integrityProblems() {
      // PostgreSQL checksums its own pages; what is cheap to check here is that the schema is the one this code wrote.
      const { rows } = await db.query<{ n: number }>('SELECT count(*) AS n FROM schema_migrations');
      return rows[0]?.n ? [] : ['the database has no applied migrations'];
    },
    async close() {
      await coordination.close();
      await db.close();
    },
  };

  const coordination = createCoordination(options.url, db.location);
  return {
    engine: { name: 'postgres', location: db.location },
    exclusive: coordination.exclusive,
    leads: coordination.leads,
    join: coordination.join,
    ...identityStore(db),
    ...consentStore(db),
    ...monitorStore(db),
    ...reportStore(db),
    ...scorecardStore(db),
    ...enrolmentStore(db),
    ...uplinkStore(db),
    ...retentionStore(db, ROWS_PER_BATCH),
    ...factsStore(db),
    ...records,
  };
}

/**
 * Applies the batch's records to the current view of the dataset: a record whose key already has a current record
 * with a later as-of date arrived late and is history at once; otherwise it replaces the current record. The
 * statements are SQLite's; the probe for earlier records looks at every other batch, not only lower-numbered ones:
 * batch numbers are taken at begin, so a batch begun later may have committed first.
 */
async function supersede(q: Queryable, datasetNo: number, batchNo: number, firstId: number, asOf: string): Promise<void> {
  const lastId = firstId + ROWS_PER_BATCH - 1;
  const others = await q.query('SELECT 1 FROM records WHERE dataset_no = $1 AND batch_no <> $2 LIMIT 1', [datasetNo, batchNo]);
  if (others.rows.length === 0) return;
  await q.query(`
    UPDATE records AS incoming SET superseded_by = (
      SELECT cur.batch_no FROM records cur JOIN batches cb ON cb.batch_no = cur.batch_no
      WHERE cur.dataset_no = incoming.dataset_no AND cur.subject_index = incoming.subject_index AND cur.key_index = incoming.key_index
        AND cur.batch_no <> incoming.batch_no AND cur.superseded_by IS NULL AND cb.as_of > $1
      ORDER BY cb.as_of DESC LIMIT 1)
    WHERE incoming.record_id BETWEEN $2 AND $3 AND EXISTS (
      SELECT 1 FROM records cur JOIN batches cb ON cb.batch_no = cur.batch_no
      WHERE cur.dataset_no = incoming.dataset_no AND cur.subject_index = incoming.subject_index AND cur.key_index = incoming.key_index
        AND cur.batch_no <> incoming.batch_no AND cur.superseded_by IS NULL AND cb.as_of > $1)`, [asOf, firstId, lastId]);
  await q.query(`
    UPDATE records SET superseded_by = $1 WHERE record_id IN (
      SELECT old.record_id FROM records incoming
      JOIN records old ON old.dataset_no = incoming.dataset_no AND old.subject_index = incoming.subject_index AND old.key_index = incoming.key_index
      JOIN batches ob ON ob.batch_no = old.batch_no
      WHERE incoming.record_id BETWEEN $2 AND $3 AND incoming.superseded_by IS NULL
        AND old.batch_no <> $1 AND old.superseded_by IS NULL AND ob.as_of <= $4)`, [batchNo, firstId, lastId, asOf]);
}

interface ParticipantRow {
  participant_id: string;
  role: ParticipantRole;
  name: string;
  uscc: string | null;
  datasets: string;
  status: ParticipantStatus;
  certificate_pem: string;
  certificate_sha256: string;
  not_after: string;
  created_at: string;
  status_changed_at: string;
}

function toParticipant(row: ParticipantRow): ParticipantRecord {
  return {
    participantId: row.participant_id, role: row.role, name: row.name, uscc: row.uscc ?? undefined, datasets: JSON.parse(row.datasets) as string[],
    status: row.status, certificatePem: row.certificate_pem, certificateSha256: row.certificate_sha256, notAfter: row.not_after,
    createdAt: row.created_at, statusChangedAt: row.status_changed_at,
  };
}

function identityStore(db: Database): IdentityStore {
  return {
    addParticipant: (participant, replaces) => db.transaction(async (tx) => {
      if (replaces !== undefined) {
        const { rowCount } = await tx.query(`UPDATE participants SET status = 'revoked', status_changed_at = $1 WHERE participant_id = $2 AND status <> 'revoked'`,
          [participant.createdAt, replaces]);
        if (rowCount !== 1) throw new GatewayError('invalid_status_change', `participant "${replaces}" is not there to replace, or already revoked`);
      }
      try {
        await tx.query(`INSERT INTO participants (participant_id, role, name, uscc, datasets, status, certificate_pem, certificate_sha256, not_after,
          created_at, status_changed_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, [
          participant.participantId, participant.role, participant.name, participant.uscc ?? null, JSON.stringify(participant.datasets), participant.status,
          participant.certificatePem, participant.certificateSha256, participant.notAfter, participant.createdAt, participant.statusChangedAt,
        ]);
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
        if (participant.role === 'enterprise' && constraintOf(error) === 'participants_one_enterprise_per_uscc') {
          throw new GatewayError('participant_exists', 'an enterprise participant already acts for this USCC: re-enrol with --replaces <its id>');
        }
        throw new GatewayError('participant_exists', `participant "${participant.participantId}" already exists`);
      }
    }),
    async getParticipant(participantId) {
      const { rows } = await db.query<ParticipantRow>('SELECT * FROM participants WHERE participant_id = $1', [participantId]);
      return rows[0] && toParticipant(rows[0]);
    },
    async enterpriseForUscc(uscc) {
      const { rows } = await db.query<ParticipantRow>(`SELECT * FROM participants WHERE uscc = $1 AND role = 'enterprise' AND status <> 'revoked'`, [uscc]);
      return rows[0] && toParticipant(rows[0]);
    },
    listParticipants: async () => (await db.query<ParticipantRow>('SELECT * FROM participants ORDER BY created_at, participant_id')).rows.map(toParticipant),
    async setParticipantStatus(participantId, status, at) {
      await db.query('UPDATE participants SET status = $1, status_changed_at = $2 WHERE participant_id = $3', [status, at, participantId]);
    },
    rememberRequests: (requests, now) => db.transaction(async (tx) => {
      // Insert before forgetting: a request checked just before its entry expired must still find that entry.
      const fresh: boolean[] = [];
      for (const request of requests) {
        const { rowCount } = await tx.query('INSERT INTO seen_requests (participant_id, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
          [request.participantId, request.jti, request.expiresAt]);
        fresh.push(rowCount === 1);
      }
      await tx.query('DELETE FROM seen_requests WHERE expires_at < $1', [now]);
      return fresh;
    }),
    countRememberedRequests: async () => (await db.query<{ n: number }>('SELECT count(*) AS n FROM seen_requests')).rows[0]?.n ?? 0,
    async findIdempotentResponse(participantId, key) {
      const { rows } = await db.query<{ request_sha256: string; status: number; body: string }>(
        'SELECT request_sha256, status, body FROM idempotent_responses WHERE participant_id = $1 AND idempotency_key = $2', [participantId, key]);
      const row = rows[0];
      return row && { requestSha256: row.request_sha256, status: row.status, body: row.body };
    },
    async saveIdempotentResponse(participantId, key, response, at) {
      await db.query(`INSERT INTO idempotent_responses (participant_id, idempotency_key, request_sha256, status, body, created_at)
        VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING`, [participantId, key, response.requestSha256, response.status, response.body, at]);
    },
  };
}

function consentStore(db: Database): ConsentStore {
  return {
    addConsent: (consent, replacesActive) => db.transaction(async (tx) => {
      await sequenceLock(tx, 'consents');
      try {
        await tx.query(`INSERT INTO consents (consent_id, enterprise_id, uscc, bank_id, purpose, questions, not_before, expires_at, max_uses, state, replaces,
          artefact, artefact_sha256, granted_at, audit_index) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'active', $10, $11, $12, $13, $14)`, [
          consent.consentId, consent.enterpriseId, consent.uscc, consent.bankId, consent.purpose, JSON.stringify(consent.questions), consent.notBefore,
          consent.expiresAt, consent.maxUses ?? null, consent.replaces ?? null, consent.artefact, consent.artefactSha256, consent.grantedAt, consent.auditIndex,
        ]);
      } catch (error) {
        if (isUniqueViolation(error)) throw new GatewayError('consent_duplicate', 'a consent with this id already exists');
        throw error;
      }
      if (consent.replaces !== undefined && replacesActive) {
        const { rowCount } = await tx.query(`UPDATE consents SET state = 'replaced', replaced_by = $1, ended_at = $2 WHERE consent_id = $3 AND state = 'active'`,
          [consent.consentId, consent.grantedAt, consent.replaces]);
        if (rowCount !== 1) throw new GatewayError('consent_replaces_invalid', 'the consent to replace is no longer active');
      }
    }),
    async getConsent(consentId) {
      const { rows } = await db.query<ConsentRow>('SELECT * FROM consents WHERE consent_id = $1', [consentId]);
      return rows[0] && toConsent(rows[0]);
    },
    listConsents: async (scope, afterSeq, limit) => ('uscc' in scope
      ? await db.query<ConsentRow>('SELECT * FROM consents WHERE uscc = $1 AND seq > $2 ORDER BY seq LIMIT $3', [scope.uscc, afterSeq, limit])
      : await db.query<ConsentRow>('SELECT * FROM consents WHERE bank_id = $1 AND seq > $2 ORDER BY seq LIMIT $3', [scope.bankId, afterSeq, limit])).rows.map(toConsent),
    endConsent: async (consentId, state, at) =>
      (await db.query(`UPDATE consents SET state = $1, ended_at = $2 WHERE consent_id = $3 AND state = 'active'`, [state, at, consentId])).rowCount === 1,
    useConsents: (uses) => db.transaction(async (tx) => {
      const applied: boolean[] = [];
      for (const use of uses) {
        const { rowCount } = await tx.query(`UPDATE consents SET uses = uses + $1,
          state = CASE WHEN max_uses IS NOT NULL AND uses + $1 >= max_uses THEN 'exhausted' ELSE state END,
          ended_at = CASE WHEN max_uses IS NOT NULL AND uses + $1 >= max_uses THEN $2 ELSE ended_at END
          WHERE consent_id = $3 AND state = 'active' AND (max_uses IS NULL OR uses + $1 <= max_uses)`, [use.count, use.at, use.consentId]);
        applied.push(rowCount === 1);
      }
      return applied;
    }),
    consentUsesLoggedThrough: async () =>
      (await db.query<{ through_index: number }>('SELECT through_index FROM consent_uses_logged WHERE id = 1')).rows[0]?.through_index ?? 0,
    reconcileConsentUses: (logged, throughIndex, at) => db.transaction(async (tx) => {
      for (const [consentId, count] of logged) await tx.query('UPDATE consents SET logged_uses = logged_uses + $1 WHERE consent_id = $2', [count, consentId]);
      const divergent = (await tx.query<{ consent_id: string; uses: number; logged_uses: number }>(
        'SELECT consent_id, uses, logged_uses FROM consents WHERE uses <> logged_uses ORDER BY seq')).rows;
      const reconciled: ReconciledConsentUse[] = [];
      for (const row of divergent) {
        // Only the budget's own state follows the count: revoked, replaced and expired consents stay as they are.
        const { rows } = await tx.query<{ state: StoredConsentState }>(`UPDATE consents SET uses = logged_uses,
          state = CASE
            WHEN state = 'active' AND max_uses IS NOT NULL AND logged_uses >= max_uses THEN 'exhausted'
            WHEN state = 'exhausted' AND (max_uses IS NULL OR logged_uses < max_uses) THEN 'active'
            ELSE state END,
          ended_at = CASE
            WHEN state = 'active' AND max_uses IS NOT NULL AND logged_uses >= max_uses THEN $1
            WHEN state = 'exhausted' AND (max_uses IS NULL OR logged_uses < max_uses) THEN NULL
            ELSE ended_at END
          WHERE consent_id = $2 RETURNING state`, [at, row.consent_id]);
        reconciled.push({ consentId: row.consent_id, counted: row.uses, logged: row.logged_uses, state: rows[0]?.state as StoredConsentState });
      }
      await tx.query('INSERT INTO consent_uses_logged (id, through_index) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET through_index = excluded.through_index',
        [throughIndex]);
      return reconciled;
    }),
  };
}

/** Backoff between attempts at a held advisory lock: 1 ms, doubling, at most 20 ms. */
const FIRST_RETRY_MS = 1;
const LONGEST_RETRY_MS = 20;

interface Session {
  readonly client: pg.Client;
  readonly q: Queryable;
  alive: boolean;
  /** Roles this session holds the leader lock of; session locks last as long as the session. */
  readonly leading: Set<string>;
}

/** The advisory lock every serving gateway holds shared (Coordination.join). */
const INSTANCES = 'gateway:instances';

/**
 * Coordination on session-level advisory locks, held on one connection of its own (not from the pool, so a pool
 * exhausted by work waiting for a key cannot keep the key from being released). When that connection fails, its
 * locks are gone with it: calls reject (fail closed) until the next call has connected a new one, and roles led
 * through the lost session are not led any more until taken again.
 */
/**
 * Sessions the exclusive keys are spread over (by a hash of the key, so a key always takes the same one): one session
 * runs its statements one after another, and a lock and an unlock per answered item on a single one capped a busy
 * instance at a few hundred items a second. Leadership and joining stay on the first.
 */
const COORDINATION_SESSIONS = 4;

/** FNV-1a: which session a key's lock is taken on. */
function sessionOf(key: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % COORDINATION_SESSIONS;
}

interface Slot {
  session: Session | undefined;
  connecting: Promise<Session> | undefined;
}

function createCoordination(url: string, location: string): Coordination & { close(): Promise<void> } {
  const lock = createKeyedLock();
  const slots: Slot[] = Array.from({ length: COORDINATION_SESSIONS }, () => ({ session: undefined, connecting: undefined }));
  let closed = false;
  /** Whether this process joined the database's gateways: a new session takes the shared instances lock again. */
  let joined = false;

  const unavailable = (error: unknown): GatewayError => (error instanceof GatewayError && error.code === 'storage_unavailable'
    ? error
    : new GatewayError('storage_unavailable', `the coordination connection to the PostgreSQL database ${location} failed`, { cause: mapError(error, location) }));

  async function connect(slot: number): Promise<Session> {
    const client = new pg.Client({ connectionString: url, types: pgTypes, application_name: 'gateway-coordination' });
    const fresh: Session = { client, q: queryable(client, location), alive: true, leading: new Set() };
    const lost = () => {
      fresh.alive = false;
      fresh.leading.clear();
    };
    client.on('error', lost);
    client.on('end', lost);
    try {
      await client.connect();
      if (joined && slot === 0) await takeShared(fresh);
    } catch (error) {
      lost();
      await client.end().catch(() => undefined);
      throw unavailable(error);
    }
    return fresh;
  }

  async function current(index = 0): Promise<Session> {
    if (closed) throw new GatewayError('storage_unavailable', 'the store is closed');
    const slot = slots[index] as Slot;
    if (slot.session?.alive) return slot.session;
    slot.connecting ??= connect(index).then((fresh) => {
      slot.session = fresh;
      return fresh;
    }).finally(() => {
      slot.connecting = undefined;
    });
    return slot.connecting;
  }

  async function run<R extends object>(active: Session, sql: string, values: readonly unknown[]): Promise<R[]> {
    if (!active.alive) throw unavailable(new Error('the coordination connection was lost'));
    try {
      return (await active.q.query<R>(sql, values)).rows;
    } catch (error) {
      throw unavailable(error);
    }
  }

  /** Every serving process holds INSTANCES shared; one that can take it exclusively is alone on the database. */
  async function takeShared(active: Session): Promise<void> {
    await acquire(active, INSTANCES, 'pg_try_advisory_lock_shared');
  }

  async function acquire(active: Session, key: string, lockFunction = 'pg_try_advisory_lock'): Promise<void> {
    let wait = FIRST_RETRY_MS;
    for (;;) {
      const [row] = await run<{ granted: boolean }>(active, `SELECT ${lockFunction}(hashtextextended($1, 0)) AS granted`, [key]);
      if (row?.granted) return;
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, LONGEST_RETRY_MS);
    }
  }

  return {
    exclusive: (keys, work) => lock.runAll(keys, async () => {
      const held: { key: string; session: Session }[] = [];
      try {
        for (const key of [...new Set(keys)].sort()) {
          const session = await current(sessionOf(key));
          await acquire(session, key);
          held.push({ key, session });
        }
        return await work();
      } finally {
        // A lost session has released its locks already; an unlock that fails means it is lost.
        for (const { key, session } of held.reverse()) {
          if (session.alive) await run(session, 'SELECT pg_advisory_unlock(hashtextextended($1, 0))', [key]).catch(() => undefined);
        }
      }
    }),
    async leads(role) {
      const active = await current();
      if (active.leading.has(role)) return true;
      const [row] = await run<{ granted: boolean }>(active, 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS granted', [`leader:${role}`]);
      if (!row?.granted || !active.alive) return false;
      active.leading.add(role);
      return true;
    },
    async join(recover) {
      const active = await current();
      const [alone] = await run<{ granted: boolean }>(active, 'SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS granted', [INSTANCES]);
      // Shared while this session lives (the same session may hold both): a process starting later is not alone.
      await takeShared(active);
      joined = true;
      if (!alone?.granted) return false;
      try {
        await recover();
        return true;
      } finally {
        if (active.alive) await run(active, 'SELECT pg_advisory_unlock(hashtextextended($1, 0))', [INSTANCES]).catch(() => undefined);
      }
    },
    async close() {
      closed = true;
      await Promise.all(slots.map(async (slot) => {
        const open = slot.session ?? await slot.connecting?.catch(() => undefined);
        slot.session = undefined;
        if (open) {
          open.alive = false;
          await open.client.end().catch(() => undefined);
        }
      }));
    },
  };
}
