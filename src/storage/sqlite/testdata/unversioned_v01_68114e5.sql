-- The tables a node made by amanah at commit 68114e5 has: what that
-- commit's code ran on a new database, verbatim (its schema strings,
-- then its AddColumnIfMissing calls as ALTER TABLE). Unversioned
-- (user_version 0); schema_test.cc opens it and expects version 1's shape.
-- (68114e5, 2026-11-22; reconstructed from git history).

-- src/app/evidence_db.cc
CREATE TABLE IF NOT EXISTS evidence (
  address TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  md5 TEXT NOT NULL DEFAULT '',
  sha1 TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS ingest (
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL REFERENCES evidence(address),
  case_id TEXT NOT NULL,
  entry_index INTEGER NOT NULL UNIQUE,
  source TEXT NOT NULL,
  time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ingest_by_address ON ingest(address);
