-- Consent use counts agree with the audit log. `uses` is counted before an answer's audit entry is written (so a
-- budget is never overspent); a crash in between leaves it ahead of the log. `logged_uses` is what the audit log's
-- own `verification.answered` entries show, through audit entry `through_index` (exclusive); `gateway serve`
-- recounts from there at start and sets `uses` to it (gateway/consent/useReconciliation.ts).
ALTER TABLE consents ADD COLUMN logged_uses INTEGER NOT NULL DEFAULT 0;

CREATE TABLE consent_uses_logged (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  through_index INTEGER NOT NULL
);
