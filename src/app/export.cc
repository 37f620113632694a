#include "app/export.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "app/cases.h"
#include "app/messages.h"
#include "app/peers.h"
#include "app/witness.h"
#include "bundle/case_uco.h"
#include "bundle/proof_text.h"
#include "bundle/verify_text.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

using json = nlohmann::json;

namespace {

// CaseBook::Items lists at most this many entries of one object.
constexpr size_t kMaxItemEntries = 100000;

// A peer's history of an object this node received from it, as the peer's
// evidence.manifest carried it.
struct PeerHistory {
  std::string peer;
  std::string checkpoint;  // the peer's signed checkpoint
  std::vector<std::pair<uint64_t, std::string>> entries;  // index, bytes
  std::vector<std::vector<Hash256>> proofs;
  // What the peer disclosed of each sealed entry (docs/formats.md,
  // "Evidence delivery").
  std::vector<std::vector<std::string>> disclosures;
};

// A disclosures/<n> file: one disclosure a line.
std::string DisclosuresFile(const std::vector<std::string>& disclosures) {
  std::string out;
  for (const auto& d : disclosures) out += d + "\n";
  return out;
}

Result<std::vector<std::string>> StringList(const json& j) {
  std::vector<std::string> out;
  if (j.is_null()) return out;
  if (!j.is_array()) return Status::Corruption("disclosures are not a list");
  for (const auto& d : j) {
    if (!d.is_string()) return Status::Corruption("a disclosure is a string");
    out.push_back(d.get<std::string>());
  }
  return out;
}

// The histories of `address` that peers sent with evidence received for
// requests of `case_id` (never another case's).
Result<std::vector<PeerHistory>> ReceivedHistories(Node* node,
                                                   const std::string& case_id,
                                                   const std::string& address) {
  Statement q(node->sql(),
              "SELECT t.peer, i.body FROM evidence_transfers t JOIN inbox i "
              "ON i.id = t.message_id WHERE t.address=? AND t.case_id=? AND "
              "t.state='done' ORDER BY t.entry_index");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, address);
  q.Bind(2, case_id);
  std::vector<PeerHistory> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    PeerHistory h;
    h.peer = q.Text(0);
    ASSIGN_OR_RETURN(Message m, ParseMessage(q.Text(1)));
    if (!m.payload.contains("checkpoint") ||
        !m.payload["checkpoint"].is_string() || !m.payload.contains("items") ||
        !m.payload["items"].is_array()) {
      return Status::Corruption("the stored manifest " + m.id + " is not one");
    }
    h.checkpoint = m.payload["checkpoint"].get<std::string>();
    const json items = m.payload["items"];
    for (const auto& item : items) {
      if (item.value("address", "") != address) continue;
      const json entries = item.value("entries", json::array());
      for (const auto& e : entries) {
        ASSIGN_OR_RETURN(std::vector<Hash256> proof,
                         ProofFromJson(e.value("proof", json::array())));
        h.entries.emplace_back(e.value("index", uint64_t{0}),
                               e.value("entry", ""));
        h.proofs.push_back(std::move(proof));
        ASSIGN_OR_RETURN(auto disclosed,
                         StringList(e.value("disclosures", json())));
        h.disclosures.push_back(std::move(disclosed));
      }
    }
    if (h.entries.empty()) {
      return Status::Corruption("the stored manifest " + m.id +
                                " does not carry " + address);
    }
    // In log order, once each (a bundle lists them so).
    std::vector<size_t> order(h.entries.size());
    for (size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return h.entries[a].first < h.entries[b].first;
    });
    PeerHistory sorted{h.peer, h.checkpoint, {}, {}, {}};
    for (size_t i : order) {
      if (!sorted.entries.empty() &&
          sorted.entries.back().first == h.entries[i].first) {
        continue;
      }
      sorted.entries.push_back(h.entries[i]);
      sorted.proofs.push_back(h.proofs[i]);
      sorted.disclosures.push_back(h.disclosures[i]);
    }
    h = std::move(sorted);
    out.push_back(std::move(h));
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

class WritableSink : public ByteSink {
 public:
  explicit WritableSink(WritableFile* file) : file_(file) {}
  Status Append(ByteView data) override { return file_->Append(data); }

 private:
  WritableFile* file_;
};

