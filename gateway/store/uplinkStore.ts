/**
 * The national uplink's outbox (docs/uplink.md): one manifest per stored batch, queued in the batch's own transaction
 * (or, for batches stored before the uplink was enabled, by the backfill), sealed once, delivered at least once and
 * acknowledged by the platform's signed receipt.
 *
 * Contract: a batch has at most one manifest (queueing another for it is a no-op) and a manifest id is unique; a
 * manifest is sealed once (markManifestSealed keeps the first JWE); it leaves `pending` only for `acknowledged` or
 * `dead`, and a dead one goes back to `pending` only by a replay. A manifest is due only once its batch has its
 * audit entry (the manifest names it).
 */
import type { StoredBatch } from './store.js';

export type UplinkState = 'pending' | 'acknowledged' | 'dead';

export interface NewUplinkManifest {
  readonly manifestId: string;
  readonly batchId: string;
  readonly createdAt: string;
}

/** The platform's signed receipt, as verified and kept. */
export interface UplinkReceipt {
  /** The receipt JWS, as the platform sent it. */
  readonly jws: string;
  /** When the platform says it received the manifest (RFC 3339). */
  readonly receivedAt: string;
  /** When the gateway verified the receipt. */
  readonly acknowledgedAt: string;
  /** The `uplink.acknowledged` audit entry. */
  readonly auditIndex: number;
}

export interface UplinkManifest {
  readonly seq: number;
  readonly manifestId: string;
  readonly batch: StoredBatch;
  /** The batch's `ingest.batch` audit entry; none while it is still to be written (a crash between commit and entry). */
  readonly batchAuditIndex: number | undefined;
  readonly createdAt: string;
  /** The sealed manifest (compact JWE), once it was first about to leave. */
  readonly jwe: string | undefined;
  readonly state: UplinkState;
  readonly attempts: number;
  /** Unix ms from which the retry horizon counts (queueing, or the last replay). */
  readonly retryFrom: number;
  readonly nextAttemptAt: number;
  readonly lastError: string | undefined;
  readonly receipt: UplinkReceipt | undefined;
}

export interface UplinkFailure {
  readonly attempts: number;
  readonly nextAttemptAt: number;
  readonly error: string;
  readonly dead: boolean;
}

/** What a batch's beforeCommit may do for the uplink inside the batch's transaction. */
export interface UplinkBatchTransaction {
  /** Queues this batch's manifest: it commits with the batch's records, or neither does. */
  queueManifest(manifestId: string, createdAt: string): Promise<void>;
}

export interface UplinkStore {
  /** Stored batches that have no manifest yet, oldest first (the backfill). */
  batchesWithoutManifest(limit: number): Promise<string[]>;
  /** Queues manifests in one transaction; a batch that already has one keeps it. Returns how many were queued. */
  queueManifests(manifests: readonly NewUplinkManifest[]): Promise<number>;
  /** Pending manifests due at `nowMs` whose batch has its audit entry, in queue order. */
  dueManifests(nowMs: number, limit: number): Promise<UplinkManifest[]>;
  getManifest(manifestId: string): Promise<UplinkManifest | undefined>;
  getManifestOfBatch(batchId: string): Promise<UplinkManifest | undefined>;
  listManifests(filter: { state?: UplinkState | undefined }, afterSeq: number, limit: number): Promise<UplinkManifest[]>;
  countManifests(): Promise<Record<UplinkState, number>>;
  /** Keeps the first JWE stored for the manifest. */
  markManifestSealed(manifestId: string, jwe: string): Promise<void>;
  /** pending → acknowledged with the receipt; false when the manifest was not pending. */
  markManifestAcknowledged(manifestId: string, receipt: UplinkReceipt): Promise<boolean>;
  /** Counts a failed attempt of a pending manifest; dead when `dead`. */
  markManifestFailed(manifestId: string, failure: UplinkFailure): Promise<void>;
  /** Dead manifests back to pending, their horizon restarting at `nowMs`; returns the ids replayed. */
  replayManifests(manifestIds: readonly string[] | 'all_dead', nowMs: number): Promise<string[]>;
}
