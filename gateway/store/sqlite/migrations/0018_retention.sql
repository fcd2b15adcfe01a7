-- Retention (docs/retention.md). A purged batch keeps its row (receipts and audit entries name it) with when it was
-- purged and the retention.purged audit entry; its records are deleted.
ALTER TABLE batches ADD COLUMN purged_at TEXT;
ALTER TABLE batches ADD COLUMN purge_audit_index INTEGER;
CREATE INDEX batches_unpurged ON batches (dataset_no, as_of) WHERE purged_at IS NULL;

-- A record's data key is named by its sealed bytes' first five bytes (format byte and key id, envelope.ts): indexed
-- by that expression, whether a key still seals a record is one probe, and existing rows are covered as the index is
-- built, with nothing to backfill.
CREATE INDEX records_by_data_key ON records (substr(sealed, 1, 5));

-- Destroyed data keys: the wrapped key is deleted, its id stays here so that it is never given to another key.
CREATE TABLE destroyed_data_keys (
  key_id       INTEGER PRIMARY KEY,
  destroyed_at TEXT NOT NULL
);
