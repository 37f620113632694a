// The schema of a node's SQLite database (<data>/amanah.db), as numbered
// migrations owned by the SQLite adapter. Version N is what migrations 1 to
// N make; `PRAGMA user_version` records the version a database is at.
//
// Opening a database brings it to the latest version in one transaction:
// all the missing migrations apply, or none does. A database of a later
// version than this program knows is refused, as is one whose tables match
// no version.
//
// Databases made before versions were recorded (user_version 0) are
// recognised by their tables: the migrations follow main's history, one
// for each commit that changed the schema, so every such database has
// exactly the tables, columns and indexes of one version
// (storage/sqlite/testdata/ holds each of them, reconstructed from git).
//
// Adding a migration: append to kMigrations in schema.cc, never change one
// that has shipped (docs/architecture.md).

#ifndef AMANAH_STORAGE_SQLITE_SCHEMA_H_
#define AMANAH_STORAGE_SQLITE_SCHEMA_H_

#include <span>

#include "base/status.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

struct SqliteMigration {
  int version;       // 1, 2, ...: its index in the list plus one
  const char* what;  // what it adds, and the commit it came with
  const char* sql;   // run in the migration's transaction
};

// The migrations in order; the last one's version is the latest.
std::span<const SqliteMigration> SqliteMigrations();
int LatestSqliteSchemaVersion();

// The version the database records (0: none recorded).
Result<int> SqliteSchemaVersion(SqliteDb& db);

// Brings the database to version `target` (by default the latest), in one
// transaction. kConflict if it is at a later version than this program's
// latest (a later amanah made it); kCorruption if it records no version
// and its tables are those of no version.
Status MigrateSqliteSchema(SqliteDb& db, int target = 0);

}  // namespace amanah

#endif  // AMANAH_STORAGE_SQLITE_SCHEMA_H_
