-- Risk monitoring (docs/monitoring.md): banks' webhook endpoints, subscriptions to subjects under post-loan consents,
-- the last answer each subscription has seen per monitored question, and the outbox of events to deliver.

-- One endpoint per bank participant; the secret signs deliveries (Standard Webhooks) and is rotated by the operator.
CREATE TABLE webhooks (
  participant_id TEXT PRIMARY KEY REFERENCES participants (participant_id),
  url TEXT NOT NULL,
  secret TEXT NOT NULL,                    -- whsec_<base64>
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);

CREATE TABLE subscriptions (
  seq INTEGER PRIMARY KEY,                 -- listing order and cursor
  subscription_id TEXT NOT NULL UNIQUE,
  bank_id TEXT NOT NULL,
  consent_id TEXT NOT NULL,
  uscc TEXT NOT NULL,
  subject_index BLOB NOT NULL,             -- the subject's blind index, as on its records
  rules TEXT NOT NULL,                     -- JSON array of monitor rule ids
  state TEXT NOT NULL CHECK (state IN ('active', 'ended')),
  end_reason TEXT,
  created_at TEXT NOT NULL,
  ended_at TEXT,
  audit_index INTEGER NOT NULL
);
-- Ingestion asks "does anyone watch these subjects?" through this index; it is empty when nobody is subscribed.
CREATE INDEX subscriptions_active_by_subject ON subscriptions (subject_index) WHERE state = 'active';
CREATE UNIQUE INDEX subscriptions_active_by_consent ON subscriptions (consent_id) WHERE state = 'active';
CREATE INDEX subscriptions_by_bank ON subscriptions (bank_id, seq);

-- The answer a subscription last saw for each monitored question (JSON: true, false, a band, "unknown").
CREATE TABLE monitor_answers (
  subscription_id TEXT NOT NULL,
  question_id TEXT NOT NULL,
  answer TEXT NOT NULL,
  PRIMARY KEY (subscription_id, question_id)
) WITHOUT ROWID;

-- Events for banks: alerts (written in the transaction of the batch that caused them) and consent endings. `seq` is
-- the pull feed's cursor: rows are inserted by one writer at a time, so seq order is commit order.
CREATE TABLE outbox (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  event_id TEXT NOT NULL UNIQUE,
  bank_id TEXT NOT NULL,
  type TEXT NOT NULL,                      -- alert | consent.revoked | consent.expired
  subscription_id TEXT NOT NULL,
  content TEXT NOT NULL,                   -- JSON claims of the event; never a record value
  created_at TEXT NOT NULL,
  jws TEXT,                                -- signed once, then every delivery sends these bytes
  audit_index INTEGER,
  state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
  attempts INTEGER NOT NULL DEFAULT 0,
  retry_from INTEGER NOT NULL,             -- unix ms: the retry horizon counts from here (creation or replay)
  next_attempt_at INTEGER NOT NULL,        -- unix ms
  last_error TEXT,
  delivered_at TEXT
);
CREATE INDEX outbox_due ON outbox (next_attempt_at, bank_id) WHERE state = 'pending';
CREATE INDEX outbox_by_bank ON outbox (bank_id, seq);
CREATE INDEX outbox_by_state ON outbox (state, seq);
