/**
 * Ingestion: one batch of records in, atomically. The input is streamed through the readers, the worker pool
 * (validate, index, seal) and into a BatchWriter; if any row is invalid the batch is aborted and nothing of it is
 * stored. The same content ingested again is a no-op. This is the library function the CLI and the HTTP ingest
 * endpoint share.
 *
 * Every batch, stored or duplicate, gets an audit entry before the receipt is returned; if the entry cannot be
 * written the caller gets an error, and a stored batch left without its entry (a crash in between) gets it from
 * `auditUnloggedBatches` at the next start.
 */
import type { BlindIndexKey } from '../crypto/index.js';
import type { AuditLog } from '../audit/index.js';
import { contentHasher } from '../crypto/index.js';
import type { DatasetRegistry } from '../datasets/registry.js';
import { GatewayError, InvalidRowsError } from '../errors/index.js';
import type { RowError } from '../errors/index.js';
import type { DataKeyring } from '../keys/index.js';
import type { Correction } from '../objections/index.js';
import type { BatchTransaction, BatchWriter, Store } from '../store/index.js';
import { readChunks } from './readers.js';
import { unpackRows } from './rowProcessor.js';
import type { InputFormat, ProcessedChunk } from './types.js';
import { createWorkerPool } from './workerPool.js';

/** Row errors reported in full; the rest are counted. */
export const MAX_REPORTED_ROW_ERRORS = 100;
const CHUNK_ROWS = 1000;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export interface IngestRequest {
  readonly dataset: string;
  readonly format: InputFormat;
  readonly input: AsyncIterable<Uint8Array>;
  /** Who sent the batch (a source participant, or the operator). */
  readonly source: string;
  /** The date the records describe; defaults to today in Asia/Shanghai. */
  readonly asOf?: string | undefined;
  /** A caller-chosen batch id; defaults to one derived from the dataset and content hash. */
  readonly batchId?: string | undefined;
  /** SHA-256 of the input when the caller already knows it (a file hashed up front): a repeat returns at once. */
  readonly expectedContentHash?: string | undefined;
  readonly onProgress?: ((rowsRead: number) => void) | undefined;
  /** SHA-256 of the signed request that carried the batch, for the audit entry. */
  readonly requestSha256?: string | undefined;
  /** The objection this batch corrects (docs/objections.md): resolved in the batch's own transaction. */
  readonly objectionId?: string | undefined;
}

/** What the caller keeps for reconciliation; no record values. */
export interface IngestReceipt {
  readonly outcome: 'stored' | 'duplicate';
  readonly batchId: string;
  readonly dataset: string;
  readonly source: string;
  readonly format: string;
  readonly rowCount: number;
  readonly contentHash: string;
  readonly asOf: string;
  readonly receivedAt: string;
  /** The batch's entry in the audit log. */
  readonly auditIndex: number;
}

export interface IngestorDependencies {
  readonly store: Store;
  readonly registry: DatasetRegistry;
  readonly keyring: DataKeyring;
  readonly blindIndexKey: BlindIndexKey;
  readonly workers: number;
  readonly maxRecordBytes: number;
  readonly audit: AuditLog;
  readonly now?: () => Date;
  /** Called after each committed batch, stored or duplicate (metrics). */
  readonly onBatch?: (receipt: IngestReceipt) => void;
  /**
   * Runs inside a stored batch's transaction, after its records are applied (risk monitoring writes its alerts
   * there, so they commit with the data or not at all). A throw aborts the batch.
   */
  readonly beforeCommit?: ((transaction: BatchTransaction, dataset: string) => Promise<void>) | undefined;
  /**
   * Runs inside a correcting batch's transaction, before beforeCommit (so alerts it raises see the objection closed);
   * a throw aborts the batch.
   */
  readonly correctObjection?: ((transaction: BatchTransaction, correction: Correction) => Promise<void>) | undefined;
}

export interface Ingestor {
  ingest(request: IngestRequest): Promise<IngestReceipt>;
  close(): Promise<void>;
}

const shanghaiDate = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit' });

/** Today's date where the records come from (YYYY-MM-DD), the default as-of date. */
export function todayInShanghai(now: Date = new Date()): string {
  return shanghaiDate.format(now);
}

