#include "bundle/verify.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "base/encoding.h"
#include "base/json_writer.h"
#include "bundle/manifest.h"
#include "bundle/proof_text.h"
#include "bundle/tar.h"
#include "ledger/custody_entry.h"
#include "ledger/disclosure.h"
#include "ledger/merkle.h"
#include "ledger/note.h"

namespace amanah {

using json = nlohmann::json;

namespace {

constexpr size_t kMaxEntryBytes = 64 << 10;
constexpr size_t kMaxCheckpointBytes = 1 << 20;
constexpr size_t kMaxBundleFiles = 4 * kMaxBundleEntries + kMaxBundleItems + 8;
constexpr size_t kHashChunk = 1 << 20;

// ---- sources

class TarBundleSource : public BundleSource {
 public:
  explicit TarBundleSource(std::unique_ptr<SequentialFile> file)
      : file_(std::move(file)), tar_(file_.get()) {}
  Result<bool> Next(std::string* path, uint64_t* size) override {
    TarMember m;
    ASSIGN_OR_RETURN(bool more, tar_.Next(&m));
    if (!more) return false;
    *path = m.path;
    *size = m.size;
    return true;
  }
  SequentialFile* Body() override { return tar_.member(); }

 private:
  std::unique_ptr<SequentialFile> file_;
  TarReader tar_;
};

// An extracted bundle: manifest.json first, then the small files, then the
// objects, so that the objects are hashed only with the algorithms the
// manifest records.
class DirectoryBundleSource : public BundleSource {
 public:
  DirectoryBundleSource(Env* env, std::string dir,
                        std::vector<std::string> files)
      : env_(env), dir_(std::move(dir)), files_(std::move(files)) {}
  Result<bool> Next(std::string* path, uint64_t* size) override {
    body_.reset();
    if (next_ == files_.size()) return false;
    *path = files_[next_++];
    std::string full = dir_ + "/" + *path;
    ASSIGN_OR_RETURN(*size, env_->GetFileSize(full));
    ASSIGN_OR_RETURN(body_, env_->NewSequentialFile(full));
    return true;
  }
  SequentialFile* Body() override { return body_.get(); }

 private:
  Env* env_;
  std::string dir_;
  std::vector<std::string> files_;
  size_t next_ = 0;
  std::unique_ptr<SequentialFile> body_;
};

Status ListFiles(Env* env, const std::string& root, const std::string& rel,
                 int depth, std::vector<std::string>* out) {
  std::string dir = rel.empty() ? root : root + "/" + rel;
  ASSIGN_OR_RETURN(std::vector<std::string> names, env->GetChildren(dir));
  std::sort(names.begin(), names.end());
  for (const auto& name : names) {
    std::string path = rel.empty() ? name : rel + "/" + name;
    // Not followed: a link (to /dev/zero, say) or a device is not a file of
    // a bundle, as a tar member of that type would not be.
    std::error_code ec;
    auto type = std::filesystem::symlink_status(root + "/" + path, ec).type();
    if (type != std::filesystem::file_type::directory &&
        type != std::filesystem::file_type::regular) {
      return Status::InvalidInput(root + ": " + path +
                                  " is not a regular file or directory");
    }
    if (type == std::filesystem::file_type::directory) {
      if (depth == 4) {
        return Status::InvalidInput(root + ": " + path +
                                    " is nested deeper than a bundle is");
      }
      RETURN_IF_ERROR(ListFiles(env, root, path, depth + 1, out));
    } else {
      out->push_back(path);
    }
    if (out->size() > kMaxBundleFiles) {
      return Status::TooLarge(root + " holds more files than a bundle may");
    }
  }
  return Status::OK();
}

int FileRank(const std::string& path) {
  if (path == "manifest.json") return 0;
  if (path.rfind("blobs/", 0) == 0) return 2;
  return 1;
}

Result<std::string> ReadSmall(SequentialFile* file, uint64_t size, size_t limit,
                              const std::string& path) {
  if (size > limit) {
    return Status::TooLarge(path + " is " + std::to_string(size) +
                            " bytes, more than the " + std::to_string(limit) +
                            " such a file may have");
  }
  std::string out(size, '\0');
  size_t done = 0;
  while (done < size) {
    ASSIGN_OR_RETURN(
        size_t n,
        file->Read(reinterpret_cast<uint8_t*>(out.data()) + done, size - done));
    if (n == 0) return Status::Corruption(path + " ends early");
    done += n;
  }
  return out;
}

// ---- what one pass over the files collects

struct Blob {
  uint64_t size = 0;
  std::map<HashAlgorithm, Bytes> digests;
};

struct LogFiles {
  std::map<uint64_t, std::string> entries;      // index -> exact bytes
  std::map<uint64_t, std::string> proofs;       // index -> tlog-proof text
  std::map<uint64_t, std::string> disclosures;  // index -> one a line
};

struct Collected {
  std::string manifest;
  bool have_manifest = false;
  std::string checkpoint;
  bool have_checkpoint = false;
  LogFiles own;
  std::map<std::string, LogFiles> peers;     // by peer name
  std::map<std::string, std::string> files;  // other files -> sha256 hex
  std::map<std::string, Blob> blobs;         // path -> what it hashed to
  std::vector<std::string> unexpected;
};

bool ParseIndex(std::string_view s, uint64_t* out) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) {
    return false;
  }
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size();
}

