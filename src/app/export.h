// Exporting a case's evidence as a bundle for court (docs/formats.md,
// "Bundle"): the plaintext objects, each one's custody history here (and,
// for evidence received from a peer, the peer's history of it), every entry
// with its inclusion proof against one signed checkpoint, cosigned by the
// peers where they could be reached, a manifest, VERIFY.txt and case.jsonld
// (CASE/UCO).
//
// The export is in the log before any object is read: one evidence.exported
// entry per object, each naming the manifest's SHA-256. The checkpoint in
// the bundle covers those entries, so a verifier can tie the manifest to the
// node's signed log.

#ifndef AMANAH_APP_EXPORT_H_
#define AMANAH_APP_EXPORT_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "app/node.h"
#include "bundle/manifest.h"
#include "bundle/tar.h"
#include "vault/stream.h"

namespace amanah {

struct ExportRequest {
  std::string case_id;
  std::vector<std::string> items;  // "sha256:<hex>"; empty: all the case's
  std::string actor;
  std::string bundle_name;  // recorded in the entries (a file name)
};

struct ExportSummary {
  std::string manifest_sha256;  // hex
  uint64_t checkpoint_size = 0;
  uint64_t items = 0, bytes = 0, entries = 0, peer_entries = 0;
  uint64_t first_export_entry = 0;
  std::vector<std::string> cosigned_by;  // names on cosignature lines
  std::string verifier_key;              // the node's
};

class PreparedExport {
 public:
  // Builds the manifest, logs the export, asks for cosignatures
  // (`cosign`, which may be null, is called once the export entries are in
  // the log: it should submit the node's checkpoint to its witnesses), and
  // proves every entry against the newest checkpoint covering the export,
  // preferring one the peers cosigned.
  static Result<std::unique_ptr<PreparedExport>> Prepare(
      Node* node, const ExportRequest& request,
      const std::function<void()>& cosign);
  ~PreparedExport();

  const ExportSummary& summary() const { return summary_; }

  // Writes the bundle as a tar archive. The objects are decrypted as they
  // stream, every chunk authenticated (Vault::Decrypt; the verifier
  // re-hashes the whole): on kCorruption what was written must be
  // discarded.
  Status WriteTo(ByteSink* sink, const ProgressFn& progress = nullptr);

 private:
  PreparedExport() = default;
  Node* node_ = nullptr;
  ExportSummary summary_;
  int64_t mtime_ = 0;
  BundleManifest manifest_;
  // Small files in the order they are written: path and content.
  std::vector<std::pair<std::string, std::string>> files_;
};

// Prepares an export and writes it to `path` crash-safely (a temporary file,
// fsync, rename): a bundle is either whole or absent. kConflict if `path`
// exists.
Result<ExportSummary> ExportToFile(Node* node, const ExportRequest& request,
                                   const std::string& path,
                                   const std::function<void()>& cosign,
                                   const ProgressFn& progress = nullptr);

}  // namespace amanah

#endif  // AMANAH_APP_EXPORT_H_
