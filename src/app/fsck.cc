#include "app/fsck.h"

#include <functional>

#include "app/custody_index.h"
#include "app/evidence_db.h"
#include "ledger/custody_entry.h"
#include "ledger/disclosure.h"
#include "ledger/log_reader.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

namespace {

// Recomputes the tree from the entry bundles and compares each tile.
class TreeCheck {
 public:
  // `on_entry`, if given, sees each entry in log order; it returns a
  // problem, or "" if the entry is as the database says.
  using EntryCheck = std::function<std::string(
      uint64_t index, const std::string& bytes, const CustodyEntry& parsed)>;
  TreeCheck(const TileStore& store, uint64_t size, FsckReport* report,
            EntryCheck on_entry)
      : store_(store),
        size_(size),
        report_(report),
        on_entry_(std::move(on_entry)) {}

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
        if (on_entry_) {
          std::string problem = on_entry_(index, e, *parsed);
          if (!problem.empty()) {
            return Fail(EntryBundlePath(b, width),
                        "entry " + std::to_string(index) + ": " + problem);
          }
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
  EntryCheck on_entry_;
  merkle::CompactRange range_;
  std::vector<std::vector<Hash256>> edge_;
};

// Walks the custody index beside the log: each entry must have its row
// (the same kind and time), and a sealed one must open with the disclosures
// the database keeps for it, every field of it.
class IndexAgreement {
 public:
  explicit IndexAgreement(SqliteDb* db)
      : rows_(*db,
              "SELECT c.entry_index, c.kind, c.time, c.voided_by, "
              "d.disclosures FROM custody_index c LEFT JOIN "
              "custody_disclosures d ON d.entry_index = c.entry_index ORDER "
              "BY c.entry_index") {}

  std::string Check(uint64_t index, const std::string& bytes,
                    const CustodyEntry& e) {
    if (!started_ || (have_row_ && row_index_ < index)) Advance(index);
    if (!have_row_ || row_index_ != index) {
      return "the database does not know this entry (its change never "
             "committed, and it was not voided)";
    }
    if (rows_.Text(1) != EntryKindName(e.kind) ||
        rows_.Text(2) != FormatTime(e.time_unix_micros)) {
      return "the database indexes it as " + rows_.Text(1) + " at " +
             rows_.Text(2);
    }
    if (!IsSealed(e) || !rows_.IsNull(3)) return "";
    auto list = nlohmann::json::parse(rows_.Text(4), nullptr, false);
    std::vector<std::string> disclosures;
    if (list.is_array()) {
      for (const auto& d : list) {
        if (d.is_string()) disclosures.push_back(d.get<std::string>());
      }
    }
    auto opened = OpenCustodyEntry(bytes, disclosures);
    if (!opened.ok()) return "its disclosures: " + opened.status().message();
    if (opened->undisclosed > 0 || opened->entry.case_id.rfind("sd:", 0) == 0) {
      return "the database lacks disclosures of this sealed entry";
    }
    return "";
  }

 private:
  void Advance(uint64_t index) {
    started_ = true;
    while (true) {
      int rc = rows_.Step();
      have_row_ = rc == SQLITE_ROW;
      if (!have_row_) return;
      row_index_ = rows_.Uint(0);
      if (row_index_ >= index) return;
    }
  }
  Statement rows_;
  bool started_ = false, have_row_ = false;
  uint64_t row_index_ = 0;
};

// Rows of the database that name an entry the log does not hold (or holds
// voided): a change half applied.
struct Unlogged {
  const char* what;
  const char* sql;  // the first such row's identifier, if any
};
constexpr Unlogged kUnlogged[] = {
    {"case",
     "SELECT id FROM cases WHERE id NOT IN (SELECT case_id FROM "
     "custody_index WHERE kind='case.opened' AND voided_by IS NULL) "
     "LIMIT 1"},
    {"request",
     "SELECT id FROM requests WHERE 'request:' || id NOT IN "
     "(SELECT subject FROM custody_index WHERE "
     "kind='request.created' AND voided_by IS NULL) LIMIT 1"},
    {"ingest",
     "SELECT entry_index FROM ingest WHERE entry_index NOT IN "
     "(SELECT entry_index FROM custody_index WHERE kind IN "
     "('evidence.ingested', 'evidence.received') AND voided_by IS "
     "NULL) LIMIT 1"},
    {"received message",
     "SELECT id FROM inbox WHERE 'message:' || id NOT IN (SELECT subject "
     "FROM custody_index WHERE kind='message.received' AND voided_by IS "
     "NULL) LIMIT 1"},
    {"queued message",
     "SELECT id FROM outbox WHERE 'message:' || id NOT IN (SELECT subject "
     "FROM custody_index WHERE kind='message.sent' AND voided_by IS NULL) "
     "LIMIT 1"},
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
  IndexAgreement agreement(&node.sql());
  TreeCheck tree(
      node.tiles(), cp->size, &r,
      [&](uint64_t index, const std::string& bytes, const CustodyEntry& e) {
        return agreement.Check(index, bytes, e);
      });
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
  for (const Unlogged& u : kUnlogged) {
    Statement q(node.sql(), u.sql);
    RETURN_IF_ERROR(q.status());
    int rc = q.Step();
    if (rc == SQLITE_ROW) {
      r.file = JoinPath(node.dir(), "amanah.db");
      r.problem = std::string("the database holds ") + u.what + " " +
                  q.Text(0) + ", whose custody entry the log does not hold";
      return r;
    }
    if (rc != SQLITE_DONE) return q.Error();
  }
  ASSIGN_OR_RETURN(r.leftovers, FindVaultLeftovers(node));
  if (!r.leftovers.orphans.empty()) {
    r.file = node.vault().PathOf(r.leftovers.orphans.front());
    r.problem = std::to_string(r.leftovers.orphans.size()) +
                " vault object(s) (" +
                std::to_string(r.leftovers.orphan_bytes) +
                " bytes) that no ingest records: fsck --repair removes them";
    return r;
  }
  if (!r.leftovers.temp_files.empty()) {
    r.file = r.leftovers.temp_files.front();
    r.problem = std::to_string(r.leftovers.temp_files.size()) +
                " temporary file(s) (" +
                std::to_string(r.leftovers.temp_bytes) +
                " bytes) in the vault that nothing is writing: fsck --repair "
                "removes them";
    return r;
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
