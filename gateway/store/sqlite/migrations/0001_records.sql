-- Batches, sealed records and wrapped data keys. Record contents are AES-256-GCM ciphertexts; identifiers appear
-- only as keyed blind indexes.

CREATE TABLE datasets (
  dataset_no INTEGER PRIMARY KEY,
  dataset    TEXT NOT NULL UNIQUE
);

-- Batch numbers are allocated before a batch is written (record ids and their ciphertexts depend on them); a
-- batch that fails leaves a gap, which is harmless.
CREATE TABLE batch_numbers (
  batch_no INTEGER PRIMARY KEY AUTOINCREMENT
);

CREATE TABLE batches (
  batch_no     INTEGER PRIMARY KEY,
  batch_id     TEXT NOT NULL UNIQUE,
  dataset_no   INTEGER NOT NULL REFERENCES datasets (dataset_no),
  source       TEXT NOT NULL,
  content_hash TEXT NOT NULL,
  format       TEXT NOT NULL,
  row_count    INTEGER NOT NULL,
  as_of        TEXT NOT NULL,
  received_at  TEXT NOT NULL,
  UNIQUE (dataset_no, content_hash)
);

-- record_id = batch_no * 2^24 + row number: ids grow with every batch (appends stay at the end of the table) and
-- a batch's records are one id range.
CREATE TABLE records (
  record_id     INTEGER PRIMARY KEY,
  dataset_no    INTEGER NOT NULL,
  batch_no      INTEGER NOT NULL,
  key_index     BLOB NOT NULL,
  subject_index BLOB NOT NULL,
  superseded_by INTEGER,
  sealed        BLOB NOT NULL
);

-- One index serves subject lookups, supersession and duplicate detection (a natural key always determines its
-- subject). Leading with the subject keeps a subject's rows together, so a batch's inserts stay local in the
-- B-tree instead of landing on a random page per row. Also rejects a natural key repeated inside one batch.
CREATE UNIQUE INDEX records_by_subject_key ON records (dataset_no, subject_index, key_index, batch_no);

CREATE TABLE data_keys (
  key_id     INTEGER PRIMARY KEY,
  wrapped    BLOB NOT NULL,
  created_at TEXT NOT NULL
);
