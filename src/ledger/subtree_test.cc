#include "ledger/subtree.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "ledger/merkle_testutil.h"

namespace amanah::merkle {
namespace {

namespace fs = std::filesystem;

// The pieces appended one after the other: GCC 12 at -O3 warns
// (-Wrestrict, a false positive) on "[" + std::string&&.
template <typename... Parts>
std::string Cat(const Parts&... parts) {
  std::string s;
  (s += ... += parts);
  return s;
}
using namespace testutil;  // NOLINT: shared test support

// A tree whose leaves [start, start + n) are the first n RFC inputs; the
// leaves before start are filler. The subtree [start, start + n) then hashes
// like the RFC tree of n leaves.
MemoryTree ShiftedReferenceTree(uint64_t start, size_t n) {
  MemoryTree t;
  for (uint64_t i = 0; i < start; ++i) {
    t.Append(AsBytes("filler " + std::to_string(i)));
  }
  for (size_t i = 0; i < n; ++i) t.Append(*HexDecode(kInputs[i]));
  return t;
}

// A tree of `n` leaves "entry 0", "entry 1", ...
MemoryTree EntryTree(uint64_t n) {
  MemoryTree t;
  for (uint64_t i = 0; i < n; ++i)
    t.Append(AsBytes("entry " + std::to_string(i)));
  return t;
}

Hash256 Flipped(Hash256 h, size_t bit) {
  h[(bit / 8) % h.size()] ^= static_cast<uint8_t>(1u << (bit % 8));
  return h;
}

TEST(SubtreeTest, Validity) {
  constexpr uint64_t kMax = std::numeric_limits<uint64_t>::max();
  constexpr uint64_t k63 = uint64_t{1} << 63;
  // [0, x) and [x, x) are always valid.
  for (uint64_t x :
       {uint64_t{0}, uint64_t{1}, uint64_t{7}, k63, k63 + 1, kMax}) {
    EXPECT_TRUE(IsValidSubtree(0, x)) << x;
    EXPECT_TRUE(IsValidSubtree(x, x)) << x;
  }
  EXPECT_TRUE(IsValidSubtree(4, 8));
  EXPECT_TRUE(IsValidSubtree(8, 13));
  EXPECT_TRUE(IsValidSubtree(8, 16));
  EXPECT_TRUE(IsValidSubtree(5, 6));
  EXPECT_TRUE(IsValidSubtree(12, 15));  // BIT_CEIL(3) = 4 divides 12
  EXPECT_FALSE(IsValidSubtree(2, 5));   // BIT_CEIL(3) = 4
  EXPECT_FALSE(IsValidSubtree(2, 6));
  EXPECT_FALSE(IsValidSubtree(1, 3));
  EXPECT_FALSE(IsValidSubtree(3, 5));
  EXPECT_FALSE(IsValidSubtree(8, 17));  // BIT_CEIL(9) = 16
  EXPECT_FALSE(IsValidSubtree(2, 1));
  // Sizes whose BIT_CEIL does not fit in 64 bits.
  EXPECT_FALSE(IsValidSubtree(1, k63 + 2));
  EXPECT_FALSE(IsValidSubtree(k63 - 1, kMax));
  // Size 2^63 - 1: BIT_CEIL is 2^63.
  EXPECT_TRUE(IsValidSubtree(k63, kMax));
  EXPECT_FALSE(IsValidSubtree(k63 >> 1, (k63 >> 1) + k63 - 1));
  // Brute force against the definition for small values.
  for (uint64_t end = 0; end <= 70; ++end) {
    for (uint64_t start = 0; start <= end + 1; ++start) {
      bool want = start <= end && start % std::bit_ceil(end - start) == 0;
      EXPECT_EQ(IsValidSubtree(start, end), want) << start << " " << end;
    }
  }
}

// The draft's examples: [8, 13) in a tree of 14 leaves.
TEST(SubtreeTest, DraftExamples) {
  MemoryTree t = EntryTree(14);
  auto h = [&](uint64_t b, uint64_t e) { return *RangeHash(t, b, e); };

  auto incl = SubtreeInclusionProof(t, 10, 8, 13);
  ASSERT_TRUE(incl.ok()) << incl.status().ToString();
  EXPECT_EQ(*incl, (std::vector<Hash256>{h(11, 12), h(8, 10), h(12, 13)}));

  auto cons = SubtreeConsistencyProof(t, 8, 13, 14);
  ASSERT_TRUE(cons.ok()) << cons.status().ToString();
  EXPECT_EQ(*cons,
            (std::vector<Hash256>{h(12, 13), h(13, 14), h(8, 12), h(0, 8)}));
  EXPECT_TRUE(
      VerifySubtreeConsistency(8, 13, 14, h(8, 13), t.Root(), *cons).ok());

  cons = SubtreeConsistencyProof(t, 4, 8, 14);
  ASSERT_TRUE(cons.ok());
  EXPECT_EQ(*cons, (std::vector<Hash256>{h(0, 4), h(8, 14)}));
  EXPECT_TRUE(
      VerifySubtreeConsistency(4, 8, 14, h(4, 8), t.Root(), *cons).ok());
}

TEST(SubtreeTest, ErrorCodes) {
  MemoryTree t = EntryTree(8);
  const Hash256 leaf = LeafHash(AsBytes("entry 5"));
  const Hash256 sub = *SubtreeHash(t, 4, 8);
  auto proof = *SubtreeInclusionProof(t, 5, 4, 8);
  EXPECT_TRUE(VerifySubtreeInclusion(5, 4, 8, leaf, proof, sub).ok());

  auto code = [](const Status& s) { return s.code(); };
  // Arguments that cannot form a proof.
  EXPECT_EQ(code(VerifySubtreeInclusion(5, 2, 6, leaf, proof, sub)),
            Code::kInvalidInput);
  EXPECT_EQ(code(VerifySubtreeInclusion(3, 4, 8, leaf, proof, sub)),
            Code::kInvalidInput);
  EXPECT_EQ(code(VerifySubtreeInclusion(8, 4, 8, leaf, proof, sub)),
            Code::kInvalidInput);
  EXPECT_EQ(code(VerifySubtreeInclusion(4, 4, 4, leaf, {}, EmptyRoot())),
            Code::kInvalidInput);
  EXPECT_EQ(code(SubtreeInclusionProof(t, 3, 4, 8).status()),
            Code::kInvalidInput);
  EXPECT_EQ(code(SubtreeInclusionProof(t, 1, 1, 3).status()),
            Code::kInvalidInput);
  EXPECT_EQ(code(SubtreeHash(t, 2, 5).status()), Code::kInvalidInput);
  EXPECT_EQ(code(VerifySubtreeConsistency(2, 6, 8, sub, t.Root(), {})),
            Code::kInvalidInput);
  EXPECT_EQ(code(VerifySubtreeConsistency(4, 8, 7, sub, t.Root(), {})),
            Code::kInvalidInput);
  EXPECT_EQ(code(VerifySubtreeConsistency(3, 3, 2, EmptyRoot(), t.Root(), {})),
            Code::kInvalidInput);
  EXPECT_EQ(code(SubtreeConsistencyProof(t, 4, 8, 7).status()),
            Code::kInvalidInput);
  EXPECT_EQ(code(SubtreeConsistencyProof(t, 2, 6, 8).status()),
            Code::kInvalidInput);

  // Proofs that do not lead to the roots.
  EXPECT_EQ(code(VerifySubtreeInclusion(5, 4, 8, Flipped(leaf, 3), proof, sub)),
            Code::kCorruption);
  EXPECT_EQ(code(VerifySubtreeInclusion(
                5, 4, 8, leaf, std::span(proof).first(proof.size() - 1), sub)),
            Code::kCorruption);
  auto cons = *SubtreeConsistencyProof(t, 4, 8, 8);
  EXPECT_TRUE(VerifySubtreeConsistency(4, 8, 8, sub, t.Root(), cons).ok());
  EXPECT_EQ(
      code(VerifySubtreeConsistency(4, 8, 8, sub, Flipped(t.Root(), 0), cons)),
      Code::kCorruption);
  EXPECT_EQ(code(VerifySubtreeConsistency(4, 8, 8, sub, t.Root(), {})),
            Code::kCorruption);
  EXPECT_EQ(code(VerifySubtreeConsistency(4, 4, 8, sub, t.Root(), {})),
            Code::kCorruption);
  EXPECT_EQ(code(VerifySubtreeConsistency(4, 4, 8, EmptyRoot(), t.Root(),
                                          std::span(cons).first(1))),
            Code::kCorruption);
  // An empty subtree is consistent with any tree, whatever its root.
  EXPECT_TRUE(
      VerifySubtreeConsistency(4, 4, 8, EmptyRoot(), Flipped(sub, 9), {}).ok());
  EXPECT_TRUE(SubtreeConsistencyProof(t, 4, 4, 8)->empty());
  EXPECT_TRUE(SubtreeConsistencyProof(t, 0, 8, 8)->empty());
}

// Every subtree inclusion vector: happy paths verify (and our generator
// reproduces their proofs), every wantErr case is rejected.
TEST(SubtreeTest, GoldenSubtreeInclusionVectors) {
  auto files = VectorFiles("subtreeinclusion");
  if (files.empty()) {
    GTEST_SKIP() << AMANAH_SHARED_DATA
        "/merkle-vectors/subtreeinclusion is absent";
  }
  int happy = 0, rejected = 0, regenerated = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    nlohmann::json j = ReadJson(path);
    const bool want_err = j["wantErr"].get<bool>();
    auto root = DecodeHash(j["root"]);
    auto leaf = DecodeHash(j["leafHash"]);
    auto proof = DecodeProof(j["proof"]);
    const uint64_t index = j["leafIdx"].get<uint64_t>();
    const uint64_t start = j["start"].get<uint64_t>();
    const uint64_t end = j["end"].get<uint64_t>();
    Status st = Status::InvalidInput("undecodable hash");
    if (root && leaf && proof) {
      st = VerifySubtreeInclusion(index, start, end, *leaf, *proof, *root);
      // Impossible arguments and bad proofs are told apart.
      const bool args_ok =
          IsValidSubtree(start, end) && start <= index && index < end;
      if (!st.ok()) {
        EXPECT_EQ(st.code(), args_ok ? Code::kCorruption : Code::kInvalidInput)
            << st.ToString();
      }
    }
    EXPECT_EQ(st.ok(), !want_err) << j["desc"] << ": " << st.ToString();
    if (want_err) {
      ++rejected;
      continue;
    }
    ++happy;
    // Trees of the vectors: the RFC inputs, at leaves [start, end).
    const uint64_t n = end - start;
    if (n <= 8 && *leaf == LeafHash(*HexDecode(kInputs[index - start]))) {
      MemoryTree t = ShiftedReferenceTree(start, n);
      auto mine = SubtreeInclusionProof(t, index, start, end);
      ASSERT_TRUE(mine.ok()) << mine.status().ToString();
      EXPECT_EQ(*mine, *proof);
      EXPECT_EQ(*SubtreeHash(t, start, end), *root);
      ++regenerated;
    }
  }
  EXPECT_GT(happy, 0);
  EXPECT_GT(rejected, 0);
  EXPECT_GT(regenerated, 0);
}

// Every subtree consistency vector, likewise.
TEST(SubtreeTest, GoldenSubtreeConsistencyVectors) {
  auto files = VectorFiles("subtreeconsistency");
  if (files.empty()) {
    GTEST_SKIP() << AMANAH_SHARED_DATA
        "/merkle-vectors/subtreeconsistency is absent";
  }
  int happy = 0, rejected = 0, regenerated = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    nlohmann::json j = ReadJson(path);
    const bool want_err = j["wantErr"].get<bool>();
    auto root1 = DecodeRoot(j["root1"]);
    auto root2 = DecodeRoot(j["root2"]);
    auto proof = DecodeProof(j["proof"]);
    const uint64_t start = j["start"].get<uint64_t>();
    const uint64_t end = j["end"].get<uint64_t>();
    const uint64_t size = j["size"].get<uint64_t>();
    Status st = Status::InvalidInput("undecodable hash");
    if (root1 && root2 && proof) {
      st = VerifySubtreeConsistency(start, end, size, *root1, *root2, *proof);
      const bool args_ok = IsValidSubtree(start, end) && end <= size;
      if (!st.ok()) {
        EXPECT_EQ(st.code(), args_ok ? Code::kCorruption : Code::kInvalidInput)
            << st.ToString();
      }
    }
    EXPECT_EQ(st.ok(), !want_err) << j["desc"] << ": " << st.ToString();
    if (want_err) {
      ++rejected;
      continue;
    }
    ++happy;
    if (size <= 8) {
      MemoryTree t = ShiftedReferenceTree(0, size);
      auto mine = SubtreeConsistencyProof(t, start, end, size);
      ASSERT_TRUE(mine.ok()) << mine.status().ToString();
      EXPECT_EQ(*mine, *proof);
      if (start < end && DecodeHash(j["root1"]) && DecodeHash(j["root2"])) {
        EXPECT_EQ(*SubtreeHash(t, start, end), *root1);
        EXPECT_EQ(*RootHash(t, size), *root2);
      }
      ++regenerated;
    }
  }
  EXPECT_GT(happy, 0);
  EXPECT_GT(rejected, 0);
  EXPECT_GT(regenerated, 0);
}

