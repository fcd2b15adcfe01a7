/** Report and objection rows as both engines read them, and the records they become. */
import type { ObjectionEvent, ObjectionEventType, ObjectionRecord, ObjectionState, ReportRecord } from '../reportStore.js';

export interface ReportRow {
  report_id: string;
  bank_id: string;
  uscc: string;
  consent_id: string;
  template_id: string;
  template_version: number;
  jws: string;
  jws_sha256: string;
  evidence: string;
  audit_index: number;
  created_at: string;
}

export interface ObjectionRow {
  seq: number;
  objection_id: string;
  enterprise_id: string;
  uscc: string;
  subject_index: Buffer;
  datasets: string;
  target: string;
  reason: string;
  evidence: string;
  state: ObjectionState;
  raised_at: string;
  due_at: string;
  disputed_since: string;
  overdue_at: string | null;
  resolved_at: string | null;
  resolved_by: string | null;
  resolution: string | null;
  notified_at: string | null;
  audit_index: number;
}

export interface EventRow {
  seq: number;
  objection_id: string;
  type: ObjectionEventType;
  actor: string;
  at: string;
  details: string;
  audit_index: number | null;
}

export function toReport(row: ReportRow): ReportRecord {
  return {
    reportId: row.report_id, bankId: row.bank_id, uscc: row.uscc, consentId: row.consent_id, templateId: row.template_id,
    templateVersion: row.template_version, jws: row.jws, jwsSha256: row.jws_sha256, evidence: row.evidence, auditIndex: row.audit_index,
    createdAt: row.created_at,
  };
}

export function toObjection(row: ObjectionRow): ObjectionRecord {
  return {
    seq: row.seq, objectionId: row.objection_id, enterpriseId: row.enterprise_id, uscc: row.uscc, subjectIndex: row.subject_index,
    datasets: JSON.parse(row.datasets) as string[], target: row.target, reason: row.reason, evidence: row.evidence, state: row.state,
    raisedAt: row.raised_at, dueAt: row.due_at, disputedSince: row.disputed_since, overdueAt: row.overdue_at ?? undefined,
    resolvedAt: row.resolved_at ?? undefined, resolvedBy: row.resolved_by ?? undefined, resolution: row.resolution ?? undefined,
    notifiedAt: row.notified_at ?? undefined, auditIndex: row.audit_index,
  };
}

export function toEvent(row: EventRow): ObjectionEvent {
  return {
    seq: row.seq, objectionId: row.objection_id, type: row.type, actor: row.actor, at: row.at, details: row.details,
    auditIndex: row.audit_index ?? undefined,
  };
}

/** The datasets of open objections' rows, once each, sorted. */
export function datasetsOf(rows: readonly { datasets: string }[]): string[] {
  return [...new Set(rows.flatMap((row) => JSON.parse(row.datasets) as string[]))].sort();
}

/** `datasetsOf` per USCC, for the USCCs that have rows. */
export function datasetsByUscc(rows: readonly { uscc: string; datasets: string }[]): Map<string, string[]> {
  const byUscc = new Map<string, { uscc: string; datasets: string }[]>();
  for (const row of rows) byUscc.set(row.uscc, [...(byUscc.get(row.uscc) ?? []), row]);
  return new Map([...byUscc].map(([uscc, ofUscc]) => [uscc, datasetsOf(ofUscc)]));
}
