#include "storage/sqlite.h"

#include <gtest/gtest.h>

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

TEST_F(SqliteTest, TransactionsCommitOrLeaveNothing) {
  ASSERT_TRUE(db_->Transaction([&] { return Insert(1); }).ok());
  Status s = db_->Transaction([&]() -> Status {
    RETURN_IF_ERROR(Insert(2));
    return Status::IOError("disk on fire");
  });
  EXPECT_EQ(s.code(), Code::kIO);
  EXPECT_EQ(Count(), 1);
  // A constraint violation is a conflict, and rolls back the whole.
  s = db_->Transaction([&]() -> Status {
    RETURN_IF_ERROR(Insert(3));
    return Insert(1);
  });
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_EQ(Count(), 1);
}

TEST_F(SqliteTest, NestedTransactionsAreSavepoints) {
  Status s = db_->Transaction([&]() -> Status {
    RETURN_IF_ERROR(Insert(1));
    // The inner one fails alone; the outer one goes on.
    Status inner = db_->Transaction([&]() -> Status {
      RETURN_IF_ERROR(Insert(2));
      return Status::Conflict("no");
    });
    EXPECT_EQ(inner.code(), Code::kConflict);
    return db_->Transaction([&] { return Insert(3); });
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(Count(), 2);
  // An outer failure takes the committed inner part with it.
  s = db_->Transaction([&]() -> Status {
    RETURN_IF_ERROR(db_->Transaction([&] { return Insert(4); }));
    return Status::InvalidInput("changed my mind");
  });
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(Count(), 2);
}

}  // namespace
}  // namespace amanah
