#include "storage/sqlite/schema.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "storage/testutil.h"

namespace amanah {
namespace {

// One row for every table, giving only the columns the table was created
// with (those added later have defaults or may be NULL), in an order the
// foreign keys accept.
struct Row {
  const char* table;
  const char* columns;
  const char* values;
};
constexpr Row kRows[] = {
    {"evidence", "address, size, md5, sha1", "'sha256:aa', 3, 'm5', 's1'"},
    {"ingest", "id, address, case_id, entry_index, source, time",
     "1, 'sha256:aa', 'KW-1', 4, 'disk.e01', '2026-01-01T00:00:00Z'"},
    {"users", "id, name, role, password_hash, disabled, created",
     "1, 'lena', 'investigator', 'h', 0, '2026-01-01T00:00:00Z'"},
    {"credentials",
     "secret_sha256, user_id, kind, label, created, expires_unix, revoked",
     "'c0', 1, 'token', 'ci', '2026-01-01T00:00:00Z', 99, 0"},
    {"cases", "id, title, offence, legal_basis, status, opened, opened_by",
     "'KW-1', 'Fraud', 'fraud', 'art. 1', 'open', '2026-01-01T00:00:00Z', "
     "'user:lena'"},
    {"case_members", "case_id, user_id, added",
     "'KW-1', 1, '2026-01-01T00:00:00Z'"},
    {"custody_index", "entry_index, kind, time, actor, case_id, subject",
     "4, 'case.opened', '2026-01-01T00:00:00Z', 'user:lena', 'KW-1', "
     "'case:KW-1'"},
    {"requests",
     "id, case_id, type, profile, direction, state, reference, fields, "
     "created, created_by, updated, started_unix, preserved_until_unix, "
     "extensions",
     "'R-1', 'KW-1', 'preservation', 'budapest', 'outgoing', 'draft', 'ref', "
     "'{}', 't', 'user:lena', 't', 5, 6, 1"},
    {"request_moves",
     "request_id, seq, from_state, to_state, time, actor, reason",
     "'R-1', 1, 'draft', 'sent', 't', 'user:lena', 'why'"},
    {"uploads",
     "id, case_id, actor, name, note, md5, sha1, offset, state, address, "
     "entry_index, created",
     "'U-1', 'KW-1', 'user:lena', 'a.bin', 'n', 1, 2, 7, 'open', '', 0, 't'"},
    {"peers", "name, url, log_key, tls_pin, added",
     "'cyber.doj.example', 'https://cyber.doj.example', 'k', 'p', 't'"},
    {"witnessed_logs", "origin, size, root, note, updated",
     "'cyber.doj.example/custody', 8, 'r', 'n', 't'"},
    {"witness_alarms", "id, origin, detected, reason, cosigned_note, offered",
     "1, 'o', 't', 'fork', 'n', 'x'"},
    {"cosignatures", "peer, size, note, line, received",
     "'cyber.doj.example', 8, 'n', 'l', 't'"},
    {"witness_submissions", "peer, cosigned_size, last_attempt, last_error",
     "'cyber.doj.example', 8, 't', ''"},
    {"outbox",
     "id, peer, type, body, signature, created, state, attempts, "
     "next_attempt, last_error, receipt",
     "'M-1', 'cyber.doj.example', 'request', '{}', 'sig', 't', 'queued', 2, "
     "3, 'e', ''"},
    {"inbox", "id, peer, type, body, received",
     "'M-2', 'cyber.doj.example', 'request', '{}', 't'"},
    {"request_links", "request_id, peer, remote_id",
     "'R-1', 'cyber.doj.example', 'R-9'"},
    {"inbox_outcomes", "message_id, outcome", "'M-2', 'filed'"},
    {"evidence_offers",
     "message_id, address, peer, request_id, entry_index, received_index",
     "'M-3', 'sha256:aa', 'cyber.doj.example', 'R-1', 4, -1"},
    {"evidence_transfers",
     "message_id, address, peer, request_id, case_id, size, hashes, "
     "peer_entry, state, offset, attempts, refusals, next_attempt, "
     "last_error, entry_index, confirmed, created",
     "'M-4', 'sha256:bb', 'cyber.doj.example', 'R-1', 'KW-1', 9, '{}', 3, "
     "'pulling', 1, 2, 0, 5, '', -1, 0, 't'"},
    {"case_proposals",
     "case_id, change, user_name, proposed_by, proposed, expires_unix",
     "'KW-1', 'add', 'omar', 'user:lena', 't', 99"},
    {"enrolments", "user_id, secret_sha256, created, expires_unix",
     "1, 'e0', 't', 99"},
    {"custody_disclosures", "entry_index, disclosures", "4, '[]'"},
    {"pending_objects", "id, tmp_path, address", "1, 'vault/tmp/x', ''"},
};

std::string FixtureDir() {
  return std::string(AMANAH_SOURCE_DIR) + "/src/storage/sqlite/testdata";
}

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Every value of every row of `sql`'s result, one line a row.
std::vector<std::string> Query(SqliteDb& db, const std::string& sql) {
  Statement q(db, sql.c_str());
  EXPECT_TRUE(q.status().ok()) << sql << ": " << q.status().ToString();
  std::vector<std::string> out;
  while (q.Step() == SQLITE_ROW) {
    std::string line;
    for (int c = 0; c < q.Columns(); ++c) line += q.Text(c) + "|";
    out.push_back(line);
  }
  return out;
}

// What the schema is, in the detail SQLite reports: each table's columns
// (name, type, NOT NULL, default, primary key), its foreign keys and its
// indexes (with the columns, whether unique, and what made them). Not the
// order of the columns: ALTER TABLE adds at the end what an earlier
// version's CREATE TABLE had in the middle.
std::set<std::string> Describe(SqliteDb& db) {
  std::set<std::string> out;
  for (const std::string& t :
       Query(db,
             "SELECT name FROM sqlite_schema WHERE type = 'table' AND name "
             "NOT LIKE 'sqlite%'")) {
    std::string table = t.substr(0, t.size() - 1);
    out.insert("table " + table);
    for (const auto& c :
         Query(db,
               "SELECT name, type, \"notnull\", dflt_value, pk FROM "
               "pragma_table_info('" +
                   table + "')")) {
      out.insert("column " + table + " " + c);
    }
    for (const auto& f : Query(db,
                               "SELECT \"table\", \"from\", \"to\" FROM "
                               "pragma_foreign_key_list('" +
                                   table + "')")) {
      out.insert("foreign key " + table + " " + f);
    }
    for (const auto& i :
         Query(db,
               "SELECT l.origin, l.\"unique\", l.partial, "
               "CASE WHEN l.origin = 'c' THEN l.name ELSE '' END, "
               "(SELECT group_concat(name) FROM pragma_index_info(l.name)) "
               "FROM pragma_index_list('" +
                   table + "') l")) {
      out.insert("index " + table + " " + i);
    }
  }
  return out;
}

std::set<std::string> Tables(SqliteDb& db) {
  std::set<std::string> out;
  for (const auto& t : Query(db,
                             "SELECT name FROM sqlite_schema WHERE type = "
                             "'table' AND name NOT LIKE 'sqlite%'")) {
    out.insert(t.substr(0, t.size() - 1));
  }
  return out;
}

class SqliteSchemaTest : public testutil::TempDirTest {
 protected:
  std::unique_ptr<SqliteDb> OpenDb(const std::string& name) {
    auto db = SqliteDb::Open((dir_ / name).string());
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? std::move(db).value() : nullptr;
  }
  int Version(SqliteDb& db) {
    auto v = SqliteSchemaVersion(db);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : -1;
  }
  // Puts kRows's row into every table the database has; returns what was
  // put, to compare with what is there after a migration.
  std::map<std::string, std::vector<std::string>> Fill(SqliteDb& db) {
    std::set<std::string> tables = Tables(db);
    for (const Row& r : kRows) {
      if (!tables.count(r.table)) continue;
      std::string sql = std::string("INSERT INTO ") + r.table + "(" +
                        r.columns + ") VALUES(" + r.values + ")";
      EXPECT_TRUE(db.Exec(sql.c_str()).ok()) << sql;
    }
    return Rows(db, tables);
  }
  std::map<std::string, std::vector<std::string>> Rows(
      SqliteDb& db, const std::set<std::string>& tables) {
    std::map<std::string, std::vector<std::string>> out;
    for (const Row& r : kRows) {
      if (!tables.count(r.table)) continue;
      out[r.table] = Query(db, std::string("SELECT ") + r.columns + " FROM " +
                                   r.table + " ORDER BY rowid");
    }
    return out;
  }
  // The schema of the latest version, as a new database gets it.
  std::set<std::string> Latest() {
    auto db = OpenDb("latest.db");
    EXPECT_TRUE(MigrateSqliteSchema(*db).ok());
    return Describe(*db);
  }
};

TEST_F(SqliteSchemaTest, ANewDatabaseGetsTheLatestVersion) {
  auto db = OpenDb("new.db");
  EXPECT_EQ(Version(*db), 0);
  ASSERT_TRUE(MigrateSqliteSchema(*db).ok());
  EXPECT_EQ(Version(*db), LatestSqliteSchemaVersion());
  // Opened again: nothing to do, nothing changes.
  std::set<std::string> before = Describe(*db);
  ASSERT_TRUE(MigrateSqliteSchema(*db).ok());
  EXPECT_EQ(Version(*db), LatestSqliteSchemaVersion());
  EXPECT_EQ(Describe(*db), before);
  // Every table of the latest version has a row in kRows, so that the
  // tests below carry rows through every migration.
  std::set<std::string> filled;
  for (const Row& r : kRows) filled.insert(r.table);
  EXPECT_EQ(Tables(*db), filled);
  int n = 0;
  for (const SqliteMigration& m : SqliteMigrations()) {
    EXPECT_EQ(m.version, ++n);
  }
}

// A database at each version (made by the migrations up to it, with a row
// in each of its tables) reaches the latest version's schema and keeps its
// rows.
TEST_F(SqliteSchemaTest, EveryVersionReachesTheLatestKeepingItsRows) {
  std::set<std::string> latest = Latest();
  for (int v = 1; v <= LatestSqliteSchemaVersion(); ++v) {
    SCOPED_TRACE("version " + std::to_string(v));
    auto db = OpenDb("v" + std::to_string(v) + ".db");
    ASSERT_TRUE(MigrateSqliteSchema(*db, v).ok());
    EXPECT_EQ(Version(*db), v);
    auto rows = Fill(*db);
    std::set<std::string> tables = Tables(*db);
    Status s = MigrateSqliteSchema(*db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(Version(*db), LatestSqliteSchemaVersion());
    EXPECT_EQ(Describe(*db), latest);
    EXPECT_EQ(Rows(*db, tables), rows);
  }
}

// The databases made before versions were recorded, as each commit of main
// that changed the schema made them (testdata/, reconstructed from git):
// each is recognised as its version, with exactly the schema the
// migrations make for it, and reaches the latest keeping its rows.
TEST_F(SqliteSchemaTest, EveryUnversionedNodeIsRecognisedAndUpgraded) {
  std::set<std::string> latest = Latest();
  std::vector<std::filesystem::path> fixtures;
  for (const auto& e : std::filesystem::directory_iterator(FixtureDir())) {
    if (e.path().filename().string().rfind("unversioned_v", 0) == 0) {
      fixtures.push_back(e.path());
    }
  }
  std::sort(fixtures.begin(), fixtures.end());
  ASSERT_EQ(fixtures.size(), 12u);
  for (const auto& path : fixtures) {
    std::string name = path.filename().string();
    SCOPED_TRACE(name);
    int version = std::stoi(name.substr(13, 2));
    auto shaped = OpenDb("shaped" + std::to_string(version) + ".db");
    ASSERT_TRUE(MigrateSqliteSchema(*shaped, version).ok());

    auto db = OpenDb(name + ".db");
    ASSERT_TRUE(db->Exec(ReadText(path.string()).c_str()).ok());
    EXPECT_EQ(Version(*db), 0);
    EXPECT_EQ(Describe(*db), Describe(*shaped));
    auto rows = Fill(*db);
    std::set<std::string> tables = Tables(*db);
    Status s = MigrateSqliteSchema(*db);
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(Version(*db), LatestSqliteSchemaVersion());
    EXPECT_EQ(Describe(*db), latest);
    EXPECT_EQ(Rows(*db, tables), rows);
  }
}

TEST_F(SqliteSchemaTest, ALaterVersionIsRefused) {
  auto db = OpenDb("later.db");
  ASSERT_TRUE(MigrateSqliteSchema(*db).ok());
  int later = LatestSqliteSchemaVersion() + 1;
  ASSERT_TRUE(
      db->Exec(("PRAGMA user_version = " + std::to_string(later)).c_str())
          .ok());
  Status s = MigrateSqliteSchema(*db);
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_NE(s.message().find("schema version " + std::to_string(later)),
            std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("later amanah"), std::string::npos);
  EXPECT_EQ(Version(*db), later);
}

// Unversioned, and like no version: refused, naming what differs, and left
// as it was.
TEST_F(SqliteSchemaTest, TablesOfNoVersionAreRefused) {
  auto db = OpenDb("odd.db");
  ASSERT_TRUE(MigrateSqliteSchema(*db).ok());
  ASSERT_TRUE(
      db->Exec("DROP TABLE pending_objects; PRAGMA user_version = 0").ok());
  std::set<std::string> before = Describe(*db);
  Status s = MigrateSqliteSchema(*db);
  EXPECT_EQ(s.code(), Code::kCorruption);
  EXPECT_NE(s.message().find("closest is version 12"), std::string::npos)
      << s.ToString();
  EXPECT_NE(s.message().find("lacks table pending_objects"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(Version(*db), 0);
  EXPECT_EQ(Describe(*db), before);
}

// The migrations are one transaction: one that fails undoes those before
// it and its own first statements.
TEST_F(SqliteSchemaTest, AFailedMigrationLeavesTheDatabaseAsItWas) {
  auto db = OpenDb("failing.db");
  ASSERT_TRUE(MigrateSqliteSchema(*db, 10).ok());
  // Migration 12 makes this table; made already, its CREATE fails.
  ASSERT_TRUE(db->Exec("CREATE TABLE pending_objects (x)").ok());
  std::set<std::string> before = Describe(*db);
  Status s = MigrateSqliteSchema(*db);
  EXPECT_FALSE(s.ok());
  EXPECT_NE(s.message().find("schema migration 12"), std::string::npos)
      << s.ToString();
  EXPECT_EQ(Version(*db), 10);
  EXPECT_EQ(Describe(*db), before);  // no cases.lead (11), no .secret (12)
}

// Version 11 gives each earlier case a lead: its opener if still a member,
// else its first member (by when added, then in the order added), else
// nobody.
TEST_F(SqliteSchemaTest, Version11LeadsEachCaseByItsOpenerOrFirstMember) {
  auto db = OpenDb("leads.db");
  ASSERT_TRUE(MigrateSqliteSchema(*db, 10).ok());
  ASSERT_TRUE(db->Exec(R"sql(
INSERT INTO users(id, name, role, created) VALUES
  (1, 'lena', 'investigator', 't'), (2, 'omar', 'investigator', 't'),
  (3, 'pia', 'investigator', 't'), (4, 'ana', 'investigator', 't');
INSERT INTO cases(id, title, offence, legal_basis, opened, opened_by) VALUES
  ('A', 't', 'other', 'x', 't', 'user:lena'),
  ('B', 't', 'other', 'x', 't', 'local:op'),
  ('C', 't', 'other', 'x', 't', 'local:op'),
  ('D', 't', 'other', 'x', 't', 'user:lena'),
  ('E', 't', 'other', 'x', 't', 'local:op');
INSERT INTO case_members(case_id, user_id, added) VALUES
  ('A', 4, '2026-01-01'), ('A', 1, '2026-01-02'),
  ('B', 3, '2026-01-02'), ('B', 2, '2026-01-01'),
  ('D', 3, '2026-01-01'),
  ('E', 3, '2026-01-01'), ('E', 2, '2026-01-01');
)sql")
                  .ok());
  ASSERT_TRUE(MigrateSqliteSchema(*db).ok());
  EXPECT_EQ(Query(*db, "SELECT id, lead FROM cases ORDER BY id"),
            (std::vector<std::string>{"A|lena|", "B|omar|", "C||", "D|pia|",
                                      "E|pia|"}));
}

// Version 12 gives each earlier ingest the MD5 and SHA-1 its object had.
TEST_F(SqliteSchemaTest, Version12GivesEachIngestItsObjectsHashes) {
  auto db = OpenDb("hashes.db");
  ASSERT_TRUE(MigrateSqliteSchema(*db, 11).ok());
  ASSERT_TRUE(db->Exec(R"sql(
INSERT INTO evidence(address, size, md5, sha1) VALUES
  ('sha256:aa', 1, 'm-a', 's-a'), ('sha256:bb', 2, '', '');
INSERT INTO ingest(address, case_id, entry_index, source, time) VALUES
  ('sha256:aa', 'A', 1, 'x', 't'), ('sha256:aa', 'B', 2, 'y', 't'),
  ('sha256:bb', 'A', 3, 'z', 't');
)sql")
                  .ok());
  ASSERT_TRUE(MigrateSqliteSchema(*db).ok());
  EXPECT_EQ(Query(*db, "SELECT entry_index, md5, sha1 FROM ingest ORDER BY id"),
            (std::vector<std::string>{"1|m-a|s-a|", "2|m-a|s-a|", "3|||"}));
}

}  // namespace
}  // namespace amanah
