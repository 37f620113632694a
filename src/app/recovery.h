// What the node finishes or undoes when it opens after a crash, and what
// fsck looks for beyond it: the custody log, the database and the vault
// must agree.
//
// - An entry in the log that the database does not know belongs to a
//   change that never committed: it gets an entry.voided (Node).
// - An object put into the vault whose ingest never committed (a vault
//   intent, EvidenceDb::PendingObject, still open) is removed, unless a case
//   holds it after all, and so is its temporary file.
// - Objects that no ingest, sealed upload or pending pull accounts for, and
//   files under the vault's tmp/ that no upload, pull or intent owns, are
//   reported by fsck and removed by fsck --repair (with a node.repaired
//   entry): a crash of this version leaves none; an earlier version's did.

#ifndef AMANAH_APP_RECOVERY_H_
#define AMANAH_APP_RECOVERY_H_

#include <string>
#include <vector>

#include "app/node.h"

namespace amanah {

// Settles every open vault intent (see above). Called with the node's
// writer lock held, before anything else is written.
Status SettleVaultIntents(Node& node);

struct VaultLeftovers {
  std::vector<ContentAddress> orphans;  // objects nothing accounts for
  std::vector<std::string> temp_files;  // paths under tmp/ nobody owns
  uint64_t orphan_bytes = 0, temp_bytes = 0;
  bool empty() const { return orphans.empty() && temp_files.empty(); }
};

// Lists what no ingest, upload, pull or intent accounts for.
Result<VaultLeftovers> FindVaultLeftovers(Node& node);

// Removes them and records one node.repaired entry with their counts.
Status RemoveVaultLeftovers(Node& node, const std::string& actor,
                            const VaultLeftovers& leftovers);

}  // namespace amanah

#endif  // AMANAH_APP_RECOVERY_H_
