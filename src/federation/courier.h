// Delivers the outbox: each pending message whose time has come is posted
// to its peer's /federation/v1/messages, and the receipt that comes back is
// checked and kept (Mailroom::AcceptReceipt); a failure is recorded and the
// message waits longer before the next attempt.

#ifndef AMANAH_FEDERATION_COURIER_H_
#define AMANAH_FEDERATION_COURIER_H_

#include <chrono>

#include "app/messages.h"
#include "app/node.h"
#include "federation/peer_client.h"

namespace amanah {

class Courier {
 public:
  explicit Courier(Node* node,
                   std::chrono::milliseconds timeout = std::chrono::seconds(30))
      : node_(node), timeout_(timeout) {}

  // Attempts every due message once, up to kConnections at a time to each
  // peer (over as many connections); returns how many were delivered. A
  // peer that cannot be reached is left for the next round.
  Result<int> DeliverDue();

  static constexpr size_t kConnections = 16;

 private:
  // `client` is null when the peer is no longer pinned.
  Status DeliverWith(PeerClient* client, const OutboxItem& item);
  Node* node_;
  std::chrono::milliseconds timeout_;
};

}  // namespace amanah

#endif  // AMANAH_FEDERATION_COURIER_H_
