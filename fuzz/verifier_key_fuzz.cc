// Verifier and signer keys (ledger/note.h) on any text: an accepted key is
// written back byte for byte by FormatVerifierKey / FormatSignerKey.

#include <cstring>

#include "crypto/ed25519.h"
#include "fuzz/fuzz_util.h"
#include "ledger/note.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  std::string_view text = fuzz::AsText(data, size);
  Result<VerifierKey> k = ParseVerifierKey(text);
  if (!k.ok()) {
    FUZZ_CHECK(k.status().code() == Code::kInvalidInput);
  } else {
    FUZZ_CHECK(NoteKeyId(k->name, k->type, k->public_key) == k->key_id);
    if (k->type == kNoteKeyTypeEd25519 ||
        k->type == kNoteKeyTypeCosignatureV1) {
      FUZZ_CHECK(k->public_key.size() == 32);
      Ed25519PublicKey pk;
      std::memcpy(pk.data(), k->public_key.data(), 32);
      FUZZ_CHECK(FormatVerifierKey(k->name, k->type, pk) == text);
    }
  }
  auto signer = ParseSignerKey(text);
  if (signer.ok()) {
    FUZZ_CHECK(FormatSignerKey(signer->first, signer->second) == text);
  } else {
    FUZZ_CHECK(signer.status().code() == Code::kInvalidInput);
  }
  return 0;
}
