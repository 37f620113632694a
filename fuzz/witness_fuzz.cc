// POST /witness/add-checkpoint (app/witness.h, Witness::AddCheckpoint) on
// any body, answered by a node that has pinned one peer and last cosigned
// that peer's log at size 8 (leaves "entry 0" to "entry 7"), reset before
// every input.
//
// To let the fuzzer past the peer's signature: when what follows the first
// blank line is a note text (it ends with a newline and holds no blank
// line), it is signed here with the peer's key. The reply is one of the
// documented statuses, never 500; a cosignature only for a checkpoint the
// peer signed that extends the cosigned tree, and it verifies with the
// node's cosigner key.

#include <string>

#include "app/witness.h"
#include "fuzz/fuzz_node.h"
#include "ledger/merkle.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {
namespace {

constexpr char kOrigin[] = "cyber.doj.example/custody";

// The root of the peer's tree as the node cosigned it.
Hash256 CosignedRoot() {
  std::vector<Hash256> level;
  for (int i = 0; i < 8; ++i) {
    level.push_back(merkle::LeafHash(AsBytes("entry " + std::to_string(i))));
  }
  while (level.size() > 1) {
    std::vector<Hash256> up;
    for (size_t i = 0; i < level.size(); i += 2) {
      up.push_back(merkle::NodeHash(level[i], level[i + 1]));
    }
    level = up;
  }
  return level[0];
}

}  // namespace
}  // namespace amanah

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  fuzz::TwoNodes& nodes = fuzz::Nodes();
  static const Hash256 root8 = CosignedRoot();
  static const std::string reset =
      "DELETE FROM witness_alarms; DELETE FROM witnessed_logs; "
      "INSERT INTO witnessed_logs(origin, size, root, note, updated) VALUES('" +
      std::string(kOrigin) + "', 8, '" + Base64Encode(root8) +
      "', '', '2026-01-01T00:00:00.000000Z');";
  FUZZ_CHECK(nodes.node->sql().Exec(reset.c_str()).ok());

  std::string body(fuzz::AsText(data, size));
  size_t blank = body.find("\n\n");
  if (blank != std::string::npos) {
    std::string text = body.substr(blank + 2);
    if (!text.empty() && text.back() == '\n' &&
        text.find("\n\n") == std::string::npos) {
      body =
          body.substr(0, blank + 2) + SignNote(text, kOrigin, *nodes.peer_key);
    }
  }
  WitnessReply r = Witness(nodes.node.get()).AddCheckpoint(body);
  switch (r.http_status) {
    case 400:
    case 403:
    case 404:
    case 409:
    case 413:
    case 422:
      FUZZ_CHECK(!r.reason.empty());
      return 0;
    case 200:
      break;
    default:
      std::fprintf(stderr, "status %d: %s\n", r.http_status, r.reason.c_str());
      FUZZ_CHECK(false);
  }
  // Cosigned: the checkpoint is the peer's, and extends the tree of 8.
  std::string note_text = body.substr(body.find("\n\n") + 2);
  Result<Note> note = ParseNote(note_text);
  FUZZ_CHECK(note.ok());
  Result<Checkpoint> cp = ParseCheckpointBody(note->text);
  FUZZ_CHECK(cp.ok() && cp->origin == kOrigin && cp->size >= 8);
  Result<VerifierKey> peer_key =
      ParseVerifierKey(nodes.peer->info().verifier_key);
  FUZZ_CHECK(VerifyNoteSignature(*note, *peer_key).ok());
  if (cp->size == 8) FUZZ_CHECK(cp->root == root8);
  Result<VerifierKey> cosigner = ParseVerifierKey(nodes.node->CosignerKey());
  FUZZ_CHECK(cosigner.ok());
  Result<Note> cosigned = ParseNote(note->text + "\n" + r.body);
  FUZZ_CHECK(cosigned.ok());
  FUZZ_CHECK(VerifyCosignature(*cosigned, *cosigner).ok());
  return 0;
}
