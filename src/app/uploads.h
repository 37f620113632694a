// Resumable evidence uploads: a session per file, bytes sent in one or many
// requests, each continuing at the committed offset; a dropped connection or
// a restarted server loses at most the last partial chunk, which the client
// sends again. The finished upload is ingested exactly as `amanah ingest`
// would: one object in the vault, one evidence.ingested custody entry.

#ifndef AMANAH_APP_UPLOADS_H_
#define AMANAH_APP_UPLOADS_H_

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "app/evidence.h"
#include "app/node.h"
#include "vault/staged.h"

namespace amanah {

struct UploadInfo {
  std::string id;
  std::string case_id, actor, name, note;
  bool md5 = false, sha1 = false;
  uint64_t offset = 0;  // committed bytes
  std::string state;    // "open", "sealed" (complete, being recorded), "done"
  std::string address;  // once done
  uint64_t entry_index = 0;
  std::string created;
};

// Receives a request body: calls `take` with each piece in order and
// returns false if the body broke off (the connection dropped).
using BodyReader = std::function<bool(const std::function<bool(ByteView)>&)>;

// Checks an upload's file name (no '/', not "." or "..") and note:
// kInvalidInput naming the fault. UploadDesk::Begin checks this first.
Status ValidateUploadNames(const std::string& name, const std::string& note);

class UploadDesk {
 public:
  explicit UploadDesk(Node* node) : node_(node) {}

  // Opens a session in an open case; `name` is the file's name as the
  // uploader knows it (recorded as the source).
  Result<UploadInfo> Begin(const std::string& actor, const std::string& case_id,
                           const std::string& name, const std::string& note,
                           bool md5, bool sha1);
  Result<std::optional<UploadInfo>> Get(const std::string& id);

  // One request's bytes, which must start at the committed offset
  // (kConflict naming it otherwise). Whole chunks received are committed
  // even if the body breaks off. With `final` and an unbroken body, the
  // upload completes and is ingested; the outcome is returned.
  Result<std::optional<IngestOutcome>> Receive(const std::string& id,
                                               uint64_t offset, bool final,
                                               const BodyReader& body);

 private:
  struct Active {
    std::mutex mu;  // one request at a time per upload
    std::unique_ptr<StagedObject> staged;
  };
  Result<std::shared_ptr<Active>> Activate(const UploadInfo& info);
  // Installs a sealed upload in the vault (unless it is there already),
  // records its ingest, and marks it done.
  Result<std::optional<IngestOutcome>> Complete(
      const UploadInfo& info, std::optional<PutResult> sealed);
  std::string StagingPath(const std::string& id) const;
  Status SetOffset(const std::string& id, uint64_t offset);

  Node* node_;
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Active>> active_;  // guarded by mu_
  std::mutex finishing_mu_;  // one completion at a time
};

}  // namespace amanah

#endif  // AMANAH_APP_UPLOADS_H_
