#include "ledger/log_reader.h"

namespace amanah {

TileCache::Tile TileCache::Get(int level, uint64_t index, uint64_t width) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = map_.find({level, index, width});
  if (it == map_.end()) return nullptr;
  order_.splice(order_.begin(), order_, it->second.second);
  return it->second.first;
}

void TileCache::Put(int level, uint64_t index, uint64_t width, Tile tile) {
  std::lock_guard<std::mutex> l(mu_);
  Key key{level, index, width};
  if (map_.count(key)) return;
  order_.push_front(key);
  map_[key] = {std::move(tile), order_.begin()};
  if (map_.size() > capacity_) {
    map_.erase(order_.back());
    order_.pop_back();
  }
}

Hash256 SubtreeRoot(const std::vector<Hash256>& hashes, size_t offset,
                    int height) {
  if (height == 0) return hashes[offset];
  size_t half = size_t{1} << (height - 1);
  return merkle::NodeHash(SubtreeRoot(hashes, offset, height - 1),
                          SubtreeRoot(hashes, offset + half, height - 1));
}

namespace {

// Reads tile `index` of level 8L (-1: the entry bundle) at `width` from disk
// with `read(w)`. Where that width was never written, the prefix of the next
// wider partial one, or of the full one (also when the wider one was removed
// meanwhile: its tile has filled).
template <typename Read>
auto ReadPrefix(const TileStore& store, int level, uint64_t index,
                uint64_t width, Read read) -> decltype(read(width)) {
  auto got = read(width);
  if (!got.ok() && got.status().code() == Code::kNotFound &&
      width < kTileWidth) {
    uint64_t wider = store.WiderThan(level, index, width);
    got = read(wider);
    if (!got.ok() && got.status().code() == Code::kNotFound &&
        wider < kTileWidth) {
      got = read(kTileWidth);
    }
    if (got.ok()) got->resize(width);
  }
  return got;
}

}  // namespace

const LogEdge::Full* LogEdge::FindFull(int level, uint64_t index) const {
  for (const Full& f : full) {
    if (f.level == level && f.index == index) return &f;
  }
  return nullptr;
}

TileCache::Tile LogEdge::Tile(int level, uint64_t index, uint64_t width) const {
  if (level < 0 || width == 0 || width > kTileWidth) return nullptr;
  TileCache::Tile t;
  if (static_cast<size_t>(level) < tiles.size() &&
      index == (size >> (kTileHeight * level)) / kTileWidth) {
    t = tiles[level];
  } else if (const Full* f = FindFull(level, index)) {
    t = f->hashes;
  }
  if (t == nullptr || width > t->size()) return nullptr;
  if (width == t->size()) return t;
  return std::make_shared<const std::vector<Hash256>>(t->begin(),
                                                      t->begin() + width);
}

std::optional<std::string> LogEdge::Bundle(uint64_t index,
                                           uint64_t width) const {
  std::string_view b;
  uint64_t have = 0;
  if (index == size / kTileWidth) {
    b = bundle;
    have = size % kTileWidth;
  } else if (const Full* f = FindFull(-1, index)) {
    b = *f->bundle;
    have = kTileWidth;
  }
  if (b.empty() || width == 0 || width > have) return std::nullopt;
  if (width == have) return std::string(b);
  auto n = EntryBundlePrefix(b, width);
  if (!n.ok()) return std::nullopt;
  return std::string(b.substr(0, *n));
}

uint64_t LogReader::WidthOf(int tile_level, uint64_t index) const {
  uint64_t count = size_ >> (kTileHeight * tile_level);  // hashes at level
  uint64_t start = index * kTileWidth;
  if (count <= start) return 0;
  return std::min<uint64_t>(count - start, kTileWidth);
}

Result<TileCache::Tile> LogReader::Tile(int tile_level, uint64_t index) {
  uint64_t width = WidthOf(tile_level, index);
  if (width == 0) {
    return Status::NotFound("tile " + std::to_string(tile_level) + "/" +
                            std::to_string(index) + " is beyond tree size " +
                            std::to_string(size_));
  }
  if (edge_ != nullptr) {
    if (auto t = edge_->Tile(tile_level, index, width)) return t;
  }
  if (cache_ != nullptr) {
    if (auto t = cache_->Get(tile_level, index, width)) return t;
  }
  auto tile = ReadPrefix(*store_, tile_level, index, width, [&](uint64_t w) {
    return store_->ReadTile(tile_level, index, w);
  });
  if (!tile.ok()) return tile.status();
  auto shared =
      std::make_shared<const std::vector<Hash256>>(std::move(tile).value());
  if (cache_ != nullptr) cache_->Put(tile_level, index, width, shared);
  return shared;
}

Result<Hash256> LogReader::PerfectNode(int level, uint64_t index) {
  int tile_level = level / kTileHeight;
  int height = level % kTileHeight;
  uint64_t first = index << height;  // first hash at level 8*tile_level
  ASSIGN_OR_RETURN(TileCache::Tile tile, Tile(tile_level, first / kTileWidth));
  size_t offset = first % kTileWidth;
  if (offset + (size_t{1} << height) > tile->size()) {
    return Status::InvalidInput(
        "node " + std::to_string(level) + "/" + std::to_string(index) +
        " is not complete in tree size " + std::to_string(size_));
  }
  return SubtreeRoot(*tile, offset, height);
}

Result<std::vector<std::string>> LogReader::EntryBundle(uint64_t index) {
  uint64_t width = WidthOf(0, index);
  if (width == 0) {
    return Status::NotFound("entry bundle " + std::to_string(index) +
                            " is beyond tree size " + std::to_string(size_));
  }
  if (edge_ != nullptr) {
    if (auto b = edge_->Bundle(index, width)) return DecodeEntryBundle(*b);
  }
  return ReadPrefix(*store_, -1, index, width, [&](uint64_t w) {
    return store_->ReadEntryBundle(index, w);
  });
}

Result<std::string> LogReader::Entry(uint64_t index) {
  if (index >= size_) {
    return Status::NotFound("entry " + std::to_string(index) +
                            " is beyond tree size " + std::to_string(size_));
  }
  ASSIGN_OR_RETURN(auto bundle, EntryBundle(index / kTileWidth));
  return std::move(bundle[index % kTileWidth]);
}

}  // namespace amanah
