// C2SP tlog-proof@v1: an entry's index, its RFC 9162 inclusion proof and the
// signed checkpoint (with cosignatures) it is proved against, as text.
//
//   c2sp.org/tlog-proof@v1
//   [extra <base64>]
//   index <decimal>
//   <base64 hash>            zero or more, leaf's sibling first
//   <blank line>
//   <signed checkpoint, verbatim>

#ifndef AMANAH_BUNDLE_PROOF_TEXT_H_
#define AMANAH_BUNDLE_PROOF_TEXT_H_

#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"

namespace amanah {

inline constexpr size_t kMaxProofTextBytes = 1 << 20;

struct TlogProof {
  std::string extra;  // decoded; not authenticated
  uint64_t index = 0;
  std::vector<Hash256> hashes;
  std::string checkpoint;  // the signed note, verbatim
};

std::string FormatTlogProof(const TlogProof& proof);
// Parses strictly (kInvalidInput naming the line); checks the checkpoint's
// shape only, not its signatures or the proof.
Result<TlogProof> ParseTlogProof(std::string_view text);

}  // namespace amanah

#endif  // AMANAH_BUNDLE_PROOF_TEXT_H_
