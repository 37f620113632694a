-- The tables a node made by amanah at commit 347992f has: what that
-- commit's code ran on a new database, verbatim (its schema strings,
-- then its AddColumnIfMissing calls as ALTER TABLE). Unversioned
-- (user_version 0); schema_test.cc opens it and expects version 3's shape.
-- (347992f, 2026-11-23; reconstructed from git history).

-- src/app/cases.cc
CREATE TABLE IF NOT EXISTS cases (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  offence TEXT NOT NULL,
  legal_basis TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  opened TEXT NOT NULL,
  opened_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_members (
  case_id TEXT NOT NULL REFERENCES cases(id),
  user_id INTEGER NOT NULL REFERENCES users(id),
  added TEXT NOT NULL,
  PRIMARY KEY (case_id, user_id)
);
-- src/app/custody_index.cc
CREATE TABLE IF NOT EXISTS custody_index (
  entry_index INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  case_id TEXT NOT NULL,
  subject TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS custody_by_case ON custody_index(case_id);
CREATE INDEX IF NOT EXISTS custody_by_subject ON custody_index(subject);
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
