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
  body_too_large: { status: 413, title: 'The request body exceeds the size limit' },
  too_many_rows: { status: 413, title: 'A batch exceeds the row limit' },
  malformed_input: { status: 400, title: 'Input could not be parsed' },
  invalid_header: { status: 400, title: 'The header row does not match the dataset' },
  invalid_rows: { status: 422, title: 'Some rows are invalid; nothing was stored' },
  batch_id_conflict: { status: 409, title: 'The batch id was already used for different content' },
  invalid_argument: { status: 400, title: 'Invalid argument' },
  key_material_missing: { status: 500, title: 'Key material is missing' },
  // Fail closed (docs/operations.md, "When the gateway refuses to start").
  key_mismatch: { status: 500, title: 'A key is not the one the data directory was used with' },
  key_permissions_unsafe: { status: 500, title: 'Key material is readable or replaceable by others' },
  database_damaged: { status: 500, title: 'A database file is damaged' },
  audit_log_inconsistent: { status: 503, title: 'The audit log does not extend the last signed checkpoint; writes are stopped' },
  storage_full: { status: 507, title: 'The disk is full' },
  audit_entry_pending: { status: 503, title: 'The action was done, but its audit entry is not written yet' },
  decryption_failed: { status: 500, title: 'A stored record could not be decrypted' },
  storage_unavailable: { status: 503, title: 'The store is unavailable' },
  report_pdf_unavailable: { status: 503, title: 'The report cannot be rendered as a PDF on this gateway' },
  not_found: { status: 404, title: 'Not found' },
  participant_exists: { status: 409, title: 'A participant with this id already exists' },
  invalid_csr: { status: 400, title: 'The certificate signing request is not acceptable' },
  // Enrolment in the portal (docs/portal.md).
  enrolment_code_invalid: { status: 422, title: 'The enrolment code is unknown, expired or already used' },
  enrolment_proof_invalid: { status: 400, title: 'The proof of possession of the new key does not verify' },
  invalid_status_change: { status: 409, title: 'The participant cannot make this status change' },
  // Request authentication (docs/request-signing.md): one code per reason a signed request is refused.
  signature_missing: { status: 401, title: 'The request is not signed' },
  signature_malformed: { status: 401, title: 'The request signature is malformed' },
  algorithm_not_allowed: { status: 401, title: 'The signature algorithm is not allowed' },
  participant_unknown: { status: 401, title: 'The signing participant is unknown' },
  participant_suspended: { status: 403, title: 'The participant is suspended' },
  participant_revoked: { status: 401, title: 'The participant is revoked' },
  certificate_unknown: { status: 401, title: 'The certificate is not the one registered for the participant' },
  certificate_untrusted: { status: 401, title: 'The certificate was not issued by the platform CA' },
  certificate_expired: { status: 401, title: 'The certificate is outside its validity period' },
  signature_invalid: { status: 401, title: 'The signature does not verify with the participant\'s certificate' },
  audience_mismatch: { status: 401, title: 'The request was signed for another audience' },
  method_mismatch: { status: 401, title: 'The request was signed for another HTTP method' },
  path_mismatch: { status: 401, title: 'The request was signed for another path' },
  body_hash_mismatch: { status: 401, title: 'The request body is not the one that was signed' },
  timestamp_out_of_range: { status: 401, title: 'The request signature is not valid at this time' },
  lifetime_too_long: { status: 401, title: 'The request signature is valid for too long' },
  request_replayed: { status: 401, title: 'The request was already received' },
  client_certificate_mismatch: { status: 401, title: 'The TLS client certificate is not the signing participant\'s' },
  role_not_allowed: { status: 403, title: 'The participant\'s role may not use this endpoint' },
  dataset_not_permitted: { status: 403, title: 'The source is not bound to this dataset' },
  idempotency_key_reused: { status: 422, title: 'The Idempotency-Key was already used for a different request' },
  idempotency_key_in_use: { status: 409, title: 'A request with this Idempotency-Key is still in progress' },
  audit_unavailable: { status: 503, title: 'The audit log could not record the action, so it was not done' },
  // Consents (docs/consent.md).
  consent_malformed: { status: 400, title: 'The consent is not a well-formed consent JWS' },
  consent_signature_invalid: { status: 422, title: 'The consent is not signed by the enterprise named in it' },
  consent_subject_mismatch: { status: 403, title: 'An enterprise may consent only for its own USCC' },
  consent_bank_unavailable: { status: 422, title: 'The consent\'s bank is unknown, suspended, revoked or not a bank' },
  question_unknown: { status: 422, title: 'A question or question pack does not exist' },
  purpose_not_allowed: { status: 422, title: 'A question does not allow the consent\'s purpose' },
  consent_expired: { status: 422, title: 'The consent has already expired' },
  consent_too_long: { status: 422, title: 'The consent is valid for longer than its purpose allows' },
  consent_duplicate: { status: 409, title: 'A consent with this id already exists' },
  consent_replaces_invalid: { status: 422, title: 'The consent to replace is not an active consent of the same enterprise' },
  consent_not_active: { status: 409, title: 'The consent is not active' },
  // Verifications (docs/privacy.md).
  rate_limited: { status: 429, title: 'Too many questions; retry after the time given' },
  // Monitoring (docs/monitoring.md).
  consent_missing: { status: 403, title: 'No consent of this bank about this subject' },
  question_not_covered: { status: 403, title: 'The consent does not cover a monitored question' },
  monitor_rule_unknown: { status: 422, title: 'A monitor rule does not exist' },
  subscription_exists: { status: 409, title: 'The consent already has an active subscription' },
  // Credit reports (docs/reports.md) and objections (docs/objections.md).
  report_template_unknown: { status: 422, title: 'No such report template' },
  objection_target_invalid: { status: 422, title: 'The objection names nothing about this enterprise that it can object to' },
  objection_not_open: { status: 409, title: 'The objection is no longer open' },
  objection_not_permitted: { status: 403, title: 'The source does not feed a dataset the objection is about' },
  correction_not_about_subject: { status: 422, title: 'The correcting batch holds no record about the objection\'s subject' },
  // Scorecards (docs/modelling.md, docs/privacy.md "Scorecards").
  support_policy_not_owned: { status: 403, title: 'Only the department that owns a support policy reads its counts' },
  scorecard_refused: { status: 422, title: 'The scorecard fails the review checks' },
  scorecard_exists: { status: 409, title: 'A scorecard with this id and version already exists' },
  scorecard_not_pending: { status: 409, title: 'The scorecard has already been decided' },
  cohort_too_small: { status: 422, title: 'Too few enterprises consented for an aggregate to be released' },
  backtest_too_similar: { status: 422, title: 'The back-test differs from an earlier one by too few enterprises' },
  // The command line's own failures (gateway/cli): a mistake in how it was called, never an HTTP answer.
  file_not_found: { status: 400, title: 'A file named on the command line does not exist' },
  file_unreadable: { status: 400, title: 'A file named on the command line cannot be read' },
  gateway_unreachable: { status: 502, title: 'No gateway answers at the URL' },
  address_in_use: { status: 500, title: 'The address to listen on is in use or not available' },
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
