-- Participants, the replay cache of signed requests, and stored answers for Idempotency-Key retries.

CREATE TABLE participants (
  participant_id TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('source', 'enterprise', 'bank', 'auditor')),
  name TEXT NOT NULL,
  uscc TEXT,
  datasets TEXT NOT NULL DEFAULT '[]', -- JSON array of dataset ids a source may feed
  status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
  certificate_pem TEXT NOT NULL,
  certificate_sha256 TEXT NOT NULL UNIQUE, -- base64url, the JOSE x5t#S256 value
  not_after TEXT NOT NULL,
  created_at TEXT NOT NULL,
  status_changed_at TEXT NOT NULL
);

-- A request id (jti) is kept until its signature has expired, plus the clock skew: after that the signature
-- itself is refused, so the row can go.
CREATE TABLE seen_requests (
  participant_id TEXT NOT NULL,
  jti TEXT NOT NULL,
  expires_at INTEGER NOT NULL, -- unix seconds
  PRIMARY KEY (participant_id, jti)
) WITHOUT ROWID;
CREATE INDEX seen_requests_by_expiry ON seen_requests (expires_at);

CREATE TABLE idempotent_responses (
  participant_id TEXT NOT NULL,
  idempotency_key TEXT NOT NULL,
  request_sha256 TEXT NOT NULL, -- method, path and body of the first request
  status INTEGER NOT NULL,
  body TEXT NOT NULL,
  created_at TEXT NOT NULL,
  PRIMARY KEY (participant_id, idempotency_key)
) WITHOUT ROWID;
