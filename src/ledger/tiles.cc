#include "ledger/tiles.h"

#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace amanah {

namespace {
// Upper bounds for reading tile files: a full entry bundle is at most
// 256 * (2 + 65535) bytes.
constexpr uint64_t kMaxBundleFile = kTileWidth * (2 + kMaxEntrySize);
constexpr uint64_t kMaxTileFile = kTileWidth * 32;
constexpr uint64_t kMaxCheckpointFile = 1 << 20;

std::string Suffix(uint64_t width) {
  if (width == 0 || width == kTileWidth) return "";
  return ".p/" + std::to_string(width);
}

Status CheckWidth(uint64_t width) {
  if (width > kTileWidth) {
    return Status::InvalidInput("tile width " + std::to_string(width) +
                                " is over 256");
  }
  return Status::OK();
}
}  // namespace

std::string TileIndexPath(uint64_t index) {
  std::string out;
  char buf[8];
  // Collect three-digit groups from the least significant end.
  std::vector<std::string> groups;
  do {
    std::snprintf(buf, sizeof(buf), "%03u",
                  static_cast<unsigned>(index % 1000));
    groups.emplace_back(buf);
    index /= 1000;
  } while (index > 0);
  for (size_t i = groups.size(); i-- > 0;) {
    if (i > 0) {
      out += "x" + groups[i] + "/";
    } else {
      out += groups[i];
    }
  }
  return out;
}

Result<uint64_t> ParseTileIndexPath(std::string_view path) {
  const std::string_view original = path;
  auto bad = [&] {
    return Status::InvalidInput("not a tile index: " + std::string(original));
  };
  uint64_t index = 0;
  while (true) {
    bool last = path.empty() || path[0] != 'x';
    if (!last) path.remove_prefix(1);
    if (path.size() < 3) return bad();
    uint64_t group = 0;
    for (int i = 0; i < 3; ++i) {
      if (path[i] < '0' || path[i] > '9') return bad();
      group = group * 10 + static_cast<uint64_t>(path[i] - '0');
    }
    if (index > (UINT64_MAX - group) / 1000) return bad();
    index = index * 1000 + group;
    path.remove_prefix(3);
    if (last) {
      if (!path.empty()) return bad();
      break;
    }
    if (path.empty() || path[0] != '/') return bad();
    path.remove_prefix(1);
  }
  // Only the one spelling ("x000/005" is not 5).
  if (TileIndexPath(index) != original) return bad();
  return index;
}

std::string TilePath(int level, uint64_t index, uint64_t width) {
  return "tile/" + std::to_string(level) + "/" + TileIndexPath(index) +
         Suffix(width);
}

std::string EntryBundlePath(uint64_t index, uint64_t width) {
  return "tile/entries/" + TileIndexPath(index) + Suffix(width);
}

std::string EncodeEntryBundle(const std::vector<std::string>& entries) {
  size_t total = 0;
  for (const auto& e : entries) total += 2 + e.size();
  std::string out;
  out.reserve(total);
  for (const auto& e : entries) {
    out.push_back(static_cast<char>(e.size() >> 8));
    out.push_back(static_cast<char>(e.size() & 0xff));
    out += e;
  }
  return out;
}

Result<std::vector<std::string>> DecodeEntryBundle(std::string_view bundle) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos < bundle.size()) {
    if (bundle.size() - pos < 2) {
      return Status::Corruption("entry bundle ends inside a length prefix");
    }
    size_t len = static_cast<uint8_t>(bundle[pos]) << 8 |
                 static_cast<uint8_t>(bundle[pos + 1]);
    pos += 2;
    if (bundle.size() - pos < len) {
      return Status::Corruption("entry bundle ends inside entry " +
                                std::to_string(out.size()));
    }
    out.emplace_back(bundle.substr(pos, len));
    pos += len;
    if (out.size() > kTileWidth) {
      return Status::Corruption("entry bundle holds more than 256 entries");
    }
  }
  return out;
}

Result<size_t> EntryBundlePrefix(std::string_view bundle, uint64_t width) {
  size_t pos = 0;
  for (uint64_t i = 0; i < width; ++i) {
    if (bundle.size() - pos < 2) {
      return Status::Corruption("entry bundle holds fewer than " +
                                std::to_string(width) + " entries");
    }
    size_t len = static_cast<uint8_t>(bundle[pos]) << 8 |
                 static_cast<uint8_t>(bundle[pos + 1]);
    if (bundle.size() - pos - 2 < len) {
      return Status::Corruption("entry bundle ends inside entry " +
                                std::to_string(i));
    }
    pos += 2 + len;
  }
  return pos;
}

std::string EncodeHashTile(const std::vector<Hash256>& hashes) {
  std::string out(hashes.size() * 32, '\0');
  for (size_t i = 0; i < hashes.size(); ++i) {
    std::memcpy(out.data() + 32 * i, hashes[i].data(), 32);
  }
  return out;
}

