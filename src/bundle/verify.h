// Offline verification of a bundle (docs/formats.md, "Bundle"), with no node
// directory: only the exporting node's verifier key and, optionally, the
// keys of the witnesses whose cosignatures are required.
//
// Reads the bundle once, in any order of its files, hashing every object as
// it streams past; then checks, naming the file of the first discrepancy:
//   - the checkpoint's signature (and the required cosignatures);
//   - every entry's inclusion proof against that checkpoint;
//   - that the manifest's SHA-256 is in an evidence.exported entry for every
//     item, so the manifest is the one the node logged;
//   - every object's size and SHA-256 (and MD5/SHA-1 where recorded) against
//     the manifest and against the entries that recorded its acquisition;
//   - for evidence received from a peer, the peer's entries, proved against
//     the peer's signed checkpoint, and the link between the peer's
//     evidence.transferred entry and this node's evidence.received;
//   - that no file is missing and none is extra.

#ifndef AMANAH_BUNDLE_VERIFY_H_
#define AMANAH_BUNDLE_VERIFY_H_

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"
#include "storage/env.h"
#include "vault/stream.h"

namespace amanah {

// The files of a bundle, one at a time (a tar archive or a directory).
class BundleSource {
 public:
  virtual ~BundleSource() = default;
  // The next file; false after the last. The previous file's unread data
  // is skipped.
  virtual Result<bool> Next(std::string* path, uint64_t* size) = 0;
  // The current file's data (valid until Next).
  virtual SequentialFile* Body() = 0;
};

// A bundle as a tar archive (streamed) or an extracted directory.
Result<std::unique_ptr<BundleSource>> OpenBundle(Env* env,
                                                 const std::string& path);

struct VerifyPolicy {
  std::string key;                     // the exporting node's verifier key
  std::vector<std::string> witnesses;  // cosigner keys (type 0x04)
  // Cosignatures that must verify; -1: all of `witnesses`.
  int min_witnesses = -1;
  // Keys for the peers whose histories the bundle carries. A peer without
  // one here is checked with the key the manifest gives for it (which the
  // exporting node's log vouches for through the manifest's hash).
  std::vector<std::string> peer_keys;
};

struct BundleCheck {
  std::string part;  // "checkpoint", "entries/12", "blobs/sha256/<hex>", ...
  bool ok = false;
  std::string detail;
};

struct BundleReport {
  bool ok = false;
  std::vector<BundleCheck> checks;  // in the order made; failures included
  // What the bundle says, once known.
  std::string case_id, case_title, node, exported_by, created;
  std::string manifest_sha256;
  uint64_t checkpoint_size = 0;
  uint64_t items = 0, bytes = 0, entries = 0, peer_entries = 0;
  std::vector<std::string> cosigned_by;  // witnesses whose cosignature holds

  // The first check that failed, as "part: detail"; empty if none.
  std::string FirstFailure() const;
  std::string ToText() const;
  std::string ToJson() const;
};

// Verifies the bundle. A Status error only for what prevents verifying at
// all (an unreadable file, an unusable key in `policy`); everything wrong
// with the bundle itself is a failed check in the report.
Result<BundleReport> VerifyBundle(BundleSource* source,
                                  const VerifyPolicy& policy,
                                  const ProgressFn& progress = nullptr);

}  // namespace amanah

#endif  // AMANAH_BUNDLE_VERIFY_H_
