#include "app/evidence.h"

#include "app/cases.h"
#include "app/evidence_db.h"
#include "vault/e01.h"

namespace amanah {

namespace {

// Presents an E01 image's media as a stream.
class EwfMediaFile final : public SequentialFile {
 public:
  explicit EwfMediaFile(EwfMediaReader* reader) : reader_(reader) {}
  Result<size_t> Read(uint8_t* scratch, size_t n) override {
    size_t got = 0;
    while (got < n) {
      ASSIGN_OR_RETURN(size_t r, reader_->Read(scratch + got, n - got));
      if (r == 0) break;
      got += r;
    }
    return got;
  }

 private:
  EwfMediaReader* reader_;
};

std::string BaseName(const std::string& path) {
  if (path == "-") return "-";
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

bool IsEwf(Env* env, const std::string& path) {
  if (path == "-") return false;
  auto f = env->NewRandomAccessFile(path);
  if (!f.ok()) return false;
  uint8_t head[8];
  auto n = (*f)->ReadAt(0, head, sizeof(head));
  return n.ok() && LooksLikeEwf(ByteView(head, *n));
}

// Vault::Put, each step announced to the database first (a vault intent),
// so that after a crash the node removes what no ingest recorded. The
// intent's id goes to `pending` for the recording change to end it.
Result<PutResult> PutTracked(Node& node, SequentialFile* source,
                             const std::vector<HashAlgorithm>& extra,
                             const ProgressFn& progress,
                             std::vector<int64_t>* pending) {
  int64_t id = -1;
  PutHooks hooks;
  hooks.before_write = [&](const std::string& tmp) -> Status {
    ASSIGN_OR_RETURN(id, node.db().BeginPending(tmp));
    return Status::OK();
  };
  hooks.before_adopt = [&](const ContentAddress& a) {
    return node.db().SetPendingAddress(id, a.ToString());
  };
  auto put = node.vault().Put(source, extra, progress, &hooks);
  if (id >= 0) {
    // A failed put left nothing visible (Put removes its file).
    if (!put.ok()) (void)node.db().EndPending(id);
    if (put.ok()) pending->push_back(id);
  }
  return put;
}

Result<EwfReport> CheckEwf(Node& node, const std::string& path,
                           const std::vector<HashAlgorithm>& extra,
                           const ProgressFn& progress,
                           std::vector<int64_t>* pending) {
  ASSIGN_OR_RETURN(auto reader, EwfMediaReader::Open(path));
  EwfReport r;
  r.media_size = reader->media_size();
  r.stored_md5 = reader->stored_hashes().md5_hex;
  r.stored_sha1 = reader->stored_hashes().sha1_hex;
  r.header = reader->header();
  EwfMediaFile media(reader.get());
  ASSIGN_OR_RETURN(StreamDigests d,
                   DigestStream(&media,
                                {HashAlgorithm::kMd5, HashAlgorithm::kSha1,
                                 HashAlgorithm::kSha256},
                                nullptr, kVaultChunkSize, progress));
  r.media = d.digests;
  bool any = !r.stored_md5.empty() || !r.stored_sha1.empty();
  bool ok = (r.stored_md5.empty() ||
             r.stored_md5 == HexEncode(r.media[HashAlgorithm::kMd5])) &&
            (r.stored_sha1.empty() ||
             r.stored_sha1 == HexEncode(r.media[HashAlgorithm::kSha1]));
  r.verdict = !any ? "no stored hash" : ok ? "match" : "mismatch";
  // Further segments of the set are evidence too: store them.
  const auto& segments = reader->segment_paths();
  for (size_t i = 1; i < segments.size(); ++i) {
    ASSIGN_OR_RETURN(auto f, node.env()->NewSequentialFile(segments[i]));
    ASSIGN_OR_RETURN(PutResult p,
                     PutTracked(node, f.get(), extra, nullptr, pending));
    r.segments.emplace_back(BaseName(segments[i]), std::move(p));
  }
  return r;
}

}  // namespace

nlohmann::json EwfJson(const EwfReport& r) {
  nlohmann::json j;
  j["media_size"] = r.media_size;
  j["media"] = HashesJson(r.media);
  nlohmann::json stored = nlohmann::json::object();
  if (!r.stored_md5.empty()) stored["md5"] = r.stored_md5;
  if (!r.stored_sha1.empty()) stored["sha1"] = r.stored_sha1;
  j["stored"] = stored;
  j["verdict"] = r.verdict;
  nlohmann::json segs = nlohmann::json::array();
  for (const auto& [name, p] : r.segments) {
    segs.push_back(
        {{"name", name}, {"subject", p.address.ToString()}, {"size", p.size}});
  }
  j["segments"] = segs;
  return j;
}

nlohmann::json EwfHeaderJson(const EwfHeader& h) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [name, value] : h.values) j[name] = value;
  if (!h.refused.empty()) j["refused"] = h.refused;
  return j;
}

