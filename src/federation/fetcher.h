// Pulls the evidence peers deliver (app/transfers.h): each pending transfer
// is fetched from GET /federation/v1/objects/<address> on its peer and
// encrypted into a staging file as it arrives, its hashes computed on the
// way. What is staged is committed every 16 MiB, so an interrupted pull (a
// dropped connection, a killed process) resumes with an HTTP Range request
// from the last committed chunk instead of starting over. A complete object
// must hash to the manifest's address (and MD5/SHA-1) before it enters the
// vault; one that does not is discarded and pulled again, a few times at
// most.

#ifndef AMANAH_FEDERATION_FETCHER_H_
#define AMANAH_FEDERATION_FETCHER_H_

#include <atomic>
#include <chrono>

#include "app/transfers.h"
#include "federation/peer_client.h"

namespace amanah {

class Fetcher {
 public:
  // `stop`, if given, cuts a pull short when set (the server is stopping);
  // what was committed is kept.
  Fetcher(Node* node, std::chrono::milliseconds timeout,
          const std::atomic<bool>* stop = nullptr)
      : node_(node), timeout_(timeout), stop_(stop) {}

  // Attempts every due transfer once, over one connection per peer, and
  // queues owed confirmations; returns how many objects arrived.
  Result<int> FetchDue();
  // Commits staged bytes every `bytes` (a multiple of the vault chunk size;
  // tests make it small).
  void set_commit_every(uint64_t bytes) { commit_every_ = bytes; }

 private:
  Status Pull(PeerClient* client, const Transfer& t);
  Node* node_;
  std::chrono::milliseconds timeout_;
  const std::atomic<bool>* stop_;
  uint64_t commit_every_ = 16 << 20;
};

}  // namespace amanah

#endif  // AMANAH_FEDERATION_FETCHER_H_