bool IsLowerHex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// "entries/<n>", "proofs/<n>" or "disclosures/<n>" into `log`; false if
// `rest` is none of them.
// What the entries and proofs of one bundle may hold in memory in all.
constexpr uint64_t kMaxBufferedBytes = uint64_t{1} << 30;
// An entry has at most a few dozen fields, each disclosed on one line.
constexpr size_t kMaxDisclosuresBytes = 1 << 20;

Result<bool> CollectLogFile(std::string_view rest, const std::string& path,
                            uint64_t size, SequentialFile* body, LogFiles* log,
                            uint64_t* buffered) {
  if (rest.rfind("entries/", 0) == 0 || rest.rfind("proofs/", 0) == 0 ||
      rest.rfind("disclosures/", 0) == 0) {
    *buffered += size;
    if (*buffered > kMaxBufferedBytes) {
      return Status::TooLarge(path + ": the bundle's entries and proofs " +
                              "hold more than 1 GiB");
    }
  }
  uint64_t index = 0;
  if (rest.rfind("entries/", 0) == 0 && ParseIndex(rest.substr(8), &index)) {
    ASSIGN_OR_RETURN(log->entries[index],
                     ReadSmall(body, size, kMaxEntryBytes, path));
    return true;
  }
  if (rest.rfind("proofs/", 0) == 0 && ParseIndex(rest.substr(7), &index)) {
    ASSIGN_OR_RETURN(log->proofs[index],
                     ReadSmall(body, size, kMaxProofTextBytes, path));
    return true;
  }
  if (rest.rfind("disclosures/", 0) == 0 &&
      ParseIndex(rest.substr(12), &index)) {
    ASSIGN_OR_RETURN(log->disclosures[index],
                     ReadSmall(body, size, kMaxDisclosuresBytes, path));
    return true;
  }
  return false;
}

// A disclosures file: one disclosure a line, each line ending in '\n'.
Result<std::vector<std::string>> DisclosureLines(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) {
      return Status::Corruption("the last line does not end in a newline");
    }
    out.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

// The hashes to compute for an object: those the manifest records for it,
// or all three while the manifest has not been seen.
std::vector<HashAlgorithm> AlgorithmsFor(
    const std::string& path,
    const std::map<std::string, const BundleItem*>* items) {
  std::vector<HashAlgorithm> out = {HashAlgorithm::kSha256};
  if (items == nullptr) {
    out.push_back(HashAlgorithm::kMd5);
    out.push_back(HashAlgorithm::kSha1);
    return out;
  }
  auto it = items->find(path);
  if (it != items->end()) {
    if (!it->second->md5.empty()) out.push_back(HashAlgorithm::kMd5);
    if (!it->second->sha1.empty()) out.push_back(HashAlgorithm::kSha1);
  }
  return out;
}

