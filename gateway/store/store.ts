/**
 * The storage contract. The domain talks to this interface only; each engine lives in its own folder
 * (store/sqlite/ today) and must pass the same conformance suite (test/store/contract.ts and the suites beside it).
 *
 * Contract, in short:
 * - Every method is asynchronous and self-contained: nothing is kept between calls but what is stored, and a call
 *   that writes several rows does so in one transaction of its own. Callbacks that run inside a transaction
 *   (beforeCommit, baseline, the audit log's build) are asynchronous too; the engine keeps the transaction's
 *   connection for them until they settle, so no other unit of work interleaves with theirs.
 * - A batch is atomic: records added through a BatchWriter are visible to readers only after commit(), all of
 *   them, and never after abort() or a crash.
 * - commit() is idempotent by content: if a batch with the same dataset and content hash (or the same batch id and
 *   content hash) is already stored, nothing is written and the stored batch is returned.
 * - A record supersedes the current record with the same natural key (same dataset and key index) when its batch's
 *   as-of date is the same or later; superseded records stay, as history.
 * - Sealed record bytes are opaque to the store; it never sees plaintext.
 */
import type { ObjectionTransaction, ReportStore } from './reportStore.js';
import type { ScorecardStore } from './scorecardStore.js';
import type { EnrolmentStore } from './enrolmentStore.js';
import type { UplinkBatchTransaction, UplinkStore } from './uplinkStore.js';
import type { RetentionStore } from './retentionStore.js';
import type { FactsStore } from './factsStore.js';

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

/** A batch as listed: with the index of its `ingest.batch` audit entry, its receipt in the log (none yet after a crash). */
export interface ListedBatch extends StoredBatch {
  readonly auditIndex: number | undefined;
}

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
  /**
   * Adds a chunk of records (one round trip for many rows). Returns, for each, the row number of an earlier record in
   * this batch with the same key, if there is one.
   */
  add(records: readonly SealedRecord[]): Promise<(number | undefined)[]>;
  /**
   * Commits the batch. `beforeCommit`, when given, runs inside the batch's transaction after its records are applied
   * (only when the batch is stored, not for a duplicate): what it writes commits or rolls back with the records.
   */
  commit(metadata: BatchMetadata, beforeCommit?: (transaction: BatchTransaction) => Promise<void>): Promise<CommitResult>;
  abort(): Promise<void>;
}

/**
 * A subscription as ingestion sees it: active, under a consent that is active and unexpired at the time asked, of an
 * enterprise that is active (a suspended one's consents are paused: no alerts until it is resumed).
 */
export interface WatchedSubject {
  readonly subscriptionId: string;
  readonly bankId: string;
  readonly consentId: string;
  readonly uscc: string;
  readonly subjectIndex: Uint8Array;
  readonly rules: readonly string[];
}

/** A current record of a subject, as change detection reads it inside a batch. */
export interface CurrentRecord {
  readonly subjectIndex: Uint8Array;
  readonly recordId: number;
  readonly sealed: Uint8Array;
  readonly asOf: string;
}

/** The answer a subscription last saw for a question, as JSON text. */
export interface MonitorAnswer {
  readonly subscriptionId: string;
  readonly questionId: string;
  readonly answer: string;
}

export type OutboxEventType = 'alert' | 'consent.revoked' | 'consent.expired' | 'answer.corrected';

export interface NewOutboxEvent {
  readonly eventId: string;
  readonly bankId: string;
  readonly type: OutboxEventType;
  /** The subscription the event is about; none for a corrected answer (the bank may have no subscription). */
  readonly subscriptionId: string | undefined;
  /** JSON claims of the event (no record values). */
  readonly content: string;
  readonly createdAt: string;
}

/**
 * What a batch's `beforeCommit` may do inside the batch's transaction (the writer's connection):
 * read what the batch is about to make current, write monitoring state and outbox events with it, and queue the
 * batch's uplink manifest.
 */
