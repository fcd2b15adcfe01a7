/**
 * The storage contract. The domain talks to this interface only; each engine lives in its own folder
 * (store/sqlite/ today) and must pass the same conformance suite (test/store/contract.ts).
 *
 * Contract, in short:
 * - A batch is atomic: records added through a BatchWriter are visible to readers only after commit(), all of
 *   them, and never after abort() or a crash.
 * - commit() is idempotent by content: if a batch with the same dataset and content hash (or the same batch id and
 *   content hash) is already stored, nothing is written and the stored batch is returned.
 * - A record supersedes the current record with the same natural key (same dataset and key index) when its batch's
 *   as-of date is the same or later; superseded records stay, as history.
 * - Sealed record bytes are opaque to the store; it never sees plaintext.
 */

export interface BatchMetadata {
  readonly batchId: string;
  readonly dataset: string;
  readonly source: string;
  /** SHA-256 of the exact input bytes, hex. */
  readonly contentHash: string;
  readonly format: string;
  readonly rowCount: number;
  /** The date the records describe (YYYY-MM-DD). */
  readonly asOf: string;
  /** When the gateway received the batch (RFC 3339). */
  readonly receivedAt: string;
}

export type StoredBatch = BatchMetadata;

export interface SealedRecord {
  readonly rowNumber: number;
  readonly keyIndex: Uint8Array;
  readonly subjectIndex: Uint8Array;
  readonly sealed: Uint8Array;
}

export type CommitResult =
  | { readonly outcome: 'stored'; readonly batch: StoredBatch }
  | { readonly outcome: 'duplicate'; readonly batch: StoredBatch };

export interface BatchWriter {
  /** The id a record of this batch gets; bound into its ciphertext before it is added. */
  recordId(rowNumber: number): number;
  /** Adds a record. Returns the row number of an earlier record in this batch with the same key, if there is one. */
  add(record: SealedRecord): number | undefined;
  commit(metadata: BatchMetadata): CommitResult;
  abort(): void;
}

export interface StoredRecord {
  readonly recordId: number;
  readonly dataset: string;
  readonly sealed: Uint8Array;
  readonly batchId: string;
  readonly source: string;
  readonly asOf: string;
  readonly receivedAt: string;
  /** The batch that replaced this record, when it is history. */
  readonly supersededBy: string | undefined;
}

export interface WrappedDataKey {
  readonly keyId: number;
  readonly wrapped: Uint8Array;
  readonly createdAt: string;
}

export interface SealedRow {
  readonly recordId: number;
  readonly dataset: string;
  readonly sealed: Uint8Array;
}

export type ParticipantRole = 'source' | 'enterprise' | 'bank' | 'auditor';
export type ParticipantStatus = 'active' | 'suspended' | 'revoked';

export interface ParticipantRecord {
  readonly participantId: string;
  readonly role: ParticipantRole;
  readonly name: string;
  /** The enterprise a participant of role `enterprise` acts for. */
  readonly uscc: string | undefined;
  /** The datasets a participant of role `source` may feed. */
  readonly datasets: readonly string[];
  readonly status: ParticipantStatus;
  readonly certificatePem: string;
  /** base64url SHA-256 of the certificate DER (JOSE `x5t#S256`). */
  readonly certificateSha256: string;
  readonly notAfter: string;
  readonly createdAt: string;
  readonly statusChangedAt: string;
}

export interface SeenRequest {
  readonly participantId: string;
  readonly jti: string;
  /** Unix seconds after which the entry may be forgotten. */
  readonly expiresAt: number;
}

export interface IdempotentResponse {
  readonly requestSha256: string;
  readonly status: number;
  readonly body: string;
}

/**
 * Participants and request bookkeeping. Contract: a participant id is unique (adding it twice throws
 * participant_exists) and so is a certificate; a status change is one statement, seen by the next read.
 */
