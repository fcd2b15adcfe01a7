/**
 * The storage contract of credit reports and objections (migration 0011), apart from the rest of store.ts so that it
 * moves to another engine on its own.
 *
 * Contract, in short:
 * - A report id and an objection id are unique.
 * - An objection's state leaves `open` once, for `confirmed` or `corrected`: every change is conditional on the
 *   current state, so two racing resolutions cannot both apply; each change writes its history event in the same
 *   transaction.
 * - A correction is written inside its batch's transaction (ObjectionTransaction), so the corrected records and the
 *   objection's new state commit together or not at all; its event has no audit index until the entry is appended.
 * - The banks' notifications of a correction are inserted in one transaction with the mark that they were sent, once.
 */
import type { NewOutboxEvent } from './store.js';

export interface ReportRecord {
  readonly reportId: string;
  readonly bankId: string;
  readonly uscc: string;
  readonly consentId: string;
  readonly templateId: string;
  readonly templateVersion: number;
  readonly jws: string;
  readonly jwsSha256: string;
  /** JSON text: the audit entry, its inclusion proof and the checkpoint it is under. */
  readonly evidence: string;
  readonly auditIndex: number;
  readonly createdAt: string;
}

export type ObjectionState = 'open' | 'confirmed' | 'corrected';

export type ObjectionEventType = 'raised' | 'confirmed' | 'corrected' | 'overdue' | 'banks_notified';

export interface ObjectionRecord {
  readonly seq: number;
  readonly objectionId: string;
  readonly enterpriseId: string;
  readonly uscc: string;
  readonly subjectIndex: Uint8Array;
  readonly datasets: readonly string[];
  /** JSON text of the target. */
  readonly target: string;
  readonly reason: string;
  /** JSON text of the evidence documents. */
  readonly evidence: string;
  readonly state: ObjectionState;
  readonly raisedAt: string;
  readonly dueAt: string;
  readonly disputedSince: string;
  readonly overdueAt: string | undefined;
  readonly resolvedAt: string | undefined;
  readonly resolvedBy: string | undefined;
  /** JSON text of the resolution. */
  readonly resolution: string | undefined;
  readonly notifiedAt: string | undefined;
  readonly auditIndex: number;
}

export type NewObjection = Omit<ObjectionRecord, 'seq' | 'state' | 'overdueAt' | 'resolvedAt' | 'resolvedBy' | 'resolution' | 'notifiedAt'>;

export interface ObjectionEvent {
  readonly seq: number;
  readonly objectionId: string;
  readonly type: ObjectionEventType;
  readonly actor: string;
  readonly at: string;
  /** JSON text. */
  readonly details: string;
  readonly auditIndex: number | undefined;
}

export interface Resolution {
  readonly state: 'confirmed' | 'corrected';
  readonly by: string;
  readonly at: string;
  /** JSON text. */
  readonly resolution: string;
  /** The event's audit entry, when it was appended before the change (a confirmation). */
  readonly auditIndex: number | undefined;
}

export type ObjectionScope =
  | { readonly uscc: string }
  | { readonly datasets: readonly string[] }
  | { readonly all: true };

/** What a batch's transaction may do with objections (a correcting batch). */
export interface ObjectionTransaction {
  /**
   * The datasets of the open objections of each of `usccs` that has one (sorted); one read for a whole set of
   * subjects, since a batch may watch a hundred thousand.
   */
  disputedDatasetsOf(usccs: readonly string[]): Promise<Map<string, string[]>>;
  getObjection(objectionId: string): Promise<ObjectionRecord | undefined>;
  /** Whether this batch holds a record of the subject. */
  batchHasSubject(subjectIndex: Uint8Array): Promise<boolean>;
  /** open → `resolution.state` with its event; false (and nothing written) when the objection is not open. */
  resolveObjection(objectionId: string, resolution: Resolution): Promise<boolean>;
}

export interface ReportStore {
  addReport(report: ReportRecord): Promise<void>;
  getReport(reportId: string): Promise<ReportRecord | undefined>;

  /** Stores an open objection and its `raised` event (with the objection's audit index). */
  addObjection(objection: NewObjection): Promise<void>;
  getObjection(objectionId: string): Promise<ObjectionRecord | undefined>;
  /** In raising order after the cursor; `state` filters. */
  listObjections(scope: ObjectionScope, state: ObjectionState | undefined, afterSeq: number, limit: number): Promise<ObjectionRecord[]>;
  /** The datasets of the subject's open objections (one indexed probe when there are none). */
  disputedDatasets(uscc: string): Promise<string[]>;
  /** open → confirmed or corrected, as in ObjectionTransaction, outside a batch. */
  resolveObjection(objectionId: string, resolution: Resolution): Promise<boolean>;
  /** Open objections past `nowIso` not yet flagged. */
  overdueUnflagged(nowIso: string, limit: number): Promise<ObjectionRecord[]>;
  /** Marks an open objection overdue with its event; false when it is not open or already flagged. */
  flagOverdue(objectionId: string, at: string, auditIndex: number): Promise<boolean>;
  objectionEvents(objectionId: string): Promise<ObjectionEvent[]>;
  /** Events written without their audit entry (a correction whose entry is still to be appended), oldest first. */
  unauditedObjectionEvents(): Promise<ObjectionEvent[]>;
  markObjectionEventAudited(eventSeq: number, auditIndex: number): Promise<void>;
  /** Corrected objections whose banks were not told yet, oldest first. */
  correctedUnnotified(): Promise<ObjectionRecord[]>;
  /**
   * Inserts the notifications and the `banks_notified` event, and marks the objection notified, in one
   * transaction; false (and nothing written) when it was already notified.
   */
  notifyCorrection(objectionId: string, events: readonly NewOutboxEvent[], event: { at: string; details: string; auditIndex: number }): Promise<boolean>;
}
