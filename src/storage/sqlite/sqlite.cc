#include "storage/sqlite/sqlite.h"

namespace amanah {

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db,
      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
      nullptr);
  std::unique_ptr<SqliteDb> out(new SqliteDb(db));
  if (rc != SQLITE_OK) {
    return Status::IOError(path + ": " + sqlite3_errstr(rc));
  }
  sqlite3_busy_timeout(db, 10000);
  RETURN_IF_ERROR(out->Exec("PRAGMA journal_mode=WAL"));
  RETURN_IF_ERROR(out->Exec("PRAGMA synchronous=FULL"));
  RETURN_IF_ERROR(out->Exec("PRAGMA foreign_keys=ON"));
  return out;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

sqlite3_stmt* SqliteDb::TakePrepared(const char* sql, int* rc) const {
  {
    std::lock_guard<std::mutex> l(cache_mu_);
    auto it = cache_.find(sql);
    if (it != cache_.end()) {
      sqlite3_stmt* stmt = it->second;
      cache_.erase(it);
      *rc = SQLITE_OK;
      return stmt;
    }
  }
  sqlite3_stmt* stmt = nullptr;
  *rc = sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
                           nullptr);
  return stmt;
}

void SqliteDb::GiveBack(sqlite3_stmt* stmt) const {
  if (stmt == nullptr) return;
  // Ends any read the statement holds open and forgets its parameters.
  sqlite3_reset(stmt);
  sqlite3_clear_bindings(stmt);
  {
    std::lock_guard<std::mutex> l(cache_mu_);
    if (cache_.size() < kMaxCachedStatements) {
      cache_.emplace(sqlite3_sql(stmt), stmt);
      return;
    }
  }
  sqlite3_finalize(stmt);
}

Status SqliteDb::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Status::IOError("sqlite: " + msg);
  }
  return Status::OK();
}

Status SqliteDb::Transaction(const std::function<Status()>& fn) {
  std::lock_guard<std::recursive_mutex> l(tx_mu_);
  if (tx_depth_ > 0) {
    // Nested: a savepoint, so that the inner part can fail alone.
    std::string name = "sp" + std::to_string(tx_depth_);
    RETURN_IF_ERROR(Exec(("SAVEPOINT " + name).c_str()));
    ++tx_depth_;
    Status s = fn();
    --tx_depth_;
    if (s.ok()) s = Exec(("RELEASE " + name).c_str());
    if (!s.ok()) {
      (void)Exec(("ROLLBACK TO " + name).c_str());
      (void)Exec(("RELEASE " + name).c_str());
    }
    return s;
  }
  RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  ++tx_depth_;
  tx_owner_.store(std::this_thread::get_id());
  Status s = fn();
  tx_owner_.store(std::thread::id());
  --tx_depth_;
  if (s.ok()) s = Exec("COMMIT");
  if (!s.ok()) (void)Exec("ROLLBACK");
  return s;
}

Status SqliteDb::Write(const std::function<Status()>& fn) {
  if (InTransactionOnThisThread()) return fn();
  return Transaction(fn);
}

bool SqliteDb::InTransactionOnThisThread() const {
  return tx_owner_.load() == std::this_thread::get_id();
}

Statement::Statement(const SqliteDb& db, const char* sql)
    : owner_(&db), db_(db.handle()) {
  stmt_ = db.TakePrepared(sql, &rc_);
}

Statement::~Statement() {
  if (rc_ == SQLITE_OK) {
    owner_->GiveBack(stmt_);
  } else {
    sqlite3_finalize(stmt_);
  }
}

Status Statement::status() const {
  if (rc_ == SQLITE_OK) return Status::OK();
  return Status::IOError(std::string("sqlite: ") + sqlite3_errmsg(db_));
}

void Statement::Bind(int i, std::string_view s) {
  sqlite3_bind_text(stmt_, i, s.data(), static_cast<int>(s.size()),
                    SQLITE_TRANSIENT);
}

void Statement::Bind(int i, int64_t v) {
  sqlite3_bind_int64(stmt_, i, static_cast<sqlite3_int64>(v));
}

int Statement::Step() { return sqlite3_step(stmt_); }

Status Statement::Run() {
  RETURN_IF_ERROR(status());
  int rc = Step();
  if (rc == SQLITE_DONE) return Status::OK();
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    return Status::Conflict(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  return Error();
}

Result<bool> Statement::NextRow() {
  RETURN_IF_ERROR(status());
  int rc = Step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  if ((rc & 0xff) == SQLITE_CONSTRAINT) {
    return Status::InvalidInput(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  return Error();
}

std::string Statement::Text(int col) const {
  const unsigned char* t = sqlite3_column_text(stmt_, col);
  if (t == nullptr) return "";
  return std::string(reinterpret_cast<const char*>(t),
                     static_cast<size_t>(sqlite3_column_bytes(stmt_, col)));
}

int64_t Statement::Int(int col) const {
  return sqlite3_column_int64(stmt_, col);
}

bool Statement::IsNull(int col) const {
  return sqlite3_column_type(stmt_, col) == SQLITE_NULL;
}

int Statement::Columns() const { return sqlite3_column_count(stmt_); }

Status Statement::Error() const {
  return Status::IOError(std::string("sqlite: ") + sqlite3_errmsg(db_));
}

}  // namespace amanah
