// Federation messages between pinned peers, and their receipts.
//
// A message is one compact JSON object, stored and signed as exact bytes:
//   {"from":"ccd.moi.gov.kw","id":"<32 hex>","payload":{...},
//    "time":"2026-11-23T16:00:00.000000Z","to":"cyber.doj.example",
//    "type":"request","v":1}
// signed with the sender's node key over "amanah-message/v1\n" || body; the
// signature travels in the Amanah-Signature header, never in the body.
//
// The receiver checks the signature against the sender's pinned key, the
// addressee and the time (see kMessageMaxAgeSeconds), stores it once (a
// replay gets the same receipt and changes nothing), writes a
// message.received custody entry, and answers with a receipt: a signed JSON
// statement naming the message, the body's SHA-256 and that entry's index,
// together with the entry's bytes, an inclusion proof and the checkpoint it
// is proved against. The sender checks all of it before it marks the
// message delivered: proof of delivery that neither side can deny.
//
// Sending is durable: a message is queued in the outbox (with a
// message.sent custody entry) and delivered, retried with backoff, by
// whoever runs the courier (amanah serve).

#ifndef AMANAH_APP_MESSAGES_H_
#define AMANAH_APP_MESSAGES_H_

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "app/node.h"
#include "app/peers.h"

namespace amanah {

// A message dated more than this ahead of the receiver's clock is refused...
inline constexpr int64_t kMessageClockSkewSeconds = 15 * 60;
// ...and so is one older than this: an outbox may hold a message while its
// peer is unreachable for days, and ids are remembered forever, so a replay
// inside the window is answered without effect.
inline constexpr int64_t kMessageMaxAgeSeconds = 30 * 86400;
inline constexpr size_t kMaxMessageBytes = 1 << 20;

// A string field of a JSON object; empty if it is missing, of another type,
// or `j` is not an object (where json::value would throw).
std::string JsonString(const nlohmann::json& j, const char* key);

// The closed list of message types.
//   request         a request (cases/request.h) sent to the peer
//   request.update  a move of a request between the two sides: state, reason
//   evidence.manifest   evidence for a linked request, ready to be pulled
//                       (app/transfers.h)
//   evidence.received   the puller's evidence.received entries for it
Status ValidateMessageType(std::string_view type);

// Checks an Ed25519 signature made by Node::SignStatement(domain, body).
// kPermission if it does not verify.
Status VerifyStatement(const char* domain, std::string_view body,
                       std::string_view signature, ByteView public_key);

// Inclusion proofs in JSON: an array of base64 hashes.
nlohmann::json ProofToJson(const std::vector<Hash256>& proof);
Result<std::vector<Hash256>> ProofFromJson(const nlohmann::json& lines);
// Parses a checkpoint note of `peer`'s log and checks its signature.
Result<Checkpoint> VerifyPeerCheckpoint(const Peer& peer,
                                        const std::string& note_text);
// Checks that `entry` is entry `index` of the tree `cp` names.
Status VerifyEntryInclusion(const Checkpoint& cp, uint64_t index,
                            std::string_view entry,
                            const std::vector<Hash256>& proof);

struct Message {
  std::string id, type, from, to, time;
  nlohmann::json payload = nlohmann::json::object();
  std::string body;  // the exact bytes signed
};

// Signs `body` as node `key`; the base64 signature for the header.
std::string SignMessageBody(std::string_view body,
                            const Ed25519PrivateKey& key);
Status VerifyMessageBody(std::string_view body, std::string_view signature,
                         ByteView public_key);
// Parses and checks a body's shape (every field, a known type, v = 1).
Result<Message> ParseMessage(std::string_view body);

// A message as it travels: its exact body and the sender's signature.
struct SignedMessage {
  std::string body, signature;
};

// At most this many messages travel in one batch
// (POST /federation/v1/messages/batch).
inline constexpr size_t kMaxBatchMessages = 256;

// The body of a batch: {"messages":[{"body":"<the exact body>",
// "signature":"<base64>"},...]}, 1 to kMaxBatchMessages messages.
std::string FormatMessageBatch(const std::vector<SignedMessage>& batch);
Result<std::vector<SignedMessage>> ParseMessageBatch(const nlohmann::json& j);

struct OutboxItem {
  std::string id, peer, type, created, state;  // state: pending, delivered
  int attempts = 0;
  int64_t next_attempt_unix = 0;
  std::string last_error;
  std::string body, signature;
  std::string receipt;       // the verified receipt package, once delivered
  std::string conversation;  // set by Due(): see ConversationOf
};

// Which conversation a message belongs to: the messages about one request
// (the request, its updates, the evidence delivered for it) to one peer, or
// else the message alone. The peer gets a conversation's messages in order.
std::string ConversationOf(const Message& m);

struct InboxItem {
  std::string id, peer, type, received;
  std::string body;
  uint64_t entry_index = 0;
};

class Mailroom {
 public:
  explicit Mailroom(Node* node) : node_(node) {}

