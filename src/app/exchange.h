// Requests that cross borders: a request sent to a peer and the same request
// registered by the peer are linked, and each move one side makes is sent to
// the other as a signed request.update message that moves its copy too, so
// that both sides' states and deadlines stay in step.
//
//   sender:   draft --send--> sent ......... received, acknowledged, ...
//   receiver:          inbox --file--> received --move--> acknowledged ...
//
// Moves arriving from the peer are recorded with actor peer:<name>; one the
// state machine refuses is kept with the inbox message, not applied.

#ifndef AMANAH_APP_EXCHANGE_H_
#define AMANAH_APP_EXCHANGE_H_

#include <mutex>
#include <optional>
#include <string>

#include "app/messages.h"
#include "app/requests.h"

namespace amanah {

struct RequestLink {
  std::string request_id;  // ours
  std::string peer;
  std::string remote_id;  // the peer's id for it; empty until it says
};

// Held while checking and then acting on the state of requests and their
// messages (filing, sending, applying updates, delivering evidence), so
// that two calls doing the same thing cannot both pass the check.
// Process-wide: only one process appends to a node's log.
std::recursive_mutex& ExchangeMutex();

class Exchange {
 public:
  explicit Exchange(Node* node) : node_(node) {}

  // Sends outgoing draft `id` to `peer` and moves it to sent; returns the
  // message id.
  Result<std::string> Send(const std::string& actor, const std::string& id,
                           const std::string& peer);
  // Registers inbox message `message_id` (a request) as an incoming request
  // in `case_id`, its response clock running from when it arrived, and
  // tells the sender it was received; then applies, in order, the moves the
  // sender made before that (a withdrawal before it was filed).
  Result<Request> File(const std::string& actor, const std::string& message_id,
                       const std::string& case_id);
  // RequestBook::Move, then, for a linked request, the update to the peer.
  Result<Request> Move(const std::string& actor, const std::string& id,
                       RequestState to, const std::string& reason);
  // Applies a received request.update; the outcome is kept with the inbox
  // message ("applied" or why not).
  Status Apply(const Message& update);

  Result<std::optional<RequestLink>> Link(const std::string& request_id);
  // "applied", "filed as <id>", or why a message could not be applied;
  // empty if nothing was done with it yet.
  Result<std::string> Outcome(const std::string& message_id);
  Status NoteOutcome(const std::string& message_id, const std::string& text);
  // Applies, in the order they arrived, updates that waited for their
  // request to be filed and whose request now is (File does it; the
  // courier's rounds too, after a crash in between).
  Status ApplyWaiting();

 private:
  // The id of `peer`'s request message for its request `remote_id`, if it
  // is in the inbox and not filed yet.
  Result<std::optional<std::string>> UnfiledRequest(
      const std::string& peer, const std::string& remote_id);
  Node* node_;
};

}  // namespace amanah

#endif  // AMANAH_APP_EXCHANGE_H_
