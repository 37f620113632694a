#include "app/uploads.h"

#include <sodium.h>

#include "app/cases.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

namespace {

// Commit at least this often within one long request, so that a transfer
// that breaks after many gigabytes resumes near where it broke.
constexpr uint64_t kCommitEvery = 64 << 20;

}  // namespace

Status ValidateUploadNames(const std::string& name, const std::string& note) {
  RETURN_IF_ERROR(ValidateText(name, 255, "name", true));
  if (name.find('/') != std::string::npos || name == "." || name == "..") {
    return Status::InvalidInput("name is a file name, without '/'");
  }
  return ValidateText(note, 4096, "note", false);
}

std::string UploadDesk::StagingPath(const std::string& id) const {
  return node_->vault().TmpDir() + "/upload-" + id;
}

Result<UploadInfo> UploadDesk::Begin(const std::string& actor,
                                     const std::string& case_id,
                                     const std::string& name,
                                     const std::string& note, bool md5,
                                     bool sha1) {
  RETURN_IF_ERROR(ValidateUploadNames(name, note));
  RETURN_IF_ERROR(CaseBook(node_).MustBeOpen(case_id));
  uint8_t raw[16];
  randombytes_buf(raw, sizeof(raw));
  UploadInfo u;
  u.id = HexEncode(ByteView(raw, sizeof(raw)));
  u.case_id = case_id;
  u.actor = actor;
  u.name = name;
  u.note = note;
  u.md5 = md5;
  u.sha1 = sha1;
  u.state = "open";
  u.created = FormatTime(node_->env()->NowUnixNanos() / 1000);
  std::vector<HashAlgorithm> algs;
  if (md5) algs.push_back(HashAlgorithm::kMd5);
  if (sha1) algs.push_back(HashAlgorithm::kSha1);
  // The session is recorded before its staging file is made: a crash in
  // between leaves a session without a file, which its first request makes
  // (Activate), never a file that no session owns.
  RETURN_IF_ERROR(node_->sql().Transaction([&] {
    Statement ins(node_->sql(),
                  "INSERT INTO uploads(id, case_id, actor, name, note, md5, "
                  "sha1, created) VALUES(?,?,?,?,?,?,?,?)");
    ins.Bind(1, u.id);
    ins.Bind(2, u.case_id);
    ins.Bind(3, u.actor);
    ins.Bind(4, u.name);
    ins.Bind(5, u.note);
    ins.Bind(6, u.md5 ? 1 : 0);
    ins.Bind(7, u.sha1 ? 1 : 0);
    ins.Bind(8, u.created);
    return ins.Run();
  }));
  auto staged = StagedObject::Create(node_->env(), node_->vault().master(),
                                     StagingPath(u.id), algs);
  if (!staged.ok()) {
    (void)node_->env()->RemoveFile(StagingPath(u.id));
    (void)node_->sql().Transaction([&] {
      Statement del(node_->sql(), "DELETE FROM uploads WHERE id=?");
      del.Bind(1, u.id);
      return del.Run();
    });
    return staged.status();
  }
  auto active = std::make_shared<Active>();
  active->staged = std::move(staged).value();
  std::lock_guard<std::mutex> l(mu_);
  active_[u.id] = std::move(active);
  return u;
}

Result<std::optional<UploadInfo>> UploadDesk::Get(const std::string& id) {
  Statement q(node_->sql(),
              "SELECT id, case_id, actor, name, note, md5, sha1, offset, "
              "state, address, entry_index, created FROM uploads WHERE id=?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, id);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<UploadInfo>();
  if (rc != SQLITE_ROW) return q.Error();
  UploadInfo u{q.Text(0), q.Text(1),     q.Text(2),     q.Text(3),
               q.Text(4), q.Int(5) != 0, q.Int(6) != 0, q.Uint(7),
               q.Text(8), q.Text(9),     q.Uint(10),    q.Text(11)};
  return std::optional<UploadInfo>(std::move(u));
}

Result<std::shared_ptr<UploadDesk::Active>> UploadDesk::Activate(
    const UploadInfo& info) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = active_.find(info.id);
  if (it != active_.end()) return it->second;
  // After a restart: reopen the staging file at the committed offset.
  std::vector<HashAlgorithm> algs;
  if (info.md5) algs.push_back(HashAlgorithm::kMd5);
  if (info.sha1) algs.push_back(HashAlgorithm::kSha1);
  auto active = std::make_shared<Active>();
  Env* env = node_->env();
  std::string path = StagingPath(info.id);
  auto size = env->GetFileSize(path);
  if (info.offset == 0 && (!size.ok() || *size < kVaultHeaderSize)) {
    // A crash kept the file from being made, or from getting its whole
    // header: nothing was committed, so it starts afresh.
    if (env->FileExists(path)) RETURN_IF_ERROR(env->RemoveFile(path));
    ASSIGN_OR_RETURN(
        active->staged,
        StagedObject::Create(env, node_->vault().master(), path, algs));
  } else {
    ASSIGN_OR_RETURN(active->staged,
                     StagedObject::Resume(env, node_->vault().master(), path,
                                          algs, info.offset));
  }
  active_[info.id] = active;
  return active;
}

Status UploadDesk::SetOffset(const std::string& id, uint64_t offset) {
  return node_->sql().Transaction([&] {
    Statement up(node_->sql(), "UPDATE uploads SET offset=? WHERE id=?");
    up.Bind(1, offset);
    up.Bind(2, id);
    return up.Run();
  });
}