Result<Collected> Collect(BundleSource* source, const ProgressFn& progress) {
  Collected c;
  std::set<std::string> seen;
  std::optional<BundleManifest> early;  // parsed as soon as it is read
  std::map<std::string, const BundleItem*> by_path;  // its items
  uint64_t hashed = 0, buffered = 0;
  std::string path;
  uint64_t size = 0;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, source->Next(&path, &size));
    if (!more) break;
    if (!seen.insert(path).second) {
      return Status::Corruption(path + " appears twice in the bundle");
    }
    if (seen.size() > kMaxBundleFiles) {
      return Status::TooLarge("the bundle holds more files than it may");
    }
    SequentialFile* body = source->Body();
    if (path == "manifest.json") {
      ASSIGN_OR_RETURN(c.manifest,
                       ReadSmall(body, size, kMaxManifestBytes, path));
      c.have_manifest = true;
      auto m = ParseManifest(c.manifest);
      if (m.ok()) {
        early = std::move(*m);
        for (const auto& item : early->items) by_path[item.path()] = &item;
      }
      continue;
    }
    if (path == "checkpoint") {
      ASSIGN_OR_RETURN(c.checkpoint,
                       ReadSmall(body, size, kMaxCheckpointBytes, path));
      c.have_checkpoint = true;
      continue;
    }
    std::string_view p = path;
    if (p.rfind("blobs/sha256/", 0) == 0 && IsLowerHex64(p.substr(13))) {
      ProgressFn on_progress;
      if (progress) {
        on_progress = [&](uint64_t n) { progress(hashed + n); };
      }
      ASSIGN_OR_RETURN(
          StreamDigests d,
          DigestStream(body, AlgorithmsFor(path, early ? &by_path : nullptr),
                       nullptr, kHashChunk, on_progress));
      if (d.size != size) {
        return Status::Corruption(path + ": read " + std::to_string(d.size) +
                                  " bytes of " + std::to_string(size));
      }
      hashed += size;
      c.blobs[path] = {d.size, std::move(d.digests)};
      continue;
    }
    ASSIGN_OR_RETURN(bool own,
                     CollectLogFile(p, path, size, body, &c.own, &buffered));
    if (own) continue;
    if (p.rfind("peers/", 0) == 0) {
      std::string_view rest = p.substr(6);
      size_t slash = rest.find('/');
      if (slash != std::string_view::npos && slash > 0) {
        std::string peer(rest.substr(0, slash));
        ASSIGN_OR_RETURN(bool peer_file,
                         CollectLogFile(rest.substr(slash + 1), path, size,
                                        body, &c.peers[peer], &buffered));
        if (peer_file) continue;
      }
    }
    if (path == "VERIFY.txt" || path == "case.jsonld") {
      // Only hashed: streamed, whatever its size.
      ASSIGN_OR_RETURN(
          StreamDigests d,
          DigestStream(body, {HashAlgorithm::kSha256}, nullptr, kHashChunk));
      if (d.size != size) return Status::Corruption(path + " ends early");
      c.files[path] = HexEncode(d.digests[HashAlgorithm::kSha256]);
      continue;
    }
    c.unexpected.push_back(path);
  }
  return c;
}

// ---- the checks

// data[key] if it is a string, else "" (an entry's data is the signer's, not
// ours: a wrong type is a mismatch, never an exception).
std::string DataString(const json& data, const char* key) {
  if (!data.is_object()) return "";
  auto it = data.find(key);
  return it != data.end() && it->is_string() ? it->get<std::string>() : "";
}

class Checker {
 public:
  Checker(const VerifyPolicy& policy, Collected* c, BundleReport* report)
      : policy_(policy), c_(*c), r_(*report) {}

  void Run() {
    if (!CheckManifest()) return;
    if (!CheckCheckpoint()) return;
    CheckWitnesses();
    CheckOwnEntries();
    CheckItems();
    CheckFiles();
  }

 private:
  void Pass(const std::string& part, const std::string& detail) {
    r_.checks.push_back({part, true, detail});
  }
  bool Fail(const std::string& part, const std::string& detail) {
    r_.checks.push_back({part, false, detail});
    return false;
  }

  bool CheckManifest() {
    if (!c_.have_manifest) return Fail("manifest.json", "missing");
    auto m = ParseManifest(c_.manifest);
    if (!m.ok()) return Fail("manifest.json", m.status().message());
    m_ = std::move(*m);
    r_.case_id = m_.case_id;
    r_.case_title = m_.case_title;
    r_.node = m_.node.name;
    r_.exported_by = m_.exported_by;
    r_.created = m_.created;
    r_.items = m_.items.size();
    r_.manifest_sha256 = HexEncode(Sha256(AsBytes(c_.manifest)));
    Pass("manifest.json", "sha256:" + r_.manifest_sha256 + ", case " +
                              m_.case_id + ", " +
                              std::to_string(m_.items.size()) + " items");
    return true;
  }

