// fsck: re-verifies a whole node from what is on disk, trusting nothing but
// the node's verifier key: the checkpoint's signature, the tree recomputed
// from the entry bundles against every tile and the checkpoint's root, every
// entry's form, and every vault object's tags and SHA-256. Then that the log,
// the database and the vault agree: every entry is known to the database
// (or voided), every sealed entry opens with the disclosures kept for it,
// every case, request, message and ingest the database holds has its entry,
// and every object and temporary file in the vault is accounted for
// (app/recovery.h).

#ifndef AMANAH_APP_FSCK_H_
#define AMANAH_APP_FSCK_H_

#include <string>

#include "app/node.h"
#include "app/recovery.h"

namespace amanah {

struct FsckReport {
  bool ok = false;
  bool log_ok = false;  // the checkpoint, tiles and entries all verify
  uint64_t log_size = 0;
  uint64_t entries_checked = 0;
  uint64_t tiles_checked = 0;
  uint64_t objects_checked = 0;
  uint64_t object_bytes = 0;
  // What the vault holds that nothing accounts for (fsck --repair removes
  // it).
  VaultLeftovers leftovers;
  // The first discrepancy: which file, what was expected, what was found.
  std::string problem;
  std::string file;
};

// Checks without changing anything. Errors are only for failures to run
// (I/O); discrepancies are in the report.
Result<FsckReport> Fsck(Node& node, const ProgressFn& progress = nullptr);

}  // namespace amanah

#endif  // AMANAH_APP_FSCK_H_
