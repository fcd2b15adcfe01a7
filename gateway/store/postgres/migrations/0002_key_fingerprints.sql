-- The fingerprints of the keys the database was first used with (gateway/runtime/keyCheck.ts): every instance that
-- opens it must hold the same keys, whatever its own data directory says.
CREATE TABLE key_fingerprints (
  id INTEGER PRIMARY KEY CHECK (id = 1),
  fingerprints TEXT COLLATE "C" NOT NULL,
  recorded_at TEXT COLLATE "C" NOT NULL
);
