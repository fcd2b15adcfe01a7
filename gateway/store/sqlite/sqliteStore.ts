/**
 * The embedded SQLite engine (better-sqlite3, WAL, synchronous=FULL). Reads and small writes share one
 * connection; each batch writes through a connection of its own, so its transaction never swallows the statements
 * of anything else running in the process. A batch's rows are staged outside gateway.sqlite while they arrive and
 * copied in when it commits, so that it holds the database's write lock only for its commit.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import { GatewayError } from '../../errors/index.js';
import { migrationsDir } from '../../paths.js';
import { isBusy, isDatabaseDamage, isStorageFull } from './errors.js';
import { batchTransaction, monitorStore } from './sqliteMonitorStore.js';
import { reportStore } from './sqliteReportStore.js';
import { scorecardStore } from './sqliteScorecardStore.js';
import { enrolmentStore } from './sqliteEnrolmentStore.js';
import { uplinkBatchTransaction, uplinkStore } from './sqliteUplinkStore.js';
import { retentionStore } from './sqliteRetentionStore.js';
import { factsStore } from './sqliteFactsStore.js';
import { createKeyedLock } from '../keyedLock.js';
import { createSerial, LOCK_WAIT_MS, whenUnlocked, type Synchronous } from './serial.js';
import type {
  BatchMetadata, BatchTransaction, BatchWriter, CommitResult, Coordination, ConsentStore, IdentityStore, MonitorStore, ParticipantRecord, ParticipantRole, ParticipantStatus,
  ReconciledConsentUse, SealedRecord, SealedRow, StoredRecord, Store, WrappedDataKey } from '../store.js';
import type { ReportStore } from '../reportStore.js';
import type { ScorecardStore } from '../scorecardStore.js';
import type { EnrolmentStore } from '../enrolmentStore.js';
import type { UplinkStore } from '../uplinkStore.js';
import type { RetentionStore } from '../retentionStore.js';
import type { FactsStore } from '../factsStore.js';
import { toConsent } from '../rows/consents.js';
import type { ConsentRow } from '../rows/consents.js';
import { toBatch } from '../rows/batches.js';
import type { BatchRow } from '../rows/batches.js';

const ROWS_PER_BATCH = 2 ** 24;
/** A batch's staging database is `<database file>.batch-<batch number>`, beside it, on the same disk. */
const STAGING_INFIX = '.batch-';
/** A staging file SQLite cannot read yet and younger than this may be a batch's being created: it is not removed. */
const FRESH_STAGING_MS = 60_000;

export interface SqliteStoreOptions {
  /** Database file; ':memory:' is not supported because batches use a second connection. */
  readonly file: string;
}

const BATCH_COLUMNS = `b.batch_id, d.dataset, b.source, b.content_hash, b.format, b.row_count, b.as_of, b.received_at
  FROM batches b JOIN datasets d ON d.dataset_no = b.dataset_no`;

/**
 * Creates the database file 0600 (in a 0700 directory) before SQLite opens it: SQLite would create it with the
 * umask's mode, and gives its -wal and -shm files the mode of the database file.
 */
export function createPrivateDatabaseFile(file: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  fs.closeSync(fs.openSync(file, 'a', 0o600));
}

export function connect(file: string): SqliteDatabase {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  // SQLite's own wait, synchronous: for what runs as a database opens (migrations), and for the audit log, whose one
  // connection no other in the process contends with. The gateway store's connections then wait on a timer instead
  // (busy_timeout 0, serial.ts): a lock held in this process is released only if the event loop runs.
  db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
  db.pragma('foreign_keys = ON');
  return db;
}

export function applyMigrations(db: SqliteDatabase, directory: string = migrationsDir): void {
  db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)');
  const applied = new Set(
    (db.prepare('SELECT version FROM schema_migrations').all() as { version: number }[]).map((row) => row.version),
  );
  const files = fs.readdirSync(directory).filter((file) => /^\d{4}_[a-z0-9_]+\.sql$/.test(file)).sort();
  for (const file of files) {
    const version = Number(file.slice(0, 4));
    if (applied.has(version)) continue;
    const sql = fs.readFileSync(path.join(directory, file), 'utf8');
    db.transaction(() => {
      db.exec(sql);
      db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)').run(version, file, new Date().toISOString());
    }).immediate();
  }
}

/**
 * Gives back the space a failed write left in the WAL file (frames of a transaction that was rolled back stay in it
 * until a checkpoint): the WAL is checkpointed and truncated to zero. Busy readers may prevent it; the next
 * automatic checkpoint then does it, so a failure here changes nothing.
 */
