#include "app/custody_index.h"

namespace amanah {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS custody_index (
  entry_index INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  time TEXT NOT NULL,
  actor TEXT NOT NULL,
  case_id TEXT NOT NULL,
  subject TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS custody_by_case ON custody_index(case_id);
CREATE INDEX IF NOT EXISTS custody_by_subject ON custody_index(subject);
)sql";

}  // namespace

Status CustodyIndex::CreateTables(SqliteDb* db) { return db->Exec(kSchema); }

Status CustodyIndex::Add(uint64_t index, const CustodyEntry& e) {
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

Status CustodyIndex::CatchUp(LogReader& reader) {
  Statement q(*db_,
              "SELECT COUNT(*), COALESCE(MAX(entry_index), -1) FROM "
              "custody_index");
  RETURN_IF_ERROR(q.status());
  if (q.Step() != SQLITE_ROW) return q.Error();
  int64_t count = q.Int(0), max = q.Int(1);
  // Without gaps only the tail is missing; otherwise look at everything.
  uint64_t from = count == max + 1 ? static_cast<uint64_t>(max + 1) : 0;
  if (from >= reader.size()) return Status::OK();
  return db_->Transaction([&]() -> Status {
    for (uint64_t i = from; i < reader.size(); ++i) {
      ASSIGN_OR_RETURN(std::string bytes, reader.Entry(i));
      auto e = ParseCustodyEntry(bytes);
      if (!e.ok()) {
        return e.status().Annotate("indexing custody entry " +
                                   std::to_string(i));
      }
      RETURN_IF_ERROR(Add(i, *e));
    }
    return Status::OK();
  });
}

Result<std::vector<IndexedEntry>> CustodyIndex::Query(const char* column,
                                                      const std::string& value,
                                                      int64_t after,
                                                      size_t limit) {
  std::string sql =
      "SELECT entry_index, kind, time, actor, case_id, subject FROM "
      "custody_index WHERE " +
      std::string(column) + "=? AND entry_index>? ORDER BY entry_index LIMIT ?";
  Statement q(*db_, sql.c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, value);
  q.Bind(2, after);
  q.Bind(3, static_cast<int64_t>(limit));
  std::vector<IndexedEntry> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back(
        {q.Uint(0), q.Text(1), q.Text(2), q.Text(3), q.Text(4), q.Text(5)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<std::vector<IndexedEntry>> CustodyIndex::ForCase(
    const std::string& case_id, int64_t after, size_t limit) {
  return Query("case_id", case_id, after, limit);
}

Result<std::vector<IndexedEntry>> CustodyIndex::ForSubject(
    const std::string& subject, int64_t after, size_t limit) {
  return Query("subject", subject, after, limit);
}

Result<std::optional<std::pair<IndexedEntry, CustodyEntry>>> CustodyIndex::Find(
    LogReader& reader, const std::string& subject, EntryKind kind,
    const std::function<bool(const CustodyEntry&)>& match) {
  using Found = std::optional<std::pair<IndexedEntry, CustodyEntry>>;
  for (int64_t after = -1;;) {
    ASSIGN_OR_RETURN(auto about, ForSubject(subject, after, 256));
    if (about.empty()) return Found();
    for (auto& at : about) {
      after = static_cast<int64_t>(at.index);
      if (at.kind != EntryKindName(kind) || at.index >= reader.size()) {
        continue;
      }
      ASSIGN_OR_RETURN(std::string text, reader.Entry(at.index));
      ASSIGN_OR_RETURN(CustodyEntry e, ParseCustodyEntry(text));
      if (match(e)) return Found(std::make_pair(std::move(at), std::move(e)));
    }
  }
}

}  // namespace amanah
