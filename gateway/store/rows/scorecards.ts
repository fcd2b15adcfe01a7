/** Scorecard and back-test rows as both engines read them, and the records they become. */
import type { BacktestRecord, ScorecardRecord, ScorecardState } from '../scorecardStore.js';

export interface ScorecardRow {
  scorecard_id: string;
  version: number;
  bank_id: string;
  document: string;
  sha256: string;
  skeleton_sha256: string;
  question_hashes: string;
  state: ScorecardState;
  release_score: number;
  submitted_at: string;
  submit_audit_index: number;
  decided_by: string | null;
  decided_at: string | null;
  decision_audit_index: number | null;
}

export interface BacktestRow {
  scorecard_id: string;
  version: number;
  bank_id: string;
  purpose: string;
  cohort: string;
  at: string;
  audit_index: number;
}

export function toScorecard(row: ScorecardRow): ScorecardRecord {
  return {
    scorecardId: row.scorecard_id, version: row.version, bankId: row.bank_id, document: row.document, sha256: row.sha256,
    skeletonSha256: row.skeleton_sha256, questionHashes: JSON.parse(row.question_hashes) as Record<string, string>, state: row.state,
    releaseScore: row.release_score === 1, submittedAt: row.submitted_at, submitAuditIndex: row.submit_audit_index,
    decidedBy: row.decided_by ?? undefined, decidedAt: row.decided_at ?? undefined, decisionAuditIndex: row.decision_audit_index ?? undefined,
  };
}

export function toBacktest(row: BacktestRow): BacktestRecord {
  return {
    scorecardId: row.scorecard_id, version: row.version, bankId: row.bank_id, purpose: row.purpose,
    cohort: JSON.parse(row.cohort) as Record<string, 0 | 1 | null>, at: row.at, auditIndex: row.audit_index,
  };
}