export interface BatchTransaction extends ObjectionTransaction, UplinkBatchTransaction {
  /** Subscriptions watching a subject that has a record in this batch (one indexed probe when there are none). */
  watchedSubjects(nowSeconds: number): Promise<WatchedSubject[]>;
  /** Current records in a dataset of each of `subjectIndexes`, this batch's included, in record order. */
  currentRecords(dataset: string, subjectIndexes: readonly Uint8Array[]): Promise<CurrentRecord[]>;
  /** The answers the given subscriptions last saw. */
  monitorAnswers(subscriptionIds: readonly string[]): Promise<MonitorAnswer[]>;
  setMonitorAnswers(answers: readonly MonitorAnswer[]): Promise<void>;
  addEvents(events: readonly NewOutboxEvent[]): Promise<void>;
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

export type ParticipantRole = 'source' | 'enterprise' | 'bank' | 'auditor' | 'operator';
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
 * participant_exists) and so is a certificate; at most one enterprise participant that is not revoked acts for a
 * USCC (another throws participant_exists); a status change is one statement, seen by the next read.
 */
export interface IdentityStore {
  /** Adds the participant; with `replaces`, revokes that participant at `participant.createdAt` in the same transaction. */
  addParticipant(participant: ParticipantRecord, replaces?: string): Promise<void>;
  getParticipant(participantId: string): Promise<ParticipantRecord | undefined>;
  /** The enterprise participant, active or suspended, that acts for the USCC now. */
  enterpriseForUscc(uscc: string): Promise<ParticipantRecord | undefined>;
  /** In the order they were created (createdAt, ties by participant id). */
  listParticipants(): Promise<ParticipantRecord[]>;
  setParticipantStatus(participantId: string, status: ParticipantStatus, at: string): Promise<void>;
  /**
   * Records request ids in one durable transaction and says, for each in order, whether it was new. An id already
   * present (earlier, or earlier in the same call) is not new. Entries that expired before `now` are forgotten.
   */
  rememberRequests(requests: readonly SeenRequest[], now: number): Promise<boolean[]>;
  /** How many request ids the replay cache holds (operator metrics); expired ones go at the next remember. */
  countRememberedRequests(): Promise<number>;
  findIdempotentResponse(participantId: string, key: string): Promise<IdempotentResponse | undefined>;
  /** Keeps the first answer given for a key; a second save for the same key leaves it unchanged. */
  saveIdempotentResponse(participantId: string, key: string, response: IdempotentResponse, at: string): Promise<void>;
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

export interface ConsentUse {
  readonly consentId: string;
  readonly count: number;
  readonly at: string;
}

export type NewConsent = Omit<ConsentRecord, 'seq' | 'uses' | 'state' | 'replacedBy' | 'endedAt'>;

/**
 * Consents. Contract: a consent id is unique (a second insert throws consent_duplicate); addConsent ends the
 * consent it replaces in the same transaction, and only if that one is still active; state changes are
 * conditional on the current state, so two racing changes cannot both apply.
 */
export interface ConsentStore {
  addConsent(consent: NewConsent, replacesActive: boolean): Promise<void>;
  getConsent(consentId: string): Promise<ConsentRecord | undefined>;
  /** Consents about `uscc` or addressed to `bankId`, in grant order after the cursor. */
  listConsents(scope: { uscc: string } | { bankId: string }, afterSeq: number, limit: number): Promise<ConsentRecord[]>;
  /** active → revoked/exhausted; returns false when the consent was not active. */
  endConsent(consentId: string, state: 'revoked' | 'exhausted', at: string): Promise<boolean>;
  /**
   * Counts uses, in one transaction for all; for each, false (and nothing counted) when the consent is not active or
   * its remaining uses cannot cover the count.
   */
  useConsents(uses: readonly ConsentUse[]): Promise<boolean[]>;
  /** The audit log size up to which use counts were last recounted from the log (0: never). */
  consentUsesLoggedThrough(): Promise<number>;
  /**
   * In one transaction: adds `logged` (fresh answers per consent found in the audit log since the last recount) to
   * each consent's logged uses, sets every consent's `uses` to its logged uses (exhausted when they reach max_uses,
   * active again when an exhausted consent's do not), and records `throughIndex`. Returns the consents whose count
   * changed.
   */
  reconcileConsentUses(logged: ReadonlyMap<string, number>, throughIndex: number, at: string): Promise<ReconciledConsentUse[]>;
}

export interface ReconciledConsentUse {
  readonly consentId: string;
  /** The count before: ahead of the log after a crash between a use and its audit entry. */
  readonly counted: number;
  /** The count now, the answers the audit log holds. */
  readonly logged: number;
  readonly state: StoredConsentState;
}

export interface WebhookRecord {
  readonly participantId: string;
  readonly url: string;
  /** The signing secret, sealed by the domain (identity/webhooks.ts): opaque text to the store. */
  readonly secret: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface SubscriptionRecord {
  readonly seq: number;
  readonly subscriptionId: string;
  readonly bankId: string;
  readonly consentId: string;
  readonly uscc: string;
  readonly subjectIndex: Uint8Array;
  readonly rules: readonly string[];
  readonly state: 'active' | 'ended';
  readonly endReason: string | undefined;
  readonly createdAt: string;
  readonly endedAt: string | undefined;
  readonly auditIndex: number;
}

export type NewSubscription = Omit<SubscriptionRecord, 'seq' | 'state' | 'endReason' | 'endedAt'>;

export type OutboxState = 'pending' | 'delivered' | 'dead';

export interface OutboxEvent extends NewOutboxEvent {
  readonly seq: number;
  readonly jws: string | undefined;
  readonly auditIndex: number | undefined;
  readonly state: OutboxState;
  readonly attempts: number;
  /** Unix ms from which the retry horizon counts (creation, or the last replay). */
  readonly retryFrom: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | undefined;
  readonly deliveredAt: string | undefined;
}

/** A subscription to end, and the event that tells its bank why (none when the bank ended it itself). */
export interface SubscriptionEnding {
  readonly subscriptionId: string;
  readonly reason: string;
  readonly event: NewOutboxEvent | undefined;
}

/**
 * Monitoring. Contract: at most one active subscription per consent (a second throws subscription_exists); a
 * subscription and its baseline answers are stored in one transaction, and so are an ending and its event; an
 * event is signed once (markEventSigned keeps the first JWS) and leaves `pending` only for `delivered` or `dead`.
 */
export interface MonitorStore {
  getWebhook(participantId: string): Promise<WebhookRecord | undefined>;
  listWebhooks(): Promise<WebhookRecord[]>;
  /** Adds the participant's webhook, or replaces its URL, secret and updatedAt (createdAt stays the first one's). */
  setWebhook(webhook: WebhookRecord): Promise<void>;
  /** Stores the subscription with the answers `baseline` computes, in one write transaction (so no batch commits in between). */
  addSubscription(subscription: NewSubscription, baseline: () => Promise<readonly MonitorAnswer[]>): Promise<void>;
  getSubscription(subscriptionId: string): Promise<SubscriptionRecord | undefined>;
  listSubscriptions(bankId: string, afterSeq: number, limit: number): Promise<SubscriptionRecord[]>;
  activeSubscriptionsOfConsent(consentId: string): Promise<SubscriptionRecord[]>;
  /** Active subscriptions whose consent is no longer active or has expired by `nowSeconds`, with the consent's stored state. */
  subscriptionsOfEndedConsents(nowSeconds: number, limit: number): Promise<{ subscription: SubscriptionRecord; consentState: StoredConsentState }[]>;
  /** Ends those still active and inserts their events, in one transaction; returns how many it ended. */
  endSubscriptions(endings: readonly SubscriptionEnding[], at: string): Promise<number>;
  /** Banks with a registered webhook and a pending event due at `nowMs` (a bank without one reads the pull feed). */
  banksWithDueEvents(nowMs: number): Promise<string[]>;
  /** A bank's pending events whose next attempt is due at `nowMs`, in outbox order. */
  dueEvents(bankId: string, nowMs: number, limit: number): Promise<OutboxEvent[]>;
  /** A bank's events after the cursor, whatever their delivery state (the pull feed). */
  eventsAfter(bankId: string, afterSeq: number, limit: number): Promise<OutboxEvent[]>;
  listEvents(filter: { state?: OutboxState | undefined; bankId?: string | undefined }, afterSeq: number, limit: number): Promise<OutboxEvent[]>;
  /** Outbox events per delivery state (operator metrics: the outbox's depth and its dead letters). */
  countEvents(): Promise<Record<OutboxState, number>>;
  getEvent(eventId: string): Promise<OutboxEvent | undefined>;
  markEventSigned(eventId: string, jws: string, auditIndex: number): Promise<void>;
  markEventDelivered(eventId: string, at: string): Promise<void>;
  markEventFailed(eventId: string, failure: { attempts: number; nextAttemptAt: number; error: string; dead: boolean }): Promise<void>;
  /** Dead events back to pending, their horizon restarting at `nowMs`; returns the ids replayed. */
  replayEvents(eventIds: readonly string[] | 'all_dead', nowMs: number): Promise<string[]>;
}

/**
 * What several gateway processes on one database must agree on, kept by the engine. Contract: work under a key runs
 * while no other work under that key runs, in this process or in another on the same database; a process that leads
 * a role is the only one that does, until it stops asking or ends.
 */
export interface Coordination {
  /**
   * Runs `work` holding every key (taken in sorted order, so two callers cannot deadlock). Consent changes and the
   * answers under a consent hold `consent:<id>`, so a revocation is ordered against answers on every instance.
   */
  exclusive<T>(keys: readonly string[], work: () => Promise<T>): Promise<T>;
  /**
   * Whether this process leads `role` now (the checkpoint signer, the alert sender, the sweeps): at most one process
   * on the database does; the first to ask keeps it while it lives, and another takes over when it ends.
   */
  leads(role: string): Promise<boolean>;
  /**
   * Joins the processes serving this database. `recover` runs first when no other has joined: only then are the
   * leftovers of a crash (a batch committed without its audit entry, a use counted before its answer was logged)
   * surely not another live process's work in flight. Resolves whether it ran.
   */
  join(recover: () => Promise<void>): Promise<boolean>;
}

export interface Store extends Coordination, IdentityStore, ConsentStore, MonitorStore, ReportStore, ScorecardStore, EnrolmentStore, UplinkStore, RetentionStore, FactsStore {
  findBatch(dataset: string, contentHash: string): Promise<StoredBatch | undefined>;
  findBatchById(batchId: string): Promise<StoredBatch | undefined>;
  /** The most recent `limit` committed batches, newest first. */
  listBatches(limit: number): Promise<ListedBatch[]>;
  /** The largest row count a batch may have (record ids reserve this many per batch). */
  readonly maxBatchRows: number;
  beginBatch(dataset: string): Promise<BatchWriter>;
  /** Records about one subject in one dataset, current ones first; history only when asked for. */
  recordsBySubject(dataset: string, subjectIndex: Uint8Array, options?: { includeHistory?: boolean }): Promise<StoredRecord[]>;
  countRecords(dataset?: string): Promise<number>;
  /** In key-id order. */
  listDataKeys(): Promise<WrappedDataKey[]>;
  /** Stores a new wrapped data key under the next id (the largest so far plus one; `wrap` is given it) and returns that id. */
  addDataKey(wrap: (keyId: number) => Uint8Array, createdAt: string): Promise<number>;
  /** Sealed records in record-id order after `afterRecordId`, for re-encryption. */
  scanSealed(afterRecordId: number, limit: number): Promise<SealedRow[]>;
  /** Replaces sealed bytes of existing records in one transaction (re-encryption). */
  replaceSealed(rows: readonly { recordId: number; sealed: Uint8Array }[]): Promise<void>;
  /** Records the audit entry of a committed batch. */
  markBatchAudited(batchId: string, auditIndex: number): Promise<void>;
  /** Committed batches whose audit entry was never recorded, oldest first. */
  unauditedBatches(): Promise<StoredBatch[]>;
  /** What the engine's own consistency check finds wrong with the stored bytes (empty: nothing). */
  integrityProblems(): Promise<string[]>;
  /**
   * The fingerprints of the keys the database was first used with (JSON, gateway/keys/fingerprints.ts): stores
   * `candidate` if none are stored yet, in one statement (two processes starting together keep one), and returns
   * what is stored.
   */
  recordKeyFingerprints(candidate: string, at: string): Promise<string>;
  /** The engine and where it keeps the data, without credentials: reported at start and on /readyz. */
  readonly engine: { readonly name: 'sqlite' | 'postgres'; readonly location: string };
  /** Rejects if the store cannot serve (readiness). */
  ping(): Promise<void>;
  close(): Promise<void>;
}