// Every proof our generators make for every valid subtree of trees up to 40
// leaves verifies; any flipped bit, missing or extra hash, wrong leaf or
// wrong root makes it fail. Where the draft says subtree proofs coincide with
// RFC 9162 proofs, they do.
TEST(SubtreeTest, GeneratedProofsVerifyAndTampersFail) {
  constexpr uint64_t kMax = 40;
  MemoryTree t = EntryTree(kMax);
  std::vector<Hash256> roots;
  for (uint64_t n = 0; n <= kMax; ++n) roots.push_back(*RootHash(t, n));
  const Hash256 extra = LeafHash(AsBytes("extra"));
  int checked = 0;
  for (uint64_t end = 0; end <= kMax; ++end) {
    for (uint64_t start = 0; start <= end; ++start) {
      if (!IsValidSubtree(start, end)) continue;
      auto sub = SubtreeHash(t, start, end);
      ASSERT_TRUE(sub.ok());

      for (uint64_t i = start; i < end; ++i) {
        SCOPED_TRACE(std::to_string(i) + " in [" + std::to_string(start) +
                     ", " + std::to_string(end) + ")");
        const Hash256 leaf = LeafHash(AsBytes("entry " + std::to_string(i)));
        auto proof = SubtreeInclusionProof(t, i, start, end);
        ASSERT_TRUE(proof.ok());
        ASSERT_TRUE(
            VerifySubtreeInclusion(i, start, end, leaf, *proof, *sub).ok());
        if (start == 0) {
          EXPECT_EQ(*proof, *InclusionProof(t, i, end));
        }
        EXPECT_FALSE(VerifySubtreeInclusion(i, start, end, Flipped(leaf, i),
                                            *proof, *sub)
                         .ok());
        for (size_t k = 0; k < proof->size(); ++k) {
          auto bad = *proof;
          bad[k] = Flipped(bad[k], 7 * k + i);
          EXPECT_FALSE(
              VerifySubtreeInclusion(i, start, end, leaf, bad, *sub).ok());
        }
        auto longer = *proof;
        longer.push_back(extra);
        EXPECT_FALSE(
            VerifySubtreeInclusion(i, start, end, leaf, longer, *sub).ok());
      }

      for (uint64_t n = end; n <= kMax; ++n) {
        SCOPED_TRACE(Cat("[", std::to_string(start), ", ", std::to_string(end),
                         ") in ", std::to_string(n)));
        auto proof = SubtreeConsistencyProof(t, start, end, n);
        ASSERT_TRUE(proof.ok()) << proof.status().ToString();
        ASSERT_TRUE(
            VerifySubtreeConsistency(start, end, n, *sub, roots[n], *proof)
                .ok());
        ++checked;
        if (start == 0) {
          EXPECT_EQ(*proof, *ConsistencyProof(t, end, n));
        }
        if (end == start + 1) {
          EXPECT_EQ(*proof, *InclusionProof(t, start, n));
        }
        EXPECT_FALSE(VerifySubtreeConsistency(start, end, n, Flipped(*sub, n),
                                              roots[n], *proof)
                         .ok());
        if (start < end) {
          EXPECT_FALSE(VerifySubtreeConsistency(start, end, n, *sub,
                                                Flipped(roots[n], end), *proof)
                           .ok());
        }
        for (size_t k = 0; k < proof->size(); ++k) {
          auto bad = *proof;
          bad[k] = Flipped(bad[k], 5 * k + n);
          EXPECT_FALSE(
              VerifySubtreeConsistency(start, end, n, *sub, roots[n], bad)
                  .ok());
        }
        if (!proof->empty()) {
          EXPECT_FALSE(VerifySubtreeConsistency(
                           start, end, n, *sub, roots[n],
                           std::span(*proof).first(proof->size() - 1))
                           .ok());
          EXPECT_FALSE(VerifySubtreeConsistency(start, end, n, *sub, roots[n],
                                                std::span(*proof).subspan(1))
                           .ok());
        }
        auto longer = *proof;
        longer.push_back(extra);
        EXPECT_FALSE(
            VerifySubtreeConsistency(start, end, n, *sub, roots[n], longer)
                .ok());
      }
    }
  }
  EXPECT_GT(checked, 1000);
}