function checkAsOf(asOf: string, today: string): string {
  const valid = DATE.test(asOf) && new Date(`${asOf}T00:00:00Z`).toISOString().startsWith(asOf);
  if (!valid) throw new GatewayError('invalid_argument', `as-of date must be a real date YYYY-MM-DD, got "${asOf.slice(0, 20)}"`);
  if (asOf > today) throw new GatewayError('invalid_argument', `as-of date ${asOf} is in the future`);
  return asOf;
}

const BATCH_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;

type CommittedBatch = Omit<IngestReceipt, 'outcome' | 'auditIndex'>;

/** The audit entry of a batch: what was stored, from whom, never a value. */
function batchEvent(outcome: IngestReceipt['outcome'], batch: CommittedBatch, extra: { requestSha256?: string | undefined; recovered?: boolean; objectionId?: string | undefined }) {
  return {
    kind: 'ingest.batch' as const,
    actor: batch.source,
    details: {
      outcome,
      batch_id: batch.batchId,
      dataset: batch.dataset,
      format: batch.format,
      row_count: batch.rowCount,
      content_sha256: batch.contentHash,
      as_of: batch.asOf,
      received_at: batch.receivedAt,
      ...(extra.requestSha256 ? { request_sha256: extra.requestSha256 } : {}),
      ...(extra.recovered ? { recovered: true } : {}),
      ...(extra.objectionId ? { objection_id: extra.objectionId } : {}),
    },
  };
}

/** Gives every committed batch still without an audit entry its entry (after a crash between the two). */
export async function auditUnloggedBatches(store: Store, audit: AuditLog): Promise<number> {
  const unlogged = await store.unauditedBatches();
  for (const batch of unlogged) {
    const appended = await audit.append(batchEvent('stored', batch, { recovered: true }));
    await store.markBatchAudited(batch.batchId, appended.index);
  }
  return unlogged.length;
}

/** Keeps the first errors in row order and counts invalid rows. */
class RowErrorLog {
  readonly errors: RowError[] = [];
  invalidRows = 0;

  addRow(errors: readonly RowError[]): void {
    this.invalidRows++;
    for (const error of errors) if (this.errors.length < MAX_REPORTED_ROW_ERRORS) this.errors.push(error);
  }

  addChunk(chunk: ProcessedChunk): void {
    this.invalidRows += chunk.invalidRows;
    for (const error of chunk.errors) if (this.errors.length < MAX_REPORTED_ROW_ERRORS) this.errors.push(error);
  }
}

