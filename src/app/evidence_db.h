// The node's SQLite database (<data>/amanah.db, WAL mode): evidence metadata
// and each ingest's custody entry index. The custody log is the authority;
// this is an index over it.

#ifndef AMANAH_APP_EVIDENCE_DB_H_
#define AMANAH_APP_EVIDENCE_DB_H_

#include <sqlite3.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

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
  // Opens or creates the database and its schema.
  static Result<std::unique_ptr<EvidenceDb>> Open(const std::string& path);
  ~EvidenceDb();

  // Records an ingest; fills in hashes the evidence row lacked.
  Status RecordIngest(const EvidenceRecord& evidence,
                      const IngestRecord& ingest);
  Result<std::optional<EvidenceRecord>> FindEvidence(
      const std::string& address);
  Result<std::vector<IngestRecord>> IngestsOf(const std::string& address);
  Result<std::vector<EvidenceRecord>> AllEvidence();

 private:
  explicit EvidenceDb(sqlite3* db) : db_(db) {}
  Status Exec(const char* sql);
  sqlite3* db_;
};

}  // namespace amanah

#endif  // AMANAH_APP_EVIDENCE_DB_H_
