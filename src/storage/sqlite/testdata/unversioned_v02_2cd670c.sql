-- The tables a node made by amanah at commit 2cd670c has: what that
-- commit's code ran on a new database, verbatim (its schema strings,
-- then its AddColumnIfMissing calls as ALTER TABLE). Unversioned
-- (user_version 0); schema_test.cc opens it and expects version 2's shape.
-- (2cd670c, 2026-11-23; reconstructed from git history).

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
-- src/app/users.cc
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
  secret_sha256 TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL CHECK (kind IN ('token', 'session')),
  label TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL,
  expires_unix INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS credentials_by_user ON credentials(user_id);