  bool CheckCheckpoint() {
    auto key = ParseVerifierKey(policy_.key);
    if (!key.ok() || key->type != kNoteKeyTypeEd25519) {
      return Fail("key", "the key given is not an Ed25519 verifier key");
    }
    key_ = *key;
    if (key_.name != m_.node.origin) {
      return Fail("key", "the key given is " + key_.name +
                             "'s; the bundle is " + m_.node.origin + "'s");
    }
    if (!c_.have_checkpoint) return Fail("checkpoint", "missing");
    auto note = ParseNote(c_.checkpoint);
    if (!note.ok()) return Fail("checkpoint", note.status().message());
    Status s = VerifyNoteSignature(*note, key_);
    if (!s.ok()) {
      return Fail("checkpoint",
                  "not signed by the key given (" + s.message() + ")");
    }
    auto body = ParseCheckpointBody(note->text);
    if (!body.ok()) return Fail("checkpoint", body.status().message());
    if (body->origin != m_.node.origin) {
      return Fail("checkpoint",
                  "its origin is " + body->origin + ", not " + m_.node.origin);
    }
    note_ = std::move(*note);
    checkpoint_ = std::move(*body);
    r_.checkpoint_size = checkpoint_.size;
    Pass("checkpoint", checkpoint_.origin + " at size " +
                           std::to_string(checkpoint_.size) +
                           ", signed by the key given");
    return true;
  }

  void CheckWitnesses() {
    // One key counts once, however often it is given.
    std::set<std::string> distinct(policy_.witnesses.begin(),
                                   policy_.witnesses.end());
    size_t required = policy_.min_witnesses < 0
                          ? distinct.size()
                          : static_cast<size_t>(policy_.min_witnesses);
    size_t good = 0;
    for (const auto& text : distinct) {
      auto key = ParseVerifierKey(text);
      std::string part = "cosignature " + (key.ok() ? key->name : text);
      if (!key.ok() || key->type != kNoteKeyTypeCosignatureV1) {
        Fail(part, "the witness key given is not a cosignature/v1 key");
        continue;
      }
      auto time = VerifyCosignature(note_, *key);
      if (!time.ok() && time.status().code() == Code::kNotFound &&
          required < distinct.size()) {
        // Absent, and the quorum may not need it: reported, not failed.
        Pass(part, "absent (not counted)");
        continue;
      }
      if (!time.ok()) {
        Fail(part, time.status().code() == Code::kNotFound
                       ? "the checkpoint carries no cosignature by this key"
                       : "does not verify: " + time.status().message());
        continue;
      }
      ++good;
      r_.cosigned_by.push_back(key->name);
      Pass(part, "verifies; cosigned at " +
                     FormatTime(static_cast<int64_t>(*time) * 1000000));
    }
    if (policy_.witnesses.empty()) {
      std::string names;
      for (const auto& sig : note_.signatures) {
        if (sig.name != m_.node.origin) names += " " + sig.name;
      }
      if (!names.empty()) {
        Pass("cosignatures",
             "none required; the checkpoint carries lines "
             "by" +
                 names +
                 " (give --witness KEY to check "
                 "them)");
      }
    }
    if (good < required) {
      Fail("cosignatures", std::to_string(good) + " verify, " +
                               std::to_string(required) + " required");
    } else if (required > 0) {
      Pass("cosignatures", std::to_string(good) + " verify, " +
                               std::to_string(required) + " required");
    }
  }

