// Reads a custody log laid out as C2SP tlog-tiles: entries, hashes and
// proofs for any tree size up to the one the caller trusts.

#ifndef AMANAH_LEDGER_LOG_READER_H_
#define AMANAH_LEDGER_LOG_READER_H_

#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "ledger/merkle.h"
#include "ledger/tiles.h"

namespace amanah {

// An LRU cache of hash tiles, full or partial: a tile of a given width
// never changes, so each is cached under (level, index, width). Thread-safe.
class TileCache {
 public:
  explicit TileCache(size_t capacity) : capacity_(capacity) {}
  using Tile = std::shared_ptr<const std::vector<Hash256>>;
  Tile Get(int level, uint64_t index, uint64_t width);
  void Put(int level, uint64_t index, uint64_t width, Tile tile);

 private:
  using Key = std::tuple<int, uint64_t, uint64_t>;
  std::mutex mu_;
  size_t capacity_;
  std::list<Key> order_;  // most recent first
  std::map<Key, std::pair<Tile, std::list<Key>::iterator>> map_;
};

// The right edge of a published tree of `size` leaves: the tiles that the
// log holds in memory and writes to disk only some time later (see
// CustodyLog): its partial hash tiles and entry bundle, and the full ones
// not yet written when the edge was made. Immutable once made.
struct LogEdge {
  uint64_t size = 0;
  // tiles[L]: the rightmost tile of level 8L, if partial (else null).
  std::vector<TileCache::Tile> tiles;
  // The rightmost entry bundle, encoded, if partial (else empty).
  std::string bundle;
  // A full hash tile (level >= 0) or entry bundle (level -1, encoded)
  // completed by the log and not yet on disk. `seq` numbers them in the
  // order completed, from 1: the log writes them in that order.
  struct Full {
    uint64_t seq = 0;
    int level = 0;
    uint64_t index = 0;
    TileCache::Tile hashes;                     // level >= 0
    std::shared_ptr<const std::string> bundle;  // level -1
    // The bytes it holds (in memory, and in its file).
    size_t bytes() const {
      return level < 0 ? bundle->size() : hashes->size() * sizeof(Hash256);
    }
  };
  std::vector<Full> full;  // in order of seq

  // Tile `index` of level 8L at `width`, if this edge holds it (a prefix
  // of its partial tile or of a full one not yet on disk), else null.
  TileCache::Tile Tile(int level, uint64_t index, uint64_t width) const;
  // Entry bundle `index` at `width`, encoded, if this edge holds it.
  std::optional<std::string> Bundle(uint64_t index, uint64_t width) const;

 private:
  const Full* FindFull(int level, uint64_t index) const;
};

// A view of the tree of `size` leaves stored in `store` and, for its right
// edge, in `edge` (of a tree at least as large) if given.
// REQUIRES: every tile of that tree is present (the log published it): for
// a partial one, itself or a wider one of the same tile, or the full tile.
class LogReader : public merkle::HashSource {
 public:
  LogReader(const TileStore* store, TileCache* cache, uint64_t size,
            std::shared_ptr<const LogEdge> edge = nullptr)
      : store_(store), cache_(cache), size_(size), edge_(std::move(edge)) {}

  uint64_t size() const { return size_; }
  Result<Hash256> PerfectNode(int level, uint64_t index) override;

  // The hashes of level-8L tile `index` as the tree of size() has them.
  Result<TileCache::Tile> Tile(int tile_level, uint64_t index);
  Result<std::vector<std::string>> EntryBundle(uint64_t index);
  Result<std::string> Entry(uint64_t index);

  Result<Hash256> Root() { return merkle::RootHash(*this, size_); }
  Result<std::vector<Hash256>> InclusionProof(uint64_t index) {
    return merkle::InclusionProof(*this, index, size_);
  }
  // Proves that the tree of `old_size` is a prefix of this one.
  Result<std::vector<Hash256>> ConsistencyProof(uint64_t old_size) {
    return merkle::ConsistencyProof(*this, old_size, size_);
  }

 private:
  // Width of tile `index` at tree level 8*tile_level in this tree (256 when
  // full, 0 when beyond it).
  uint64_t WidthOf(int tile_level, uint64_t index) const;

  const TileStore* store_;
  TileCache* cache_;
  uint64_t size_;
  std::shared_ptr<const LogEdge> edge_;
};

// The root of the 2^height hashes in `hashes` starting at `offset`.
Hash256 SubtreeRoot(const std::vector<Hash256>& hashes, size_t offset,
                    int height);

}  // namespace amanah

#endif  // AMANAH_LEDGER_LOG_READER_H_
