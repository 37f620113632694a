// RFC 9162 §2.1 Merkle tree hashing, proofs and their verification.
//
// Leaf hash SHA-256(0x00 || entry); node hash SHA-256(0x01 || left || right);
// the root of the empty tree is SHA-256 of the empty string.

#ifndef AMANAH_LEDGER_MERKLE_H_
#define AMANAH_LEDGER_MERKLE_H_

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"

namespace amanah::merkle {

Hash256 LeafHash(ByteView entry);
Hash256 NodeHash(const Hash256& left, const Hash256& right);
Hash256 EmptyRoot();

// Checks that `leaf_hash` is at `index` in the tree of `size` whose root is
// `root`. kInvalidInput if the arguments cannot form a proof, kCorruption if
// the proof does not lead to `root`.
Status VerifyInclusion(uint64_t index, uint64_t size, const Hash256& leaf_hash,
                       std::span<const Hash256> proof, const Hash256& root);

// The root an inclusion proof leads to.
Result<Hash256> RootFromInclusion(uint64_t index, uint64_t size,
                                  const Hash256& leaf_hash,
                                  std::span<const Hash256> proof);

// Checks that the tree of `size2` with `root2` extends the tree of `size1`
// with `root1`. kInvalidInput for size1 == 0: every tree extends the empty
// tree, and there is nothing to prove.
Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash256& root1,
                         const Hash256& root2, std::span<const Hash256> proof);

// Where proof generation reads hashes from: the hash of the perfect subtree
// at `level` covering leaves [index << level, (index + 1) << level).
// REQUIRES of callers: that subtree lies wholly inside the tree.
class HashSource {
 public:
  virtual ~HashSource() = default;
  virtual Result<Hash256> PerfectNode(int level, uint64_t index) = 0;
};

// The Merkle tree hash of leaves [begin, end), which must be a range the
// RFC 9162 recursion produces (begin aligned to the largest power of two
// below end - begin).
Result<Hash256> RangeHash(HashSource& source, uint64_t begin, uint64_t end);
Result<Hash256> RootHash(HashSource& source, uint64_t size);
Result<std::vector<Hash256>> InclusionProof(HashSource& source, uint64_t index,
                                            uint64_t size);
Result<std::vector<Hash256>> ConsistencyProof(HashSource& source,
                                              uint64_t size1, uint64_t size2);

// The right edge of a growing tree: one perfect-subtree hash per set bit of
// size(). Appending reports every perfect node it completes.
class CompactRange {
 public:
  // Called with (level, index, hash) for the leaf and each node it completes.
  using Visitor = std::function<void(int, uint64_t, const Hash256&)>;

  CompactRange() = default;
  // `hashes` are the perfect subtrees from the largest to the smallest.
  static Result<CompactRange> FromHashes(uint64_t size,
                                         std::vector<Hash256> hashes);

  void Append(const Hash256& leaf_hash, const Visitor& visit);
  Hash256 Root() const;
  uint64_t size() const { return size_; }
  const std::vector<Hash256>& hashes() const { return hashes_; }

 private:
  uint64_t size_ = 0;
  std::vector<Hash256> hashes_;  // largest subtree first
};

}  // namespace amanah::merkle

#endif  // AMANAH_LEDGER_MERKLE_H_
