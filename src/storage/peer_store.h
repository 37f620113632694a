// The PeerStore port: the peers this node has pinned, as stored. What a
// peer means (its URL's rules, its keys, the custody entries that record
// a change) is app/peers.h's; this only keeps the records.

#ifndef AMANAH_STORAGE_PEER_STORE_H_
#define AMANAH_STORAGE_PEER_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace amanah {

struct PeerRecord {
  std::string name;     // the peer node's name; one record per name
  std::string url;      // base URL of its amanah serve
  std::string log_key;  // verifier key of its custody log
  std::string tls_pin;  // hex SHA-256 of its certificate, or empty
  std::string added;    // RFC 3339

  bool operator==(const PeerRecord&) const = default;
};

// Each call is atomic; inside a transaction of the Database the store was
// made with (storage/database.h), it is part of that transaction.
class PeerStore {
 public:
  virtual ~PeerStore() = default;

  // kConflict if a peer of that name is stored already.
  virtual Status Insert(const PeerRecord& peer) = 0;
  // kNotFound if no peer of that name is stored.
  virtual Status Remove(const std::string& name) = 0;
  virtual Result<std::optional<PeerRecord>> Find(const std::string& name) = 0;
  // Every peer, by name.
  virtual Result<std::vector<PeerRecord>> List() = 0;
};

}  // namespace amanah

#endif  // AMANAH_STORAGE_PEER_STORE_H_
