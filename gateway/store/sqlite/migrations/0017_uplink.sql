-- The national uplink's outbox (docs/uplink.md): one manifest per stored batch. A batch stored while the uplink is
-- enabled gets its row in its own transaction; batches stored before get theirs from the backfill. The manifest's
-- content is derived from the batch row (immutable) and its audit entry, so only delivery bookkeeping lives here.
CREATE TABLE uplink_manifests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  manifest_id TEXT NOT NULL UNIQUE,
  batch_no INTEGER NOT NULL UNIQUE REFERENCES batches (batch_no),
  created_at TEXT NOT NULL,
  jwe TEXT,
  state TEXT NOT NULL CHECK (state IN ('pending', 'acknowledged', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  retry_from INTEGER NOT NULL,            -- unix ms
  next_attempt_at INTEGER NOT NULL,       -- unix ms
  last_error TEXT,
  receipt TEXT,                           -- the platform's receipt JWS
  receipt_received_at TEXT,               -- when the platform says it received the manifest
  acknowledged_at TEXT,
  acknowledged_audit_index INTEGER
);
CREATE INDEX uplink_manifests_due ON uplink_manifests (next_attempt_at) WHERE state = 'pending';
CREATE INDEX uplink_manifests_by_state ON uplink_manifests (state, seq);
