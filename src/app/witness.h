// Witnessing (C2SP tlog-witness and tlog-cosignature/v1), both ways.
//
// As a witness, the node cosigns its peers' checkpoints: add-checkpoint
// checks the peer's signature and the consistency proof from the size it
// last cosigned for that log, records the new size and root atomically, and
// returns a cosignature. A peer showing two roots for one size, or a
// checkpoint inconsistent with one cosigned before, is refused and recorded
// as an alarm with both signed checkpoints: proof of its misbehaviour.
//
// As a log, the node keeps the cosignatures its peers return for its own
// checkpoints and publishes the latest cosigned checkpoint with them.

#ifndef AMANAH_APP_WITNESS_H_
#define AMANAH_APP_WITNESS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/node.h"

namespace amanah {

class Statement;  // storage/sqlite/sqlite.h

// The answer to add-checkpoint: 200 with cosignature lines, 409 with the
// size last cosigned (Content-Type text/x.tlog.size), or an error status
// (400, 403, 404, 422) with a one-line reason.
struct WitnessReply {
  int http_status = 200;
  std::string body;    // 200: signature lines; 409: "<size>\n"
  std::string reason;  // other statuses
};

// A peer's log as this node last cosigned it.
struct WitnessedLog {
  std::string origin;
  uint64_t size = 0;
  std::string note;  // the peer's signed checkpoint
  std::string updated;
};

struct WitnessAlarm {
  int64_t id = 0;
  std::string origin;
  std::string detected;  // RFC 3339
  std::string reason;
  std::string cosigned_note;  // what this node had cosigned
  std::string offered;        // the add-checkpoint body that contradicts it
};

// What this node knows of one peer as a witness of its own log.
struct PeerWitnessing {
  std::string peer;
  uint64_t cosigned_size = 0;  // of this node's log, by that peer
  std::string last_attempt;    // RFC 3339, or empty
  std::string last_error;      // empty after a success
};

// A tree size as tlog-witness writes it: decimal, no leading zeros (but
// "0"), at most 19 digits.
std::optional<uint64_t> ParseTreeSize(std::string_view text);

class Witness {
 public:
  explicit Witness(Node* node) : node_(node) {}

  static constexpr size_t kMaxRequestBytes = 64 << 10;
  static constexpr size_t kMaxProofLines = 63;

  // POST /witness/add-checkpoint.
  WitnessReply AddCheckpoint(std::string_view request_body);

  Result<std::vector<WitnessedLog>> Witnessed();
  Result<std::vector<WitnessAlarm>> Alarms();
  Result<uint64_t> AlarmCount();

  // The add-checkpoint body that asks a witness to move from `old_size` to
  // this node's latest checkpoint, and that checkpoint's size.
  Result<std::pair<std::string, uint64_t>> SubmissionBody(uint64_t old_size);
  // Checks `response` (signature lines) against the peer's cosigner key over
  // `checkpoint_note` and keeps the cosignature.
  Status AcceptCosignature(const std::string& peer, uint64_t size,
                           const std::string& checkpoint_note,
                           std::string_view response);
  // Records a submission's outcome (empty error: success) and, if known, the
  // size the peer has cosigned.
  Status NoteSubmission(const std::string& peer, const std::string& error,
                        std::optional<uint64_t> cosigned_size);
  Result<std::vector<PeerWitnessing>> Submissions();
  // This node's latest checkpoint that peers cosigned, with every one of
  // their cosignatures; kNotFound if none has been cosigned yet.
  Result<std::string> CosignedCheckpoint();
  // Of this node's checkpoints of `min_size` or more, the one the most peers
  // cosigned (the newest of those), with their cosignatures; kNotFound if
  // none is cosigned.
  Result<std::string> MostCosignedCheckpoint(uint64_t min_size);

 private:
  // The checkpoint note `q` selects (size, note) with its cosignatures.
  Result<std::string> WithCosignatures(Statement& q);
  Status RecordAlarm(const std::string& origin, const std::string& reason,
                     const std::string& cosigned_note,
                     std::string_view offered);
  Node* node_;
};

}  // namespace amanah

#endif  // AMANAH_APP_WITNESS_H_
