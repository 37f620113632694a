#include "federation/fetcher.h"

#include <map>
#include <memory>
#include <set>

#include "vault/staged.h"

namespace amanah {

namespace {

constexpr size_t kMaxErrorBody = 2000;

// "bytes A-B/N": A and N.
bool ParseContentRange(const std::string& h, uint64_t* first, uint64_t* total) {
  unsigned long long a = 0, b = 0, n = 0;
  if (std::sscanf(h.c_str(), "bytes %llu-%llu/%llu", &a, &b, &n) != 3) {
    return false;
  }
  *first = a;
  *total = n;
  return true;
}

// The detail of a problem document, or the start of whatever came.
std::string ProblemDetail(const std::string& body) {
  auto j = nlohmann::json::parse(body, nullptr, false);
  if (j.is_object() && j.contains("detail") && j["detail"].is_string()) {
    return j["detail"];
  }
  return body.substr(0, 300);
}

}  // namespace

Status Fetcher::Pull(PeerClient* client, const Transfer& t) {
  Transfers transfers(node_);
  Env* env = node_->env();
  const std::string path = transfers.StagingPath(t);
  std::vector<HashAlgorithm> algs;
  if (t.hashes.contains("md5")) algs.push_back(HashAlgorithm::kMd5);
  if (t.hashes.contains("sha1")) algs.push_back(HashAlgorithm::kSha1);

  // Resume from the committed offset, or start over.
  std::unique_ptr<StagedObject> staged;
  uint64_t offset = t.offset;
  if (offset > 0 && env->FileExists(path)) {
    auto resumed =
        StagedObject::Resume(env, node_->vault().master(), path, algs, offset);
    if (resumed.ok()) staged = std::move(resumed).value();
  }
  if (!staged) {
    if (env->FileExists(path)) RETURN_IF_ERROR(env->RemoveFile(path));
    offset = 0;
    if (t.offset != 0) RETURN_IF_ERROR(transfers.NoteProgress(t, 0));
    ASSIGN_OR_RETURN(
        staged, StagedObject::Create(env, node_->vault().master(), path, algs));
  }
  uint64_t committed = offset;
  auto commit = [&]() -> Status {
    RETURN_IF_ERROR(staged->Sync());
    RETURN_IF_ERROR(transfers.NoteProgress(t, staged->sealed()));
    committed = staged->sealed();
    return Status::OK();
  };
  auto fail = [&](const Status& why, bool refused, bool restart) {
    staged.reset();
    Status noted = transfers.NoteFailure(t, why.message(), refused, restart);
    return noted.ok() ? why : noted;
  };

  if (offset < t.size) {
    httplib::Headers headers = {
        {"Amanah-Pull", PullAuthorization(*node_, t.peer, t.address)}};
    if (offset > 0) {
      headers.emplace("Range", "bytes=" + std::to_string(offset) + "-");
    }
    int status = 0;
    std::string error_body;
    Status failed;
    uint64_t received = 0;
    auto res = client->http().Get(
        "/federation/v1/objects/" + t.address, headers,
        [&](const httplib::Response& r) {
          status = r.status;
          if (status == 206) {
            uint64_t first = 0, total = 0;
            if (!ParseContentRange(r.get_header_value("Content-Range"), &first,
                                   &total) ||
                first != offset || total != t.size) {
              failed = Status::Corruption(
                  t.peer + " answered a range request with another range: " +
                  r.get_header_value("Content-Range"));
              return false;
            }
          } else if (status == 200 && offset > 0) {
            failed = Status::Corruption(t.peer +
                                        " ignored the range request; pulling "
                                        "the object again from the start");
            return false;
          }
          return true;
        },
        [&](const char* data, size_t n) {
          if (stop_ != nullptr && stop_->load()) {
            failed = Status::Unavailable("stopping");
            return false;
          }
          if (status != 200 && status != 206) {
            error_body.append(data,
                              std::min(n, kMaxErrorBody - error_body.size()));
            return error_body.size() < kMaxErrorBody;
          }
          received += n;
          if (offset + received > t.size) {
            failed = Status::Corruption(t.peer + " sent more than the " +
                                        std::to_string(t.size) +
                                        " bytes its manifest names");
            return false;
          }
          failed = staged->Append(
              ByteView(reinterpret_cast<const uint8_t*>(data), n));
          if (failed.ok() && staged->sealed() - committed >= commit_every_) {
            failed = commit();
          }
          return failed.ok();
        });
    if (failed.code() == Code::kCorruption) {
      return fail(failed, /*refused=*/true, /*restart=*/true);
    }
    if (!failed.ok() || !res || offset + received < t.size) {
      // Interrupted: keep the whole chunks that arrived.
      Status why = !failed.ok() ? failed
                   : !res       ? Status::Unavailable(client->Describe(res))
                   : (status == 200 || status == 206)
                       ? Status::Unavailable(t.peer + " ended the body early")
                       : Status::Unavailable("");
      if (res && status != 200 && status != 206) {
        // The peer refused: a 4xx counts towards giving up, a 5xx not.
        bool refused = status >= 400 && status < 500;
        // Start over only when the peer says the object is shorter than
        // what is committed here (416 with its size).
        bool shorter =
            status == 416 &&
            res->get_header_value("Content-Range").rfind("bytes */", 0) == 0;
        return fail(Status::Unavailable(t.peer + " refused the pull: HTTP " +
                                        std::to_string(status) + " " +
                                        ProblemDetail(error_body)),
                    refused, shorter);
      }
      if (failed.ok() || failed.code() == Code::kUnavailable) {
        staged->DropPending();
        Status kept = commit();
        if (!kept.ok()) return fail(kept, false, false);
      }
      if (stop_ != nullptr && stop_->load()) return why;
      return fail(why, false, false);
    }
  }
  auto sealed = staged->Seal();
  if (!sealed.ok()) return fail(sealed.status(), false, false);
  staged.reset();
  Status done = transfers.Complete(t, *sealed);
  if (done.code() == Code::kCorruption) return fail(done, true, true);
  if (!done.ok()) return fail(done, false, false);
  return Status::OK();
}

Result<int> Fetcher::FetchDue() {
  Transfers transfers(node_);
  RETURN_IF_ERROR(transfers.SendConfirmations());
  RETURN_IF_ERROR(transfers.QueueOwedManifests());
  ASSIGN_OR_RETURN(std::vector<Transfer> due, transfers.Due());
  std::map<std::string, std::unique_ptr<PeerClient>> clients;
  std::set<std::string> unreachable;  // give up on a peer for this round
  int arrived = 0;
  for (const Transfer& t : due) {
    if (stop_ != nullptr && stop_->load()) break;
    if (unreachable.count(t.peer)) continue;
    auto& client = clients[t.peer];
    if (!client) {
      ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node_).Find(t.peer));
      if (!peer) {
        RETURN_IF_ERROR(transfers.NoteFailure(
            t, "the peer " + t.peer + " is no longer pinned", true, false));
        continue;
      }
      client =
          std::make_unique<PeerClient>(*peer, timeout_, node_->tls_identity());
    }
    Status s = Pull(client.get(), t);
    if (s.ok()) {
      ++arrived;
    } else if (s.code() == Code::kUnavailable) {
      unreachable.insert(t.peer);
    }
  }
  return arrived;
}

}  // namespace amanah
