-- The audit log: entries (canonical JSON), the Merkle tree's stored hashes (Go sumdb/tlog layout), signed
-- checkpoints and the witnesses' cosignatures. A database of its own, so that a long ingestion batch holding the
-- records database's write lock never delays an audit append.

CREATE TABLE audit_entries (
  entry_index INTEGER PRIMARY KEY, -- 0-based leaf index
  entry BLOB NOT NULL,             -- RFC 8785 canonical JSON: the exact bytes that are hashed
  kind TEXT NOT NULL,
  actor TEXT NOT NULL,             -- participant id, or "operator" / "gateway"
  subject TEXT,                    -- the enterprise (USCC) or person (keyed hash) the entry is about
  consent_id TEXT,
  recorded_at TEXT NOT NULL
);
CREATE INDEX audit_entries_by_actor ON audit_entries (actor, entry_index);
CREATE INDEX audit_entries_by_subject ON audit_entries (subject, entry_index) WHERE subject IS NOT NULL;
CREATE INDEX audit_entries_by_consent ON audit_entries (consent_id, entry_index) WHERE consent_id IS NOT NULL;
CREATE INDEX audit_entries_by_time ON audit_entries (recorded_at, entry_index);

CREATE TABLE audit_hashes (
  hash_index INTEGER PRIMARY KEY,  -- storedHashIndex(level, n)
  hash BLOB NOT NULL
);

CREATE TABLE audit_checkpoints (
  tree_size INTEGER PRIMARY KEY,
  root_hash BLOB NOT NULL,
  note TEXT NOT NULL,              -- the signed C2SP tlog-checkpoint note
  created_at TEXT NOT NULL
);

CREATE TABLE audit_cosignatures (
  tree_size INTEGER NOT NULL,
  witness TEXT NOT NULL,           -- the witness's key name
  signature_line TEXT NOT NULL,    -- "— <name> <base64>"
  received_at TEXT NOT NULL,
  PRIMARY KEY (tree_size, witness)
);
