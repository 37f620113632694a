// Test support shared by the ledger and witness tests: an in-memory
// tree and decoders for the golden vectors in ../shared/data/merkle-vectors/.
// Included only by tests.

#ifndef AMANAH_LEDGER_MERKLE_TESTUTIL_H_
#define AMANAH_LEDGER_MERKLE_TESTUTIL_H_

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "base/encoding.h"
#include "ledger/merkle.h"

namespace amanah::merkle::testutil {

// An in-memory tree: levels_[l][i] is the perfect node (l, i).
class MemoryTree : public HashSource {
 public:
  void Append(ByteView entry) {
    range_.Append(LeafHash(entry),
                  [&](int level, uint64_t index, const Hash256& h) {
                    if (levels_.size() <= static_cast<size_t>(level))
                      levels_.resize(level + 1);
                    ASSERT_EQ(levels_[level].size(), index);
                    levels_[level].push_back(h);
                  });
  }
  Result<Hash256> PerfectNode(int level, uint64_t index) override {
    if (static_cast<size_t>(level) >= levels_.size() ||
        index >= levels_[level].size()) {
      return Status::NotFound("no such node");
    }
    return levels_[level][index];
  }
  uint64_t size() const { return range_.size(); }
  Hash256 Root() const { return range_.Root(); }

 private:
  CompactRange range_;
  std::vector<std::vector<Hash256>> levels_;
};

// The eight inputs of RFC 6962's reference tests, from which the vectors'
// trees are built.
inline const char* const kInputs[] = {"",
                                      "00",
                                      "10",
                                      "2021",
                                      "3031",
                                      "40414243",
                                      "5051525354555657",
                                      "606162636465666768696a6b6c6d6e6f"};

inline std::optional<Hash256> DecodeHash(const nlohmann::json& j) {
  if (!j.is_string()) return std::nullopt;
  auto b = Base64Decode(j.get<std::string>());
  if (!b.ok() || b->size() != 32) return std::nullopt;
  Hash256 h;
  std::copy(b->begin(), b->end(), h.begin());
  return h;
}

// A few consistency vectors, some with wantErr false, use roots that are
// placeholders, not 32 bytes ("don't care 1"). They are only ever compared
// for equality (or with the empty-tree hash), so map them one-to-one onto
// 32-byte values; an empty string stays a rejection.
inline std::optional<Hash256> DecodeRoot(const nlohmann::json& j) {
  if (auto h = DecodeHash(j)) return h;
  if (!j.is_string()) return std::nullopt;
  auto b = Base64Decode(j.get<std::string>());
  if (!b.ok() || b->empty()) return std::nullopt;
  return Sha256(*b);
}

// Decodes a proof (null is empty); nullopt if any element is not 32 bytes.
inline std::optional<std::vector<Hash256>> DecodeProof(
    const nlohmann::json& j) {
  std::vector<Hash256> out;
  if (j.is_null()) return out;
  for (const auto& e : j) {
    auto h = DecodeHash(e);
    if (!h) return std::nullopt;
    out.push_back(*h);
  }
  return out;
}

// The vector files of one kind ("inclusion", "consistency", ...), sorted;
// empty if ../shared/data is absent.
inline std::vector<std::filesystem::path> VectorFiles(const std::string& kind) {
  namespace fs = std::filesystem;
  fs::path dir = fs::path(AMANAH_SHARED_DATA) / "merkle-vectors" / kind;
  std::vector<fs::path> out;
  if (!fs::exists(dir)) return out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline nlohmann::json ReadJson(const std::filesystem::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

}  // namespace amanah::merkle::testutil

#endif  // AMANAH_LEDGER_MERKLE_TESTUTIL_H_
