-- Subject facts (gateway/store/factsStore.ts), as SQLite's 0019: per subject and dataset, the fields the questions
-- read of its current records, sealed in one row and valid while the dataset's generation is the one they were
-- derived at.
ALTER TABLE datasets ADD COLUMN generation BIGINT NOT NULL DEFAULT 0;

CREATE TABLE subject_facts (
  subject_index BYTEA NOT NULL,
  dataset_no    BIGINT NOT NULL REFERENCES datasets (dataset_no),
  generation    BIGINT NOT NULL,
  sealed        BYTEA NOT NULL,
  PRIMARY KEY (subject_index, dataset_no)
);

CREATE INDEX subject_facts_by_data_key ON subject_facts (substring(sealed from 1 for 5));
