#include "app/evidence.h"

#include "app/cases.h"
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

Result<EwfReport> CheckEwf(Node& node, const std::string& path,
                           const std::vector<HashAlgorithm>& extra,
                           const ProgressFn& progress) {
  ASSIGN_OR_RETURN(auto reader, EwfMediaReader::Open(path));
  EwfReport r;
  r.media_size = reader->media_size();
  r.stored_md5 = reader->stored_hashes().md5_hex;
  r.stored_sha1 = reader->stored_hashes().sha1_hex;
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
    ASSIGN_OR_RETURN(PutResult p, node.vault().Put(f.get(), extra));
    r.segments.emplace_back(BaseName(segments[i]), std::move(p));
  }
  return r;
}

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

}  // namespace

Result<IngestOutcome> Ingest(Node& node, const IngestRequest& req,
                             const ProgressFn& progress) {
  RETURN_IF_ERROR(ValidateCaseId(req.case_id));
  RETURN_IF_ERROR(CaseBook(&node).MustBeOpen(req.case_id));
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
  ASSIGN_OR_RETURN(out.object,
                   node.vault().Put(source->get(), extra, progress));
  if (ewf) {
    ASSIGN_OR_RETURN(out.ewf, CheckEwf(node, req.path, extra, progress));
  }

  return RecordIngested(node, req, std::move(out));
}

nlohmann::json HashesJson(const std::map<HashAlgorithm, Bytes>& digests) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [a, d] : digests) j[std::string(HashName(a))] = HexEncode(d);
  return j;
}

Result<IngestOutcome> RecordIngested(Node& node, const IngestRequest& req,
                                     IngestOutcome out) {
  CustodyEntry e;
  e.kind = EntryKind::kEvidenceIngested;
  e.actor = req.actor;
  e.case_id = req.case_id;
  e.subject = out.object.address.ToString();
  e.data["size"] = out.object.size;
  e.data["hashes"] = HashesJson(out.object.digests);
  e.data["source"] = BaseName(req.path);
  e.data["stored"] = out.object.duplicate ? "already held" : "new";
  if (!req.note.empty()) e.data["note"] = req.note;
  if (out.ewf) e.data["ewf"] = EwfJson(*out.ewf);
  ASSIGN_OR_RETURN(auto recorded, node.Record(std::move(e)));
  out.entry_index = recorded.first;
  out.entry = std::move(recorded.second);

  EvidenceRecord ev{out.object.address.ToString(), out.object.size, "", ""};
  if (out.object.digests.count(HashAlgorithm::kMd5)) {
    ev.md5 = HexEncode(out.object.digests[HashAlgorithm::kMd5]);
  }
  if (out.object.digests.count(HashAlgorithm::kSha1)) {
    ev.sha1 = HexEncode(out.object.digests[HashAlgorithm::kSha1]);
  }
  auto parsed = ParseCustodyEntry(out.entry);
  IngestRecord in{ev.address, req.case_id, out.entry_index, BaseName(req.path),
                  parsed.ok() ? FormatTime(parsed->time_unix_micros) : ""};
  RETURN_IF_ERROR(node.db().RecordIngest(ev, in));
  return out;
}

Result<ObjectCheck> ReadEvidence(Node& node, const ContentAddress& address,
                                 const std::string& actor, ChunkSink* sink) {
  if (!node.vault().Contains(address)) {
    return Status::NotFound(address.ToString() + " is not in the vault");
  }
  CustodyEntry e;
  e.kind = EntryKind::kEvidenceAccessed;
  e.actor = actor;
  e.subject = address.ToString();
  e.data["purpose"] = "read out";
  // Record first: a read that is not in the log must not happen.
  RETURN_IF_ERROR(node.Record(std::move(e)).status());
  return node.vault().Read(address, sink);
}

Result<VerifyOutcome> VerifyEvidence(Node& node, const ContentAddress& address,
                                     const std::string& actor,
                                     const ProgressFn& progress) {
  if (!node.vault().Contains(address)) {
    return Status::NotFound(address.ToString() + " is not in the vault");
  }
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