export function reclaimWal(db: SqliteDatabase): void {
  try {
    db.pragma('wal_checkpoint(TRUNCATE)');
  } catch {
    // Busy or still full: nothing was lost, the WAL is reclaimed by a later checkpoint.
  }
}

/**
 * PRAGMA quick_check: every page and index entry well-formed (O(size), without the cross-checks of integrity_check).
 * A database too damaged to run it is reported by the error SQLite gives.
 */
export function quickCheck(db: SqliteDatabase): string[] {
  try {
    const rows = db.pragma('quick_check') as { quick_check: string }[];
    return rows.map((row) => row.quick_check).filter((result) => result !== 'ok');
  } catch (error) {
    if (isDatabaseDamage(error)) return [(error as Error).message];
    throw error;
  }
}

function isUniqueViolation(error: unknown): boolean {
  return error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * A batch's connection: gateway.sqlite, with the batch's staging database attached as `staging`. Rows are staged
 * there (journal in memory, no syncs: a failed or crashed batch's staging is thrown away) and copied into `records`
 * by the commit. The connection keeps the staging file locked (locking_mode EXCLUSIVE) for the batch's life: that is
 * how a store opening the database tells a live batch's staging file from one a crash left (removeLeftoverStaging).
 */
function openBatchConnection(file: string, batchNo: number): { writer: SqliteDatabase; stagingFile: string } {
  const stagingFile = `${file}${STAGING_INFIX}${batchNo}`;
  const fd = fs.openSync(stagingFile, 'wx', 0o600);
  const created = fs.fstatSync(fd);
  fs.closeSync(fd);
  const writer = connect(file);
  try {
    writer.pragma('busy_timeout = 0');
    writer.pragma('cache_size = -65536');
    writer.prepare('ATTACH DATABASE ? AS staging').run(stagingFile);
    // 16 MiB of cache keeps its index's pages at hand; its table is appended to, each page written out once.
    for (const pragma of ['journal_mode = MEMORY', 'synchronous = OFF', 'locking_mode = EXCLUSIVE', 'cache_size = -16384']) writer.pragma(`staging.${pragma}`);
    writer.exec(`CREATE TABLE staging.staged (record_id INTEGER PRIMARY KEY, key_index BLOB NOT NULL, subject_index BLOB NOT NULL,
      sealed BLOB NOT NULL, UNIQUE (subject_index, key_index))`);
    // Locked from here on. A store opening the database may have removed the file just before: the batch stops
    // rather than fill a file nobody can find.
    const named = fs.statSync(stagingFile, { throwIfNoEntry: false });
    if (named?.ino !== created.ino || named.dev !== created.dev) {
      throw new GatewayError('storage_unavailable', `the staging file of a batch (${stagingFile}) was removed as it was created: send the batch again`);
    }
    return { writer, stagingFile };
  } catch (error) {
    writer.close();
    fs.rmSync(stagingFile, { force: true });
    throw error;
  }
}

/**
 * Removes the staging files of batches a crash interrupted. A file whose lock cannot be taken belongs to a batch still
 * running (in this process or another) and stays; one that can is removed while locked, so that a batch creating it
 * at that moment finds it gone (openBatchConnection).
 */
function removeLeftoverStaging(file: string): void {
  const directory = path.dirname(file);
  const prefix = `${path.basename(file)}${STAGING_INFIX}`;
  for (const name of fs.readdirSync(directory).filter((entry) => entry.startsWith(prefix))) {
    const stagingFile = path.join(directory, name);
    let probe: SqliteDatabase;
    try {
      probe = new Database(stagingFile, { fileMustExist: true, timeout: 0 });
    } catch (error) {
      // Removed meanwhile, by its batch as it ended or by another store opening.
      if (!fs.existsSync(stagingFile)) continue;
      throw error;
    }
    try {
      probe.exec('BEGIN IMMEDIATE');
    } catch (error) {
      // Busy: a batch holds it. Anything else: SQLite cannot read it — a crash left it torn, or a batch is creating it
      // this moment; a fresh one stays for a later open (the crash test once found a live batch's file gone under load).
      if (isBusy(error) || Date.now() - fs.statSync(stagingFile).mtimeMs < FRESH_STAGING_MS) {
        probe.close();
        continue;
      }
    }
    fs.rmSync(stagingFile, { force: true });
    probe.close();
  }
}

export function openSqliteStore(options: SqliteStoreOptions): Store {
  createPrivateDatabaseFile(options.file);
  const db = connect(options.file);
  applyMigrations(db);
  removeLeftoverStaging(options.file);
  // From here on, waits for the write lock are asynchronous (serial.ts).
  db.pragma('busy_timeout = 0');
  // Verifications read a subject's records at random across the whole store: a 64 MiB page cache and memory-mapped
  // reads keep those lookups off the read() system call (the SQLite default cache is 2 MiB).
  db.pragma('cache_size = -65536');
  db.pragma('mmap_size = 268435456');

  const datasetNumbers = new Map<string, number>();
  /**
   * The number of a dataset already stored, for reads. A read never writes: while a batch holds the write lock,
   * a write here would wait for it (another connection's, or this one's batch).
   */
  const storedDatasetNo = (dataset: string): number | undefined => {
    let found = datasetNumbers.get(dataset);
    if (found === undefined) {
      found = (db.prepare('SELECT dataset_no FROM datasets WHERE dataset = ?').get(dataset) as { dataset_no: number } | undefined)?.dataset_no;
      if (found !== undefined) datasetNumbers.set(dataset, found);
    }
    return found;
  };
  /** The number of a dataset, stored first if it is new (a batch is about to write to it). */
  const datasetNo = (dataset: string): number => {
    const stored = storedDatasetNo(dataset);
    if (stored !== undefined) return stored;
    db.prepare('INSERT OR IGNORE INTO datasets (dataset) VALUES (?)').run(dataset);
    return storedDatasetNo(dataset) as number;
  };

  const statements = {
    batchByContent: db.prepare(`SELECT ${BATCH_COLUMNS} WHERE d.dataset = ? AND b.content_hash = ?`),
    batchById: db.prepare(`SELECT ${BATCH_COLUMNS} WHERE b.batch_id = ?`),
    listBatches: db.prepare(`SELECT b.audit_index, ${BATCH_COLUMNS} ORDER BY b.batch_no DESC LIMIT ?`),
    allocateBatchNo: db.prepare('INSERT INTO batch_numbers DEFAULT VALUES'),
    bySubject: db.prepare(`
      SELECT r.record_id, d.dataset, r.sealed, b.batch_id, b.source, b.as_of, b.received_at, sb.batch_id AS superseded_by
      FROM records r
      JOIN datasets d ON d.dataset_no = r.dataset_no
      JOIN batches b ON b.batch_no = r.batch_no
      LEFT JOIN batches sb ON sb.batch_no = r.superseded_by
      WHERE r.dataset_no = ? AND r.subject_index = ? AND (? OR r.superseded_by IS NULL)
      ORDER BY r.superseded_by IS NOT NULL, r.record_id`),
    countAll: db.prepare('SELECT count(*) AS n FROM records'),
    countDataset: db.prepare('SELECT count(*) AS n FROM records WHERE dataset_no = ?'),
    listKeys: db.prepare('SELECT key_id, wrapped, created_at FROM data_keys ORDER BY key_id'),
    // A destroyed key's id is never reused: a record sealed under it, surviving somewhere, must not open under another.
    nextKeyId: db.prepare(`SELECT max(coalesce((SELECT max(key_id) FROM data_keys), 0), coalesce((SELECT max(key_id) FROM destroyed_data_keys), 0)) + 1 AS id`),
    insertKey: db.prepare('INSERT INTO data_keys (key_id, wrapped, created_at) VALUES (?, ?, ?)'),
    scanSealed: db.prepare(`
      SELECT r.record_id, d.dataset, r.sealed FROM records r JOIN datasets d ON d.dataset_no = r.dataset_no
      WHERE r.record_id > ? ORDER BY r.record_id LIMIT ?`),
    replaceSealed: db.prepare('UPDATE records SET sealed = ? WHERE record_id = ?'),
    markAudited: db.prepare('UPDATE batches SET audit_index = ? WHERE batch_id = ?'),
    unaudited: db.prepare(`SELECT ${BATCH_COLUMNS} WHERE b.audit_index IS NULL ORDER BY b.batch_no`),
    recordKeyFingerprints: db.prepare('INSERT OR IGNORE INTO key_fingerprints (id, fingerprints, recorded_at) VALUES (1, ?, ?)'),
    keyFingerprints: db.prepare('SELECT fingerprints FROM key_fingerprints WHERE id = 1'),
  };

  function beginBatch(dataset: string): BatchWriter {
    const dsNo = datasetNo(dataset);
    const batchNo = Number(statements.allocateBatchNo.run().lastInsertRowid);
    const firstId = batchNo * ROWS_PER_BATCH;
    const lastId = firstId + ROWS_PER_BATCH - 1;
    const { writer, stagingFile } = openBatchConnection(options.file, batchNo);
    const recordId = (rowNumber: number): number => {
      if (!Number.isInteger(rowNumber) || rowNumber < 1 || rowNumber >= ROWS_PER_BATCH) {
        throw new GatewayError('too_many_rows', `a batch holds at most ${ROWS_PER_BATCH - 1} rows`);
      }
      return firstId + rowNumber;
    };
    const insert = writer.prepare(`INSERT INTO staging.staged (record_id, key_index, subject_index, sealed) VALUES (?, ?, ?, ?)
      ON CONFLICT (subject_index, key_index) DO NOTHING`);
    const earlier = writer.prepare('SELECT record_id FROM staging.staged WHERE subject_index = ? AND key_index = ?').pluck();
    /**
     * Ends the batch's connection, once, and removes its staging file (still locked, so that no other store takes it
     * for a crash's). After a failed statement SQLite may already have rolled the transaction back (it does on
     * SQLITE_FULL), so ROLLBACK only if one is still open; after a failure the WAL is given back.
     */
    const finish = (failed: boolean) => {
      if (!writer.open) return;
      if (writer.inTransaction) writer.exec('ROLLBACK');
      if (failed) reclaimWal(writer);
      fs.rmSync(stagingFile, { force: true });
      writer.close();
    };
    /** SQLITE_FULL is the disk: said plainly, with what it means for the batch. */
    const storageError = (error: unknown): unknown => (isStorageFull(error)
      ? new GatewayError('storage_full', `the disk holding ${options.file} is full: the batch was not stored (nothing of it was kept); free space and send it again`, { cause: error })
      : error);
    return {
      recordId,
      async add(records: readonly SealedRecord[]) {
        try {
          // One transaction for all the batch's rows, open across adds: it writes the staging database only, so
          // gateway.sqlite stays unlocked while rows arrive, and the staged pages are written out once, at commit.
          if (!writer.inTransaction) writer.exec('BEGIN');
          return records.map((record) => {
            if (insert.run(recordId(record.rowNumber), record.keyIndex, record.subjectIndex, record.sealed).changes === 1) return undefined;
            return (earlier.get(record.subjectIndex, record.keyIndex) as number) - firstId;
          });
        } catch (error) {
          // The batch is over: what it staged may be rolled back already (SQLITE_FULL), and is never committed.
          finish(true);
          throw storageError(error);
        }
      },
      async commit(metadata: BatchMetadata, beforeCommit?: (transaction: BatchTransaction) => Promise<void>): Promise<CommitResult> {
        try {
          if (writer.inTransaction) writer.exec('COMMIT');
          await whenUnlocked(() => {
            // Everything committed is copied into the database file first, so that should this batch fail on a full
            // disk, the WAL holds only its frames, and truncating it (finish) needs no space the disk no longer has.
            reclaimWal(writer);
            writer.exec('BEGIN IMMEDIATE');
          });
          const sameContent = writer.prepare(`SELECT ${BATCH_COLUMNS} WHERE d.dataset = ? AND b.content_hash = ?`)
            .get(metadata.dataset, metadata.contentHash) as BatchRow | undefined;
          const sameId = writer.prepare(`SELECT ${BATCH_COLUMNS} WHERE b.batch_id = ?`).get(metadata.batchId) as BatchRow | undefined;
          if (sameId && (sameId.content_hash !== metadata.contentHash || sameId.dataset !== metadata.dataset)) {
            throw new GatewayError('batch_id_conflict', `batch id "${metadata.batchId}" was already used for different content`);
          }
          const existing = sameContent ?? sameId;
          if (existing) {
            finish(false);
            return { outcome: 'duplicate', batch: toBatch(existing) };
          }
          writer.prepare(`INSERT INTO batches (batch_no, batch_id, dataset_no, source, content_hash, format, row_count, as_of, received_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`).run(
            batchNo, metadata.batchId, dsNo, metadata.source, metadata.contentHash, metadata.format, metadata.rowCount,
            metadata.asOf, metadata.receivedAt,
          );
          writer.prepare(`INSERT INTO main.records (record_id, dataset_no, batch_no, key_index, subject_index, sealed)
            SELECT record_id, ?, ?, key_index, subject_index, sealed FROM staging.staged ORDER BY record_id`).run(dsNo, batchNo);
          supersede(writer, dsNo, batchNo, firstId, metadata.asOf);
          // The dataset's current records changed: facts derived before are no longer served (factsStore.ts).
          writer.prepare('UPDATE datasets SET generation = generation + 1 WHERE dataset_no = ?').run(dsNo);
          // The writer's connection is this batch's alone, so awaiting here lets nothing else into its transaction;
          // other writes in the process wait for its lock on a timer (serial.ts).
          await beforeCommit?.({ ...batchTransaction(writer, firstId, lastId), ...uplinkBatchTransaction(writer, batchNo) });
          writer.exec('COMMIT');
          finish(false);
          return { outcome: 'stored', batch: { ...metadata } };
        } catch (error) {
          finish(true);
          throw storageError(error);
        }
      },
      abort: async () => finish(true),
    };
  }

  const serial = createSerial(db);
  const records: Synchronous<Omit<Store, keyof IdentityStore | keyof ConsentStore | keyof MonitorStore | keyof ReportStore | keyof ScorecardStore | keyof EnrolmentStore | keyof UplinkStore | keyof RetentionStore | keyof FactsStore | keyof Coordination | 'engine'>> = {
    maxBatchRows: ROWS_PER_BATCH - 1,
    findBatch: (dataset, contentHash) => {
      const row = statements.batchByContent.get(dataset, contentHash) as BatchRow | undefined;
      return row && toBatch(row);
    },
    findBatchById: (batchId) => {
      const row = statements.batchById.get(batchId) as BatchRow | undefined;
      return row && toBatch(row);
    },
    listBatches: (limit) => (statements.listBatches.all(limit) as (BatchRow & { audit_index: number | null })[])
      .map((row) => ({ ...toBatch(row), auditIndex: row.audit_index ?? undefined })),
    beginBatch,
    recordsBySubject(dataset, subjectIndex, { includeHistory = false } = {}) {
      const dsNo = storedDatasetNo(dataset);
      if (dsNo === undefined) return [];
      const rows = statements.bySubject.all(dsNo, subjectIndex, includeHistory ? 1 : 0) as Array<{
        record_id: number; dataset: string; sealed: Buffer; batch_id: string; source: string; as_of: string;
        received_at: string; superseded_by: string | null;
      }>;
      return rows.map((row): StoredRecord => ({
        recordId: row.record_id,
        dataset: row.dataset,
        sealed: row.sealed,
        batchId: row.batch_id,
        source: row.source,
        asOf: row.as_of,
        receivedAt: row.received_at,
        supersededBy: row.superseded_by ?? undefined,
      }));
    },
    countRecords: (dataset) => {
      if (dataset === undefined) return (statements.countAll.get() as { n: number }).n;
      const dsNo = storedDatasetNo(dataset);
      return dsNo === undefined ? 0 : (statements.countDataset.get(dsNo) as { n: number }).n;
    },
    listDataKeys: () =>
      (statements.listKeys.all() as { key_id: number; wrapped: Buffer; created_at: string }[]).map(
        (row): WrappedDataKey => ({ keyId: row.key_id, wrapped: row.wrapped, createdAt: row.created_at }),
      ),
    addDataKey: (wrap, createdAt) =>
      db.transaction(() => {
        const keyId = (statements.nextKeyId.get() as { id: number }).id;
        statements.insertKey.run(keyId, wrap(keyId), createdAt);
        return keyId;
      }).immediate(),
    scanSealed: (afterRecordId, limit) =>
      (statements.scanSealed.all(afterRecordId, limit) as { record_id: number; dataset: string; sealed: Buffer }[]).map(
        (row): SealedRow => ({ recordId: row.record_id, dataset: row.dataset, sealed: row.sealed }),
      ),
    replaceSealed: (rows) =>
      db.transaction(() => {
        for (const row of rows) statements.replaceSealed.run(row.sealed, row.recordId);
      }).immediate(),
    markBatchAudited: (batchId, auditIndex) => {
      statements.markAudited.run(auditIndex, batchId);
    },
    unauditedBatches: () => (statements.unaudited.all() as BatchRow[]).map(toBatch),
    ping: () => {
      db.prepare('SELECT 1').get();
    },
    integrityProblems: () => quickCheck(db),
    recordKeyFingerprints(candidate, at) {
      statements.recordKeyFingerprints.run(candidate, at);
      return (statements.keyFingerprints.get() as { fingerprints: string }).fingerprints;
    },
    close: () => {
      if (db.open) db.close();
    },
  };
  const monitor = monitorStore(db, serial);
  const lock = createKeyedLock();
  return {
    engine: { name: 'sqlite', location: options.file },
    // One gateway process per database file: the in-process lock orders everything, and this process leads every role.
    exclusive: (keys, work) => lock.runAll(keys, work),
    leads: async () => true,
    join: async (recover) => {
      await recover();
      return true;
    },
    ...serial.wrap(identityStore(db)),
    ...serial.wrap(consentStore(db)),
    ...serial.wrap(monitor.synchronous),
    addSubscription: monitor.addSubscription,
    ...serial.wrap(reportStore(db)),
    // Their methods do their I/O synchronously before they return: serialized like the others.
    ...serial.wrap(scorecardStore(db)),
    ...serial.wrap(enrolmentStore(db)),
    ...serial.wrap(uplinkStore(db)),
    ...serial.wrap(retentionStore(db, ROWS_PER_BATCH)),
    ...serial.wrap(factsStore(db)),
    ...serial.wrap(records),
  };
}

/**
 * Applies the batch's records to the current view of the dataset: a record whose key already has a current record
 * with a later as-of date arrived late and is history at once; otherwise it replaces the current record.
 */
function supersede(writer: SqliteDatabase, datasetNo: number, batchNo: number, firstId: number, asOf: string): void {
  const lastId = firstId + ROWS_PER_BATCH - 1;
  const hadRecords = writer.prepare('SELECT EXISTS (SELECT 1 FROM records WHERE dataset_no = ? AND record_id < ?) AS found')
    .get(datasetNo, firstId) as { found: number };
  if (!hadRecords.found) return;
  writer.prepare(`
    UPDATE records AS incoming SET superseded_by = (
      SELECT current.batch_no FROM records current JOIN batches cb ON cb.batch_no = current.batch_no
      WHERE current.dataset_no = incoming.dataset_no AND current.subject_index = incoming.subject_index
        AND current.key_index = incoming.key_index
        AND current.batch_no <> incoming.batch_no AND current.superseded_by IS NULL AND cb.as_of > ?
      ORDER BY cb.as_of DESC LIMIT 1)
    WHERE incoming.record_id BETWEEN ? AND ? AND EXISTS (
      SELECT 1 FROM records current JOIN batches cb ON cb.batch_no = current.batch_no
      WHERE current.dataset_no = incoming.dataset_no AND current.subject_index = incoming.subject_index
        AND current.key_index = incoming.key_index
        AND current.batch_no <> incoming.batch_no AND current.superseded_by IS NULL AND cb.as_of > ?)`)
    .run(asOf, firstId, lastId, asOf);
  writer.prepare(`
    UPDATE records SET superseded_by = ? WHERE record_id IN (
      SELECT old.record_id FROM records incoming
      JOIN records old ON old.dataset_no = incoming.dataset_no AND old.subject_index = incoming.subject_index
        AND old.key_index = incoming.key_index
      JOIN batches ob ON ob.batch_no = old.batch_no
      WHERE incoming.record_id BETWEEN ? AND ? AND incoming.superseded_by IS NULL
        AND old.batch_no <> ? AND old.superseded_by IS NULL AND ob.as_of <= ?)`)
    .run(batchNo, firstId, lastId, batchNo, asOf);
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
    participantId: row.participant_id,
    role: row.role,
    name: row.name,
    uscc: row.uscc ?? undefined,
    datasets: JSON.parse(row.datasets) as string[],
    status: row.status,
    certificatePem: row.certificate_pem,
    certificateSha256: row.certificate_sha256,
    notAfter: row.not_after,
    createdAt: row.created_at,
    statusChangedAt: row.status_changed_at,
  };
}

function identityStore(db: SqliteDatabase): Synchronous<IdentityStore> {
  const statements = {
    insertParticipant: db.prepare(`INSERT INTO participants (participant_id, role, name, uscc, datasets, status, certificate_pem,
      certificate_sha256, not_after, created_at, status_changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    participant: db.prepare('SELECT * FROM participants WHERE participant_id = ?'),
    enterpriseForUscc: db.prepare(`SELECT * FROM participants WHERE uscc = ? AND role = 'enterprise' AND status <> 'revoked'`),
    revokeReplaced: db.prepare(`UPDATE participants SET status = 'revoked', status_changed_at = ? WHERE participant_id = ? AND status <> 'revoked'`),
    participants: db.prepare('SELECT * FROM participants ORDER BY created_at, participant_id'),
    setStatus: db.prepare('UPDATE participants SET status = ?, status_changed_at = ? WHERE participant_id = ?'),
    rememberRequest: db.prepare('INSERT OR IGNORE INTO seen_requests (participant_id, jti, expires_at) VALUES (?, ?, ?)'),
    forgetRequests: db.prepare('DELETE FROM seen_requests WHERE expires_at < ?'),
    countRequests: db.prepare('SELECT count(*) AS n FROM seen_requests'),
    idempotent: db.prepare('SELECT request_sha256, status, body FROM idempotent_responses WHERE participant_id = ? AND idempotency_key = ?'),
    saveIdempotent: db.prepare(`INSERT OR IGNORE INTO idempotent_responses (participant_id, idempotency_key, request_sha256, status, body, created_at)
      VALUES (?, ?, ?, ?, ?, ?)`),
  };
  return {
    addParticipant(participant, replaces) {
      db.transaction(() => {
        if (replaces !== undefined && statements.revokeReplaced.run(participant.createdAt, replaces).changes !== 1) {
          throw new GatewayError('invalid_status_change', `participant "${replaces}" is not there to replace, or already revoked`);
        }
        try {
          statements.insertParticipant.run(
            participant.participantId, participant.role, participant.name, participant.uscc ?? null, JSON.stringify(participant.datasets),
            participant.status, participant.certificatePem, participant.certificateSha256, participant.notAfter, participant.createdAt,
            participant.statusChangedAt,
          );
        } catch (error) {
          if (participant.role === 'enterprise' && isUniqueViolation(error) && String((error as Error).message).includes('participants.uscc')) {
            throw new GatewayError('participant_exists', 'an enterprise participant already acts for this USCC: re-enrol with --replaces <its id>');
          }
          if (isUniqueViolation(error) || (error instanceof Database.SqliteError && error.code === 'SQLITE_CONSTRAINT_PRIMARYKEY')) {
            throw new GatewayError('participant_exists', `participant "${participant.participantId}" already exists`);
          }
          throw error;
        }
      }).immediate();
    },
    enterpriseForUscc(uscc) {
      const row = statements.enterpriseForUscc.get(uscc) as ParticipantRow | undefined;
      return row && toParticipant(row);
    },
    getParticipant(participantId) {
      const row = statements.participant.get(participantId) as ParticipantRow | undefined;
      return row && toParticipant(row);
    },
    listParticipants: () => (statements.participants.all() as ParticipantRow[]).map(toParticipant),
    setParticipantStatus(participantId, status, at) {
      statements.setStatus.run(status, at, participantId);
    },
    rememberRequests: (requests, now) =>
      db.transaction(() => {
        // Insert before forgetting: a request checked just before its entry expired must still find that entry.
        const fresh = requests.map((request) => statements.rememberRequest.run(request.participantId, request.jti, request.expiresAt).changes === 1);
        statements.forgetRequests.run(now);
        return fresh;
      }).immediate(),
    countRememberedRequests: () => (statements.countRequests.get() as { n: number }).n,
    findIdempotentResponse(participantId, key) {
      const row = statements.idempotent.get(participantId, key) as { request_sha256: string; status: number; body: string } | undefined;
      return row && { requestSha256: row.request_sha256, status: row.status, body: row.body };
    },
    saveIdempotentResponse(participantId, key, response, at) {
      statements.saveIdempotent.run(participantId, key, response.requestSha256, response.status, response.body, at);
    },
  };
}

function consentStore(db: SqliteDatabase): Synchronous<ConsentStore> {
  const statements = {
    insert: db.prepare(`INSERT INTO consents (consent_id, enterprise_id, uscc, bank_id, purpose, questions, not_before, expires_at,
      max_uses, state, replaces, artefact, artefact_sha256, granted_at, audit_index) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?, ?, ?, ?)`),
    replace: db.prepare(`UPDATE consents SET state = 'replaced', replaced_by = ?, ended_at = ? WHERE consent_id = ? AND state = 'active'`),
    get: db.prepare('SELECT * FROM consents WHERE consent_id = ?'),
    byUscc: db.prepare('SELECT * FROM consents WHERE uscc = ? AND seq > ? ORDER BY seq LIMIT ?'),
    byBank: db.prepare('SELECT * FROM consents WHERE bank_id = ? AND seq > ? ORDER BY seq LIMIT ?'),
    end: db.prepare(`UPDATE consents SET state = ?, ended_at = ? WHERE consent_id = ? AND state = 'active'`),
    use: db.prepare(`UPDATE consents SET uses = uses + ?, state = CASE WHEN max_uses IS NOT NULL AND uses + ? >= max_uses THEN 'exhausted' ELSE state END,
      ended_at = CASE WHEN max_uses IS NOT NULL AND uses + ? >= max_uses THEN ? ELSE ended_at END
      WHERE consent_id = ? AND state = 'active' AND (max_uses IS NULL OR uses + ? <= max_uses)`),
    usesLoggedThrough: db.prepare('SELECT through_index FROM consent_uses_logged WHERE id = 1'),
    addLoggedUses: db.prepare('UPDATE consents SET logged_uses = logged_uses + ? WHERE consent_id = ?'),
    divergent: db.prepare('SELECT consent_id, uses, logged_uses FROM consents WHERE uses <> logged_uses'),
    // Only the budget's own state follows the count: revoked, replaced and expired consents stay as they are.
    setUses: db.prepare(`UPDATE consents SET uses = logged_uses,
      state = CASE
        WHEN state = 'active' AND max_uses IS NOT NULL AND logged_uses >= max_uses THEN 'exhausted'
        WHEN state = 'exhausted' AND (max_uses IS NULL OR logged_uses < max_uses) THEN 'active'
        ELSE state END,
      ended_at = CASE
        WHEN state = 'active' AND max_uses IS NOT NULL AND logged_uses >= max_uses THEN ?
        WHEN state = 'exhausted' AND (max_uses IS NULL OR logged_uses < max_uses) THEN NULL
        ELSE ended_at END
      WHERE consent_id = ?`),
    setUsesLoggedThrough: db.prepare('INSERT INTO consent_uses_logged (id, through_index) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET through_index = excluded.through_index'),
  };
  return {
    addConsent: (consent, replacesActive) => db.transaction(() => {
      try {
        statements.insert.run(
          consent.consentId, consent.enterpriseId, consent.uscc, consent.bankId, consent.purpose, JSON.stringify(consent.questions),
          consent.notBefore, consent.expiresAt, consent.maxUses ?? null, consent.replaces ?? null, consent.artefact,
          consent.artefactSha256, consent.grantedAt, consent.auditIndex,
        );
      } catch (error) {
        if (isUniqueViolation(error)) throw new GatewayError('consent_duplicate', 'a consent with this id already exists');
        throw error;
      }
      if (consent.replaces !== undefined && replacesActive) {
        if (statements.replace.run(consent.consentId, consent.grantedAt, consent.replaces).changes !== 1) {
          throw new GatewayError('consent_replaces_invalid', 'the consent to replace is no longer active');
        }
      }
    }).immediate(),
    getConsent(consentId) {
      const row = statements.get.get(consentId) as ConsentRow | undefined;
      return row && toConsent(row);
    },
    listConsents(scope, afterSeq, limit) {
      const rows = ('uscc' in scope ? statements.byUscc.all(scope.uscc, afterSeq, limit) : statements.byBank.all(scope.bankId, afterSeq, limit)) as ConsentRow[];
      return rows.map(toConsent);
    },
    endConsent: (consentId, state, at) => statements.end.run(state, at, consentId).changes === 1,
    useConsents: (uses) => db.transaction(() =>
      uses.map((use) => statements.use.run(use.count, use.count, use.count, use.at, use.consentId, use.count).changes === 1)).immediate(),
    consentUsesLoggedThrough: () => (statements.usesLoggedThrough.get() as { through_index: number } | undefined)?.through_index ?? 0,
    reconcileConsentUses: (logged, throughIndex, at) => db.transaction(() => {
      for (const [consentId, count] of logged) statements.addLoggedUses.run(count, consentId);
      const divergent = statements.divergent.all() as { consent_id: string; uses: number; logged_uses: number }[];
      const reconciled = divergent.map((row): ReconciledConsentUse => {
        statements.setUses.run(at, row.consent_id);
        const after = statements.get.get(row.consent_id) as ConsentRow;
        return { consentId: row.consent_id, counted: row.uses, logged: row.logged_uses, state: after.state };
      });
      statements.setUsesLoggedThrough.run(throughIndex);
      return reconciled;
    }).immediate(),
  };
}
