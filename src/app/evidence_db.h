// The node's SQLite database (<data>/amanah.db, WAL mode): evidence metadata
// and each ingest's custody entry index. The custody log is the authority;
// this is an index over it.

#ifndef AMANAH_APP_EVIDENCE_DB_H_
#define AMANAH_APP_EVIDENCE_DB_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/sqlite.h"

namespace amanah {

struct EvidenceRecord {
  std::string address;  // sha256:<hex>
  uint64_t size = 0;
  std::string md5;   // hex, may be empty
  std::string sha1;  // hex, may be empty
};

struct IngestRecord {
  std::string address;
  std::string case_id;
  uint64_t entry_index = 0;
  std::string source;
  std::string time;
};

class EvidenceDb {
 public:
  // Creates the tables if needed; `db` must outlive this.
  static Result<std::unique_ptr<EvidenceDb>> Open(SqliteDb* db);

  // Records an ingest; fills in hashes the evidence row lacked.
  Status RecordIngest(const EvidenceRecord& evidence,
                      const IngestRecord& ingest);
  Result<std::optional<EvidenceRecord>> FindEvidence(
      const std::string& address);
  Result<std::vector<IngestRecord>> IngestsOf(const std::string& address);
  Result<std::vector<EvidenceRecord>> AllEvidence();

 private:
  explicit EvidenceDb(SqliteDb* db) : db_(db) {}
  SqliteDb* db_;
};

}  // namespace amanah

#endif  // AMANAH_APP_EVIDENCE_DB_H_