export function createIngestor(deps: IngestorDependencies): Ingestor {
  const pool = createWorkerPool(deps.workers);
  const now = deps.now ?? (() => new Date());
  // One batch at a time: SQLite has one writer, and the pool serves one batch.
  let queue: Promise<unknown> = Promise.resolve();
  /**
   * A stored batch may be waiting for its audit entry (the append failed after the commit, in this process or in one
   * that stopped since): each process's first ingestion, and the next one after such a failure, writes those entries.
   */
  let entriesPending = true;

  async function ingestOne(request: IngestRequest): Promise<IngestReceipt> {
    if (entriesPending) {
      await auditUnloggedBatches(deps.store, deps.audit);
      entriesPending = false;
    }
    const dataset = deps.registry.get(request.dataset);
    const receivedAt = now();
    const asOf = checkAsOf(request.asOf ?? todayInShanghai(receivedAt), todayInShanghai(receivedAt));
    if (request.batchId !== undefined && !BATCH_ID.test(request.batchId)) {
      throw new GatewayError('invalid_argument', 'batch id must be 1-128 characters of letters, digits and ._:-');
    }
    if (request.expectedContentHash) {
      const known = await deps.store.findBatch(dataset.id, request.expectedContentHash);
      if (known && (request.batchId === undefined || request.batchId === known.batchId)) return receiptOf('duplicate', known, request);
    }

    const hasher = contentHasher();
    const writer: BatchWriter = await deps.store.beginBatch(dataset.id);
    const errors = new RowErrorLog();
    const dataKey = deps.keyring.current();
    let rowCount = 0;
    const naturalKey = dataset.naturalKey.join(', ');
    try {
      const chunks = readChunks(request.input, request.format, dataset, {
        maxRecordBytes: deps.maxRecordBytes,
        maxRows: deps.store.maxBatchRows,
        chunkRows: CHUNK_ROWS,
      }, hasher);
      // Chunks arrive in order; each is written as one call, after the one before it. The first failure stops the
      // writes and is thrown once the pool is done.
      let written: Promise<void> = Promise.resolve();
      let writeFailure: { error: unknown } | undefined;
      await pool.run(
        { dataset: dataset.id, recordIdBase: writer.recordId(1) - 1, dataKey: { id: dataKey.id, aead: dataKey.aead, secret: dataKey.secret }, blindIndexKey: deps.blindIndexKey },
        chunks,
        (chunk) => {
          errors.addChunk(chunk);
          const rows = [...unpackRows(chunk.packed)];
          written = written.then(async () => {
            if (writeFailure) return;
            const earlier = await writer.add(rows);
            rows.forEach((row, offset) => {
              const first = earlier[offset];
              if (first !== undefined) errors.addRow([{ row: row.rowNumber, reason: `repeats the natural key (${naturalKey}) of row ${first}` }]);
            });
            rowCount = chunk.firstRow + chunk.rowCount - 1;
            request.onProgress?.(rowCount);
          }).catch((error: unknown) => {
            writeFailure ??= { error };
          });
        },
      );
      await written;
      if (writeFailure) throw writeFailure.error;
      if (errors.invalidRows > 0) {
        throw new InvalidRowsError([...errors.errors].sort((a, b) => a.row - b.row), errors.invalidRows);
      }
      const contentHash = hasher.digest('hex');
      if (request.expectedContentHash && request.expectedContentHash !== contentHash) {
        throw new GatewayError('malformed_input', 'the input changed while it was read');
      }
      const batchId = request.batchId ?? `${dataset.id}-${contentHash.slice(0, 24)}`;
      const { objectionId } = request;
      if (objectionId !== undefined && !deps.correctObjection) throw new GatewayError('internal_error', 'this ingestor cannot correct objections');
      const result = await writer.commit({
        batchId,
        dataset: dataset.id,
        source: request.source,
        contentHash,
        format: request.format,
        rowCount,
        asOf,
        receivedAt: receivedAt.toISOString(),
      }, async (transaction) => {
        if (objectionId !== undefined) {
          await deps.correctObjection?.(transaction, { objectionId, dataset: dataset.id, source: request.source, batchId, at: receivedAt.toISOString() });
        }
        await deps.beforeCommit?.(transaction, dataset.id);
      });
      return await receiptOf(result.outcome, result.batch, request);
    } catch (error) {
      await writer.abort();
      throw error;
    }
  }

  async function receiptOf(outcome: IngestReceipt['outcome'], batch: CommittedBatch, request: IngestRequest): Promise<IngestReceipt> {
    let appended;
    try {
      appended = await deps.audit.append(batchEvent(outcome, batch, { requestSha256: request.requestSha256, objectionId: request.objectionId }));
    } catch (error) {
      if (outcome !== 'stored' || !(error instanceof GatewayError)) throw error;
      // The batch is committed: saying "not done" would be untrue. Its entry follows (auditUnloggedBatches).
      entriesPending = true;
      throw new GatewayError('audit_entry_pending',
        `the batch ${batch.batchId} was stored (${batch.rowCount} rows), but its audit entry could not be written yet (${error.message}); `
        + 'it is written by the next ingestion or at the next start. Sending the batch again is safe: it is recognised as stored',
        { cause: error, details: { batch_id: batch.batchId, stored: true, row_count: batch.rowCount, content_sha256: batch.contentHash } });
    }
    if (outcome === 'stored') await deps.store.markBatchAudited(batch.batchId, appended.index);
    const receipt: IngestReceipt = {
      outcome, batchId: batch.batchId, dataset: batch.dataset, source: batch.source, format: batch.format, rowCount: batch.rowCount,
      contentHash: batch.contentHash, asOf: batch.asOf, receivedAt: batch.receivedAt, auditIndex: appended.index,
    };
    deps.onBatch?.(receipt);
    return receipt;
  }

  return {
    ingest(request) {
      const run = queue.then(() => ingestOne(request));
      queue = run.catch(() => undefined);
      return run;
    },
    close: () => pool.close(),
  };
}
