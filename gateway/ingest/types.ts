/** Shapes shared by the ingestion reader, the worker threads and the ingestor. */
import type { AeadName, BlindIndexKey } from '../crypto/index.js';

export type InputFormat = 'csv' | 'ndjson' | 'json';

export const inputFormats: readonly InputFormat[] = ['csv', 'ndjson', 'json'];

/**
 * Raw rows on their way to a worker: CSV cells (columns say which field each cell holds), or the JSON text of one
 * record each.
 */
export type RawChunk =
  | { readonly kind: 'cells'; readonly firstRow: number; readonly columns: readonly string[]; readonly rows: string[][] }
  | { readonly kind: 'json'; readonly firstRow: number; readonly rows: string[] };

/** What the workers need to know about the batch in hand. */
export interface BatchSetup {
  readonly dataset: string;
  /** record id = recordIdBase + row number. */
  readonly recordIdBase: number;
  readonly dataKey: { readonly id: number; readonly aead: AeadName; readonly secret: Uint8Array };
  readonly blindIndexKey: BlindIndexKey;
}

/**
 * A processed chunk. Valid rows are packed into one transferable buffer: for each row, row number (u32),
 * sealed length (u32), key index (16), subject index (16), sealed bytes.
 */
export interface ProcessedChunk {
  readonly firstRow: number;
  readonly rowCount: number;
  readonly packed: ArrayBuffer;
  readonly validRows: number;
  readonly errors: ReadonlyArray<{ row: number; field?: string; reason: string }>;
  /** Rows with at least one error. */
  readonly invalidRows: number;
}

export const INDEX_BYTES = 16;
