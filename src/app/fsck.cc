#include "app/fsck.h"

#include "ledger/custody_entry.h"
#include "ledger/log_reader.h"

namespace amanah {

namespace {

// Recomputes the tree from the entry bundles and compares each tile.
class TreeCheck {
 public:
  TreeCheck(const TileStore& store, uint64_t size, FsckReport* report)
      : store_(store), size_(size), report_(report) {}

  // False with report_->problem set at the first discrepancy.
  bool Run() {
    for (uint64_t b = 0; b * kTileWidth < size_; ++b) {
      uint64_t width = std::min<uint64_t>(kTileWidth, size_ - b * kTileWidth);
      auto bundle = store_.ReadEntryBundle(b, width);
      if (!bundle.ok()) {
        return Fail(EntryBundlePath(b, width), bundle.status().message());
      }
      for (size_t i = 0; i < bundle->size(); ++i) {
        uint64_t index = b * kTileWidth + i;
        const std::string& e = (*bundle)[i];
        auto parsed = ParseCustodyEntry(e);
        if (!parsed.ok()) {
          return Fail(EntryBundlePath(b, width),
                      "entry " + std::to_string(index) + ": " +
                          parsed.status().message());
        }
        range_.Append(merkle::LeafHash(AsBytes(e)),
                      [&](int level, uint64_t idx, const Hash256& h) {
                        if (level % kTileHeight == 0) {
                          Add(level / kTileHeight, idx, h);
                        }
                      });
        ++report_->entries_checked;
      }
      if (!report_->problem.empty()) return false;
    }
    // The partial tiles of the right edge.
    for (size_t tl = 0; tl < edge_.size(); ++tl) {
      if (!edge_[tl].empty() &&
          !CompareTile(static_cast<int>(tl),
                       (size_ >> (kTileHeight * tl)) / kTileWidth, edge_[tl])) {
        return false;
      }
    }
    return report_->problem.empty();
  }

  Hash256 Root() const { return range_.Root(); }

 private:
  void Add(size_t tl, uint64_t idx, const Hash256& h) {
    if (edge_.size() <= tl) edge_.resize(tl + 1);
    edge_[tl].push_back(h);
    if (edge_[tl].size() == kTileWidth) {
      if (report_->problem.empty()) {
        CompareTile(static_cast<int>(tl), idx / kTileWidth, edge_[tl]);
      }
      edge_[tl].clear();
    }
  }

  bool CompareTile(int level, uint64_t index,
                   const std::vector<Hash256>& want) {
    std::string path = TilePath(level, index, want.size());
    auto got = store_.ReadTile(level, index, want.size());
    if (!got.ok()) return Fail(path, got.status().message());
    ++report_->tiles_checked;
    for (size_t i = 0; i < want.size(); ++i) {
      if ((*got)[i] != want[i]) {
        return Fail(path, "hash " + std::to_string(i) + " is " +
                              HexEncode((*got)[i]) +
                              ", recomputed from the "
                              "entries it is " +
                              HexEncode(want[i]));
      }
    }
    return true;
  }

  bool Fail(const std::string& rel, const std::string& what) {
    if (report_->problem.empty()) {
      report_->file = store_.PathOf(rel);
      report_->problem = rel + ": " + what;
    }
    return false;
  }

  const TileStore& store_;
  uint64_t size_;
  FsckReport* report_;
  merkle::CompactRange range_;
  std::vector<std::vector<Hash256>> edge_;
};

}  // namespace

Result<FsckReport> Fsck(Node& node, const ProgressFn& progress) {
  FsckReport r;
  auto cp = node.ReadCheckpoint();
  if (!cp.ok()) {
    r.file = node.tiles().PathOf("checkpoint");
    r.problem = cp.status().message();
    return r;
  }
  r.log_size = cp->size;
  TreeCheck tree(node.tiles(), cp->size, &r);
  if (!tree.Run()) return r;
  Hash256 root = tree.Root();
  if (root != cp->root) {
    r.file = node.tiles().PathOf("checkpoint");
    r.problem = "checkpoint: root hash " + Base64Encode(cp->root) +
                " of size " + std::to_string(cp->size) +
                ", but the entries give " + Base64Encode(root);
    return r;
  }
  r.log_ok = true;

  ASSIGN_OR_RETURN(auto objects, node.vault().List());
  uint64_t done_before = 0;
  for (const ContentAddress& a : objects) {
    auto check = node.vault().Verify(a, [&](uint64_t n) {
      if (progress) progress(done_before + n);
    });
    if (!check.ok()) {
      if (check.status().code() != Code::kCorruption) return check.status();
      r.file = node.vault().PathOf(a);
      r.problem = check.status().message();
      return r;
    }
    ++r.objects_checked;
    r.object_bytes += check->size;
    done_before += check->size;
  }
  // Every object the database lists must be in the vault.
  ASSIGN_OR_RETURN(auto records, node.db().AllEvidence());
  for (const auto& rec : records) {
    auto a = ContentAddress::Parse(rec.address);
    if (!a.ok() || !node.vault().Contains(*a)) {
      r.file = a.ok() ? node.vault().PathOf(*a) : rec.address;
      r.problem = rec.address +
                  ": recorded as ingested but missing from the "
                  "vault";
      return r;
    }
  }
  r.ok = true;
  return r;
}

}  // namespace amanah
