#include "ledger/merkle.h"

#include <bit>

namespace amanah::merkle {

namespace {

constexpr uint8_t kLeafPrefix = 0x00;
constexpr uint8_t kNodePrefix = 0x01;

// Largest power of two strictly below n. REQUIRES: n > 1.
uint64_t SplitPoint(uint64_t n) { return std::bit_floor(n - 1); }

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

Status Mismatch(const char* what) {
  return Status::Corruption(std::string(what) +
                            " does not match the calculated root");
}

}  // namespace

Hash256 LeafHash(ByteView entry) {
  const uint8_t prefix = kLeafPrefix;
  return Sha256({ByteView(&prefix, 1), entry});
}

Hash256 NodeHash(const Hash256& left, const Hash256& right) {
  const uint8_t prefix = kNodePrefix;
  return Sha256({ByteView(&prefix, 1), left, right});
}

Hash256 EmptyRoot() { return Sha256(ByteView()); }

Result<Hash256> RootFromInclusion(uint64_t index, uint64_t size,
                                  const Hash256& leaf_hash,
                                  std::span<const Hash256> proof) {
  if (index >= size) {
    return Status::InvalidInput("leaf index " + std::to_string(index) +
                                " is beyond tree size " + std::to_string(size));
  }
  // RFC 9162 §2.1.3.2.
  uint64_t fn = index;
  uint64_t sn = size - 1;
  Hash256 r = leaf_hash;
  for (const Hash256& p : proof) {
    if (sn == 0) return Status::Corruption("inclusion proof is too long");
    if ((fn & 1) || fn == sn) {
      r = NodeHash(p, r);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Status::Corruption("inclusion proof is too short");
  return r;
}

Status VerifyInclusion(uint64_t index, uint64_t size, const Hash256& leaf_hash,
                       std::span<const Hash256> proof, const Hash256& root) {
  ASSIGN_OR_RETURN(Hash256 r, RootFromInclusion(index, size, leaf_hash, proof));
  if (!ConstantTimeEqual(r, root)) return Mismatch("inclusion proof root");
  return Status::OK();
}

Status VerifyConsistency(uint64_t size1, uint64_t size2, const Hash256& root1,
                         const Hash256& root2, std::span<const Hash256> proof) {
  if (size2 < size1) {
    return Status::InvalidInput("consistency from size " +
                                std::to_string(size1) + " to smaller size " +
                                std::to_string(size2));
  }
  if (size1 == 0) {
    // Every tree extends the empty one; a "proof" of it proves nothing, so
    // asking for one is a caller's mistake (as in transparency-dev/merkle).
    return Status::InvalidInput("consistency from the empty tree");
  }
  if (size1 == size2) {
    if (!proof.empty()) {
      return Status::Corruption("equal sizes need an empty proof");
    }
    if (root1 != root2) return Mismatch("second root");
    return Status::OK();
  }
  if (proof.empty()) return Status::Corruption("empty consistency proof");

  // RFC 9162 §2.1.4.2.
  std::vector<Hash256> path;
  path.reserve(proof.size() + 1);
  if (IsPowerOfTwo(size1)) path.push_back(root1);
  path.insert(path.end(), proof.begin(), proof.end());

  uint64_t fn = size1 - 1;
  uint64_t sn = size2 - 1;
  while (fn & 1) {
    fn >>= 1;
    sn >>= 1;
  }
  Hash256 fr = path[0];
  Hash256 sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Hash256& c = path[i];
    if (sn == 0) return Status::Corruption("consistency proof is too long");
    if ((fn & 1) || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while (!(fn & 1) && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  if (sn != 0) return Status::Corruption("consistency proof is too short");
  if (!ConstantTimeEqual(fr, root1)) return Mismatch("first root");
  if (!ConstantTimeEqual(sr, root2)) return Mismatch("second root");
  return Status::OK();
}

Result<Hash256> RangeHash(HashSource& source, uint64_t begin, uint64_t end) {
  uint64_t n = end - begin;
  if (IsPowerOfTwo(n) && begin % n == 0) {
    int level = std::countr_zero(n);
    return source.PerfectNode(level, begin >> level);
  }
  if (n == 0) return EmptyRoot();
  uint64_t k = SplitPoint(n);
  ASSIGN_OR_RETURN(Hash256 left, RangeHash(source, begin, begin + k));
  ASSIGN_OR_RETURN(Hash256 right, RangeHash(source, begin + k, end));
  return NodeHash(left, right);
}

Result<Hash256> RootHash(HashSource& source, uint64_t size) {
  if (size == 0) return EmptyRoot();
  return RangeHash(source, 0, size);
}

namespace {

// PATH(m, D[begin:end]) of RFC 9162 §2.1.3.1, collected leaf-side first.
Status AppendPath(HashSource& source, uint64_t m, uint64_t begin, uint64_t end,
                  std::vector<Hash256>& out) {
  uint64_t n = end - begin;
  if (n == 1) return Status::OK();
  uint64_t k = SplitPoint(n);
  if (m < begin + k) {
    RETURN_IF_ERROR(AppendPath(source, m, begin, begin + k, out));
    ASSIGN_OR_RETURN(Hash256 h, RangeHash(source, begin + k, end));
    out.push_back(h);
  } else {
    RETURN_IF_ERROR(AppendPath(source, m, begin + k, end, out));
    ASSIGN_OR_RETURN(Hash256 h, RangeHash(source, begin, begin + k));
    out.push_back(h);
  }
  return Status::OK();
}

// SUBPROOF(m, D[begin:end], b) of RFC 9162 §2.1.4.1.
Status AppendSubproof(HashSource& source, uint64_t m, uint64_t begin,
                      uint64_t end, bool complete, std::vector<Hash256>& out) {
  uint64_t n = end - begin;
  if (m == n) {
    if (!complete) {
      ASSIGN_OR_RETURN(Hash256 h, RangeHash(source, begin, end));
      out.push_back(h);
    }
    return Status::OK();
  }
  uint64_t k = SplitPoint(n);
  if (m <= k) {
    RETURN_IF_ERROR(AppendSubproof(source, m, begin, begin + k, complete, out));
    ASSIGN_OR_RETURN(Hash256 h, RangeHash(source, begin + k, end));
    out.push_back(h);
  } else {
    RETURN_IF_ERROR(
        AppendSubproof(source, m - k, begin + k, end, /*complete=*/false, out));
    ASSIGN_OR_RETURN(Hash256 h, RangeHash(source, begin, begin + k));
    out.push_back(h);
  }
  return Status::OK();
}

}  // namespace

Result<std::vector<Hash256>> InclusionProof(HashSource& source, uint64_t index,
                                            uint64_t size) {
  if (index >= size) {
    return Status::InvalidInput("index " + std::to_string(index) +
                                " is not below tree size " +
                                std::to_string(size));
  }
  std::vector<Hash256> out;
  RETURN_IF_ERROR(AppendPath(source, index, 0, size, out));
  return out;
}

Result<std::vector<Hash256>> ConsistencyProof(HashSource& source,
                                              uint64_t size1, uint64_t size2) {
  if (size1 > size2) {
    return Status::InvalidInput("size " + std::to_string(size1) +
                                " is larger than size " +
                                std::to_string(size2));
  }
  std::vector<Hash256> out;
  if (size1 == 0 || size1 == size2) return out;
  RETURN_IF_ERROR(AppendSubproof(source, size1, 0, size2, true, out));
  return out;
}

Result<CompactRange> CompactRange::FromHashes(uint64_t size,
                                              std::vector<Hash256> hashes) {
  if (static_cast<size_t>(std::popcount(size)) != hashes.size()) {
    return Status::Corruption("a tree of size " + std::to_string(size) +
                              " has " + std::to_string(std::popcount(size)) +
                              " edge hashes, not " +
                              std::to_string(hashes.size()));
  }
  CompactRange r;
  r.size_ = size;
  r.hashes_ = std::move(hashes);
  return r;
}

void CompactRange::Append(const Hash256& leaf_hash, const Visitor& visit) {
  Hash256 h = leaf_hash;
  uint64_t index = size_;
  int level = 0;
  if (visit) visit(0, index, h);
  // Each trailing one bit of size_ is a subtree of equal size to merge with.
  while ((size_ >> level) & 1) {
    h = NodeHash(hashes_.back(), h);
    hashes_.pop_back();
    ++level;
    index >>= 1;
    if (visit) visit(level, index, h);
  }
  hashes_.push_back(h);
  ++size_;
}

Hash256 CompactRange::Root() const {
  if (hashes_.empty()) return EmptyRoot();
  Hash256 r = hashes_.back();
  for (size_t i = hashes_.size() - 1; i-- > 0;) r = NodeHash(hashes_[i], r);
  return r;
}

}  // namespace amanah::merkle
