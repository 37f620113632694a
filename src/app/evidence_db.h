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
#include "storage/sqlite/sqlite.h"

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
  // The hashes computed at this ingest (hex, may be empty): a case shows
  // only what was computed for it, never what another case's ingest of
  // the same bytes computed.
  std::string md5, sha1;
};

// An object on its way into the vault whose ingest has not committed yet:
// after a crash, the node removes its temporary file and, if no ingest
// records it, the object (EvidenceDb::SettlePending).
struct PendingObject {
  int64_t id = 0;
  std::string tmp_path;
  std::string address;  // empty until hashed
};

class EvidenceDb {
 public:
  // `db` (its schema migrated, storage/sqlite/schema.h) must outlive this.
  explicit EvidenceDb(SqliteDb* db) : db_(db) {}

  // Records an ingest; fills in hashes the evidence row lacked.
  Status RecordIngest(const EvidenceRecord& evidence,
                      const IngestRecord& ingest);
  Result<std::optional<EvidenceRecord>> FindEvidence(
      const std::string& address);
  Result<std::vector<IngestRecord>> IngestsOf(const std::string& address);
  // Whether an ingest (or a receipt from a peer) put `address` into the
  // case.
  Result<bool> CaseHolds(const std::string& case_id,
                         const std::string& address);
  Result<std::vector<EvidenceRecord>> AllEvidence();
  // Whether any case holds `address` (an ingest or a receipt).
  Result<bool> AnyCaseHolds(const std::string& address);

  // Vault intents (PendingObject), each its own small transaction, before
  // the step it announces. EndPending is called in the ingest's change.
  Result<int64_t> BeginPending(const std::string& tmp_path);
  Status SetPendingAddress(int64_t id, const std::string& address);
  Status EndPending(int64_t id);
  Result<std::vector<PendingObject>> Pending();

 private:
  SqliteDb* db_;
};

}  // namespace amanah

#endif  // AMANAH_APP_EVIDENCE_DB_H_
