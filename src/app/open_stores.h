// The composition root: which adapters keep a node's state. Today always
// the embedded default, SQLite in the data directory
// (storage/sqlite/open.h); node.toml's [storage] will choose PostgreSQL
// (issue 21). The only file of app/ that names an adapter; the layering
// test (tests/layering_test.py) holds it to that.

#ifndef AMANAH_APP_OPEN_STORES_H_
#define AMANAH_APP_OPEN_STORES_H_

#include <string>

#include "base/status.h"
#include "storage/env.h"
#include "storage/stores.h"

namespace amanah {

class SqliteDb;

struct NodeStores {
  Stores stores;
  // Transitional: the SQLite database behind `stores`, for the parts of
  // app/ not yet behind a port (docs/architecture.md, "Seam progress").
  // Owned by stores.database; goes when the last of them moves.
  SqliteDb* sql = nullptr;
};

// The stores of the node in `dir`, its schema brought up to date.
Result<NodeStores> OpenNodeStores(Env* env, const std::string& dir);

}  // namespace amanah

#endif  // AMANAH_APP_OPEN_STORES_H_
