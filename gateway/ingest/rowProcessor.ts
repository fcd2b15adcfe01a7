/**
 * Turns raw rows into sealed records: build the object, validate and normalise it against the dataset schema,
 * compute its blind indexes, seal it. Runs inside the ingestion worker threads; pure apart from random nonces.
 */
import { createBlindIndexer, randomNonces, recordAssociatedData, sealRecord, NONCE_BYTES } from '../crypto/index.js';
import type { BlindIndexer, DataKey } from '../crypto/index.js';
import type { DatasetDefinition, DatasetId, DatasetRegistry } from '../datasets/registry.js';
import type { RowError } from '../errors/index.js';
import { parseJsonObject } from '../json/index.js';
import { INDEX_BYTES } from './types.js';
import type { BatchSetup, ProcessedChunk, RawChunk } from './types.js';

export interface RowProcessor {
  process(chunk: RawChunk): ProcessedChunk;
}

function cellsToObject(cells: string[], columns: readonly string[], rowNumber: number, errors: RowError[]): Record<string, unknown> | undefined {
  if (cells.length !== columns.length) {
    errors.push({ row: rowNumber, reason: `has ${cells.length} columns, the header has ${columns.length}` });
    return undefined;
  }
  const record: Record<string, unknown> = {};
  for (let i = 0; i < cells.length; i++) {
    // An empty cell is an absent field, so optional fields can be left blank.
    if (cells[i] !== '') record[columns[i]!] = cells[i];
  }
  return record;
}

function jsonToObject(text: string, rowNumber: number, errors: RowError[]): Record<string, unknown> | undefined {
  // A repeated field is refused rather than resolved: the source meant one of the two values, and which is unknown.
  const parsed = parseJsonObject(text);
  if (!parsed.ok) {
    errors.push({ row: rowNumber, reason: parsed.reason });
    return undefined;
  }
  return parsed.value;
}

export function createRowProcessor(registry: DatasetRegistry, setup: BatchSetup): RowProcessor {
  const dataset: DatasetDefinition = registry.get(setup.dataset);
  const datasetId: DatasetId = dataset.id;
  const indexer: BlindIndexer = createBlindIndexer(setup.blindIndexKey);
  const key: DataKey = { id: setup.dataKey.id, aead: setup.dataKey.aead, secret: Buffer.from(setup.dataKey.secret) };
  const subjectRule = dataset.subject;
  let lastSubject = '';
  let lastSubjectIndex: Buffer = Buffer.alloc(0);
  // A row whose subject identifier is an added field it lacks names no credit subject: stored, found by nobody. No
  // identifier has this type, so no lookup ever computes this index.
  const unlinked = indexer.subject({ idType: 'unlinked', idNumber: '' });

  /** The natural key, or the catalog key when the row lacks an added key field (docs/data-catalog.md). */
  const keyIndex = (record: Record<string, unknown>): Buffer => {
    const full = dataset.naturalKey.every((field) => record[field] !== undefined);
    if (full || !dataset.catalogKey) return indexer.naturalKey(datasetId, dataset.naturalKey.map((field) => String(record[field])));
    // Another key space than the full key's, so that the two kinds of key never collide.
    return indexer.naturalKey(`${datasetId}/catalog_key`, dataset.catalogKey.map((field) => String(record[field])));
  };

  const subjectIndex = (record: Record<string, unknown>): Buffer => {
    if (record[subjectRule.idNumberField] === undefined) return unlinked;
    const idType = 'idType' in subjectRule ? subjectRule.idType : String(record[subjectRule.idTypeField]);
    const idNumber = String(record[subjectRule.idNumberField]);
    // Rows of one subject arrive together (24 months of contributions, say): reuse the last HMAC.
    const cacheKey = `${idType}\u001f${idNumber}`;
    if (cacheKey !== lastSubject) {
      lastSubject = cacheKey;
      lastSubjectIndex = indexer.subject({ idType, idNumber });
    }
    return lastSubjectIndex;
  };

  return {
    process(chunk) {
      const errors: RowError[] = [];
      const sealedRows: Array<{ row: number; keyIndex: Buffer; subjectIndex: Buffer; sealed: Buffer }> = [];
      const nonces = randomNonces(chunk.rows.length);
      let invalidRows = 0;
      for (let i = 0; i < chunk.rows.length; i++) {
        const rowNumber = chunk.firstRow + i;
        const errorsBefore = errors.length;
        const record = chunk.kind === 'cells'
          ? cellsToObject(chunk.rows[i]!, chunk.columns, rowNumber, errors)
          : jsonToObject(chunk.rows[i]!, rowNumber, errors);
        if (record) errors.push(...registry.validate(datasetId, record, rowNumber));
        if (errors.length > errorsBefore || !record) {
          invalidRows++;
          continue;
        }
        const recordId = setup.recordIdBase + rowNumber;
        const plaintext = Buffer.from(JSON.stringify(record), 'utf8');
        sealedRows.push({
          row: rowNumber,
          keyIndex: keyIndex(record),
          subjectIndex: subjectIndex(record),
          sealed: sealRecord(key, recordAssociatedData(datasetId, recordId), plaintext, nonces.subarray(i * NONCE_BYTES, (i + 1) * NONCE_BYTES)),
        });
      }
      let size = 0;
      for (const row of sealedRows) size += 8 + 2 * INDEX_BYTES + row.sealed.length;
      // Buffer.alloc never hands out a slice of the shared pool, so its whole ArrayBuffer can be transferred.
      const packed = Buffer.alloc(size);
      let offset = 0;
      for (const row of sealedRows) {
        offset = packed.writeUInt32BE(row.row, offset);
        offset = packed.writeUInt32BE(row.sealed.length, offset);
        offset += row.keyIndex.copy(packed, offset);
        offset += row.subjectIndex.copy(packed, offset);
        offset += row.sealed.copy(packed, offset);
      }
      return {
        firstRow: chunk.firstRow,
        rowCount: chunk.rows.length,
        packed: packed.buffer as ArrayBuffer,
        validRows: sealedRows.length,
        errors,
        invalidRows,
      };
    },
  };
}

/** Reads the packed rows of a processed chunk back as views (no copies). */
export function* unpackRows(packed: ArrayBuffer): Generator<{ rowNumber: number; keyIndex: Uint8Array; subjectIndex: Uint8Array; sealed: Uint8Array }> {
  const view = Buffer.from(packed);
  let offset = 0;
  while (offset < view.length) {
    const rowNumber = view.readUInt32BE(offset);
    const sealedLength = view.readUInt32BE(offset + 4);
    offset += 8;
    const keyIndex = view.subarray(offset, offset + INDEX_BYTES);
    offset += INDEX_BYTES;
    const subjectIndex = view.subarray(offset, offset + INDEX_BYTES);
    offset += INDEX_BYTES;
    const sealed = view.subarray(offset, offset + sealedLength);
    offset += sealedLength;
    yield { rowNumber, keyIndex, subjectIndex, sealed };
  }
}