  // Checks entries/<i> against proofs/<i> and the checkpoint; returns the
  // parsed entry.
  std::optional<CustodyEntry> ProvedEntry(const std::string& prefix,
                                          const LogFiles& log, uint64_t index,
                                          const VerifierKey& key,
                                          const std::string* checkpoint_text,
                                          const std::string& node) {
    std::string entry_part = prefix + "entries/" + std::to_string(index);
    std::string proof_part = prefix + "proofs/" + std::to_string(index);
    auto e = log.entries.find(index);
    if (e == log.entries.end()) {
      Fail(entry_part, "missing");
      return std::nullopt;
    }
    auto p = log.proofs.find(index);
    if (p == log.proofs.end()) {
      Fail(proof_part, "missing");
      return std::nullopt;
    }
    auto proof = ParseTlogProof(p->second);
    if (!proof.ok()) {
      Fail(proof_part, proof.status().message());
      return std::nullopt;
    }
    if (proof->index != index) {
      Fail(proof_part, "proves index " + std::to_string(proof->index));
      return std::nullopt;
    }
    Checkpoint cp;
    if (checkpoint_text != nullptr) {
      // The same checkpoint body as the bundle's, whose signature was
      // checked: signature lines may differ (C2SP signed-note: a verifier
      // ignores signatures by keys it does not know, and a cosignature added
      // later does not change what was signed).
      auto note = ParseNote(proof->checkpoint);
      if (!note.ok() || note->text != note_.text) {
        Fail(proof_part, "its checkpoint is not the bundle's checkpoint");
        return std::nullopt;
      }
      cp = checkpoint_;
    } else {
      // A peer's proof: its checkpoint must be signed by the peer.
      auto note = ParseNote(proof->checkpoint);
      Status s = note.ok() ? VerifyNoteSignature(*note, key) : note.status();
      if (!s.ok()) {
        Fail(proof_part, "its checkpoint is not signed by " + key.name + " (" +
                             s.message() + ")");
        return std::nullopt;
      }
      auto body = ParseCheckpointBody(note->text);
      if (!body.ok() || body->origin != key.name) {
        Fail(proof_part, "its checkpoint is not " + key.name + "'s");
        return std::nullopt;
      }
      cp = std::move(*body);
    }
    Status s = merkle::VerifyInclusion(index, cp.size,
                                       merkle::LeafHash(AsBytes(e->second)),
                                       proof->hashes, cp.root);
    if (!s.ok()) {
      Fail(entry_part, "not in the log at this index: the inclusion proof " +
                           proof_part +
                           " does not lead to the checkpoint's "
                           "root (" +
                           s.message() + ")");
      return std::nullopt;
    }
    std::vector<std::string> lines;
    std::string disclosures_part =
        prefix + "disclosures/" + std::to_string(index);
    if (auto d = log.disclosures.find(index); d != log.disclosures.end()) {
      auto parsed = DisclosureLines(d->second);
      if (!parsed.ok()) {
        Fail(disclosures_part, parsed.status().message());
        return std::nullopt;
      }
      lines = std::move(*parsed);
    }
    auto opened = OpenCustodyEntry(e->second, lines);
    if (!opened.ok()) {
      Fail(lines.empty() ? entry_part : disclosures_part,
           opened.status().message());
      return std::nullopt;
    }
    CustodyEntry& entry = opened->entry;
    if (entry.node != node) {
      Fail(entry_part, "written by " + entry.node + ", not " + node);
      return std::nullopt;
    }
    if (entry.subject.rfind("sd:", 0) == 0) {
      Fail(entry_part, "is sealed, and " + disclosures_part +
                           " does not disclose its subject");
      return std::nullopt;
    }
    return std::move(entry);
  }

  void CheckOwnEntries() {
    std::set<uint64_t> listed;
    for (const auto& item : m_.items) {
      listed.insert(item.entries.begin(), item.entries.end());
    }
    std::set<uint64_t> all(listed);
    for (const auto& [index, bytes] : c_.own.entries) all.insert(index);
    size_t good = 0;
    for (uint64_t index : all) {
      auto entry =
          ProvedEntry("", c_.own, index, key_, &c_.checkpoint, m_.node.name);
      if (!entry) continue;
      ++good;
      if (!listed.count(index)) {
        // Not in the manifest: must be one of this export's entries.
        const json* named = entry->data.contains("manifest")
                                ? &entry->data["manifest"]
                                : nullptr;
        if (entry->kind == EntryKind::kEvidenceExported && named != nullptr &&
            *named != "sha256:" + r_.manifest_sha256) {
          // An export whose manifest is not this one: the manifest changed.
          Fail("manifest.json",
               "hashes to sha256:" + r_.manifest_sha256 +
                   ", but export entry " + std::to_string(index) + " names " +
                   named->dump() +
                   ": this is not the manifest the node logged");
          continue;
        }
        if (entry->kind != EntryKind::kEvidenceExported || named == nullptr) {
          Fail("entries/" + std::to_string(index),
               "is neither listed in the manifest nor an evidence.exported "
               "entry for this manifest");
          continue;
        }
        if (exports_.count(entry->subject)) {
          Fail("entries/" + std::to_string(index),
               "a second evidence.exported entry for " + entry->subject +
                   " (the first is entry " +
                   std::to_string(exports_[entry->subject].first) + ")");
          continue;
        }
        exports_[entry->subject] = {index, *entry};
      }
      own_[index] = std::move(*entry);
    }
    for (const auto& [index, text] : c_.own.proofs) {
      if (!all.count(index)) {
        Fail("proofs/" + std::to_string(index),
             "proves an entry the bundle does not hold");
      }
    }
    for (const auto& [index, text] : c_.own.disclosures) {
      if (!all.count(index)) {
        Fail("disclosures/" + std::to_string(index),
             "discloses an entry the bundle does not hold");
      }
    }
    r_.entries = c_.own.entries.size();
    Pass("entries", std::to_string(good) + " of " + std::to_string(all.size()) +
                        " entries proved against the checkpoint");
  }

