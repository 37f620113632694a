// ParseTlogProof (bundle/proof_text.h) on any text: what it accepts is
// written back byte for byte by FormatTlogProof, and a parsed proof is
// checked against its checkpoint (as the bundle verifier does) without
// crashing: it verifies, or is refused with a reason.

#include "bundle/proof_text.h"
#include "fuzz/fuzz_util.h"
#include "ledger/merkle.h"
#include "ledger/note.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  std::string_view text = fuzz::AsText(data, size);
  Result<TlogProof> p = ParseTlogProof(text);
  if (!p.ok()) {
    FUZZ_CHECK(p.status().code() == Code::kInvalidInput ||
               p.status().code() == Code::kTooLarge);
    return 0;
  }
  FUZZ_CHECK(FormatTlogProof(*p) == text);
  FUZZ_CHECK(p->hashes.size() <= 64);
  Result<Note> note = ParseNote(p->checkpoint);
  if (!note.ok()) return 0;
  Result<Checkpoint> cp = ParseCheckpointBody(note->text);
  if (!cp.ok()) return 0;
  // The entry is unknown here: any leaf hash does; what matters is that
  // verification walks the proof within its bounds.
  Hash256 leaf = merkle::LeafHash(AsBytes(p->extra));
  Status s =
      merkle::VerifyInclusion(p->index, cp->size, leaf, p->hashes, cp->root);
  if (p->index >= cp->size) FUZZ_CHECK(s.code() == Code::kInvalidInput);
  Result<Hash256> root =
      merkle::RootFromInclusion(p->index, cp->size, leaf, p->hashes);
  FUZZ_CHECK(s.ok() == (root.ok() && *root == cp->root));
  return 0;
}
