#include "storage/sqlite/open.h"

#include "storage/sqlite/peer_store.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/user_store.h"

namespace amanah {

Result<Stores> OpenSqliteStores(Env* env, const std::string& data_dir,
                                SqliteDb** sql) {
  std::string path = JoinPath(data_dir, "amanah.db");
  if (!env->FileExists(path)) {
    // Made 0600 first: SQLite gives its -wal and -shm the database's mode.
    ASSIGN_OR_RETURN(auto file, env->NewWritableFile(path, 0600));
    RETURN_IF_ERROR(file->Close());
  }
  ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db, SqliteDb::Open(path));
  RETURN_IF_ERROR(MigrateSqliteSchema(*db).Annotate(path));
  Stores stores;
  if (sql) *sql = db.get();
  stores.peers = std::make_unique<SqlitePeerStore>(db.get());
  stores.users = std::make_unique<SqliteUserStore>(db.get());
  stores.database = std::move(db);
  return stores;
}

}  // namespace amanah
