-- The audit log lives in its own database, so a batch and its audit entry cannot share a transaction. A batch is
-- committed first and marked with its entry's index once the entry is durable; a batch still unmarked at start-up
-- (the process died in between) gets its entry then.
ALTER TABLE batches ADD COLUMN audit_index INTEGER;
CREATE INDEX batches_unaudited ON batches (batch_no) WHERE audit_index IS NULL;