  // The hashes an acquisition entry (ingested, received) records must be
  // the item's.
  void CheckRecordedHashes(const std::string& part, const CustodyEntry& e,
                           const BundleItem& item) {
    if (e.kind != EntryKind::kEvidenceIngested &&
        e.kind != EntryKind::kEvidenceReceived) {
      return;
    }
    if (!e.data.contains("size") || e.data["size"] != item.size) {
      Fail(part,
           "records another size than the item's " + std::to_string(item.size));
    }
    if (!e.data.contains("hashes") || !e.data["hashes"].is_object()) return;
    for (const auto& [name, value] : e.data["hashes"].items()) {
      std::string want = name == "sha256" ? item.sha256
                         : name == "md5"  ? item.md5
                         : name == "sha1" ? item.sha1
                                          : "";
      if (!value.is_string() || value.get<std::string>() != want) {
        Fail(part,
             "records " + name + " " + value.dump() + ", not the manifest's");
      }
    }
  }

  void CheckItems() {
    std::set<std::string> seen;
    for (const auto& item : m_.items) {
      std::string part = item.path();
      if (!seen.insert(item.address).second) {
        Fail("manifest.json", item.address + " is listed twice");
        continue;
      }
      auto b = c_.blobs.find(part);
      const Blob* blob = b == c_.blobs.end() ? nullptr : &b->second;
      if (blob == nullptr) {
        Fail(part, "missing");
      } else {
        CheckBlob(part, item, *blob);
      }
      // The item's history on this node.
      bool acquired = false;
      for (uint64_t index : item.entries) {
        auto e = own_.find(index);
        if (e == own_.end()) continue;  // failed above
        std::string ep = "entries/" + std::to_string(index);
        if (e->second.subject != item.address) {
          Fail(ep, "is about " + e->second.subject + ", not " + item.address);
          continue;
        }
        // Version 1 entries of reads and re-hashes named no case.
        bool caseless_v1 = e->second.version == 1 && e->second.case_id.empty();
        if (e->second.case_id != m_.case_id && !caseless_v1) {
          Fail(ep, "is an entry of " +
                       (e->second.case_id.rfind("sd:", 0) == 0
                            ? std::string("a case it does not disclose")
                            : "case " + e->second.case_id) +
                       ", not of " + m_.case_id);
          continue;
        }
        if (e->second.kind == EntryKind::kEvidenceIngested ||
            e->second.kind == EntryKind::kEvidenceReceived) {
          acquired = true;
        }
        CheckRecordedHashes(ep, e->second, item);
      }
      if (!acquired) {
        Fail(part,
             "no entry of its history records its acquisition "
             "(evidence.ingested or evidence.received)");
      }
      auto x = exports_.find(item.address);
      if (x == exports_.end()) {
        Fail(part, "no evidence.exported entry names this manifest for it");
      } else if (x->second.second.case_id != m_.case_id) {
        Fail("entries/" + std::to_string(x->second.first),
             "exports it in case " + x->second.second.case_id + ", not " +
                 m_.case_id);
      } else {
        Pass(part, "exported in entry " + std::to_string(x->second.first) +
                       ", which names this manifest");
      }
      for (const auto& history : item.received) {
        CheckReceived(item, history);
      }
      if (blob != nullptr) r_.bytes += blob->size;
    }
    std::set<std::string> paths;
    for (const auto& item : m_.items) paths.insert(item.path());
    for (const auto& [path, blob] : c_.blobs) {
      if (!paths.count(path)) Fail(path, "is not in the manifest");
    }
    for (const auto& [subject, x] : exports_) {
      if (!seen.count(subject)) {
        Fail("entries/" + std::to_string(x.first),
             "exports " + subject + ", which the manifest does not list");
      }
    }
  }

  void CheckBlob(const std::string& part, const BundleItem& item,
                 const Blob& blob) {
    if (blob.size != item.size) {
      Fail(part, std::to_string(blob.size) + " bytes, the manifest says " +
                     std::to_string(item.size));
      return;
    }
    std::string sha256 = HexEncode(blob.digests.at(HashAlgorithm::kSha256));
    if (sha256 != item.sha256) {
      Fail(part, "content hashes to sha256:" + sha256 + ", not its name");
      return;
    }
    std::string also;
    for (auto [algorithm, want] :
         {std::pair{HashAlgorithm::kMd5, &item.md5},
          std::pair{HashAlgorithm::kSha1, &item.sha1}}) {
      if (want->empty()) continue;
      auto d = blob.digests.find(algorithm);
      std::string got = d == blob.digests.end() ? "" : HexEncode(d->second);
      if (got != *want) {
        Fail(part, std::string(HashName(algorithm)) + " is " + got +
                       ", the manifest records " + *want);
        return;
      }
      also += std::string(", ") + std::string(HashName(algorithm));
    }
    Pass(part, std::to_string(blob.size) + " bytes; sha256" + also +
                   " match the manifest");
  }

