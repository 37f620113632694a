-- The tables a node made by amanah at commit 3acc037 has: what that
-- commit's code ran on a new database, verbatim (its schema strings,
-- then its AddColumnIfMissing calls as ALTER TABLE). Unversioned
-- (user_version 0); schema_test.cc opens it and expects version 5's shape.
-- (3acc037, 2026-11-23; reconstructed from git history).

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
-- src/app/requests.cc
CREATE TABLE IF NOT EXISTS requests (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases(id),
  type TEXT NOT NULL,
  profile TEXT NOT NULL,
  direction TEXT NOT NULL,
  state TEXT NOT NULL,
  reference TEXT NOT NULL,
  fields TEXT NOT NULL,
  created TEXT NOT NULL,
  created_by TEXT NOT NULL,
  updated TEXT NOT NULL,
  started_unix INTEGER NOT NULL DEFAULT 0,
  preserved_until_unix INTEGER NOT NULL DEFAULT 0,
  extensions INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_by_case ON requests(case_id);
CREATE TABLE IF NOT EXISTS request_moves (
  request_id TEXT NOT NULL REFERENCES requests(id),
  seq INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (request_id, seq)
);
-- src/app/uploads.cc
CREATE TABLE IF NOT EXISTS uploads (
  id TEXT PRIMARY KEY,
  case_id TEXT NOT NULL REFERENCES cases(id),
  actor TEXT NOT NULL,
  name TEXT NOT NULL,
  note TEXT NOT NULL,
  md5 INTEGER NOT NULL,
  sha1 INTEGER NOT NULL,
  offset INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL DEFAULT 'open',
  address TEXT NOT NULL DEFAULT '',
  entry_index INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL
);
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
