// Delivers the outbox: pending messages whose time has come are posted to
// their peer's /federation/v1/messages/batch, several at a time (or one by
// one to /federation/v1/messages, to a peer that does not take batches),
// and the receipts that come back are checked and kept
// (Mailroom::AcceptReceipts); a failure is recorded and the message waits
// longer before the next attempt.

#ifndef AMANAH_FEDERATION_COURIER_H_
#define AMANAH_FEDERATION_COURIER_H_

#include <atomic>
#include <chrono>
#include <vector>

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
  // A batch holds at most this many messages, and bodies of at most this
  // many bytes in all (escaped in the batch, they stay under the peer's
  // 1 MiB limit on a request's body); a larger body travels alone.
  static constexpr size_t kBatchMessages = 64;
  static constexpr size_t kBatchBytes = 400 << 10;

 private:
  // `client` is null when the peer is no longer pinned.
  Status DeliverWith(PeerClient* client, const OutboxItem& item);
  // Delivers `items` (of one peer, no two of one conversation) in one
  // batch; the outcome of each. Sets *batches_refused, and delivers them
  // one by one, if the peer does not take batches.
  std::vector<Status> DeliverBatch(PeerClient* client,
                                   const std::vector<const OutboxItem*>& items,
                                   std::atomic<bool>* batches_refused);
  Node* node_;
  std::chrono::milliseconds timeout_;
};

}  // namespace amanah

#endif  // AMANAH_FEDERATION_COURIER_H_
