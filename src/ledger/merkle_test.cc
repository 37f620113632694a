#include "ledger/merkle.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "ledger/merkle_testutil.h"

namespace amanah::merkle {
namespace {

namespace fs = std::filesystem;
using namespace testutil;  // NOLINT: shared test support

MemoryTree ReferenceTree(size_t n) {
  MemoryTree t;
  for (size_t i = 0; i < n; ++i) t.Append(*HexDecode(kInputs[i]));
  return t;
}

std::string Base64(const Hash256& h) { return Base64Encode(h); }

TEST(MerkleTest, RfcTreeRoots) {
  EXPECT_EQ(Base64(EmptyRoot()),
            "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  MemoryTree t = ReferenceTree(8);
  EXPECT_EQ(HexEncode(t.Root()),
            "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328");
  EXPECT_EQ(HexEncode(*RootHash(t, 8)), HexEncode(t.Root()));
}

TEST(MerkleTest, GoldenInclusionVectors) {
  auto files = VectorFiles("inclusion");
  if (files.empty()) GTEST_SKIP() << "../shared/data/merkle-vectors is absent";
  int happy = 0, rejected = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    nlohmann::json j = ReadJson(path);
    auto root = DecodeHash(j["root"]);
    auto leaf = DecodeHash(j["leafHash"]);
    auto proof = DecodeProof(j["proof"]);
    uint64_t index = j["leafIdx"].get<uint64_t>();
    uint64_t size = j["treeSize"].get<uint64_t>();
    bool ok = root && leaf && proof &&
              VerifyInclusion(index, size, *leaf, *proof, *root).ok();
    EXPECT_EQ(ok, !j["wantErr"].get<bool>()) << j["desc"];
    if (!j["wantErr"].get<bool>()) {
      ++happy;
      // Our generator produces the published proof.
      if (size <= 8) {
        MemoryTree t = ReferenceTree(size);
        auto mine = InclusionProof(t, index, size);
        ASSERT_TRUE(mine.ok());
        EXPECT_EQ(*mine, *proof);
      }
    } else {
      ++rejected;
    }
  }
  EXPECT_GT(happy, 0);
  EXPECT_GT(rejected, 0);
}

TEST(MerkleTest, GoldenConsistencyVectors) {
  auto files = VectorFiles("consistency");
  if (files.empty()) GTEST_SKIP() << "../shared/data/merkle-vectors is absent";
  int happy = 0, rejected = 0;
  for (const auto& path : files) {
    SCOPED_TRACE(path.string());
    nlohmann::json j = ReadJson(path);
    auto root1 = DecodeRoot(j["root1"]);
    auto root2 = DecodeRoot(j["root2"]);
    auto proof = DecodeProof(j["proof"]);
    uint64_t size1 = j["size1"].get<uint64_t>();
    uint64_t size2 = j["size2"].get<uint64_t>();
    bool ok = root1 && root2 && proof &&
              VerifyConsistency(size1, size2, *root1, *root2, *proof).ok();
    EXPECT_EQ(ok, !j["wantErr"].get<bool>()) << j["desc"];
    if (!j["wantErr"].get<bool>()) {
      ++happy;
      if (size2 <= 8) {
        MemoryTree t = ReferenceTree(size2);
        auto mine = ConsistencyProof(t, size1, size2);
        ASSERT_TRUE(mine.ok());
        EXPECT_EQ(*mine, *proof);
      }
    } else {
      ++rejected;
    }
  }
  EXPECT_GT(happy, 0);
  EXPECT_GT(rejected, 0);
}

// Every proof our generator makes for trees up to 70 leaves verifies, and
// flipping any bit of any proof hash makes it fail.
TEST(MerkleTest, GeneratedProofsVerifyAndTampersFail) {
  MemoryTree t;
  std::vector<Hash256> roots = {EmptyRoot()};
  std::vector<Hash256> leaves;
  for (int i = 0; i < 70; ++i) {
    std::string e = "entry " + std::to_string(i);
    t.Append(AsBytes(e));
    leaves.push_back(LeafHash(AsBytes(e)));
    roots.push_back(t.Root());
  }
  for (uint64_t size = 1; size <= 70; ++size) {
    ASSERT_EQ(*RootHash(t, size), roots[size]);
    for (uint64_t i = 0; i < size; ++i) {
      auto proof = InclusionProof(t, i, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(VerifyInclusion(i, size, leaves[i], *proof, roots[size]).ok())
          << i << "/" << size;
      if (!proof->empty()) {
        auto bad = *proof;
        bad[i % bad.size()][7] ^= 0x10;
        EXPECT_FALSE(
            VerifyInclusion(i, size, leaves[i], bad, roots[size]).ok());
      }
      EXPECT_FALSE(
          VerifyInclusion(i, size, leaves[(i + 1) % 70], *proof, roots[size])
              .ok());
    }
    EXPECT_FALSE(VerifyConsistency(0, size, roots[0], roots[size], {}).ok());
    for (uint64_t s1 = 1; s1 <= size; ++s1) {
      auto proof = ConsistencyProof(t, s1, size);
      ASSERT_TRUE(proof.ok());
      ASSERT_TRUE(
          VerifyConsistency(s1, size, roots[s1], roots[size], *proof).ok())
          << s1 << "->" << size;
      if (!proof->empty()) {
        auto bad = *proof;
        bad.back()[0] ^= 1;
        EXPECT_FALSE(
            VerifyConsistency(s1, size, roots[s1], roots[size], bad).ok());
      }
    }
  }
}

TEST(MerkleTest, CompactRangeRestores) {
  MemoryTree t = ReferenceTree(7);
  CompactRange r;
  for (int i = 0; i < 7; ++i) r.Append(LeafHash(*HexDecode(kInputs[i])), {});
  auto restored = CompactRange::FromHashes(7, r.hashes());
  ASSERT_TRUE(restored.ok());
  EXPECT_EQ(restored->Root(), t.Root());
  EXPECT_FALSE(CompactRange::FromHashes(6, r.hashes()).ok());
}

}  // namespace
}  // namespace amanah::merkle