class TarChunkSink : public ChunkSink {
 public:
  explicit TarChunkSink(TarWriter* tar) : tar_(tar) {}
  Status Consume(ByteView chunk, uint64_t, bool) override {
    return tar_->Write(chunk);
  }

 private:
  TarWriter* tar_;
};

std::string Hex(std::string_view text) {
  return HexEncode(Sha256(AsBytes(text)));
}

}  // namespace

PreparedExport::~PreparedExport() = default;

Result<std::unique_ptr<PreparedExport>> PreparedExport::Prepare(
    Node* node, const ExportRequest& request,
    const std::function<void()>& cosign) {
  CaseBook cases(node);
  ASSIGN_OR_RETURN(std::optional<Case> c, cases.Get(request.case_id));
  if (!c) return Status::NotFound("no case " + request.case_id);
  ASSIGN_OR_RETURN(std::vector<CaseItem> all, cases.Items(request.case_id));
  std::vector<CaseItem> chosen;
  if (request.items.empty()) {
    chosen = std::move(all);
  } else {
    std::set<std::string> want;
    for (const auto& text : request.items) {
      ASSIGN_OR_RETURN(ContentAddress a, ContentAddress::Parse(text));
      want.insert(a.ToString());
    }
    for (auto& item : all) {
      if (want.erase(item.address)) chosen.push_back(std::move(item));
    }
    if (!want.empty()) {
      return Status::NotFound(*want.begin() + " is not evidence of case " +
                              request.case_id);
    }
  }
  if (chosen.empty()) {
    return Status::InvalidInput("case " + request.case_id +
                                " has no evidence to export");
  }
  if (chosen.size() > kMaxBundleItems) {
    return Status::InvalidInput("more than " + std::to_string(kMaxBundleItems) +
                                " objects in one bundle");
  }

  std::unique_ptr<PreparedExport> x(new PreparedExport);
  x->node_ = node;
  ASSIGN_OR_RETURN(CustodyLog * log, node->Log());
  const uint64_t known = log->Latest().size;

  // The manifest: each item with the entries about it so far.
  BundleManifest& m = x->manifest_;
  m.case_id = c->id;
  m.case_title = c->title;
  int64_t now_micros = node->env()->NowUnixNanos() / 1000;
  m.created = FormatTime(now_micros);
  x->mtime_ = now_micros / 1000000;
  m.exported_by = request.actor;
  m.node = {node->info().name, node->info().origin, node->info().verifier_key};
  std::map<std::string, std::vector<PeerHistory>> received;
  std::set<std::string> peer_names;
  for (const auto& ci : chosen) {
    BundleItem item;
    item.address = ci.address;
    item.size = ci.size;
    item.sha256 = ci.address.substr(7);
    item.md5 = ci.md5;
    item.sha1 = ci.sha1;
    for (const auto& e : ci.custody) {
      if (e.index < known) item.entries.push_back(e.index);
    }
    ASSIGN_OR_RETURN(received[ci.address],
                     ReceivedHistories(node, c->id, ci.address));
    for (const auto& h : received[ci.address]) {
      ReceivedHistory r{h.peer, {}};
      for (const auto& [index, bytes] : h.entries) r.entries.push_back(index);
      item.received.push_back(std::move(r));
      peer_names.insert(h.peer);
    }
    x->summary_.bytes += item.size;
    m.items.push_back(std::move(item));
  }
  PeerBook peers(node);
  for (const auto& name : peer_names) {
    ASSIGN_OR_RETURN(std::optional<Peer> p, peers.Find(name));
    if (!p) {
      return Status::Conflict("evidence was received from " + name +
                              ", which is no longer a pinned peer: its key "
                              "cannot be named in the bundle");
    }
    m.peers.push_back({p->name, p->origin(), p->log_key});
  }

  // What the verifier will accept (and the custody index could list).
  uint64_t entry_count = 0;
  for (const auto& item : m.items) {
    if (item.entries.size() >= kMaxItemEntries) {
      return Status::InvalidInput(
          item.address + " has " + std::to_string(item.entries.size()) +
          " custody entries or more, more than a bundle holds for one object");
    }
    entry_count += item.entries.size();
    for (const auto& r : item.received) entry_count += r.entries.size();
  }
  if (entry_count + m.items.size() > kMaxBundleEntries) {
    return Status::InvalidInput(
        "these objects have " + std::to_string(entry_count) +
        " custody entries, more than one bundle holds (" +
        std::to_string(kMaxBundleEntries) + "): export fewer at a time");
  }

  // Every entry the bundle carries, opened with every disclosure: a court
  // reads the case's whole custody (case.jsonld, disclosures/<n>).
  BundleEntries parsed;
  std::map<uint64_t, std::string> own_bytes;  // read once, written below
  CustodyIndex index(&node->sql());
  {
    LogReader at = log->ReaderAt(known);
    for (const auto& item : m.items) {
      for (uint64_t i : item.entries) {
        if (parsed.own.count(i)) continue;
        ASSIGN_OR_RETURN(own_bytes[i], at.Entry(i));
        ASSIGN_OR_RETURN(OpenedEntry opened, index.Opened(at, i));
        parsed.own[i] = std::move(opened.entry);
      }
    }
    for (const auto& [address, histories] : received) {
      for (const auto& h : histories) {
        for (size_t i = 0; i < h.entries.size(); ++i) {
          auto opened = OpenCustodyEntry(h.entries[i].second, h.disclosures[i]);
          if (!opened.ok()) {
            return opened.status().Annotate(h.peer + "'s entry " +
                                            std::to_string(h.entries[i].first));
          }
          parsed.peers[h.peer][h.entries[i].first] = std::move(opened->entry);
        }
      }
    }
  }
  std::string verify_txt = BundleVerifyInstructions(m);
  std::string case_jsonld = CaseUcoJsonLd(m, parsed, c->legal_basis);
  m.files["VERIFY.txt"] = Hex(verify_txt);
  m.files["case.jsonld"] = Hex(case_jsonld);
  std::string manifest = FormatManifest(m);
  x->summary_.manifest_sha256 = Hex(manifest);

  // The export, in the log before any object is read.
  ASSIGN_OR_RETURN(
      uint64_t first, node->Apply([&]() -> Result<std::vector<CustodyEntry>> {
        std::vector<CustodyEntry> entries;
        for (const auto& item : m.items) {
          CustodyEntry e;
          e.kind = EntryKind::kEvidenceExported;
          e.actor = request.actor;
          e.case_id = m.case_id;
          e.subject = item.address;
          e.data["manifest"] = "sha256:" + x->summary_.manifest_sha256;
          e.data["bundle"] = request.bundle_name;
          entries.push_back(std::move(e));
        }
        return entries;
      }));
  const uint64_t end = first + m.items.size();
  x->summary_.first_export_entry = first;

  // The checkpoint: cosigned if the peers answered, else the node's own.
  if (cosign) cosign();
  SignedCheckpoint cp = log->Latest();
  auto cosigned = Witness(node).MostCosignedCheckpoint(end);
  std::string note = cp.note;
  uint64_t size = cp.size;
  if (cosigned.ok()) {
    auto parsed_note = ParseNote(*cosigned);
    auto body = parsed_note.ok() ? ParseCheckpointBody(parsed_note->text)
                                 : Result<Checkpoint>(parsed_note.status());
    if (body.ok() && body->size >= end) {
      note = *cosigned;
      size = body->size;
      for (const auto& s : parsed_note->signatures) {
        if (s.name != node->info().origin) {
          x->summary_.cosigned_by.push_back(s.name);
        }
      }
    }
  }
  if (size < end) {
    return Status::Unavailable(
        "the log's checkpoint does not cover the "
        "export entries yet");
  }
  x->summary_.checkpoint_size = size;
  x->summary_.verifier_key = node->info().verifier_key;

  // Proofs for every entry of the node's against that checkpoint.
  LogReader at = log->ReaderAt(size);
  std::vector<uint64_t> own;
  for (const auto& [index, e] : parsed.own) own.push_back(index);
  for (uint64_t i = first; i < end; ++i) own.push_back(i);
  std::vector<std::pair<std::string, std::string>>& files = x->files_;
  files.emplace_back("manifest.json", manifest);
  files.emplace_back("checkpoint", note);
  files.emplace_back("VERIFY.txt", std::move(verify_txt));
  files.emplace_back("case.jsonld", std::move(case_jsonld));
  std::vector<std::pair<std::string, std::string>> proofs;
  for (uint64_t i : own) {
    std::string bytes;
    if (auto b = own_bytes.find(i); b != own_bytes.end()) {
      bytes = std::move(b->second);
    } else {
      ASSIGN_OR_RETURN(bytes, at.Entry(i));
    }
    ASSIGN_OR_RETURN(std::vector<Hash256> hashes, at.InclusionProof(i));
    ASSIGN_OR_RETURN(std::vector<std::string> disclosures,
                     index.Disclosures(i));
    files.emplace_back("entries/" + std::to_string(i), std::move(bytes));
    if (!disclosures.empty()) {
      files.emplace_back("disclosures/" + std::to_string(i),
                         DisclosuresFile(disclosures));
    }
    proofs.emplace_back("proofs/" + std::to_string(i),
                        FormatTlogProof({"", i, hashes, note}));
  }
  x->summary_.entries = own.size();
  // The peers' histories, each proved against the checkpoint its manifest
  // carried.
  std::set<std::string> peer_files;
  for (const auto& [address, histories] : received) {
    for (const auto& h : histories) {
      for (size_t i = 0; i < h.entries.size(); ++i) {
        std::string dir = "peers/" + h.peer + "/";
        std::string name = std::to_string(h.entries[i].first);
        if (!peer_files.insert(dir + "entries/" + name).second) continue;
        files.emplace_back(dir + "entries/" + name, h.entries[i].second);
        if (!h.disclosures[i].empty()) {
          files.emplace_back(dir + "disclosures/" + name,
                             DisclosuresFile(h.disclosures[i]));
        }
        proofs.emplace_back(dir + "proofs/" + name,
                            FormatTlogProof({"", h.entries[i].first,
                                             h.proofs[i], h.checkpoint}));
        ++x->summary_.peer_entries;
      }
    }
  }
  for (auto& p : proofs) files.push_back(std::move(p));
  x->summary_.items = m.items.size();
  return x;
}

