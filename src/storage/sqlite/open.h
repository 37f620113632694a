// The stores of the embedded default: one SQLite database in the node's
// data directory.

#ifndef AMANAH_STORAGE_SQLITE_OPEN_H_
#define AMANAH_STORAGE_SQLITE_OPEN_H_

#include <string>

#include "base/status.h"
#include "storage/env.h"
#include "storage/sqlite/sqlite.h"
#include "storage/stores.h"

namespace amanah {

// Opens <data_dir>/amanah.db, making it (mode 0600) if there is none, and
// brings its schema to the latest version (storage/sqlite/schema.h).
// `sql`, if given, is set to the database itself, owned by the result's
// Database: for the parts of app/ not yet behind a port.
Result<Stores> OpenSqliteStores(Env* env, const std::string& data_dir,
                                SqliteDb** sql = nullptr);

}  // namespace amanah

#endif  // AMANAH_STORAGE_SQLITE_OPEN_H_
