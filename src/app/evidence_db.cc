#include "app/evidence_db.h"

namespace amanah {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS evidence (
  address TEXT PRIMARY KEY,
  size INTEGER NOT NULL,
  md5 TEXT NOT NULL DEFAULT '',
  sha1 TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS ingest (
  id INTEGER PRIMARY KEY,
  address TEXT NOT NULL REFERENCES evidence(address),
  case_id TEXT NOT NULL,
  entry_index INTEGER NOT NULL UNIQUE,
  source TEXT NOT NULL,
  time TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS ingest_by_address ON ingest(address);
)sql";

EvidenceRecord ReadEvidence(Statement& s) {
  return EvidenceRecord{s.Text(0), s.Uint(1), s.Text(2), s.Text(3)};
}

}  // namespace

Result<std::unique_ptr<EvidenceDb>> EvidenceDb::Open(SqliteDb* db) {
  RETURN_IF_ERROR(db->Exec(kSchema));
  return std::unique_ptr<EvidenceDb>(new EvidenceDb(db));
}

Status EvidenceDb::RecordIngest(const EvidenceRecord& ev,
                                const IngestRecord& in) {
  return db_->Transaction([&]() -> Status {
    Statement up(
        *db_,
        "INSERT INTO evidence(address, size, md5, sha1) VALUES(?,?,?,?) "
        "ON CONFLICT(address) DO UPDATE SET "
        "md5 = CASE WHEN md5 = '' THEN excluded.md5 ELSE md5 END, "
        "sha1 = CASE WHEN sha1 = '' THEN excluded.sha1 ELSE sha1 END");
    RETURN_IF_ERROR(up.status());
    up.Bind(1, ev.address);
    up.Bind(2, ev.size);
    up.Bind(3, ev.md5);
    up.Bind(4, ev.sha1);
    RETURN_IF_ERROR(up.Run());
    Statement ins(
        *db_,
        "INSERT INTO ingest(address, case_id, entry_index, source, time) "
        "VALUES(?,?,?,?,?)");
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, in.address);
    ins.Bind(2, in.case_id);
    ins.Bind(3, in.entry_index);
    ins.Bind(4, in.source);
    ins.Bind(5, in.time);
    return ins.Run();
  });
}

Result<std::optional<EvidenceRecord>> EvidenceDb::FindEvidence(
    const std::string& address) {
  Statement q(*db_,
              "SELECT address, size, md5, sha1 FROM evidence WHERE address=?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, address);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<EvidenceRecord>();
  if (rc != SQLITE_ROW) return q.Error();
  return std::optional<EvidenceRecord>(ReadEvidence(q));
}

Result<std::vector<IngestRecord>> EvidenceDb::IngestsOf(
    const std::string& address) {
  Statement q(*db_,
              "SELECT address, case_id, entry_index, source, time FROM ingest "
              "WHERE address=? ORDER BY entry_index");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, address);
  std::vector<IngestRecord> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({q.Text(0), q.Text(1), q.Uint(2), q.Text(3), q.Text(4)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<std::vector<EvidenceRecord>> EvidenceDb::AllEvidence() {
  Statement q(*db_,
              "SELECT address, size, md5, sha1 FROM evidence ORDER BY address");
  RETURN_IF_ERROR(q.status());
  std::vector<EvidenceRecord> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadEvidence(q));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

}  // namespace amanah
