// Evidence that crosses borders: the answering node delivers objects for a
// linked request, and the requesting node pulls them into its own vault.
//
//   answering node                         requesting node
//   Deliver: evidence.transferred per item
//   evidence.manifest message  ---------->  AcceptManifest: checks it all,
//                                           a pending transfer per item
//   GET /federation/v1/objects/<address>  <--  pull (Range, resumable),
//     (evidence.accessed per pull)              re-encrypted as it arrives
//                                           Complete: evidence.received,
//                                           naming the peer's
//                                           evidence.transferred entry
//   AcceptConfirmation  <---------------  evidence.received message naming
//                                           its own entries
//
// The manifest carries, for each object, its size and hashes and every
// custody entry this node holds about it (the evidence.transferred last),
// each with an inclusion proof against one checkpoint signed by this node:
// the requesting node keeps the object's whole custody history, and can
// prove it, without asking again. Only objects offered to a peer in a
// manifest can be pulled by that peer.

#ifndef AMANAH_APP_TRANSFERS_H_
#define AMANAH_APP_TRANSFERS_H_

#include <string>
#include <vector>

#include "app/messages.h"
#include "vault/vault.h"

namespace amanah {

// At most this many objects in one manifest (it must fit in one message).
inline constexpr size_t kMaxManifestItems = 100;
// Objects with a longer custody history than this are not delivered (their
// manifest would not fit in a message).
inline constexpr size_t kMaxItemHistory = 200;
// The largest object a manifest may announce (a pinned peer cannot make
// this node pull without end).
inline constexpr uint64_t kMaxTransferBytes = uint64_t{4} << 40;  // 4 TiB
// A transfer refused this many times (the peer's bytes did not hash to
// what the manifest promised, say) is given up, with its reason.
inline constexpr int kMaxTransferAttempts = 8;

// An object offered to a peer (on the answering node).
struct Offer {
  std::string message_id, address, peer, request_id;
  uint64_t entry_index = 0;     // our evidence.transferred entry
  int64_t received_index = -1;  // the peer's evidence.received, once it says
};

// An object being pulled from a peer (on the requesting node).
struct Transfer {
  std::string message_id, address, peer, request_id, case_id;
  uint64_t size = 0;
  nlohmann::json hashes;    // as the manifest gives them
  uint64_t peer_entry = 0;  // the peer's evidence.transferred entry
  std::string state;        // pending, done, failed
  uint64_t offset = 0;      // committed bytes
  int attempts = 0;
  int64_t next_attempt_unix = 0;
  std::string last_error, created;
  int64_t entry_index = -1;  // our evidence.received entry, once done
  bool confirmed = false;    // the evidence.received message is queued
};

// The Amanah-Pull header with which `node` asks `peer` for `address`:
// "<our name> <unix seconds> <base64 signature>", signed over
// "amanah-pull/v1\n<our name>\n<peer>\n<address>\n<unix seconds>".
std::string PullAuthorization(const Node& node, const std::string& peer,
                              const std::string& address);
// Checks such a header (the signer must be a pinned peer, the time within
// five minutes of ours) and returns the peer's name. kPermission if not,
// kInvalidInput if there is no header.
Result<std::string> CheckPullAuthorization(Node* node,
                                           const std::string& header,
                                           const std::string& address);

class Transfers {
 public:
  explicit Transfers(Node* node) : node_(node) {}

  // Answering node: offers `items` (evidence of the request's case) to the
  // peer that sent incoming request `request_id`, and queues the manifest.
  // Returns the manifest's message id. kConflict, releasing nothing, if an
  // object was offered for this request already and the peer has not said
  // it received it (a double click, a retried call), unless `again`: a
  // deliberate second release, when the peer lost the first.
  Result<std::string> Deliver(const std::string& actor,
                              const std::string& request_id,
                              const std::vector<ContentAddress>& items,
                              bool again = false);
  // Whether `address` was offered to `peer` (in manifest `message`, if
  // given); the latest such offer if so.
  Result<std::optional<Offer>> FindOffer(const std::string& peer,
                                         const std::string& address,
                                         const std::string& message = "");
  Result<std::vector<Offer>> Offers();

  // Requesting node: a received evidence.manifest. Whether it was
  // accepted, or why not, is kept with the inbox message.
  Status AcceptManifest(const Message& m);
  // Answering node: a received evidence.received.
  Status AcceptConfirmation(const Message& m);

  Result<std::vector<Transfer>> List();
  // Pending transfers whose next attempt is due.
  Result<std::vector<Transfer>> Due();
  std::string StagingPath(const Transfer& t) const;
  // Bytes up to `offset` are durable in the staging file.
  Status NoteProgress(const Transfer& t, uint64_t offset);
  // A failed attempt: tried again after 2^attempts seconds (at most five
  // minutes), given up after kMaxTransferAttempts refusals. `restart`
  // discards the staged bytes (they were wrong).
  Status NoteFailure(const Transfer& t, const std::string& error, bool refused,
                     bool restart);
  // The object is complete and sealed in its staging file as `put`: checks
  // it against the manifest, moves it into the vault, records
  // evidence.received, and queues the confirmation to the peer.
  Status Complete(const Transfer& t, const PutResult& put);
  // Queues confirmations that a crash kept from being queued.
  Status SendConfirmations();
  // Queues manifests that a crash (or a failure) kept from being queued
  // after their objects were released.
  Status QueueOwedManifests();

 private:
  // The transfers `where` (with at most one ?, bound to `bound`) selects.
  Result<std::vector<Transfer>> Select(const char* where, int64_t bound);
  Status Confirm(const Transfer& t);
  Status CheckManifestFits(const std::string& case_id,
                           const std::vector<ContentAddress>& items);
  Status QueueManifest(const std::string& actor, const std::string& message);
  Status NoteFailureRow(const Transfer& t, const std::string& error,
                        bool refused, bool restart, int64_t wait);
  int64_t NowUnix() const;
  // Marks the pending transfer `t` done with `size` bytes; false if it was
  // not pending.
  Result<bool> MarkDone(const Transfer& t, uint64_t size);
  // Stores the index of the transfer's evidence.received entry and the
  // object's ingest record. REQUIRES: inside a database transaction.
  Status RecordReceived(const Transfer& t, uint64_t index, uint64_t size,
                        const std::string& md5, const std::string& sha1,
                        const std::string& time);
  Node* node_;
};

}  // namespace amanah

#endif  // AMANAH_APP_TRANSFERS_H_
