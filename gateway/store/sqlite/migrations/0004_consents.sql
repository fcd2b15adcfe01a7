-- Consents: the enterprise-signed artefact, stored verbatim, and its state. `expired` is not stored: a consent is
-- expired from the moment its exp has passed, whatever its row says.
CREATE TABLE consents (
  seq INTEGER PRIMARY KEY,                 -- listing order and pagination cursor
  consent_id TEXT NOT NULL UNIQUE,
  enterprise_id TEXT NOT NULL,             -- the issuing participant
  uscc TEXT NOT NULL,                      -- the subject
  bank_id TEXT NOT NULL,                   -- the audience
  purpose TEXT NOT NULL,
  questions TEXT NOT NULL,                 -- JSON array: question ids, packs resolved
  not_before INTEGER NOT NULL,             -- unix seconds
  expires_at INTEGER NOT NULL,
  max_uses INTEGER,
  uses INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL CHECK (state IN ('active', 'revoked', 'exhausted', 'replaced')),
  replaces TEXT,
  replaced_by TEXT,
  artefact TEXT NOT NULL,                  -- the compact JWS exactly as submitted
  artefact_sha256 TEXT NOT NULL,
  granted_at TEXT NOT NULL,
  ended_at TEXT,
  audit_index INTEGER NOT NULL
);
CREATE INDEX consents_by_uscc ON consents (uscc, seq);
CREATE INDEX consents_by_bank ON consents (bank_id, seq);