  void CheckReceived(const BundleItem& item, const ReceivedHistory& h) {
    std::string prefix = "peers/" + h.peer + "/";
    auto peer =
        std::find_if(m_.peers.begin(), m_.peers.end(),
                     [&](const BundleNode& p) { return p.name == h.peer; });
    if (peer == m_.peers.end()) {
      Fail("manifest.json", item.address + " was received from " + h.peer +
                                ", which the manifest does not describe");
      return;
    }
    auto key = PeerKey(*peer);
    if (!key) return;
    auto& log = c_.peers[h.peer];
    std::optional<CustodyEntry> last;
    for (uint64_t index : h.entries) {
      auto entry = ProvedEntry(prefix, log, index, *key, nullptr, h.peer);
      if (!entry) return;
      std::string ep = prefix + "entries/" + std::to_string(index);
      if (entry->subject != item.address) {
        Fail(ep, "is about " + entry->subject + ", not " + item.address);
        return;
      }
      CheckRecordedHashes(ep, *entry, item);
      ++r_.peer_entries;
      last = std::move(entry);
    }
    uint64_t last_index = h.entries.back();
    std::string lp = prefix + "entries/" + std::to_string(last_index);
    if (last->kind != EntryKind::kEvidenceTransferred ||
        DataString(last->data, "to") != m_.node.name) {
      Fail(lp,
           "is not " + h.peer + "'s release of the object to " + m_.node.name);
      return;
    }
    // Our evidence.received entry must name that release.
    bool linked = false;
    for (uint64_t index : item.entries) {
      auto e = own_.find(index);
      if (e == own_.end()) continue;
      const CustodyEntry& r = e->second;
      if (r.kind == EntryKind::kEvidenceReceived &&
          DataString(r.data, "from") == h.peer &&
          r.data.contains("peer_entry") && r.data["peer_entry"] == last_index) {
        linked = true;
      }
    }
    if (!linked) {
      Fail(lp, "no evidence.received entry of " + m_.node.name +
                   " names this release");
      return;
    }
    Pass(prefix + "entries",
         std::to_string(h.entries.size()) + " entries of " + h.peer +
             " about " + item.address + " proved against " + h.peer +
             "'s checkpoints; its release is received in our log");
  }

  std::optional<VerifierKey> PeerKey(const BundleNode& peer) {
    std::string part = "peers/" + peer.name;
    auto from_manifest = ParseVerifierKey(peer.key);
    for (const auto& text : policy_.peer_keys) {
      auto key = ParseVerifierKey(text);
      if (!key.ok() || key->name != peer.origin) continue;
      used_peer_keys_.insert(text);
      if (from_manifest.ok() && from_manifest->public_key != key->public_key) {
        Fail(part, "the manifest gives another key for " + peer.name +
                       " than the one given");
        return std::nullopt;
      }
      return *key;
    }
    if (!from_manifest.ok() || from_manifest->name != peer.origin ||
        from_manifest->type != kNoteKeyTypeEd25519) {
      Fail(part, "the manifest's key for " + peer.name + " is not usable");
      return std::nullopt;
    }
    return *from_manifest;
  }

  void CheckFiles() {
    for (const auto& text : policy_.peer_keys) {
      if (used_peer_keys_.count(text)) continue;
      auto key = ParseVerifierKey(text);
      Fail("peer key " + (key.ok() ? key->name : text),
           "given, but no history in the bundle was checked with it");
    }
    for (const auto& path : c_.unexpected) {
      Fail(path, "is not part of a bundle");
    }
    for (const auto& [name, want] : m_.files) {
      auto f = c_.files.find(name);
      if (f == c_.files.end()) {
        Fail(name, "missing");
      } else if (f->second != want) {
        Fail(name, "hashes to sha256:" + f->second + ", the manifest records " +
                       want);
      } else {
        Pass(name, "matches the manifest");
      }
    }
    for (const auto& [name, hash] : c_.files) {
      if (!m_.files.count(name)) Fail(name, "is not in the manifest");
    }
    for (const auto& [peer, log] : c_.peers) {
      std::set<uint64_t> used;
      for (const auto& item : m_.items) {
        for (const auto& h : item.received) {
          if (h.peer == peer) used.insert(h.entries.begin(), h.entries.end());
        }
      }
      for (const auto* files : {&log.entries, &log.proofs, &log.disclosures}) {
        for (const auto& [index, text] : *files) {
          if (!used.count(index)) {
            Fail("peers/" + peer + "/" +
                     (files == &log.entries  ? "entries/"
                      : files == &log.proofs ? "proofs/"
                                             : "disclosures/") +
                     std::to_string(index),
                 "is not in the manifest");
          }
        }
      }
    }
  }

