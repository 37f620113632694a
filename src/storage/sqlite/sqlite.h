// The embedded database: one SQLite file in WAL mode, shared by the node's
// tables (evidence, users, cases, requests). A thin wrapper: statements that
// finalize themselves, and transactions that roll back on any error so that
// nothing half-written is ever visible. It is the SQLite adapter of the
// Database port (storage/database.h), and only storage/sqlite/ may use it
// (docs/architecture.md).
//
// One connection serves every thread. Transactions are run one at a time;
// a statement run outside any by another thread meanwhile runs on the same
// connection, so it sees (and, if it writes, joins) the open transaction:
// the stores make each of their writes a transaction of its own when the
// caller has none.

#ifndef AMANAH_STORAGE_SQLITE_SQLITE_H_
#define AMANAH_STORAGE_SQLITE_SQLITE_H_

#include <sqlite3.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>

#include "base/status.h"
#include "storage/database.h"

namespace amanah {

class SqliteDb : public Database {
 public:
  // Opens or creates the database: WAL, synchronous=FULL, foreign keys on.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path);
  ~SqliteDb() override;
  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;

  Status Exec(const char* sql);
  // BEGIN IMMEDIATE; fn(); COMMIT, or ROLLBACK if fn fails. Transactions
  // from several threads are serialised here; one inside another is a
  // savepoint within the outer one.
  Status Transaction(const std::function<Status()>& fn) override;
  bool InTransactionOnThisThread() const override;
  // fn() as part of the calling thread's transaction if it is in one, or
  // else in a transaction of its own: how a store makes each of its writes
  // atomic (on the one connection, a statement run outside any transaction
  // while another thread holds one would join that thread's).
  Status Write(const std::function<Status()>& fn);

  sqlite3* handle() const { return db_; }

 private:
  friend class Statement;
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  // Prepared statements kept for reuse, by their SQL text: a Statement
  // takes one (or prepares it) and gives it back, reset, when it ends, so
  // that the statements run on every request are parsed once.
  sqlite3_stmt* TakePrepared(const char* sql, int* rc) const;
  void GiveBack(sqlite3_stmt* stmt) const;
  static constexpr size_t kMaxCachedStatements = 512;

  sqlite3* db_;
  mutable std::mutex cache_mu_;
  mutable std::unordered_multimap<std::string, sqlite3_stmt*>
      cache_;  // guarded by cache_mu_
  std::recursive_mutex tx_mu_;
  int tx_depth_ = 0;                       // guarded by tx_mu_
  std::atomic<std::thread::id> tx_owner_;  // the thread in a transaction
};

// A prepared statement, given back to its database's cache (or finalized)
// on scope exit. Columns and parameters are
// numbered as in SQLite (parameters from 1, columns from 0).
class Statement {
 public:
  Statement(const SqliteDb& db, const char* sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  Status status() const;
  void Bind(int i, std::string_view s);
  void Bind(int i, const char* s) { Bind(i, std::string_view(s)); }
  void Bind(int i, int64_t v);
  void Bind(int i, uint64_t v) { Bind(i, static_cast<int64_t>(v)); }
  void Bind(int i, int v) { Bind(i, static_cast<int64_t>(v)); }
  // SQLITE_ROW, SQLITE_DONE or an error code.
  int Step();
  // Steps a statement that returns no rows.
  Status Run();
  // Steps to the next row: true if there is one (its columns can be read),
  // false once there are no more. A constraint the statement breaks is
  // kInvalidInput (a UNIQUE or PRIMARY KEY one cannot be, under ON CONFLICT
  // DO NOTHING).
  Result<bool> NextRow();
  std::string Text(int col) const;
  int64_t Int(int col) const;
  uint64_t Uint(int col) const { return static_cast<uint64_t>(Int(col)); }
  bool IsNull(int col) const;
  // How many columns a row of the result has.
  int Columns() const;
  Status Error() const;

 private:
  const SqliteDb* owner_;
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
  int rc_;
};

}  // namespace amanah

#endif  // AMANAH_STORAGE_SQLITE_SQLITE_H_