// The accumulated test vectors of the draft's appendix ("Accumulated Subtree
// Test Vectors", draft-ietf-plants-merkle-tree-certs-06, C.1.1 to C.1.3): over
// leaves d[i] = the byte i, every output for tree sizes up to 130, each
// written as a text line, is fed to one SHA-256. Proofs are also verified.
TEST(SubtreeTest, DraftAccumulatedVectors) {
  constexpr uint64_t kMax = 130;
  MemoryTree t;
  for (uint64_t i = 0; i < kMax; ++i) {
    const uint8_t b = static_cast<uint8_t>(i);
    t.Append(ByteView(&b, 1));
  }
  auto line_with = [](std::string line, const std::vector<Hash256>& proof) {
    for (const Hash256& h : proof) line += Cat(" ", HexEncode(h));
    return line + "\n";
  };

  Hasher hashes(HashAlgorithm::kSha256);
  Hasher inclusion(HashAlgorithm::kSha256);
  for (uint64_t end = 0; end <= kMax; ++end) {
    for (uint64_t start = 0; start <= end; ++start) {
      if (!IsValidSubtree(start, end)) continue;
      const std::string range =
          Cat("[", std::to_string(start), ", ", std::to_string(end), ")");
      auto sub = SubtreeHash(t, start, end);
      ASSERT_TRUE(sub.ok());
      hashes.Update(AsBytes(range + " " + HexEncode(*sub) + "\n"));
      for (uint64_t i = start; i < end; ++i) {
        auto proof = SubtreeInclusionProof(t, i, start, end);
        ASSERT_TRUE(proof.ok());
        inclusion.Update(
            AsBytes(line_with(std::to_string(i) + " " + range, *proof)));
        const uint8_t b = static_cast<uint8_t>(i);
        ASSERT_TRUE(VerifySubtreeInclusion(
                        i, start, end, LeafHash(ByteView(&b, 1)), *proof, *sub)
                        .ok());
      }
    }
  }
  EXPECT_EQ(HexEncode(hashes.Finish()),
            "b82806ad4265bb151c1119c0f4db437bb4d1a1f887b3a7fba1cd4ebf552e3e81");
  EXPECT_EQ(HexEncode(inclusion.Finish()),
            "ac2a8f989e44d99e399db448050ff5f19757df53cfb716aa81015d3955d8163f");

  Hasher consistency(HashAlgorithm::kSha256);
  for (uint64_t n = 0; n <= kMax; ++n) {
    const Hash256 root = *RootHash(t, n);
    for (uint64_t end = 0; end <= n; ++end) {
      for (uint64_t start = 0; start <= end; ++start) {
        if (!IsValidSubtree(start, end)) continue;
        auto proof = SubtreeConsistencyProof(t, start, end, n);
        ASSERT_TRUE(proof.ok());
        consistency.Update(
            AsBytes(line_with(Cat("[", std::to_string(start), ", ",
                                  std::to_string(end), ") ", std::to_string(n)),
                              *proof)));
        ASSERT_TRUE(VerifySubtreeConsistency(start, end, n,
                                             *SubtreeHash(t, start, end), root,
                                             *proof)
                        .ok())
            << start << " " << end << " " << n;
      }
    }
  }
  EXPECT_EQ(HexEncode(consistency.Finish()),
            "10fa99b37bf9bf9ffa26b412fbd98bd75363256d0b75d61bc4538b9c9c5a0a74");
}

}  // namespace
}  // namespace amanah::merkle
