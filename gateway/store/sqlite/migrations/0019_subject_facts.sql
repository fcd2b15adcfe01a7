-- Subject facts (gateway/store/factsStore.ts): per subject and dataset, the fields the questions read of its current
-- records, sealed in one row and valid while the dataset's generation is the one they were derived at. Existing
-- datasets start at generation 0 with no facts: the first read derives them.
ALTER TABLE datasets ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;

CREATE TABLE subject_facts (
  subject_index BLOB NOT NULL,
  dataset_no    INTEGER NOT NULL REFERENCES datasets (dataset_no),
  generation    INTEGER NOT NULL,
  sealed        BLOB NOT NULL,
  PRIMARY KEY (subject_index, dataset_no)
) WITHOUT ROWID;

-- As records_by_data_key: destroying a data key deletes the facts sealed under it.
CREATE INDEX subject_facts_by_data_key ON subject_facts (substr(sealed, 1, 5));