Result<std::optional<IngestOutcome>> UploadDesk::Receive(
    const std::string& id, uint64_t offset, bool final,
    const BodyReader& body) {
  ASSIGN_OR_RETURN(auto info, Get(id));
  if (!info) return Status::NotFound("no upload " + id);
  if (info->state == "sealed") {
    // A previous request sealed it and then failed (or the process
    // stopped): finish the installation and the record, once.
    std::lock_guard<std::mutex> once(finishing_mu_);
    ASSIGN_OR_RETURN(info, Get(id));
    if (info->state != "sealed") {
      return Status::Conflict("upload " + id +
                              " is complete: " + info->address);
    }
    return Complete(*info, std::nullopt);
  }
  if (info->state != "open") {
    return Status::Conflict("upload " + id + " is complete: " + info->address);
  }
  ASSIGN_OR_RETURN(auto active, Activate(*info));
  std::unique_lock<std::mutex> busy(active->mu, std::try_to_lock);
  if (!busy.owns_lock()) {
    return Status::Conflict("upload " + id +
                            " is receiving another request; wait for it");
  }
  // The committed offset, re-read under the session's lock.
  ASSIGN_OR_RETURN(info, Get(id));
  if (offset != info->offset) {
    return Status::Conflict("upload " + id + " continues at offset " +
                            std::to_string(info->offset) + ", not " +
                            std::to_string(offset));
  }
  StagedObject* staged = active->staged.get();
  uint64_t committed = info->offset;
  Status failed;
  auto commit = [&]() -> Status {
    RETURN_IF_ERROR(staged->Sync());
    RETURN_IF_ERROR(SetOffset(id, staged->sealed()));
    committed = staged->sealed();
    return Status::OK();
  };
  bool whole = body([&](ByteView piece) {
    failed = staged->Append(piece);
    if (failed.ok() && staged->sealed() - committed >= kCommitEvery) {
      failed = commit();
    }
    return failed.ok();
  });
  auto forget = [&] {
    std::lock_guard<std::mutex> l(mu_);
    active_.erase(id);
  };
  if (!failed.ok()) {
    // The staging file may be behind the hashers now: start again from
    // the committed offset on the next request.
    forget();
    return failed;
  }
  if (!whole || !final) {
    staged->DropPending();
    Status s = commit();
    if (!s.ok()) forget();
    RETURN_IF_ERROR(s);
    return std::optional<IngestOutcome>();
  }
  // Seal, and note the result before the object moves into the vault: a
  // failure or a crash from here on is finished by the next request.
  auto sealed = staged->Seal();
  if (!sealed.ok()) {
    forget();
    return sealed.status();
  }
  Status noted = node_->sql().Transaction([&] {
    Statement up(node_->sql(),
                 "UPDATE uploads SET state='sealed', offset=?, address=?, "
                 "size=?, md5_hex=?, sha1_hex=? WHERE id=?");
    auto hex = [&](HashAlgorithm a) {
      auto it = sealed->digests.find(a);
      return it == sealed->digests.end() ? std::string()
                                         : HexEncode(it->second);
    };
    up.Bind(1, sealed->size);
    up.Bind(2, sealed->address.ToString());
    up.Bind(3, sealed->size);
    up.Bind(4, hex(HashAlgorithm::kMd5));
    up.Bind(5, hex(HashAlgorithm::kSha1));
    up.Bind(6, id);
    return up.Run();
  });
  forget();
  RETURN_IF_ERROR(noted);
  std::lock_guard<std::mutex> once(finishing_mu_);
  ASSIGN_OR_RETURN(info, Get(id));
  return Complete(*info, std::move(sealed).value());
}

Result<std::optional<IngestOutcome>> UploadDesk::Complete(
    const UploadInfo& info, std::optional<PutResult> sealed) {
  IngestOutcome out;
  if (sealed) {
    out.object = std::move(*sealed);
  } else {
    // Rebuilt from what was noted when the upload was sealed.
    Statement q(node_->sql(),
                "SELECT size, md5_hex, sha1_hex FROM uploads WHERE id=?");
    q.Bind(1, info.id);
    if (q.Step() != SQLITE_ROW) return q.Error();
    ASSIGN_OR_RETURN(out.object.address, ContentAddress::Parse(info.address));
    out.object.size = q.Uint(0);
    out.object.digests[HashAlgorithm::kSha256] = Bytes(
        out.object.address.digest.begin(), out.object.address.digest.end());
    for (auto [col, alg] : {std::pair{1, HashAlgorithm::kMd5},
                            std::pair{2, HashAlgorithm::kSha1}}) {
      std::string hex = q.Text(col);
      if (hex.empty()) continue;
      ASSIGN_OR_RETURN(out.object.digests[alg], HexDecode(hex));
    }
  }
  std::string staging = StagingPath(info.id);
  if (node_->env()->FileExists(staging)) {
    ASSIGN_OR_RETURN(out.object.duplicate,
                     node_->vault().Adopt(staging, out.object.address));
  } else if (!node_->vault().Contains(out.object.address)) {
    return Status::Corruption("upload " + info.id + " was sealed as " +
                              info.address +
                              " but neither its staging file nor the object "
                              "is there");
  }
  IngestRequest req{info.name, info.case_id, info.actor,
                    info.note, info.md5,     info.sha1};
  // Done in the same change as the ingest: after a crash the upload is
  // either recorded and done, or sealed and finished by the next request.
  ASSIGN_OR_RETURN(
      out, RecordIngested(*node_, req, std::move(out), [&](uint64_t index) {
        Statement up(node_->sql(),
                     "UPDATE uploads SET state='done', entry_index=? WHERE "
                     "id=?");
        up.Bind(1, index);
        up.Bind(2, info.id);
        return up.Run();
      }));
  return std::optional<IngestOutcome>(std::move(out));
}

}  // namespace amanah