  // Queues a message to `peer`, with a message.sent custody entry; returns
  // its id. The body is formatted and signed here.
  // `id` may be chosen beforehand (NewMessageId) so that entries written
  // earlier can name the message.
  Result<std::string> Enqueue(const std::string& actor, const std::string& peer,
                              const std::string& type,
                              const nlohmann::json& payload,
                              const std::string& case_id,
                              const std::string& id = "");
  static std::string NewMessageId();

  // A message arriving over POST /federation/v1/messages. Returns the
  // receipt package (JSON) to answer with. kPermission for an unknown
  // sender or a bad signature, kInvalidInput for a malformed, misaddressed
  // or stale message.
  Result<std::string> Receive(std::string_view body,
                              std::string_view signature);
  // Messages arriving together (POST /federation/v1/messages/batch): each
  // is checked and answered as Receive would, but the new ones are stored,
  // with their message.received entries, in one group commit, and then
  // acted on in the order given. Returns, for each message, its receipt
  // package or why it was refused.
  std::vector<Result<std::string>> ReceiveBatch(
      const std::vector<SignedMessage>& batch);

  // Checks a receipt package from `peer` for outbox message `id` and marks
  // it delivered, with a message.delivered custody entry.
  Status AcceptReceipt(const std::string& id, std::string_view package);
  // AcceptReceipt for several messages (id, package), their entries in one
  // group commit; the outcome of each.
  std::vector<Status> AcceptReceipts(
      const std::vector<std::pair<std::string, std::string>>& receipts);
  // Records a failed delivery; the next attempt waits 2^attempts seconds,
  // at most five minutes.
  Status NoteFailure(const std::string& id, const std::string& error);

  Result<std::vector<OutboxItem>> Outbox(bool pending_only);
  // Pending messages, in the order they were queued, whose next attempt is
  // due and which no earlier message of their conversation still waits
  // before; each with its conversation.
  Result<std::vector<OutboxItem>> Due();
  Result<std::vector<InboxItem>> Inbox();

 private:
  int64_t NowUnix() const;
  struct Delivery;
  // `verified` holds the checkpoints already verified, by peer name, "\n"
  // and note, and gets this one.
  Result<Delivery> CheckReceipt(const std::string& id, std::string_view package,
                                std::map<std::string, Checkpoint>* verified);
  // Receive's checks of one message, before anything is stored.
  Result<Message> Check(std::string_view body, std::string_view signature);
  Result<std::optional<std::string>> StoredBody(const std::string& id);
  // Stores new messages with their message.received entries, together.
  Status Store(const std::vector<const Message*>& fresh);
  Status InsertInbox(const Message& m, const std::string& received);
  // Does what a stored message asks and makes its receipt package.
  Result<std::string> ActAndReceipt(const Message& m);
  Node* node_;
};

}  // namespace amanah

#endif  // AMANAH_APP_MESSAGES_H_