Result<IngestOutcome> Ingest(Node& node, const IngestRequest& req,
                             const ProgressFn& progress) {
  RETURN_IF_ERROR(ValidateCaseId(req.case_id));
  RETURN_IF_ERROR(CaseBook(&node).MustBeOpen(req.case_id));
  // The log (and the node's writer lock) first: nothing enters the vault
  // that cannot be recorded at once.
  RETURN_IF_ERROR(node.Log().status());
  if (req.note.size() > 4096) {
    return Status::InvalidInput("a note is at most 4096 bytes");
  }
  bool ewf = IsEwf(node.env(), req.path);
  std::vector<HashAlgorithm> extra;
  if (req.md5 || ewf) extra.push_back(HashAlgorithm::kMd5);
  if (req.sha1 || ewf) extra.push_back(HashAlgorithm::kSha1);

  auto source = node.env()->NewSequentialFile(req.path);
  if (!source.ok()) return source.status();
  IngestOutcome out;
  auto undo = [&](Status s) {
    for (int64_t id : out.pending) (void)node.db().EndPending(id);
    return s;
  };
  auto put = PutTracked(node, source->get(), extra, progress, &out.pending);
  if (!put.ok()) return undo(put.status());
  out.object = std::move(*put);
  if (ewf) {
    auto checked = CheckEwf(node, req.path, extra, progress, &out.pending);
    if (!checked.ok()) return undo(checked.status());
    out.ewf = std::move(*checked);
  }
  // On failure the intents stay: the next open removes what no ingest
  // recorded.
  return RecordIngested(node, req, std::move(out));
}

nlohmann::json HashesJson(const std::map<HashAlgorithm, Bytes>& digests) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [a, d] : digests) j[std::string(HashName(a))] = HexEncode(d);
  return j;
}

namespace {

std::string HexOf(const std::map<HashAlgorithm, Bytes>& digests,
                  HashAlgorithm a) {
  auto it = digests.find(a);
  return it == digests.end() ? std::string() : HexEncode(it->second);
}

// The evidence.ingested entry of one object of an ingest.
Result<CustodyEntry> IngestedEntry(Node& node, const IngestRequest& req,
                                   const PutResult& object,
                                   const std::string& source, bool* held) {
  const std::string address = object.address.ToString();
  // "Already held" only by this case: whether another case holds the same
  // bytes is not this case's business.
  ASSIGN_OR_RETURN(*held, node.db().CaseHolds(req.case_id, address));
  CustodyEntry e;
  e.kind = EntryKind::kEvidenceIngested;
  e.actor = req.actor;
  e.case_id = req.case_id;
  e.subject = address;
  e.data["size"] = object.size;
  e.data["hashes"] = HashesJson(object.digests);
  e.data["source"] = source;
  e.data["stored"] = *held ? "already held" : "new";
  return e;
}

Status RecordIngestRow(Node& node, const IngestRequest& req,
                       const PutResult& object, const std::string& source,
                       uint64_t index) {
  ASSIGN_OR_RETURN(std::string time, node.EntryTime(index));
  std::string md5 = HexOf(object.digests, HashAlgorithm::kMd5);
  std::string sha1 = HexOf(object.digests, HashAlgorithm::kSha1);
  return node.db().RecordIngest(
      {object.address.ToString(), object.size, md5, sha1},
      {object.address.ToString(), req.case_id, index, source, time, md5, sha1});
}

}  // namespace

