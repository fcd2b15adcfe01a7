-- The fingerprints of the keys the database was first used with (gateway/runtime/keyCheck.ts): kept with the data,
-- so that a process with other keys is refused whichever data directory it starts from.
CREATE TABLE key_fingerprints (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprints TEXT NOT NULL,
  recorded_at TEXT NOT NULL
);
