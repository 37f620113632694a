#include "ledger/subtree.h"

#include <bit>
#include <string>

namespace amanah::merkle {

namespace {

// Appended piece by piece: GCC 12 at -O3 warns (-Wrestrict, a false
// positive) on "[" + std::string&&.
std::string Range(uint64_t start, uint64_t end) {
  std::string s = "[";
  s += std::to_string(start);
  s += ", ";
  s += std::to_string(end);
  s += ")";
  return s;
}

Status InvalidSubtree(uint64_t start, uint64_t end) {
  return Status::InvalidInput(Range(start, end) + " is not a valid subtree");
}

// Largest power of two strictly below n. REQUIRES: n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

// Argument checks shared by inclusion proofs and their verification.
Status CheckInclusionArgs(uint64_t index, uint64_t start, uint64_t end) {
  if (!IsValidSubtree(start, end)) return InvalidSubtree(start, end);
  if (index < start || index >= end) {
    return Status::InvalidInput("index " + std::to_string(index) +
                                " is outside subtree " + Range(start, end));
  }
  return Status::OK();
}

// Argument checks shared by consistency proofs and their verification.
Status CheckConsistencyArgs(uint64_t start, uint64_t end, uint64_t size) {
  if (!IsValidSubtree(start, end)) return InvalidSubtree(start, end);
  if (end > size) {
    return Status::InvalidInput("subtree " + Range(start, end) +
                                " ends beyond tree size " +
                                std::to_string(size));
  }
  return Status::OK();
}

// PATH(m, D[begin:begin+n]) of RFC 9162 §2.1.3.1 over absolute leaf indices,
// collected leaf-side first. REQUIRES: begin <= m < begin + n, and the range
// is a valid subtree or one the RFC recursion of a valid subtree produces.
Status AppendPath(HashSource& source, uint64_t m, uint64_t begin, uint64_t n,
                  std::vector<Hash256>& out) {
  if (n <= 1) return Status::OK();
  const uint64_t k = SplitPoint(n);
  uint64_t sibling_begin = begin;
  uint64_t sibling_end = begin + k;
  if (m < begin + k) {
    RETURN_IF_ERROR(AppendPath(source, m, begin, k, out));
    sibling_begin = begin + k;
    sibling_end = begin + n;
  } else {
    RETURN_IF_ERROR(AppendPath(source, m, begin + k, n - k, out));
  }
  ASSIGN_OR_RETURN(Hash256 h, RangeHash(source, sibling_begin, sibling_end));
  out.push_back(h);
  return Status::OK();
}

// SUBTREE_SUBPROOF(start, end, D_n, b) of the draft, where the node D_n covers
// absolute leaves [base, base + n) and [start, end) is relative to base.
// `known` is the draft's b: whether the verifier already holds the hash the
// base case would emit. REQUIRES: 0 <= start < end <= n, [start, end) valid.
Status AppendSubtreeSubproof(HashSource& source, uint64_t start, uint64_t end,
                             uint64_t base, uint64_t n, bool known,
                             std::vector<Hash256>& out) {
  if (start == 0 && end == n) {
    if (!known) {
      ASSIGN_OR_RETURN(Hash256 h, RangeHash(source, base, base + n));
      out.push_back(h);
    }
    return Status::OK();
  }
  // Here n > 1: a single-leaf node is only reached with [0, 1).
  const uint64_t k = SplitPoint(n);
  // The sibling is the left child [base, base + k) unless the subtree lies in
  // the left child.
  uint64_t sibling_begin = base;
  uint64_t sibling_end = base + k;
  if (end <= k) {
    // Wholly in the left child; the right child is the sibling.
    RETURN_IF_ERROR(
        AppendSubtreeSubproof(source, start, end, base, k, known, out));
    sibling_begin = base + k;
    sibling_end = base + n;
  } else if (start >= k) {
    // Wholly in the right child.
    RETURN_IF_ERROR(AppendSubtreeSubproof(source, start - k, end - k, base + k,
                                          n - k, known, out));
  } else {
    // Straddles k, which for a valid subtree means start == 0. The subtree's
    // root is then no node of this tree, so the verifier does not know the
    // hash the recursion bottoms out at: it must be sent.
    if (start != 0) return InvalidSubtree(base + start, base + end);
    RETURN_IF_ERROR(AppendSubtreeSubproof(source, 0, end - k, base + k, n - k,
                                          /*known=*/false, out));
  }
  ASSIGN_OR_RETURN(Hash256 h, RangeHash(source, sibling_begin, sibling_end));
  out.push_back(h);
  return Status::OK();
}

}  // namespace

bool IsValidSubtree(uint64_t start, uint64_t end) {
  if (start > end) return false;
  if (start == 0 || start == end) return true;
  // start must be a multiple of BIT_CEIL(size) = 2^BIT_WIDTH(size - 1), i.e.
  // have at least that many trailing zero bits. Comparing bit counts avoids
  // computing BIT_CEIL, which overflows for size > 2^63.
  const uint64_t size = end - start;
  return std::countr_zero(start) >= static_cast<int>(std::bit_width(size - 1));
}

Result<Hash256> SubtreeHash(HashSource& source, uint64_t start, uint64_t end) {
  if (!IsValidSubtree(start, end)) return InvalidSubtree(start, end);
  // start is aligned to BIT_CEIL(end - start), so the RFC recursion over
  // [start, end) only meets perfect nodes of the whole tree.
  return RangeHash(source, start, end);
}

Status VerifySubtreeInclusion(uint64_t index, uint64_t start, uint64_t end,
                              const Hash256& leaf_hash,
                              std::span<const Hash256> proof,
                              const Hash256& subtree_root) {
  RETURN_IF_ERROR(CheckInclusionArgs(index, start, end));
  // The subtree is a Merkle tree of its own: RFC 9162 §2.1.3.2 applies with
  // the index and size taken relative to start.
  ASSIGN_OR_RETURN(Hash256 r, RootFromInclusion(index - start, end - start,
                                                leaf_hash, proof));
  if (!ConstantTimeEqual(r, subtree_root)) {
    return Status::Corruption(
        "subtree inclusion proof does not match the subtree root");
  }
  return Status::OK();
}

Status VerifySubtreeConsistency(uint64_t start, uint64_t end, uint64_t size,
                                const Hash256& subtree_root,
                                const Hash256& tree_root,
                                std::span<const Hash256> proof) {
  RETURN_IF_ERROR(CheckConsistencyArgs(start, end, size));
  if (start == end) {
    if (!proof.empty()) {
      return Status::Corruption("an empty subtree needs an empty proof");
    }
    if (!ConstantTimeEqual(subtree_root, EmptyRoot())) {
      return Status::Corruption(
          "the root of an empty subtree must be the empty-tree hash");
    }
    return Status::OK();
  }

  // The draft's verification procedure. fn and sn are the subtree's first and
  // last leaves, tn the tree's last leaf, all at the current level.
  uint64_t fn = start;
  uint64_t sn = end - 1;
  uint64_t tn = size - 1;
  auto up = [&] {
    fn >>= 1;
    sn >>= 1;
    tn >>= 1;
  };
  if (sn == tn) {
    // The subtree ends where the tree does: climb to the subtree's root,
    // which is then a node of the tree.
    while (fn != sn) up();
  } else {
    // Climb to the largest perfect node at the subtree's right edge.
    while (fn != sn && (sn & 1)) up();
  }

  // fr rebuilds the subtree root and sr the tree root. If the climb reached
  // the subtree's root, the verifier knows it; otherwise the proof starts with
  // the hash of the node reached.
  size_t i = 0;
  Hash256 seed = subtree_root;
  if (fn != sn) {
    if (proof.empty()) return Status::Corruption("empty consistency proof");
    seed = proof[0];
    i = 1;
  }
  Hash256 fr = seed;
  Hash256 sr = seed;
  for (; i < proof.size(); ++i) {
    if (tn == 0) return Status::Corruption("consistency proof is too long");
    const Hash256& c = proof[i];
    if ((sn & 1) || sn == tn) {
      // c is a left sibling: it is inside the subtree while fn < sn.
      if (fn < sn) fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while (!(sn & 1) && sn != 0) up();
    } else {
      // c is a right sibling, beyond the subtree.
      sr = NodeHash(sr, c);
    }
    up();
  }
  if (tn != 0) return Status::Corruption("consistency proof is too short");
  if (!ConstantTimeEqual(fr, subtree_root)) {
    return Status::Corruption(
        "subtree root does not match the one calculated from the proof");
  }
  if (!ConstantTimeEqual(sr, tree_root)) {
    return Status::Corruption(
        "tree root does not match the one calculated from the proof");
  }
  return Status::OK();
}

Result<std::vector<Hash256>> SubtreeInclusionProof(HashSource& source,
                                                   uint64_t index,
                                                   uint64_t start,
                                                   uint64_t end) {
  RETURN_IF_ERROR(CheckInclusionArgs(index, start, end));
  std::vector<Hash256> out;
  RETURN_IF_ERROR(AppendPath(source, index, start, end - start, out));
  return out;
}

Result<std::vector<Hash256>> SubtreeConsistencyProof(HashSource& source,
                                                     uint64_t start,
                                                     uint64_t end,
                                                     uint64_t size) {
  RETURN_IF_ERROR(CheckConsistencyArgs(start, end, size));
  std::vector<Hash256> out;
  if (start == end) return out;
  RETURN_IF_ERROR(
      AppendSubtreeSubproof(source, start, end, 0, size, /*known=*/true, out));
  return out;
}

}  // namespace amanah::merkle