  const VerifyPolicy& policy_;
  Collected& c_;
  BundleReport& r_;
  BundleManifest m_;
  VerifierKey key_;
  Note note_;
  Checkpoint checkpoint_;
  std::map<uint64_t, CustodyEntry> own_;
  std::set<std::string> used_peer_keys_;
  // evidence.exported entries for this manifest, by subject.
  std::map<std::string, std::pair<uint64_t, CustodyEntry>> exports_;
};

}  // namespace

Result<std::unique_ptr<BundleSource>> OpenBundle(Env* env,
                                                 const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    std::vector<std::string> files;
    RETURN_IF_ERROR(ListFiles(env, path, "", 0, &files));
    std::stable_sort(files.begin(), files.end(),
                     [](const std::string& a, const std::string& b) {
                       return FileRank(a) < FileRank(b);
                     });
    return std::unique_ptr<BundleSource>(
        new DirectoryBundleSource(env, path, std::move(files)));
  }
  ASSIGN_OR_RETURN(auto file, env->NewSequentialFile(path));
  return std::unique_ptr<BundleSource>(new TarBundleSource(std::move(file)));
}

Result<BundleReport> VerifyBundle(BundleSource* source,
                                  const VerifyPolicy& policy,
                                  const ProgressFn& progress) {
  BundleReport report;
  auto collected = Collect(source, progress);
  if (!collected.ok()) {
    // A malformed archive is a failed bundle, not an error of the caller's.
    if (collected.status().code() == Code::kIO) return collected.status();
    report.checks.push_back({"archive", false, collected.status().message()});
    return report;
  }
  try {
    Checker(policy, &*collected, &report).Run();
  } catch (const std::exception& e) {
    // A backstop for hostile input: a check that could not finish fails.
    report.checks.push_back(
        {"bundle", false, std::string("could not be checked: ") + e.what()});
  }
  report.ok = std::all_of(report.checks.begin(), report.checks.end(),
                          [](const BundleCheck& c) { return c.ok; });
  return report;
}

std::string BundleReport::FirstFailure() const {
  for (const auto& c : checks) {
    if (!c.ok) return c.part + ": " + c.detail;
  }
  return "";
}

std::string BundleReport::ToText() const {
  std::string out = "amanah bundle verification\n";
  if (!case_id.empty()) {
    out += "  case         " + case_id + " (" + case_title + ")\n";
    out +=
        "  exported by  " + node + ", " + exported_by + ", " + created + "\n";
    out += "  manifest     sha256:" + manifest_sha256 + "\n";
  }
  if (checkpoint_size > 0) {
    out += "  checkpoint   size " + std::to_string(checkpoint_size) + "\n";
    out += "  items        " + std::to_string(items) + ", " +
           std::to_string(bytes) + " bytes\n";
    out += "  entries      " + std::to_string(entries) + " of " + node + ", " +
           std::to_string(peer_entries) + " of its peers\n";
  }
  out += "\n";
  for (const auto& c : checks) {
    out += (c.ok ? "  ok    " : "  FAIL  ") + c.part + ": " + c.detail + "\n";
  }
  size_t failed = std::count_if(checks.begin(), checks.end(),
                                [](const BundleCheck& c) { return !c.ok; });
  out += "\n";
  out += ok ? "PASS: all " + std::to_string(checks.size()) + " checks hold\n"
            : "FAIL: " + std::to_string(failed) + " of " +
                  std::to_string(checks.size()) +
                  " checks fail; the first: " + FirstFailure() + "\n";
  return out;
}

std::string BundleReport::ToJson() const {
  json checks_json = json::array();
  for (const auto& c : checks) {
    checks_json.push_back(
        {{"part", c.part}, {"ok", c.ok}, {"detail", c.detail}});
  }
  json j = {{"ok", ok},
            {"case", case_id},
            {"case_title", case_title},
            {"node", node},
            {"exported_by", exported_by},
            {"created", created},
            {"manifest_sha256", manifest_sha256},
            {"checkpoint_size", checkpoint_size},
            {"items", items},
            {"bytes", bytes},
            {"entries", entries},
            {"peer_entries", peer_entries},
            {"cosigned_by", cosigned_by},
            {"checks", std::move(checks_json)}};
  if (!ok) j["first_failure"] = FirstFailure();
  std::string out;
  AppendJson(&out, j);
  return out;
}

}  // namespace amanah
