-- Credit reports (docs/reports.md) and objections (docs/objections.md).

-- A report the gateway issued: kept so that the bank can fetch its PDF again and anyone holding the report's link can
-- check it (GET /v1/reports/{id}/check shows hashes and the proof, never the answers).
CREATE TABLE reports (
  report_id TEXT PRIMARY KEY,              -- 128 random bits, base64url: the link is unguessable
  bank_id TEXT NOT NULL,
  uscc TEXT NOT NULL,
  consent_id TEXT NOT NULL,
  template_id TEXT NOT NULL,
  template_version INTEGER NOT NULL,
  jws TEXT NOT NULL,                       -- the signed report (typ gateway-report+jwt)
  jws_sha256 TEXT NOT NULL,
  evidence TEXT NOT NULL,                  -- JSON: the audit entry, its inclusion proof and the checkpoint it is under
  audit_index INTEGER NOT NULL,            -- the report.generated entry
  created_at TEXT NOT NULL
);

-- An enterprise's objection (异议) to records about it in some datasets. `state` moves open → confirmed | corrected
-- exactly once; while open, answers reading these datasets about this subject say disputed.
CREATE TABLE objections (
  seq INTEGER PRIMARY KEY,                 -- listing order and cursor
  objection_id TEXT NOT NULL UNIQUE,
  enterprise_id TEXT NOT NULL,
  uscc TEXT NOT NULL,
  subject_index BLOB NOT NULL,             -- the subject's blind index, as on its records
  datasets TEXT NOT NULL,                  -- JSON array of dataset ids
  target TEXT NOT NULL,                    -- JSON: {"dataset"} or {"audit_index", "question"}
  reason TEXT NOT NULL,                    -- the enterprise's words; not in the audit log (only their hash)
  evidence TEXT NOT NULL,                  -- JSON array of {name, media_type, sha256, content}
  state TEXT NOT NULL CHECK (state IN ('open', 'confirmed', 'corrected')),
  raised_at TEXT NOT NULL,
  due_at TEXT NOT NULL,
  disputed_since TEXT NOT NULL,            -- answers given from here on used the disputed records
  overdue_at TEXT,                         -- when it was flagged overdue (open past due_at)
  resolved_at TEXT,
  resolved_by TEXT,
  resolution TEXT,                         -- JSON: {"note"} and, when corrected, {"batch_id"}
  notified_at TEXT,                        -- when the banks given a corrected answer were told (corrected only)
  audit_index INTEGER NOT NULL             -- the objection.raised entry
);
CREATE INDEX objections_open_by_subject ON objections (uscc) WHERE state = 'open';
CREATE INDEX objections_by_subject ON objections (uscc, seq);
CREATE INDEX objections_by_state ON objections (state, seq);

-- Every state change of an objection, the history an enterprise sees. A correction is written inside its batch's
-- transaction, before its audit entry exists: audit_index is NULL until the entry is appended (at once, or at the
-- next start).
CREATE TABLE objection_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  objection_id TEXT NOT NULL REFERENCES objections (objection_id),
  type TEXT NOT NULL,                      -- raised | confirmed | corrected | overdue | banks_notified
  actor TEXT NOT NULL,
  at TEXT NOT NULL,
  details TEXT NOT NULL,                   -- JSON; never a record value
  audit_index INTEGER
);
CREATE INDEX objection_events_by_objection ON objection_events (objection_id, seq);
CREATE INDEX objection_events_unaudited ON objection_events (seq) WHERE audit_index IS NULL;

-- Outbox events need not belong to a subscription any more: a bank told of a corrected answer may have none.
CREATE TABLE outbox_next (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  bank_id TEXT NOT NULL,
  type TEXT NOT NULL,                      -- alert | consent.revoked | consent.expired | answer.corrected
  subscription_id TEXT,
  content TEXT NOT NULL,
  created_at TEXT NOT NULL,
  jws TEXT,
  audit_index INTEGER,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  retry_from INTEGER NOT NULL,
  next_attempt_at INTEGER NOT NULL,
  last_error TEXT,
  delivered_at TEXT
);
INSERT INTO outbox_next SELECT seq, event_id, bank_id, type, subscription_id, content, created_at, jws, audit_index, state, attempts,
  retry_from, next_attempt_at, last_error, delivered_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
CREATE INDEX outbox_due ON outbox (next_attempt_at, bank_id) WHERE state = 'pending';
CREATE INDEX outbox_by_bank ON outbox (bank_id, seq);
CREATE INDEX outbox_by_state ON outbox (state, seq);