Result<IngestOutcome> RecordIngested(
    Node& node, const IngestRequest& req, IngestOutcome out,
    const std::function<Status(uint64_t index)>& also) {
  const std::string source = BaseName(req.path);
  // The entries (the object's, then each further segment's of an E01 set)
  // and the ingest's rows in one change: after a crash all of them are
  // there or none is.
  ASSIGN_OR_RETURN(
      out.entry_index,
      node.Apply(
          [&]() -> Result<std::vector<CustodyEntry>> {
            std::vector<CustodyEntry> entries;
            ASSIGN_OR_RETURN(CustodyEntry e,
                             IngestedEntry(node, req, out.object, source,
                                           &out.object.duplicate));
            if (!req.note.empty()) e.data["note"] = req.note;
            if (out.ewf) e.data["ewf"] = EwfJson(*out.ewf);
            // A field of its own: its disclosure can be given or withheld
            // apart from the media's hashes.
            if (out.ewf && !out.ewf->header.empty()) {
              e.data["ewf_header"] = EwfHeaderJson(out.ewf->header);
            }
            entries.push_back(std::move(e));
            if (out.ewf) {
              for (const auto& [name, p] : out.ewf->segments) {
                bool held = false;
                ASSIGN_OR_RETURN(CustodyEntry s,
                                 IngestedEntry(node, req, p, name, &held));
                s.data["part_of"] = out.object.address.ToString();
                entries.push_back(std::move(s));
              }
            }
            for (int64_t id : out.pending) {
              RETURN_IF_ERROR(node.db().EndPending(id));
            }
            return entries;
          },
          [&](uint64_t index) -> Status {
            RETURN_IF_ERROR(
                RecordIngestRow(node, req, out.object, source, index));
            if (out.ewf) {
              uint64_t next = index + 1;
              for (const auto& [name, p] : out.ewf->segments) {
                RETURN_IF_ERROR(RecordIngestRow(node, req, p, name, next++));
              }
            }
            return also ? also(index) : Status::OK();
          }));
  out.pending.clear();
  ASSIGN_OR_RETURN(out.entry, node.EntryBytes(out.entry_index));
  return out;
}

// kNotFound, the same for an object not in the vault and one that is not
// evidence of the case: membership of one case tells nothing about the
// objects of another.
Status MustBeEvidenceOf(Node& node, const std::string& case_id,
                        const ContentAddress& address) {
  ASSIGN_OR_RETURN(bool held, node.db().CaseHolds(case_id, address.ToString()));
  if (!held || !node.vault().Contains(address)) {
    return Status::NotFound(address.ToString() + " is not evidence of case " +
                            case_id);
  }
  return Status::OK();
}

Result<ObjectCheck> ReadEvidence(Node& node, const std::string& case_id,
                                 const ContentAddress& address,
                                 const std::string& actor, ChunkSink* sink) {
  RETURN_IF_ERROR(MustBeEvidenceOf(node, case_id, address));
  CustodyEntry e;
  e.kind = EntryKind::kEvidenceAccessed;
  e.actor = actor;
  e.case_id = case_id;
  e.subject = address.ToString();
  e.data["purpose"] = "read out";
  // Record first: a read that is not in the log must not happen.
  RETURN_IF_ERROR(node.Record(std::move(e)).status());
  return node.vault().Read(address, sink);
}

Result<VerifyOutcome> VerifyEvidence(Node& node, const std::string& case_id,
                                     const ContentAddress& address,
                                     const std::string& actor,
                                     const ProgressFn& progress) {
  RETURN_IF_ERROR(MustBeEvidenceOf(node, case_id, address));
  VerifyOutcome out;
  auto check = node.vault().Verify(address, progress);
  if (check.ok()) {
    out.intact = true;
    out.check = *check;
  } else if (check.status().code() == Code::kCorruption) {
    out.problem = check.status().message();
  } else {
    return check.status();
  }
  CustodyEntry e;
  e.kind = EntryKind::kEvidenceVerified;
  e.actor = actor;
  e.case_id = case_id;
  e.subject = address.ToString();
  e.data["result"] = out.intact ? "intact" : "corrupt";
  if (out.intact) {
    e.data["size"] = out.check.size;
  } else {
    e.data["problem"] = out.problem;
  }
  ASSIGN_OR_RETURN(auto recorded, node.Record(std::move(e)));
  out.entry_index = recorded.first;
  return out;
}

}  // namespace amanah
