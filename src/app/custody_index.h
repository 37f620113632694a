// An index over the custody log in the node's database: which entries are
// about which case and which subject. The log is the authority; this index
// is rebuilt from it whenever the two disagree (after a crash between the
// append and the index write, or on a database restored from backup).

#ifndef AMANAH_APP_CUSTODY_INDEX_H_
#define AMANAH_APP_CUSTODY_INDEX_H_

#include <string>
#include <utility>
#include <vector>

#include "ledger/custody_entry.h"
#include "ledger/disclosure.h"
#include "ledger/log_reader.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

struct IndexedEntry {
  uint64_t index = 0;
  std::string kind, time, actor, case_id, subject;
};

class CustodyIndex {
 public:
  explicit CustodyIndex(SqliteDb* db) : db_(db) {}

  // Records entry `index` (idempotent): `entry` in clear (as it was before
  // it was sealed) and, for a sealed entry, its disclosures, which only
  // this database keeps.
  Status Add(uint64_t index, const CustodyEntry& entry,
             const std::vector<std::string>& disclosures = {});
  // Entry `index` as indexed (kNotFound if it is not).
  Result<IndexedEntry> Get(uint64_t index);
  // The disclosures kept for entry `index` (none for an entry in clear).
  Result<std::vector<std::string>> Disclosures(uint64_t index);
  // Entry `index` read from `reader` and opened with every disclosure kept
  // for it: what the case's members see.
  Result<OpenedEntry> Opened(LogReader& reader, uint64_t index);
  // The indices below `size` that have no row: entries appended whose
  // change did not commit (the node stopped in between), in log order.
  Result<std::vector<uint64_t>> Missing(uint64_t size);
  // Records entry `index` (read from the log) as voided by entry
  // `voided_by`: it stays in the log, but no case, subject or query of the
  // index shows it.
  Status AddVoided(uint64_t index, const CustodyEntry& parsed,
                   uint64_t voided_by);

  // Entries about a case, or about a subject, in log order, after `after`
  // (exclusive; -1 for the start), at most `limit`.
  Result<std::vector<IndexedEntry>> ForCase(const std::string& case_id,
                                            int64_t after, size_t limit);
  Result<std::vector<IndexedEntry>> ForSubject(const std::string& subject,
                                               int64_t after, size_t limit);
  // Entries of one case about one subject: an object's custody within a
  // case, never another case's.
  Result<std::vector<IndexedEntry>> ForCaseSubject(const std::string& case_id,
                                                   const std::string& subject,
                                                   int64_t after, size_t limit);

 private:
  Result<std::vector<IndexedEntry>> Query(const char* column,
                                          const std::string& value,
                                          int64_t after, size_t limit);
  SqliteDb* db_;
};

}  // namespace amanah

#endif  // AMANAH_APP_CUSTODY_INDEX_H_
