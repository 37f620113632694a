// Use cases on evidence: ingest, read out, verify. Each is a custody entry.

#ifndef AMANAH_APP_EVIDENCE_H_
#define AMANAH_APP_EVIDENCE_H_

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "app/node.h"
#include "cases/case.h"
#include "vault/e01.h"

namespace amanah {

struct IngestRequest {
  std::string path;  // "-" for standard input
  std::string case_id;
  std::string actor;
  std::string note;
  bool md5 = false;
  bool sha1 = false;
};

// What ingesting an E01 image found.
struct EwfReport {
  uint64_t media_size = 0;
  std::map<HashAlgorithm, Bytes> media;  // computed from the media
  std::string stored_md5, stored_sha1;   // recorded in the image, hex
  std::string verdict;  // "match", "mismatch" or "no stored hash"
  std::vector<std::pair<std::string, PutResult>> segments;  // .E02 onwards
  EwfHeader header;  // what the image says of its acquisition
};

// The data of an E01 ingest's entry: "ewf" (media, hashes, verdict,
// segments) and, if the image's header has any, "ewf_header" (each value,
// and "refused" listing those not taken).
nlohmann::json EwfJson(const EwfReport& report);
nlohmann::json EwfHeaderJson(const EwfHeader& header);

struct IngestOutcome {
  PutResult object;
  std::optional<EwfReport> ewf;
  uint64_t entry_index = 0;
  std::string entry;
  // The objects' vault intents (EvidenceDb::BeginPending), ended by the
  // change that records the ingest.
  std::vector<int64_t> pending;
};

// {"md5": hex, "sha1": hex, "sha256": hex}: the hashes recorded in entries.
nlohmann::json HashesJson(const std::map<HashAlgorithm, Bytes>& digests);

// Case identifiers: 1..128 printable characters, no control characters.

// Streams one input into the vault and records an evidence.ingested entry.
// E01 images are recognised: their media is read through libewf and checked
// against the hashes the image stores; a mismatch is recorded, and returned
// in the report, not hidden.
Result<IngestOutcome> Ingest(Node& node, const IngestRequest& request,
                             const ProgressFn& progress = nullptr);

// Records an object already in the vault as ingested into req.case_id: one
// change with its custody entry (and one for each further segment of an
// E01 set) and its rows. The second half of Ingest, shared with uploads
// over HTTP. `out.object` (and `out.ewf`) must be filled in. `also`, if
// given, runs in the same transaction with the entry's index (an upload
// marks itself done there).
Result<IngestOutcome> RecordIngested(
    Node& node, const IngestRequest& req, IngestOutcome out,
    const std::function<Status(uint64_t index)>& also = nullptr);

// Decrypts an object of the case to `sink` and records an evidence.accessed
// entry first. kNotFound if the object is not evidence of that case.
Result<ObjectCheck> ReadEvidence(Node& node, const std::string& case_id,
                                 const ContentAddress& address,
                                 const std::string& actor, ChunkSink* sink);

struct VerifyOutcome {
  bool intact = false;
  ObjectCheck check;
  std::string problem;  // when not intact
  uint64_t entry_index = 0;
};

// Re-hashes an object of the case and records an evidence.verified entry
// with the result. kNotFound if the object is not evidence of that case.
Result<VerifyOutcome> VerifyEvidence(Node& node, const std::string& case_id,
                                     const ContentAddress& address,
                                     const std::string& actor,
                                     const ProgressFn& progress = nullptr);

}  // namespace amanah

#endif  // AMANAH_APP_EVIDENCE_H_
