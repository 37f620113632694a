#include "app/open_stores.h"

#include "storage/sqlite/open.h"

namespace amanah {

Result<NodeStores> OpenNodeStores(Env* env, const std::string& dir) {
  NodeStores out;
  ASSIGN_OR_RETURN(out.stores, OpenSqliteStores(env, dir, &out.sql));
  return out;
}

}  // namespace amanah
