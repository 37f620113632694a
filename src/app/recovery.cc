#include "app/recovery.h"

#include <set>

#include "app/evidence_db.h"

namespace amanah {

namespace {

// Addresses something in the database accounts for: an ingest (or a
// receipt from a peer), an upload sealed but not yet recorded, a pull not
// yet recorded, an open vault intent.
Result<std::set<std::string>> OwnedAddresses(Node& node) {
  std::set<std::string> out;
  Statement q(node.sql(),
              "SELECT address FROM ingest UNION SELECT address FROM uploads "
              "WHERE state='sealed' UNION SELECT address FROM "
              "evidence_transfers WHERE state='pending' UNION SELECT address "
              "FROM pending_objects WHERE address<>''");
  RETURN_IF_ERROR(q.status());
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.insert(q.Text(0));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

// Files under the vault's tmp/ that an open upload, a pending pull or an
// open vault intent is writing, by name.
Result<std::set<std::string>> OwnedTempFiles(Node& node) {
  std::set<std::string> out;
  Statement q(node.sql(),
              "SELECT 'upload-' || id FROM uploads WHERE state<>'done' UNION "
              "SELECT 'pull-' || message_id || '-' || substr(address, 8, 32) "
              "FROM evidence_transfers WHERE state='pending'");
  RETURN_IF_ERROR(q.status());
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.insert(q.Text(0));
  if (rc != SQLITE_DONE) return q.Error();
  ASSIGN_OR_RETURN(std::vector<PendingObject> pending, node.db().Pending());
  for (const auto& p : pending) {
    out.insert(p.tmp_path.substr(p.tmp_path.find_last_of('/') + 1));
  }
  return out;
}

uint64_t SizeOr0(Env* env, const std::string& path) {
  auto size = env->GetFileSize(path);
  return size.ok() ? *size : 0;
}

}  // namespace

Status SettleVaultIntents(Node& node) {
  ASSIGN_OR_RETURN(std::vector<PendingObject> pending, node.db().Pending());
  Env* env = node.env();
  for (const auto& p : pending) {
    if (env->FileExists(p.tmp_path))
      RETURN_IF_ERROR(env->RemoveFile(p.tmp_path));
    if (!p.address.empty()) {
      ASSIGN_OR_RETURN(ContentAddress a, ContentAddress::Parse(p.address));
      // Owned still if a case holds it, or another intent (this one is
      // ended below, the others are settled in turn).
      bool other_intent = false;
      for (const auto& q : pending) {
        other_intent = other_intent || (q.id > p.id && q.address == p.address);
      }
      bool held = false;
      {
        Statement s(node.sql(),
                    "SELECT 1 FROM ingest WHERE address=? UNION SELECT 1 FROM "
                    "uploads WHERE state='sealed' AND address=? UNION SELECT 1 "
                    "FROM evidence_transfers WHERE state='pending' AND "
                    "address=?");
        for (int i = 1; i <= 3; ++i) s.Bind(i, p.address);
        int rc = s.Step();
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) return s.Error();
        held = rc == SQLITE_ROW;
      }
      if (!held && !other_intent && node.vault().Contains(a)) {
        RETURN_IF_ERROR(env->RemoveFile(node.vault().PathOf(a)));
      }
    }
    RETURN_IF_ERROR(node.db().EndPending(p.id));
  }
  return Status::OK();
}

Result<VaultLeftovers> FindVaultLeftovers(Node& node) {
  VaultLeftovers out;
  Env* env = node.env();
  ASSIGN_OR_RETURN(std::set<std::string> owned, OwnedAddresses(node));
  ASSIGN_OR_RETURN(std::vector<ContentAddress> all, node.vault().List());
  for (const auto& a : all) {
    if (owned.count(a.ToString())) continue;
    out.orphans.push_back(a);
    out.orphan_bytes += SizeOr0(env, node.vault().PathOf(a));
  }
  std::string tmp = node.vault().TmpDir();
  if (!env->FileExists(tmp)) return out;
  ASSIGN_OR_RETURN(std::set<std::string> busy, OwnedTempFiles(node));
  ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(tmp));
  for (const auto& name : names) {
    if (busy.count(name)) continue;
    std::string path = JoinPath(tmp, name);
    out.temp_files.push_back(path);
    out.temp_bytes += SizeOr0(env, path);
  }
  return out;
}

Status RemoveVaultLeftovers(Node& node, const std::string& actor,
                            const VaultLeftovers& leftovers) {
  if (leftovers.empty()) return Status::OK();
  // Recorded first: a removal that is not in the log does not happen.
  // Counts only: an orphan was never evidence of any case, and its address
  // is nobody's business.
  CustodyEntry e;
  e.kind = EntryKind::kNodeRepaired;
  e.actor = actor;
  e.subject = node.info().origin;
  e.data = {{"orphan_objects", leftovers.orphans.size()},
            {"orphan_bytes", leftovers.orphan_bytes},
            {"temp_files", leftovers.temp_files.size()},
            {"temp_bytes", leftovers.temp_bytes}};
  RETURN_IF_ERROR(node.Record(std::move(e)).status());
  Env* env = node.env();
  for (const auto& a : leftovers.orphans) {
    RETURN_IF_ERROR(env->RemoveFile(node.vault().PathOf(a)));
  }
  for (const auto& path : leftovers.temp_files) {
    RETURN_IF_ERROR(env->RemoveFile(path));
  }
  return Status::OK();
}

}  // namespace amanah
