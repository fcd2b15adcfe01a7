/**
 * The storage contract of scorecards (docs/modelling.md): the documents banks submit, the operator's or the review
 * rules' decision on each, and the back-tests run on them. Every method returns a Promise, so that an engine may do
 * its I/O asynchronously. Contract (test/store/scorecardContract.ts): (scorecard id, version) is unique — a second
 * add rejects with scorecard_exists; a decision applies only to a pending scorecard, so two racing decisions cannot
 * both apply; a document is kept exactly as submitted, so its hash can be checked again.
 */

export type ScorecardState = 'pending' | 'approved' | 'rejected';

export interface ScorecardRecord {
  readonly scorecardId: string;
  readonly version: number;
  readonly bankId: string;
  /** The submitted document as JSON text. */
  readonly document: string;
  /** SHA-256 (hex) of the document's RFC 8785 canonical form. */
  readonly sha256: string;
  /** SHA-256 of the document without its cut points (gateway/scoring/scorecard.ts): what resubmission probing keeps. */
  readonly skeletonSha256: string;
  /** The definition hash of each feature's question when the scorecard was submitted, by question id. */
  readonly questionHashes: Readonly<Record<string, string>>;
  readonly state: ScorecardState;
  /** Whether approval releases the score itself beside the grade. */
  readonly releaseScore: boolean;
  readonly submittedAt: string;
  readonly submitAuditIndex: number;
  /** Who decided: "operator" or "review_rules"; absent while pending. */
  readonly decidedBy: string | undefined;
  readonly decidedAt: string | undefined;
  readonly decisionAuditIndex: number | undefined;
}

export type NewScorecard = Omit<ScorecardRecord, 'state' | 'releaseScore' | 'decidedBy' | 'decidedAt' | 'decisionAuditIndex'>;

export interface ScorecardDecision {
  readonly state: 'approved' | 'rejected';
  readonly releaseScore: boolean;
  readonly by: string;
  readonly at: string;
  readonly auditIndex: number;
}

/** One back-test: the enterprises it covered, each with the outcome label the bank gave (null: none). */
export interface BacktestRecord {
  readonly scorecardId: string;
  readonly version: number;
  readonly bankId: string;
  readonly purpose: string;
  readonly cohort: Readonly<Record<string, 0 | 1 | null>>;
  readonly at: string;
  readonly auditIndex: number;
}

export interface ScorecardStore {
  addScorecard(scorecard: NewScorecard): Promise<void>;
  getScorecard(scorecardId: string, version: number): Promise<ScorecardRecord | undefined>;
  /** pending → approved/rejected; resolves false when the scorecard is not pending. */
  decideScorecard(scorecardId: string, version: number, decision: ScorecardDecision): Promise<boolean>;
  /** In (id, version) order; of one bank, or all. */
  listScorecards(scope: { bankId: string } | 'all'): Promise<ScorecardRecord[]>;
  /** Approved scorecards of any bank with this skeleton hash. */
  approvedWithSkeleton(skeletonSha256: string): Promise<ScorecardRecord[]>;
  addBacktest(backtest: BacktestRecord): Promise<void>;
  /** The back-tests of a scorecard, oldest first. */
  backtestsOf(scorecardId: string, version: number): Promise<BacktestRecord[]>;
}
