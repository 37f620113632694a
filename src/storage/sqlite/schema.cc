#include "storage/sqlite/schema.h"

#include <algorithm>
#include <set>
#include <string>
#include <vector>

namespace amanah {

namespace {

// Each statement as its commit wrote it. A migration that has shipped is
// never changed: a node at its version has what it made.
constexpr SqliteMigration kMigrations[] = {
    {1, "evidence and its ingests (68114e5)", R"sql(
CREATE TABLE evidence (
  address TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  md5 TEXT NOT NULL DEFAULT '',
  sha1 TEXT NOT NULL DEFAULT ''
);
CREATE TABLE ingest (
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL REFERENCES evidence(address),
  case_id TEXT NOT NULL,
  entry_index INTEGER NOT NULL UNIQUE,
  source TEXT NOT NULL,
  time TEXT NOT NULL
);
CREATE INDEX ingest_by_address ON ingest(address);
)sql"},
    {2, "users and their credentials (2cd670c)", R"sql(
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL
);
CREATE TABLE credentials (
  secret_sha256 TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL CHECK (kind IN ('token', 'session')),
  label TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL,
  expires_unix INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX credentials_by_user ON credentials(user_id);
)sql"},
    {3, "cases, their members and the custody index (347992f)", R"sql(
CREATE TABLE cases (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  offence TEXT NOT NULL,
  legal_basis TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  opened TEXT NOT NULL,
  opened_by TEXT NOT NULL
);
CREATE TABLE case_members (
  case_id TEXT NOT NULL REFERENCES cases(id),
  user_id INTEGER NOT NULL REFERENCES users(id),
  added TEXT NOT NULL,
  PRIMARY KEY (case_id, user_id)
);
CREATE TABLE custody_index (
  entry_index INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  case_id TEXT NOT NULL,
  subject TEXT NOT NULL
);
CREATE INDEX custody_by_case ON custody_index(case_id);
CREATE INDEX custody_by_subject ON custody_index(subject);
)sql"},
    {4, "requests and their moves (4ee6e1b)", R"sql(
CREATE TABLE requests (
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
CREATE INDEX requests_by_case ON requests(case_id);
CREATE TABLE request_moves (
  request_id TEXT NOT NULL REFERENCES requests(id),
  seq INTEGER NOT NULL,
  from_state TEXT NOT NULL,
  to_state TEXT NOT NULL,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  reason TEXT NOT NULL,
  PRIMARY KEY (request_id, seq)
);
)sql"},
    {5, "resumable uploads (3acc037)", R"sql(
CREATE TABLE uploads (
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
)sql"},
    // 9c8e6ca wrote these into CREATE TABLE uploads, so a node made at
    // version 5 never gained them; now it does.
    {6, "an upload's digests, noted when it is sealed (9c8e6ca)", R"sql(
ALTER TABLE uploads ADD COLUMN size INTEGER NOT NULL DEFAULT 0;
ALTER TABLE uploads ADD COLUMN md5_hex TEXT NOT NULL DEFAULT '';
ALTER TABLE uploads ADD COLUMN sha1_hex TEXT NOT NULL DEFAULT '';
)sql"},
    {7, "peers and witnessing (ca7dc09)", R"sql(
CREATE TABLE peers (
  name TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  log_key TEXT NOT NULL,
  tls_pin TEXT NOT NULL,
  added TEXT NOT NULL
);
CREATE TABLE witnessed_logs (
  origin TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  root TEXT NOT NULL,
  note TEXT NOT NULL,
  updated TEXT NOT NULL
);
CREATE TABLE witness_alarms (
  id INTEGER PRIMARY KEY,
  origin TEXT NOT NULL,
  detected TEXT NOT NULL,
  reason TEXT NOT NULL,
  cosigned_note TEXT NOT NULL,
  offered TEXT NOT NULL
);
CREATE TABLE cosignatures (
  peer TEXT NOT NULL,
  size INTEGER NOT NULL,
  note TEXT NOT NULL,
  line TEXT NOT NULL,
  received TEXT NOT NULL,
  PRIMARY KEY (peer, size)
);
CREATE TABLE witness_submissions (
  peer TEXT PRIMARY KEY,
  cosigned_size INTEGER NOT NULL,
  last_attempt TEXT NOT NULL,
  last_error TEXT NOT NULL
);
)sql"},
    {8, "signed messages between peers: outbox and inbox (f69a1f5)", R"sql(
CREATE TABLE outbox (
  id TEXT PRIMARY KEY,
  peer TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  signature TEXT NOT NULL,
  created TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  receipt TEXT NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due ON outbox(state, next_attempt);
CREATE TABLE inbox (
  id TEXT PRIMARY KEY,
  peer TEXT NOT NULL,
  type TEXT NOT NULL,
  body TEXT NOT NULL,
  received TEXT NOT NULL
);
)sql"},
    {9, "requests linked across borders (3ed17fa)", R"sql(
CREATE TABLE request_links (
  request_id TEXT PRIMARY KEY,
  peer TEXT NOT NULL,
  remote_id TEXT NOT NULL
);
CREATE TABLE inbox_outcomes (
  message_id TEXT PRIMARY KEY,
  outcome TEXT NOT NULL
);
)sql"},
    {10, "evidence offered to and transferred from peers (25d4d2d)", R"sql(
CREATE TABLE evidence_offers (
  message_id TEXT NOT NULL,
  address TEXT NOT NULL,
  peer TEXT NOT NULL,
  request_id TEXT NOT NULL,
  entry_index INTEGER NOT NULL,
  received_index INTEGER NOT NULL DEFAULT -1,
  PRIMARY KEY (message_id, address)
);
CREATE INDEX evidence_offers_by_peer
  ON evidence_offers(peer, address);
CREATE TABLE evidence_transfers (
  message_id TEXT NOT NULL,
  address TEXT NOT NULL,
  peer TEXT NOT NULL,
  request_id TEXT NOT NULL,
  case_id TEXT NOT NULL,
  size INTEGER NOT NULL,
  hashes TEXT NOT NULL,
  peer_entry INTEGER NOT NULL,
  state TEXT NOT NULL,
  offset INTEGER NOT NULL DEFAULT 0,
  attempts INTEGER NOT NULL DEFAULT 0,
  refusals INTEGER NOT NULL DEFAULT 0,
  next_attempt INTEGER NOT NULL DEFAULT 0,
  last_error TEXT NOT NULL DEFAULT '',
  entry_index INTEGER NOT NULL DEFAULT -1,
  confirmed INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL,
  PRIMARY KEY (message_id, address)
);
)sql"},
    // Each earlier case is led by its opener if still a member, or else by
    // its first member. Both are in the custody log already (case.opened's
    // actor, the first case.member_added), so this records nothing new.
    {11, "case leads and membership proposals, enrolment secrets (f02439c)",
     R"sql(
CREATE TABLE case_proposals (
  case_id TEXT NOT NULL REFERENCES cases(id),
  change TEXT NOT NULL CHECK (change IN ('add', 'remove', 'lead')),
  user_name TEXT NOT NULL,
  proposed_by TEXT NOT NULL,
  proposed TEXT NOT NULL,
  expires_unix INTEGER NOT NULL,
  PRIMARY KEY (case_id, change, user_name)
);
ALTER TABLE cases ADD COLUMN lead TEXT;
UPDATE cases SET lead = COALESCE(
  (SELECT u.name FROM case_members m JOIN users u ON u.id = m.user_id
    WHERE m.case_id = cases.id AND 'user:' || u.name = cases.opened_by),
  (SELECT u.name FROM case_members m JOIN users u ON u.id = m.user_id
    WHERE m.case_id = cases.id ORDER BY m.added, m.rowid LIMIT 1),
  '')
WHERE lead IS NULL;
CREATE TABLE enrolments (
  user_id INTEGER PRIMARY KEY REFERENCES users(id),
  secret_sha256 TEXT NOT NULL,
  created TEXT NOT NULL,
  expires_unix INTEGER NOT NULL
);
)sql"},
    // A case's secret (ledger/disclosure.h) is hex, never shown, never in
    // the log; earlier cases get one when first sealed for. voided_by: an
    // entry whose change never committed names the entry.voided that says
    // so (Node::VoidUncommitted). The MD5 and SHA-1 an earlier version kept
    // per object only, its ingests keep showing.
    {12,
     "sealed custody entries: case secrets, disclosures, voided entries, "
     "hashes per ingest, vault intents (ab39594)",
     R"sql(
ALTER TABLE cases ADD COLUMN secret TEXT NOT NULL DEFAULT '';
CREATE INDEX custody_by_case_subject
  ON custody_index(case_id, subject);
CREATE TABLE custody_disclosures (
  entry_index INTEGER PRIMARY KEY,
  disclosures TEXT NOT NULL
);
ALTER TABLE custody_index ADD COLUMN voided_by INTEGER;
ALTER TABLE ingest ADD COLUMN md5 TEXT NOT NULL DEFAULT '';
ALTER TABLE ingest ADD COLUMN sha1 TEXT NOT NULL DEFAULT '';
UPDATE ingest SET
  md5 = (SELECT e.md5 FROM evidence e WHERE e.address = ingest.address),
  sha1 = (SELECT e.sha1 FROM evidence e WHERE e.address = ingest.address);
CREATE TABLE pending_objects (
  id INTEGER PRIMARY KEY,
  tmp_path TEXT NOT NULL,
  address TEXT NOT NULL DEFAULT ''
);
CREATE INDEX ingest_by_case ON ingest(case_id, address);
)sql"},
};

constexpr int kLatest = std::size(kMigrations);

// The names a schema is recognised by: "table T", "column T.C",
// "index I". SQLite's own tables and automatic indexes are left out.
using Shape = std::set<std::string>;

Result<Shape> ShapeOf(SqliteDb& db) {
  Shape shape;
  std::vector<std::string> tables;
  {
    Statement q(db,
                "SELECT type, name FROM sqlite_schema WHERE type IN "
                "('table', 'index') AND name NOT LIKE 'sqlite\\_%' ESCAPE "
                "'\\' ORDER BY name");
    RETURN_IF_ERROR(q.status());
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      shape.insert(q.Text(0) + " " + q.Text(1));
      if (q.Text(0) == "table") tables.push_back(q.Text(1));
    }
    if (rc != SQLITE_DONE) return q.Error();
  }
  for (const std::string& t : tables) {
    Statement q(db, "SELECT name FROM pragma_table_info(?)");
    RETURN_IF_ERROR(q.status());
    q.Bind(1, t);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) {
      shape.insert("column " + t + "." + q.Text(0));
    }
    if (rc != SQLITE_DONE) return q.Error();
  }
  return shape;
}

// The shape after each version, 0 to the latest, made in memory.
Result<std::vector<Shape>> ShapesOfVersions() {
  ASSIGN_OR_RETURN(auto scratch, SqliteDb::Open(":memory:"));
  std::vector<Shape> shapes(1);
  for (const SqliteMigration& m : kMigrations) {
    RETURN_IF_ERROR(scratch->Exec(m.sql));
    ASSIGN_OR_RETURN(Shape s, ShapeOf(*scratch));
    shapes.push_back(std::move(s));
  }
  return shapes;
}

std::string Describe(const Shape& have, const Shape& want) {
  std::vector<std::string> missing, extra;
  std::set_difference(want.begin(), want.end(), have.begin(), have.end(),
                      std::back_inserter(missing));
  std::set_difference(have.begin(), have.end(), want.begin(), want.end(),
                      std::back_inserter(extra));
  // A table missing (or extra) as a whole is named without its columns.
  auto whole_tables = [](std::vector<std::string>& v) {
    std::set<std::string> tables;
    for (const auto& s : v) {
      if (s.rfind("table ", 0) == 0) tables.insert(s.substr(6));
    }
    std::erase_if(v, [&](const std::string& s) {
      return s.rfind("column ", 0) == 0 &&
             tables.count(s.substr(7, s.find('.') - 7));
    });
  };
  whole_tables(missing);
  whole_tables(extra);
  auto list = [](const std::vector<std::string>& v) {
    std::string out;
    for (size_t i = 0; i < v.size() && i < 5; ++i) {
      out += (i ? ", " : "") + v[i];
    }
    if (v.size() > 5) out += ", ...";
    return out;
  };
  std::string out;
  if (!missing.empty()) out += "lacks " + list(missing);
  if (!extra.empty()) out += (out.empty() ? "has " : "; has ") + list(extra);
  return out;
}

// The version a database that records none is at, by its tables.
Result<int> RecogniseUnversioned(SqliteDb& db) {
  ASSIGN_OR_RETURN(Shape have, ShapeOf(db));
  ASSIGN_OR_RETURN(std::vector<Shape> shapes, ShapesOfVersions());
  size_t closest = 0, distance = SIZE_MAX;
  for (size_t v = 0; v < shapes.size(); ++v) {
    if (shapes[v] == have) return static_cast<int>(v);
    std::vector<std::string> diff;
    std::set_symmetric_difference(have.begin(), have.end(), shapes[v].begin(),
                                  shapes[v].end(), std::back_inserter(diff));
    if (diff.size() < distance) {
      distance = diff.size();
      closest = v;
    }
  }
  return Status::Corruption(
      "the database records no schema version and its tables are those of "
      "no version of amanah; closest is version " +
      std::to_string(closest) + ", but it " + Describe(have, shapes[closest]));
}

Status SetVersion(SqliteDb& db, int version) {
  return db.Exec(("PRAGMA user_version = " + std::to_string(version)).c_str());
}

}  // namespace

std::span<const SqliteMigration> SqliteMigrations() { return kMigrations; }

int LatestSqliteSchemaVersion() { return kLatest; }

Result<int> SqliteSchemaVersion(SqliteDb& db) {
  Statement q(db, "PRAGMA user_version");
  RETURN_IF_ERROR(q.status());
  if (q.Step() != SQLITE_ROW) return q.Error();
  return static_cast<int>(q.Int(0));
}

Status MigrateSqliteSchema(SqliteDb& db, int target) {
  if (target == 0) target = kLatest;
  if (target < 0 || target > kLatest) {
    return Status::InvalidInput("no schema version " + std::to_string(target));
  }
  // Read first without taking the write lock: most opens find nothing to
  // do. Read again inside the transaction, which another process may have
  // migrated meanwhile.
  ASSIGN_OR_RETURN(int seen, SqliteSchemaVersion(db));
  if (seen == target) return Status::OK();
  return db.Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(int version, SqliteSchemaVersion(db));
    if (version > kLatest) {
      return Status::Conflict(
          "the database is at schema version " + std::to_string(version) +
          ", made by a later amanah; this one knows versions up to " +
          std::to_string(kLatest) + ". Run the later amanah.");
    }
    if (version == 0) {
      ASSIGN_OR_RETURN(version, RecogniseUnversioned(db));
    }
    if (version > target) {
      return Status::InvalidInput("the database is at schema version " +
                                  std::to_string(version) + ", past version " +
                                  std::to_string(target));
    }
    for (const SqliteMigration& m : kMigrations) {
      if (m.version <= version || m.version > target) continue;
      Status s = db.Exec(m.sql);
      if (!s.ok()) {
        return s.Annotate("schema migration " + std::to_string(m.version) +
                          " (" + m.what + ")");
      }
    }
    return SetVersion(db, target);
  });
}

}  // namespace amanah
