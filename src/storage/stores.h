// The stores a node's services use, made together by one adapter (today
// storage/sqlite/open.h) so that they share its Database and its
// transactions. One port per aggregate; docs/architecture.md lists which
// aggregates are behind theirs yet.

#ifndef AMANAH_STORAGE_STORES_H_
#define AMANAH_STORAGE_STORES_H_

#include <memory>

#include "storage/database.h"
#include "storage/peer_store.h"
#include "storage/user_store.h"

namespace amanah {

struct Stores {
  // Declared first, so destroyed last: the stores below use it.
  std::unique_ptr<Database> database;
  std::unique_ptr<PeerStore> peers;
  std::unique_ptr<UserStore> users;
};

}  // namespace amanah

#endif  // AMANAH_STORAGE_STORES_H_
