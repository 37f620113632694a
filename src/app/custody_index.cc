#include "app/custody_index.h"

namespace amanah {

namespace {

constexpr const char* kColumns =
    "SELECT entry_index, kind, time, actor, case_id, subject FROM "
    "custody_index ";

Result<std::vector<IndexedEntry>> ReadRows(Statement& q) {
  std::vector<IndexedEntry> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back(
        {q.Uint(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

}  // namespace

Status CustodyIndex::Add(uint64_t index, const CustodyEntry& e,
                         const std::vector<std::string>& disclosures) {
  if (!disclosures.empty()) {
    Statement d(*db_,
                "INSERT OR IGNORE INTO custody_disclosures(entry_index, "
                "disclosures) VALUES(?,?)");
    d.Bind(1, index);
    d.Bind(2, nlohmann::json(disclosures).dump());
    RETURN_IF_ERROR(d.Run());
  }
  Statement ins(*db_,
                "INSERT OR IGNORE INTO custody_index(entry_index, kind, time, "
                "actor, case_id, subject) VALUES(?,?,?,?,?,?)");
  ins.Bind(1, index);
  ins.Bind(2, EntryKindName(e.kind));
  ins.Bind(3, FormatTime(e.time_unix_micros));
  ins.Bind(4, e.actor);
  ins.Bind(5, e.case_id);
  ins.Bind(6, e.subject);
  return ins.Run();
}

Result<std::vector<uint64_t>> CustodyIndex::Missing(uint64_t size) {
  Statement q(*db_,
              "SELECT COUNT(*), COALESCE(MAX(entry_index), -1) FROM "
              "custody_index");
  RETURN_IF_ERROR(q.status());
  if (q.Step() != SQLITE_ROW) return q.Error();
  int64_t count = q.Int(0), max = q.Int(1);
  std::vector<uint64_t> out;
  uint64_t next = 0;
  if (count != max + 1) {
    // Gaps (a database of an earlier version): walk the rows.
    Statement all(*db_,
                  "SELECT entry_index FROM custody_index WHERE entry_index<? "
                  "ORDER BY entry_index");
    RETURN_IF_ERROR(all.status());
    all.Bind(1, size);
    int rc;
    while ((rc = all.Step()) == SQLITE_ROW) {
      for (uint64_t at = all.Uint(0); next < at; ++next) out.push_back(next);
      ++next;
    }
    if (rc != SQLITE_DONE) return all.Error();
  } else {
    next = static_cast<uint64_t>(max + 1);
  }
  for (; next < size; ++next) out.push_back(next);
  return out;
}

Status CustodyIndex::AddVoided(uint64_t index, const CustodyEntry& parsed,
                               uint64_t voided_by) {
  Statement ins(*db_,
                "INSERT OR IGNORE INTO custody_index(entry_index, kind, time, "
                "actor, case_id, subject, voided_by) VALUES(?,?,?,'','','',?)");
  ins.Bind(1, index);
  ins.Bind(2, EntryKindName(parsed.kind));
  ins.Bind(3, FormatTime(parsed.time_unix_micros));
  ins.Bind(4, voided_by);
  return ins.Run();
}

Result<std::vector<IndexedEntry>> CustodyIndex::Query(const char* column,
                                                      const std::string& value,
                                                      int64_t after,
                                                      size_t limit) {
  std::string sql = std::string(kColumns) + "WHERE " + column +
                    "=? AND entry_index>? ORDER BY entry_index LIMIT ?";
  Statement q(*db_, sql.c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, value);
  q.Bind(2, after);
  q.Bind(3, static_cast<int64_t>(limit));
  return ReadRows(q);
}

Result<std::vector<std::string>> CustodyIndex::Disclosures(uint64_t index) {
  Statement q(
      *db_, "SELECT disclosures FROM custody_disclosures WHERE entry_index=?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, index);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::vector<std::string>();
  if (rc != SQLITE_ROW) return q.Error();
  auto j = nlohmann::json::parse(q.Text(0), nullptr, false);
  if (j.is_discarded() || !j.is_array()) {
    return Status::Corruption("the disclosures of custody entry " +
                              std::to_string(index) + " are damaged");
  }
  std::vector<std::string> out;
  for (const auto& d : j) {
    if (!d.is_string()) {
      return Status::Corruption("the disclosures of custody entry " +
                                std::to_string(index) + " are damaged");
    }
    out.push_back(d.get<std::string>());
  }
  return out;
}

Result<OpenedEntry> CustodyIndex::Opened(LogReader& reader, uint64_t index) {
  ASSIGN_OR_RETURN(std::string bytes, reader.Entry(index));
  ASSIGN_OR_RETURN(std::vector<std::string> disclosures, Disclosures(index));
  auto opened = OpenCustodyEntry(bytes, disclosures);
  if (!opened.ok()) {
    return opened.status().Annotate("custody entry " + std::to_string(index));
  }
  return opened;
}

Result<std::vector<IndexedEntry>> CustodyIndex::ForCaseSubject(
    const std::string& case_id, const std::string& subject, int64_t after,
    size_t limit) {
  Statement q(*db_, (std::string(kColumns) +
                     "WHERE case_id=? AND subject=? AND entry_index>? ORDER "
                     "BY entry_index LIMIT ?")
                        .c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, case_id);
  q.Bind(2, subject);
  q.Bind(3, after);
  q.Bind(4, static_cast<int64_t>(limit));
  return ReadRows(q);
}

Result<IndexedEntry> CustodyIndex::Get(uint64_t index) {
  Statement q(*db_, (std::string(kColumns) + "WHERE entry_index=?").c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, index);
  ASSIGN_OR_RETURN(auto rows, ReadRows(q));
  if (rows.empty()) {
    return Status::NotFound("custody entry " + std::to_string(index) +
                            " is not indexed");
  }
  return rows.front();
}

Result<std::vector<IndexedEntry>> CustodyIndex::ForCase(
    const std::string& case_id, int64_t after, size_t limit) {
  return Query("case_id", case_id, after, limit);
}

Result<std::vector<IndexedEntry>> CustodyIndex::ForSubject(
    const std::string& subject, int64_t after, size_t limit) {
  return Query("subject", subject, after, limit);
}

}  // namespace amanah