Status PreparedExport::WriteTo(ByteSink* sink, const ProgressFn& progress) {
  TarWriter tar(sink, mtime_);
  for (const auto& [path, content] : files_) {
    RETURN_IF_ERROR(tar.Add(path, AsBytes(content)));
  }
  uint64_t done = 0;
  for (const auto& item : manifest_.items) {
    ASSIGN_OR_RETURN(ContentAddress a, ContentAddress::Parse(item.address));
    RETURN_IF_ERROR(tar.Begin(item.path(), item.size));
    TarChunkSink chunks(&tar);
    ProgressFn on_progress;
    if (progress) on_progress = [&](uint64_t n) { progress(done + n); };
    ASSIGN_OR_RETURN(ObjectCheck check,
                     node_->vault().Decrypt(a, &chunks, on_progress));
    if (check.size != item.size) {
      return Status::Corruption(
          item.address + " holds " + std::to_string(check.size) +
          " bytes; its record says " + std::to_string(item.size));
    }
    RETURN_IF_ERROR(tar.End());
    done += item.size;
  }
  return tar.Finish();
}

Result<ExportSummary> ExportToFile(Node* node, const ExportRequest& request,
                                   const std::string& path,
                                   const std::function<void()>& cosign,
                                   const ProgressFn& progress) {
  Env* env = node->env();
  if (env->FileExists(path)) {
    return Status::Conflict(path + " exists; a bundle is never overwritten");
  }
  std::string tmp = path + ".partial";
  // Opened before anything is logged: an unwritable destination fails first.
  // 0600: the bundle holds the evidence in clear and the case's texts; the
  // prosecutor decides whom to give it to.
  ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                   env->NewStreamingFile(tmp, 0600));
  auto prepared = PreparedExport::Prepare(node, request, cosign);
  if (!prepared.ok()) {
    file.reset();
    env->RemoveFile(tmp);
    return prepared.status();
  }
  Status s = [&]() -> Status {
    WritableSink sink(file.get());
    RETURN_IF_ERROR((*prepared)->WriteTo(&sink, progress));
    RETURN_IF_ERROR(file->Sync());
    RETURN_IF_ERROR(file->Close());
    RETURN_IF_ERROR(env->RenameFile(tmp, path));
    return env->SyncDir(DirName(path));
  }();
  if (!s.ok()) {
    file.reset();
    env->RemoveFile(tmp);
    return s;
  }
  return (*prepared)->summary();
}

}  // namespace amanah
