// An index over the custody log in the node's database: which entries are
// about which case and which subject. The log is the authority; this index
// is rebuilt from it whenever the two disagree (after a crash between the
// append and the index write, or on a database restored from backup).

#ifndef AMANAH_APP_CUSTODY_INDEX_H_
#define AMANAH_APP_CUSTODY_INDEX_H_

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "ledger/custody_entry.h"
#include "ledger/log_reader.h"
#include "storage/sqlite.h"

namespace amanah {

struct IndexedEntry {
  uint64_t index = 0;
  std::string kind, time, actor, case_id, subject;
};

class CustodyIndex {
 public:
  explicit CustodyIndex(SqliteDb* db) : db_(db) {}

  static Status CreateTables(SqliteDb* db);

  // Records entry `index` (idempotent).
  Status Add(uint64_t index, const CustodyEntry& entry);
  // Indexes whatever of the log's first reader.size() entries is missing.
  Status CatchUp(LogReader& reader);

  // Entries about a case, or about a subject, in log order, after `after`
  // (exclusive; -1 for the start), at most `limit`.
  Result<std::vector<IndexedEntry>> ForCase(const std::string& case_id,
                                            int64_t after, size_t limit);
  Result<std::vector<IndexedEntry>> ForSubject(const std::string& subject,
                                               int64_t after, size_t limit);
  // The first entry of `kind` about `subject` that `match` accepts, read
  // from `reader` (entries beyond its size are not looked at).
  Result<std::optional<std::pair<IndexedEntry, CustodyEntry>>> Find(
      LogReader& reader, const std::string& subject, EntryKind kind,
      const std::function<bool(const CustodyEntry&)>& match);

 private:
  Result<std::vector<IndexedEntry>> Query(const char* column,
                                          const std::string& value,
                                          int64_t after, size_t limit);
  SqliteDb* db_;
};

}  // namespace amanah

#endif  // AMANAH_APP_CUSTODY_INDEX_H_
