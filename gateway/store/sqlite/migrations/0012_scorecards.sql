-- Scorecards (docs/modelling.md): a bank's points model, inert until decided, and the back-tests run on it.

CREATE TABLE scorecards (
  scorecard_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  bank_id TEXT NOT NULL,
  document TEXT NOT NULL,                  -- the submitted JSON, as received
  sha256 TEXT NOT NULL,                    -- of its RFC 8785 canonical form
  skeleton_sha256 TEXT NOT NULL,           -- of the document without cut points (resubmission probing)
  question_hashes TEXT NOT NULL,           -- JSON: question id → definition hash at submission
  state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'rejected')),
  release_score INTEGER NOT NULL DEFAULT 0,
  submitted_at TEXT NOT NULL,
  submit_audit_index INTEGER NOT NULL,
  decided_by TEXT,
  decided_at TEXT,
  decision_audit_index INTEGER,
  PRIMARY KEY (scorecard_id, version)
);
CREATE INDEX scorecards_by_bank ON scorecards (bank_id, scorecard_id, version);
CREATE INDEX scorecards_by_skeleton ON scorecards (skeleton_sha256) WHERE state = 'approved';

CREATE TABLE scorecard_backtests (
  seq INTEGER PRIMARY KEY,
  scorecard_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  bank_id TEXT NOT NULL,
  purpose TEXT NOT NULL,
  cohort TEXT NOT NULL,                    -- JSON: USCC → 0 | 1 | null (the bank's label)
  at TEXT NOT NULL,
  audit_index INTEGER NOT NULL
);
CREATE INDEX scorecard_backtests_by_scorecard ON scorecard_backtests (scorecard_id, version, seq);
