/**
 * The gateway's one error type. Every failure a caller can act on has a stable snake_case `code` from a closed
 * registry, an HTTP status and a message template; the HTTP layer turns it into an RFC 9457 problem and the CLI
 * into a message and a non-zero exit. Anything that is not a GatewayError is a bug and is shown as a generic 500.
 */

export const errorRegistry = {
  invalid_configuration: { status: 500, title: 'The gateway configuration is invalid' },
  unknown_dataset: { status: 404, title: 'No such dataset' },
  unsupported_format: { status: 415, title: 'Unsupported input format' },
  invalid_encoding: { status: 400, title: 'Input is not valid UTF-8' },
  empty_input: { status: 400, title: 'Input contains no records' },
  record_too_large: { status: 413, title: 'A record exceeds the size limit' },
  too_many_rows: { status: 413, title: 'A batch exceeds the row limit' },
  malformed_input: { status: 400, title: 'Input could not be parsed' },
  invalid_header: { status: 400, title: 'The header row does not match the dataset' },
  invalid_rows: { status: 422, title: 'Some rows are invalid; nothing was stored' },
  batch_id_conflict: { status: 409, title: 'The batch id was already used for different content' },
  invalid_argument: { status: 400, title: 'Invalid argument' },
  key_material_missing: { status: 500, title: 'Key material is missing' },
  decryption_failed: { status: 500, title: 'A stored record could not be decrypted' },
  storage_unavailable: { status: 503, title: 'The store is unavailable' },
  not_found: { status: 404, title: 'Not found' },
  internal_error: { status: 500, title: 'Internal error' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorRegistry;

/** A row-level problem in an ingested batch. Never carries the offending value: records are confidential. */
export interface RowError {
  row: number;
  field?: string;
  reason: string;
}

export interface GatewayErrorOptions {
  cause?: unknown;
  /** Extra members for the problem body; must never contain record values. */
  details?: Record<string, unknown>;
}

export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, detail: string, options: GatewayErrorOptions = {}) {
    super(detail, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = errorRegistry[code].status;
    this.details = options.details;
  }

  get title(): string {
    return errorRegistry[this.code].title;
  }
}

/** A batch with invalid rows: the first rows' errors (bounded) and how many rows failed in all. */
export class InvalidRowsError extends GatewayError {
  readonly rowErrors: readonly RowError[];
  readonly invalidRowCount: number;

  constructor(rowErrors: readonly RowError[], invalidRowCount: number) {
    const shown = rowErrors.length < invalidRowCount ? ` (first ${rowErrors.length} shown)` : '';
    super('invalid_rows', `${invalidRowCount} invalid row(s)${shown}; nothing was stored`, {
      details: { errors: rowErrors, invalid_row_count: invalidRowCount },
    });
    this.name = 'InvalidRowsError';
    this.rowErrors = rowErrors;
    this.invalidRowCount = invalidRowCount;
  }
}
