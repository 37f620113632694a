#include "storage/sqlite/sqlite.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <future>
#include <thread>

#include "storage/testutil.h"

namespace amanah {
namespace {

class SqliteTest : public testutil::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    db_ = std::move(SqliteDb::Open((dir_ / "t.db").string())).value();
    ASSERT_TRUE(db_->Exec("CREATE TABLE t (v INTEGER UNIQUE)").ok());
  }
  Status Insert(int v) {
    Statement s(*db_, "INSERT INTO t(v) VALUES(?)");
    s.Bind(1, v);
    return s.Run();
  }
  int64_t Count() {
    Statement s(*db_, "SELECT COUNT(*) FROM t");
    EXPECT_EQ(s.Step(), SQLITE_ROW);
    return s.Int(0);
  }
  std::unique_ptr<SqliteDb> db_;
};

// Through the Database port, as app/ uses it.
TEST_F(SqliteTest, TransactionsCommitOrLeaveNothing) {
  Database& db = *db_;
  ASSERT_TRUE(db.Transaction([&] { return Insert(1); }).ok());
  Status s = db.Transaction([&]() -> Status {
    RETURN_IF_ERROR(Insert(2));
    return Status::IOError("disk on fire");
  });
  EXPECT_EQ(s.code(), Code::kIO);
  EXPECT_EQ(Count(), 1);
  // A constraint violation is a conflict, and rolls back the whole.
  s = db.Transaction([&]() -> Status {
    RETURN_IF_ERROR(Insert(3));
    return Insert(1);
  });
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(Count(), 1);
}

TEST_F(SqliteTest, NestedTransactionsAreSavepoints) {
  Database& db = *db_;
  Status s = db.Transaction([&]() -> Status {
    RETURN_IF_ERROR(Insert(1));
    // The inner one fails alone; the outer one goes on.
    Status inner = db.Transaction([&]() -> Status {
      RETURN_IF_ERROR(Insert(2));
      return Status::Conflict("no");
    });
    EXPECT_EQ(inner.code(), Code::kConflict);
    return db.Transaction([&] { return Insert(3); });
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count(), 2);
  // An outer failure takes the committed inner part with it.
  s = db.Transaction([&]() -> Status {
    RETURN_IF_ERROR(db.Transaction([&] { return Insert(4); }));
    return Status::InvalidInput("changed my mind");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Count(), 2);
}

// The transaction is the calling thread's: another thread is not in it,
// and its own transaction begins only once the first has committed.
TEST_F(SqliteTest, TransactionsAreEachThreadsOwnAndRunOneAtATime) {
  Database& db = *db_;
  EXPECT_FALSE(db.InTransactionOnThisThread());
  std::promise<void> other_began;
  std::atomic<bool> other_ran{false};
  bool other_saw_itself = false, other_saw_first = true;
  std::thread other;
  Status s = db.Transaction([&]() -> Status {
    EXPECT_TRUE(db.InTransactionOnThisThread());
    other = std::thread([&] {
      other_saw_first = db.InTransactionOnThisThread();
      other_began.set_value();
      Status o = db.Transaction([&]() -> Status {
        other_saw_itself = db.InTransactionOnThisThread();
        other_ran = true;
        return Insert(2);
      });
      EXPECT_TRUE(o.ok()) << o.ToString();
    });
    other_began.get_future().wait();
    // Given time to run, the other transaction still waits for this one.
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    EXPECT_FALSE(other_ran.load());
    return Insert(1);
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  other.join();
  EXPECT_FALSE(other_saw_first);
  EXPECT_TRUE(other_saw_itself);
  EXPECT_FALSE(db.InTransactionOnThisThread());
  EXPECT_EQ(Count(), 2);
}

TEST_F(SqliteTest, ReusedStatementsStartAfresh) {
  for (int v : {1, 2, 3}) ASSERT_TRUE(Insert(v).ok());
  {
    // Two of one text at once: each its own statement.
    Statement a(*db_, "SELECT v FROM t WHERE v >= ? ORDER BY v");
    Statement b(*db_, "SELECT v FROM t WHERE v >= ? ORDER BY v");
    a.Bind(1, 2);
    b.Bind(1, 1);
    ASSERT_EQ(a.Step(), SQLITE_ROW);
    ASSERT_EQ(b.Step(), SQLITE_ROW);
    EXPECT_EQ(a.Int(0), 2);
    EXPECT_EQ(b.Int(0), 1);
    // Both left in the middle of their rows.
  }
  // Given back reset: a write is not blocked by a read left open, and the
  // statement taken again has no parameters left over and reads anew.
  ASSERT_TRUE(db_->Transaction([&] { return Insert(0); }).ok());
  Statement c(*db_, "SELECT v FROM t WHERE v >= ? ORDER BY v");
  ASSERT_EQ(c.Step(), SQLITE_DONE);  // v >= NULL holds for no row
  Statement d(*db_, "SELECT v FROM t WHERE v >= ? ORDER BY v");
  d.Bind(1, 0);
  ASSERT_EQ(d.Step(), SQLITE_ROW);
  EXPECT_EQ(d.Int(0), 0);
  EXPECT_EQ(Count(), 4);
  // A statement that does not prepare says why, and is not kept.
  Statement bad(*db_, "SELECT nothing FROM nowhere");
  EXPECT_FALSE(bad.status().ok());
}

}  // namespace
}  // namespace amanah
