-- The portal (issue 15): an `operator` participant role, and one-time enrolment codes.
--
-- SQLite cannot change a CHECK constraint in place, so participants is rebuilt with the wider role list. Foreign keys
-- stay on: deferring them lets the old table go and the new one take its name inside this migration's transaction,
-- and they are checked again at commit (monitor subscribers still name participants that exist).
PRAGMA defer_foreign_keys = ON;
CREATE TABLE participants_new (
  participant_id TEXT PRIMARY KEY,
  role TEXT NOT NULL CHECK (role IN ('source', 'enterprise', 'bank', 'auditor', 'operator')),
  name TEXT NOT NULL,
  uscc TEXT,
  datasets TEXT NOT NULL DEFAULT '[]',
  status TEXT NOT NULL CHECK (status IN ('active', 'suspended', 'revoked')),
  certificate_pem TEXT NOT NULL,
  certificate_sha256 TEXT NOT NULL UNIQUE,
  not_after TEXT NOT NULL,
  created_at TEXT NOT NULL,
  status_changed_at TEXT NOT NULL
);
INSERT INTO participants_new SELECT participant_id, role, name, uscc, datasets, status, certificate_pem, certificate_sha256,
  not_after, created_at, status_changed_at FROM participants;
DROP TABLE participants;
ALTER TABLE participants_new RENAME TO participants;
CREATE UNIQUE INDEX participants_one_enterprise_per_uscc ON participants (uscc) WHERE role = 'enterprise' AND status <> 'revoked';

-- An enrolment code is shown once, to the operator who issued it; only its SHA-256 is kept, so a copy of the database
-- does not enrol anyone. It is bound to one enterprise (USCC and name), expires, and is used at most once.
CREATE TABLE enrolment_codes (
  code_id TEXT PRIMARY KEY,
  code_sha256 TEXT NOT NULL UNIQUE,
  uscc TEXT NOT NULL,
  name TEXT NOT NULL,
  issued_by TEXT NOT NULL,
  issued_at TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  used_at TEXT,
  used_by TEXT -- the participant enrolled with it
);