export interface IdentityStore {
  addParticipant(participant: ParticipantRecord): void;
  getParticipant(participantId: string): ParticipantRecord | undefined;
  listParticipants(): ParticipantRecord[];
  setParticipantStatus(participantId: string, status: ParticipantStatus, at: string): void;
  /**
   * Records request ids in one durable transaction and says, for each in order, whether it was new. An id already
   * present (earlier, or earlier in the same call) is not new. Entries that expired before `now` are forgotten.
   */
  rememberRequests(requests: readonly SeenRequest[], now: number): boolean[];
  findIdempotentResponse(participantId: string, key: string): IdempotentResponse | undefined;
  /** Keeps the first answer given for a key; a second save for the same key leaves it unchanged. */
  saveIdempotentResponse(participantId: string, key: string, response: IdempotentResponse, at: string): void;
}

export type StoredConsentState = 'active' | 'revoked' | 'exhausted' | 'replaced';

export interface ConsentRecord {
  readonly seq: number;
  readonly consentId: string;
  readonly enterpriseId: string;
  readonly uscc: string;
  readonly bankId: string;
  readonly purpose: string;
  readonly questions: readonly string[];
  readonly notBefore: number;
  readonly expiresAt: number;
  readonly maxUses: number | undefined;
  readonly uses: number;
  readonly state: StoredConsentState;
  readonly replaces: string | undefined;
  readonly replacedBy: string | undefined;
  readonly artefact: string;
  readonly artefactSha256: string;
  readonly grantedAt: string;
  readonly endedAt: string | undefined;
  readonly auditIndex: number;
}

export type NewConsent = Omit<ConsentRecord, 'seq' | 'uses' | 'state' | 'replacedBy' | 'endedAt'>;

/**
 * Consents. Contract: a consent id is unique (a second insert throws consent_duplicate); addConsent ends the
 * consent it replaces in the same transaction, and only if that one is still active; state changes are
 * conditional on the current state, so two racing changes cannot both apply.
 */
export interface ConsentStore {
  addConsent(consent: NewConsent, replacesActive: boolean): void;
  getConsent(consentId: string): ConsentRecord | undefined;
  /** Consents about `uscc` or addressed to `bankId`, in grant order after the cursor. */
  listConsents(scope: { uscc: string } | { bankId: string }, afterSeq: number, limit: number): ConsentRecord[];
  /** active → revoked/exhausted; returns false when the consent was not active. */
  endConsent(consentId: string, state: 'revoked' | 'exhausted', at: string): boolean;
  /** Counts uses; returns false (and counts nothing) when the consent is not active or its uses are spent. */
  useConsent(consentId: string, count: number, at: string): boolean;
}

export interface Store extends IdentityStore, ConsentStore {
  findBatch(dataset: string, contentHash: string): StoredBatch | undefined;
  findBatchById(batchId: string): StoredBatch | undefined;
  listBatches(limit: number): StoredBatch[];
  /** The largest row count a batch may have (record ids reserve this many per batch). */
  readonly maxBatchRows: number;
  beginBatch(dataset: string): BatchWriter;
  /** Records about one subject in one dataset, current ones first; history only when asked for. */
  recordsBySubject(dataset: string, subjectIndex: Uint8Array, options?: { includeHistory?: boolean }): StoredRecord[];
  countRecords(dataset?: string): number;
  listDataKeys(): WrappedDataKey[];
  /** Stores a new wrapped data key under the next id and returns that id. */
  addDataKey(wrap: (keyId: number) => Uint8Array, createdAt: string): number;
  /** Sealed records in record-id order after `afterRecordId`, for re-encryption. */
  scanSealed(afterRecordId: number, limit: number): SealedRow[];
  /** Replaces sealed bytes of existing records in one transaction (re-encryption). */
  replaceSealed(rows: readonly { recordId: number; sealed: Uint8Array }[]): void;
  /** Records the audit entry of a committed batch. */
  markBatchAudited(batchId: string, auditIndex: number): void;
  /** Committed batches whose audit entry was never recorded, oldest first. */
  unauditedBatches(): StoredBatch[];
  /** Throws if the store cannot serve (readiness). */
  ping(): void;
  close(): void;
}
