-- Retention (docs/retention.md), as SQLite's 0018: a purged batch keeps its row, with when it was purged and the
-- retention.purged audit entry; its records are deleted.
ALTER TABLE batches ADD COLUMN purged_at TEXT COLLATE "C";
ALTER TABLE batches ADD COLUMN purge_audit_index BIGINT;
CREATE INDEX batches_unpurged ON batches (dataset_no, as_of) WHERE purged_at IS NULL;

-- A record's data key is named by its sealed bytes' first five bytes (format byte and key id, envelope.ts): indexed
-- by that expression, whether a key still seals a record is one probe, with nothing to backfill.
CREATE INDEX records_by_data_key ON records (substring(sealed from 1 for 5));

-- Destroyed data keys: the wrapped key is deleted, its id stays here so that it is never given to another key.
CREATE TABLE destroyed_data_keys (
  key_id       BIGINT PRIMARY KEY,
  destroyed_at TEXT COLLATE "C" NOT NULL
);
