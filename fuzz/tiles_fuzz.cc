// The C2SP tlog-tiles codecs (ledger/tiles.h) on any bytes, and the log
// reader (ledger/log_reader.h) over tiles made of them.
//
// Entry bundles and hash tiles decode to what encodes back to the same
// bytes; EntryBundlePrefix agrees with DecodeEntryBundle; a tile index path
// has one spelling. Inputs starting with 'L' are a tree size and the files
// of that tree (tiles of levels 0 and 1, entry bundles), each behind a
// two-byte length: whatever the files hold, the reader answers or refuses
// cleanly, and every inclusion proof it gives verifies against the root it
// computes from the same tiles.

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "ledger/log_reader.h"
#include "ledger/merkle.h"
#include "ledger/tiles.h"

namespace amanah {
namespace {

void Codecs(std::string_view bytes) {
  Result<std::vector<std::string>> entries = DecodeEntryBundle(bytes);
  if (entries.ok()) {
    FUZZ_CHECK(entries->size() <= kTileWidth);
    FUZZ_CHECK(EncodeEntryBundle(*entries) == bytes);
    Result<size_t> all = EntryBundlePrefix(bytes, entries->size());
    FUZZ_CHECK(all.ok() && *all == bytes.size());
    if (!entries->empty()) {
      std::vector<std::string> head(entries->begin(), entries->end() - 1);
      Result<size_t> prefix = EntryBundlePrefix(bytes, head.size());
      FUZZ_CHECK(prefix.ok() && *prefix == EncodeEntryBundle(head).size());
    }
  } else {
    FUZZ_CHECK(entries.status().code() == Code::kCorruption);
  }
  for (uint64_t width : {uint64_t{1}, uint64_t{3}, kTileWidth}) {
    Result<size_t> n = EntryBundlePrefix(bytes, width);
    if (!n.ok()) continue;
    FUZZ_CHECK(*n <= bytes.size());
    Result<std::vector<std::string>> head =
        DecodeEntryBundle(bytes.substr(0, *n));
    FUZZ_CHECK(head.ok() && head->size() == width);
  }
  Result<std::vector<Hash256>> tile = DecodeHashTile(bytes);
  if (tile.ok()) FUZZ_CHECK(EncodeHashTile(*tile) == bytes);
  Result<uint64_t> index = ParseTileIndexPath(bytes);
  if (index.ok()) FUZZ_CHECK(TileIndexPath(*index) == bytes);
}

// Takes a piece with a two-byte length off the front of `in`.
std::string_view Piece(std::string_view* in) {
  if (in->size() < 2) {
    in->remove_prefix(in->size());
    return {};
  }
  size_t n =
      static_cast<uint8_t>((*in)[0]) << 8 | static_cast<uint8_t>((*in)[1]);
  in->remove_prefix(2);
  n = std::min(n, in->size());
  std::string_view p = in->substr(0, n);
  in->remove_prefix(n);
  return p;
}

void Reader(std::string_view in) {
  uint64_t tree =
      1 +
      (static_cast<uint8_t>(in[0]) << 8 | static_cast<uint8_t>(in[1])) % 1100;
  in.remove_prefix(2);
  const std::string dir = fuzz::ScratchDir() + "/log";
  std::filesystem::remove_all(dir);
  TileStore store(Env::Default(), dir);
  auto write = [&](const std::string& rel, std::string_view data) {
    std::filesystem::path path = store.PathOf(rel);
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary)
        .write(data.data(), static_cast<std::streamsize>(data.size()));
  };
  // Level-1 hashes are those of the level-0 tiles (any other would make a
  // tree whose proofs cannot agree with its root), or zeros for a tile
  // that does not decode.
  std::vector<Hash256> level1;
  for (uint64_t i = 0; i * kTileWidth < tree; ++i) {
    uint64_t w = std::min<uint64_t>(tree - i * kTileWidth, kTileWidth);
    std::string_view hashes = Piece(&in);
    write(TilePath(0, i, w), hashes);
    write(EntryBundlePath(i, w), Piece(&in));
    if (w == kTileWidth) {
      Result<std::vector<Hash256>> t = DecodeHashTile(hashes);
      level1.push_back(t.ok() && t->size() == kTileWidth ? SubtreeRoot(*t, 0, 8)
                                                         : Hash256{});
    }
  }
  if (!level1.empty())
    write(TilePath(1, 0, level1.size()), EncodeHashTile(level1));

  LogReader reader(&store, nullptr, tree);
  Result<Hash256> root = reader.Root();
  if (!root.ok()) {
    FUZZ_CHECK(root.status().code() != Code::kUnavailable);
    return;
  }
  for (uint64_t i : {uint64_t{0}, tree / 2, tree - 1}) {
    Result<std::vector<Hash256>> proof = reader.InclusionProof(i);
    Result<Hash256> leaf = reader.PerfectNode(0, i);
    if (proof.ok() && leaf.ok()) {
      FUZZ_CHECK(merkle::VerifyInclusion(i, tree, *leaf, *proof, *root).ok());
    }
    Result<std::string> entry = reader.Entry(i);
    if (entry.ok()) FUZZ_CHECK(entry->size() <= kMaxEntrySize);
  }
  if (tree > 1) {
    uint64_t old = 1 + tree / 3;
    LogReader smaller(&store, nullptr, old);
    Result<Hash256> old_root = smaller.Root();
    Result<std::vector<Hash256>> proof = reader.ConsistencyProof(old);
    if (old_root.ok() && proof.ok()) {
      FUZZ_CHECK(
          merkle::VerifyConsistency(old, tree, *old_root, *root, *proof).ok());
    }
  }
}

}  // namespace
}  // namespace amanah

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  std::string_view bytes = fuzz::AsText(data, size);
  Codecs(bytes);
  if (size >= 3 && bytes[0] == 'L') Reader(bytes.substr(1));
  return 0;
}
