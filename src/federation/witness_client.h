// The node as a log asking its peers to witness it: submits its latest
// checkpoint to each peer's C2SP tlog-witness add-checkpoint endpoint, with a
// consistency proof from the size that peer last cosigned, and keeps the
// cosignatures that verify with the peer's pinned key.

#ifndef AMANAH_FEDERATION_WITNESS_CLIENT_H_
#define AMANAH_FEDERATION_WITNESS_CLIENT_H_

#include <chrono>
#include <string>

#include "app/node.h"
#include "app/peers.h"

namespace amanah {

class WitnessClient {
 public:
  explicit WitnessClient(
      Node* node, std::chrono::milliseconds timeout = std::chrono::seconds(10))
      : node_(node), timeout_(timeout) {}

  // Submits the latest checkpoint to `peer` unless the peer has cosigned it
  // already; returns the size the peer has now cosigned. A 409 (the peer
  // cosigned another size) is followed by one retry from that size. The
  // outcome is recorded for `amanah peer list`.
  Result<uint64_t> Submit(const Peer& peer);
  // Submit to every peer; returns how many failed.
  int SubmitToAll();

 private:
  Result<uint64_t> TrySubmit(const Peer& peer, uint64_t old_size, int retries);
  Node* node_;
  std::chrono::milliseconds timeout_;
};

}  // namespace amanah

#endif  // AMANAH_FEDERATION_WITNESS_CLIENT_H_
