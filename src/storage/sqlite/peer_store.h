// PeerStore on the node's SQLite database (table peers).

#ifndef AMANAH_STORAGE_SQLITE_PEER_STORE_H_
#define AMANAH_STORAGE_SQLITE_PEER_STORE_H_

#include "storage/peer_store.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

class SqlitePeerStore : public PeerStore {
 public:
  // `db`, its schema migrated (storage/sqlite/schema.h), outlives this.
  explicit SqlitePeerStore(SqliteDb* db) : db_(db) {}

  Status Insert(const PeerRecord& peer) override;
  Status Remove(const std::string& name) override;
  Result<std::optional<PeerRecord>> Find(const std::string& name) override;
  Result<std::vector<PeerRecord>> List() override;

 private:
  SqliteDb* db_;
};

}  // namespace amanah

#endif  // AMANAH_STORAGE_SQLITE_PEER_STORE_H_
