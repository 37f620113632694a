// Subtrees of an RFC 9162 Merkle tree, their inclusion proofs and their
// consistency proofs with the whole tree, as defined in "Merkle Tree
// Certificates" (draft-ietf-plants-merkle-tree-certs, formerly
// draft-davidben-tls-merkle-tree-certs), section "Subtrees".
//
// A subtree [start, end) is the Merkle tree hash MTH(D[start:end]) of the
// entries start..end-1 taken as a list of their own. It is valid when
// start <= end and start is a multiple of BIT_CEIL(end - start); so [0, x)
// and the empty [x, x) are always valid. A valid subtree keeps its hash as
// the tree grows past end, and can be proven consistent with any tree whose
// size is at least end.
//
// Indices are absolute: entry `index` of subtree [start, end) is entry
// `index` of the log. Errors: kInvalidInput for arguments that cannot form a
// proof (an invalid subtree, an index outside it, end beyond the tree size),
// kCorruption for a proof that does not lead to the given hashes.

#ifndef AMANAH_LEDGER_SUBTREE_H_
#define AMANAH_LEDGER_SUBTREE_H_

#include <cstdint>
#include <span>
#include <vector>

#include "base/status.h"
#include "crypto/hash.h"
#include "ledger/merkle.h"

namespace amanah::merkle {

// Whether [start, end) is a valid subtree per the draft: start <= end and
// start is a multiple of BIT_CEIL(end - start). Safe for every uint64_t
// (no overflow when end - start exceeds 2^63).
bool IsValidSubtree(uint64_t start, uint64_t end);

// The hash of subtree [start, end), read from `source`. kInvalidInput if
// the subtree is not valid; EmptyRoot() for an empty one.
// REQUIRES: `source` holds a tree of at least `end` leaves.
Result<Hash256> SubtreeHash(HashSource& source, uint64_t start, uint64_t end);

// Checks that `leaf_hash` is entry `index` of subtree [start, end) whose hash
// is `subtree_root`. The proof is the RFC 9162 inclusion proof of
// index - start in the tree over D[start:end]. kInvalidInput unless the
// subtree is valid and start <= index < end.
Status VerifySubtreeInclusion(uint64_t index, uint64_t start, uint64_t end,
                              const Hash256& leaf_hash,
                              std::span<const Hash256> proof,
                              const Hash256& subtree_root);

// Checks that subtree [start, end) with hash `subtree_root` is part of the
// tree of `size` whose root is `tree_root`. kInvalidInput unless the subtree
// is valid and end <= size. An empty subtree (start == end) is consistent
// with every tree: it needs an empty proof and subtree_root == EmptyRoot(),
// and `tree_root` is not looked at.
Status VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                const Hash256& subtree_root,
                                const Hash256& tree_root,
                                std::span<const Hash256> proof);

// The inclusion proof of entry `index` in subtree [start, end), read from
// `source`. Same argument rules as VerifySubtreeInclusion.
Result<std::vector<Hash256>> SubtreeInclusionProof(HashSource& source,
                                                   uint64_t index,
                                                   uint64_t start,
                                                   uint64_t end);

// SUBTREE_PROOF(start, end, D_size): the consistency proof of subtree
// [start, end) with the tree of `size`, read from `source`. Empty for an
// empty subtree and for [0, size). Same argument rules as
// VerifySubtreeConsistency. For start == 0 it equals
// ConsistencyProof(end, size); for end == start + 1, InclusionProof(start,
// size).
Result<std::vector<Hash256>> SubtreeConsistencyProof(HashSource& source,
                                                     uint64_t start,
                                                     uint64_t end,
                                                     uint64_t size);

}  // namespace amanah::merkle

#endif  // AMANAH_LEDGER_SUBTREE_H_