Result<std::vector<Hash256>> DecodeHashTile(std::string_view tile) {
  if (tile.size() % 32 != 0 || tile.size() > kMaxTileFile) {
    return Status::Corruption("hash tile of " + std::to_string(tile.size()) +
                              " bytes");
  }
  std::vector<Hash256> out(tile.size() / 32);
  for (size_t i = 0; i < out.size(); ++i) {
    std::memcpy(out[i].data(), tile.data() + 32 * i, 32);
  }
  return out;
}

Result<std::vector<Hash256>> TileStore::ReadTile(int level, uint64_t index,
                                                 uint64_t width) const {
  RETURN_IF_ERROR(CheckWidth(width));
  std::string rel = TilePath(level, index, width);
  ASSIGN_OR_RETURN(std::string data,
                   ReadFileToString(env_, PathOf(rel), kMaxTileFile));
  auto tile = DecodeHashTile(data);
  if (!tile.ok()) return tile.status().Annotate(rel);
  uint64_t want = width == 0 ? kTileWidth : width;
  if (tile->size() != want) {
    return Status::Corruption(rel + ": holds " + std::to_string(tile->size()) +
                              " hashes, expected " + std::to_string(want));
  }
  return tile;
}

Result<std::vector<std::string>> TileStore::ReadEntryBundle(
    uint64_t index, uint64_t width) const {
  RETURN_IF_ERROR(CheckWidth(width));
  std::string rel = EntryBundlePath(index, width);
  ASSIGN_OR_RETURN(std::string data,
                   ReadFileToString(env_, PathOf(rel), kMaxBundleFile));
  auto bundle = DecodeEntryBundle(data);
  if (!bundle.ok()) return bundle.status().Annotate(rel);
  uint64_t want = width == 0 ? kTileWidth : width;
  if (bundle->size() != want) {
    return Status::Corruption(rel + ": holds " +
                              std::to_string(bundle->size()) +
                              " entries, expected " + std::to_string(want));
  }
  return bundle;
}

Result<std::string> TileStore::ReadCheckpoint() const {
  return ReadFileToString(env_, PathOf("checkpoint"), kMaxCheckpointFile);
}

Status TileStore::WriteFile(const std::string& relative, std::string_view data,
                            bool allocate) const {
  std::string path = PathOf(relative);
  // The owner's alone, like everything in a node's directory: entry
  // bundles name cases and users (served only to signed-in users).
  Status s = WriteFileReplace(env_, path, AsBytes(data), 0600, allocate);
  if (s.code() == Code::kNotFound) {
    RETURN_IF_ERROR(CreateDirs(env_, DirName(path), 0700));
    s = WriteFileReplace(env_, path, AsBytes(data), 0600, allocate);
  }
  return s;
}

Status TileStore::WriteTile(int level, uint64_t index,
                            const std::vector<Hash256>& hashes) const {
  return WriteFile(TilePath(level, index, hashes.size()),
                   EncodeHashTile(hashes));
}

Status TileStore::WriteEncodedEntryBundle(uint64_t index, uint64_t width,
                                          std::string_view bundle) const {
  return WriteFile(EntryBundlePath(index, width), bundle);
}

std::string TileStore::PartialsDir(int level, uint64_t index) const {
  return PathOf((level < 0 ? EntryBundlePath(index, kTileWidth)
                           : TilePath(level, index, kTileWidth)) +
                ".p");
}

uint64_t TileStore::PartialWidth(const std::string& name) {
  char* end = nullptr;
  uint64_t w = std::strtoull(name.c_str(), &end, 10);
  return *end == '\0' && w < kTileWidth ? w : 0;
}

uint64_t TileStore::WiderThan(int level, uint64_t index, uint64_t width) const {
  auto names = env_->GetChildren(PartialsDir(level, index));
  uint64_t best = kTileWidth;
  if (!names.ok()) return best;
  for (const auto& name : *names) {
    uint64_t w = PartialWidth(name);
    if (w > width && w < best) best = w;
  }
  return best;
}

Status TileStore::WriteCheckpoint(std::string_view signed_note) const {
  // Replaced often: see WriteFileReplace. Opening the log rewrites it.
  return WriteFile("checkpoint", signed_note, /*allocate=*/true);
}

Status TileStore::RemovePartials(int level, uint64_t index,
                                 uint64_t keep_width) const {
  std::string dir = PartialsDir(level, index);
  auto children = env_->GetChildren(dir);
  if (!children.ok()) {
    if (children.status().code() == Code::kNotFound) return Status::OK();
    return children.status();
  }
  bool kept = false;
  for (const auto& name : *children) {
    if (keep_width != 0 && name == std::to_string(keep_width)) {
      kept = true;
      continue;
    }
    Status s = env_->RemoveFile(JoinPath(dir, name));
    if (!s.ok() && s.code() != Code::kNotFound) return s;
  }
  if (!kept) {
    // Best effort: a concurrent writer may have added a file meanwhile.
    (void)env_->RemoveDir(dir);
  }
  return Status::OK();
}

}  // namespace amanah
