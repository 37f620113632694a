#include "app/evidence_db.h"

namespace amanah {

namespace {

EvidenceRecord ReadEvidence(Statement& s) {
  return EvidenceRecord{s.Text(0), s.Uint(1), s.Text(2), s.Text(3)};
}

}  // namespace

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
        "INSERT INTO ingest(address, case_id, entry_index, source, time, md5, "
        "sha1) VALUES(?,?,?,?,?,?,?)");
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, in.address);
    ins.Bind(2, in.case_id);
    ins.Bind(3, in.entry_index);
    ins.Bind(4, in.source);
    ins.Bind(5, in.time);
    ins.Bind(6, in.md5);
    ins.Bind(7, in.sha1);
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
              "SELECT address, case_id, entry_index, source, time, md5, sha1 "
              "FROM ingest WHERE address=? ORDER BY entry_index");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, address);
  std::vector<IngestRecord> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({q.Text(0), q.Text(1), q.Uint(2), q.Text(3), q.Text(4),
                   q.Text(5), q.Text(6)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<bool> EvidenceDb::AnyCaseHolds(const std::string& address) {
  Statement q(*db_, "SELECT 1 FROM ingest WHERE address=? LIMIT 1");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, address);
  int rc = q.Step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return q.Error();
}

Result<int64_t> EvidenceDb::BeginPending(const std::string& tmp_path) {
  int64_t id = 0;
  RETURN_IF_ERROR(db_->Transaction([&]() -> Status {
    Statement ins(*db_, "INSERT INTO pending_objects(tmp_path) VALUES(?)");
    ins.Bind(1, tmp_path);
    RETURN_IF_ERROR(ins.Run());
    id = sqlite3_last_insert_rowid(db_->handle());
    return Status::OK();
  }));
  return id;
}

Status EvidenceDb::SetPendingAddress(int64_t id, const std::string& address) {
  return db_->Transaction([&] {
    Statement up(*db_, "UPDATE pending_objects SET address=? WHERE id=?");
    up.Bind(1, address);
    up.Bind(2, id);
    return up.Run();
  });
}

Status EvidenceDb::EndPending(int64_t id) {
  return db_->Transaction([&] {
    Statement del(*db_, "DELETE FROM pending_objects WHERE id=?");
    del.Bind(1, id);
    return del.Run();
  });
}

Result<std::vector<PendingObject>> EvidenceDb::Pending() {
  Statement q(*db_,
              "SELECT id, tmp_path, address FROM pending_objects ORDER BY id");
  RETURN_IF_ERROR(q.status());
  std::vector<PendingObject> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back({q.Int(0), q.Text(1), q.Text(2)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<bool> EvidenceDb::CaseHolds(const std::string& case_id,
                                   const std::string& address) {
  Statement q(*db_,
              "SELECT 1 FROM ingest WHERE case_id=? AND address=? LIMIT 1");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, case_id);
  q.Bind(2, address);
  int rc = q.Step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return q.Error();
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
