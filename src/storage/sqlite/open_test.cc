#include "storage/sqlite/open.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "storage/sqlite/schema.h"
#include "storage/testutil.h"

namespace amanah {
namespace {

using OpenSqliteStoresTest = testutil::TempDirTest;

// The database is made private to its owner before SQLite opens it (its
// -wal and -shm take its mode), and is at the latest schema version.
TEST_F(OpenSqliteStoresTest, MakesAPrivateDatabaseAtTheLatestVersion) {
  SqliteDb* sql = nullptr;
  auto stores = OpenSqliteStores(Env::Default(), dir_.string(), &sql);
  ASSERT_TRUE(stores.ok()) << stores.status().ToString();
  ASSERT_NE(sql, nullptr);
  EXPECT_EQ(stores->database.get(), static_cast<Database*>(sql));
  struct stat st;
  ASSERT_EQ(::stat((dir_ / "amanah.db").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  EXPECT_EQ(*SqliteSchemaVersion(*sql), LatestSqliteSchemaVersion());
  ASSERT_TRUE(stores->database->Transaction([] { return Status::OK(); }).ok());
  EXPECT_FALSE(stores->database->InTransactionOnThisThread());
}

// One that cannot be migrated is not opened, and says which file it is.
TEST_F(OpenSqliteStoresTest, RefusesADatabaseOfALaterVersion) {
  {
    SqliteDb* sql = nullptr;
    auto stores = OpenSqliteStores(Env::Default(), dir_.string(), &sql);
    ASSERT_TRUE(stores.ok());
    ASSERT_TRUE(sql->Exec("PRAGMA user_version = 1000").ok());
  }
  auto again = OpenSqliteStores(Env::Default(), dir_.string());
  EXPECT_EQ(again.status().code(), Code::kConflict);
  EXPECT_NE(again.status().message().find((dir_ / "amanah.db").string()),
            std::string::npos)
      << again.status().ToString();
}

}  // namespace
}  // namespace amanah
