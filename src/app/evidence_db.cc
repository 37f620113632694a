#include "app/evidence_db.h"

namespace amanah {

namespace {

constexpr const char* kSchema = R"sql(
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
)sql";

// A prepared statement, finalized on scope exit.
class Stmt {
 public:
  Stmt(sqlite3* db, const char* sql) : db_(db) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &stmt_, nullptr);
  }
  ~Stmt() { sqlite3_finalize(stmt_); }
  Status status() const {
    if (rc_ == SQLITE_OK) return Status::OK();
    return Status::IOError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  void Bind(int i, const std::string& s) {
    sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()),
                      SQLITE_TRANSIENT);
  }
  void Bind(int i, uint64_t v) {
    sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v));
  }
  // SQLITE_ROW, SQLITE_DONE or an error.
  int Step() { return sqlite3_step(stmt_); }
  std::string Text(int col) {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? reinterpret_cast<const char*>(t) : "";
  }
  uint64_t Int(int col) {
    return static_cast<uint64_t>(sqlite3_column_int64(stmt_, col));
  }
  Status Error() const {
    return Status::IOError(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }

 private:
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

EvidenceRecord ReadEvidence(Stmt& s) {
  return EvidenceRecord{s.Text(0), s.Int(1), s.Text(2), s.Text(3)};
}

}  // namespace

Result<std::unique_ptr<EvidenceDb>> EvidenceDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
      nullptr);
  std::unique_ptr<EvidenceDb> out(new EvidenceDb(db));
  if (rc != SQLITE_OK) {
    return Status::IOError(path + ": " + sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(db, 10000);
  RETURN_IF_ERROR(out->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(out->Exec("PRAGMA synchronous=FULL"));
  RETURN_IF_ERROR(out->Exec("PRAGMA foreign_keys=ON"));
  RETURN_IF_ERROR(out->Exec(kSchema));
  return out;
}

EvidenceDb::~EvidenceDb() { sqlite3_close(db_); }

Status EvidenceDb::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("sqlite: " + msg);
  }
  return Status::OK();
}

Status EvidenceDb::RecordIngest(const EvidenceRecord& ev,
                                const IngestRecord& in) {
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  Status s = [&]() -> Status {
    Stmt up(db_,
            "INSERT INTO evidence(address, size, md5, sha1) VALUES(?,?,?,?) "
            "ON CONFLICT(address) DO UPDATE SET "
            "md5 = CASE WHEN md5 = '' THEN excluded.md5 ELSE md5 END, "
            "sha1 = CASE WHEN sha1 = '' THEN excluded.sha1 ELSE sha1 END");
    RETURN_IF_ERROR(up.status());
    up.Bind(1, ev.address);
    up.Bind(2, ev.size);
    up.Bind(3, ev.md5);
    up.Bind(4, ev.sha1);
    if (up.Step() != SQLITE_DONE) return up.Error();
    Stmt ins(db_,
             "INSERT INTO ingest(address, case_id, entry_index, source, time) "
             "VALUES(?,?,?,?,?)");
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, in.address);
    ins.Bind(2, in.case_id);
    ins.Bind(3, in.entry_index);
    ins.Bind(4, in.source);
    ins.Bind(5, in.time);
    if (ins.Step() != SQLITE_DONE) return ins.Error();
    return Status::OK();
  }();
  if (!s.ok()) {
    (void)Exec("ROLLBACK");
    return s;
  }
  return Exec("COMMIT");
}

Result<std::optional<EvidenceRecord>> EvidenceDb::FindEvidence(
    const std::string& address) {
  Stmt q(db_, "SELECT address, size, md5, sha1 FROM evidence WHERE address=?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, address);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<EvidenceRecord>();
  if (rc != SQLITE_ROW) return q.Error();
  return std::optional<EvidenceRecord>(ReadEvidence(q));
}

Result<std::vector<IngestRecord>> EvidenceDb::IngestsOf(
    const std::string& address) {
  Stmt q(db_,
         "SELECT address, case_id, entry_index, source, time FROM ingest "
         "WHERE address=? ORDER BY entry_index");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, address);
  std::vector<IngestRecord> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({q.Text(0), q.Text(1), q.Int(2), q.Text(3), q.Text(4)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<std::vector<EvidenceRecord>> EvidenceDb::AllEvidence() {
  Stmt q(db_, "SELECT address, size, md5, sha1 FROM evidence ORDER BY address");
  RETURN_IF_ERROR(q.status());
  std::vector<EvidenceRecord> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadEvidence(q));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

}  // namespace amanah
