// amanah: the command-line interface. A thin edge over app/.

#include <pwd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

#include "app/cases.h"
#include "app/custody_index.h"
#include "app/evidence.h"
#include "app/export.h"
#include "app/fsck.h"
#include "app/messages.h"
#include "app/node.h"
#include "app/recovery.h"
#include "bundle/verify_command.h"
#include "cli/common.h"
#include "federation/witness_client.h"
#include "ledger/custody_entry.h"
#include "ledger/merkle.h"

namespace amanah {

std::string LocalActor() {
  uid_t uid = ::geteuid();
  long hint = ::sysconf(_SC_GETPW_R_SIZE_MAX);
  std::vector<char> buf(hint > 0 ? static_cast<size_t>(hint) : 4096);
  passwd pw;
  passwd* found = nullptr;
  int rc;
  while ((rc = ::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found)) ==
             ERANGE &&
         buf.size() < (1 << 20)) {
    buf.resize(buf.size() * 2);
  }
  if (rc == 0 && found != nullptr && found->pw_name != nullptr &&
      found->pw_name[0] != '\0') {
    return std::string("local:") + found->pw_name;
  }
  return "local:uid" + std::to_string(uid);
}

namespace {

using nlohmann::json;

std::string DefaultDataDir() {
  const char* env = std::getenv("AMANAH_DATA");
  return env && *env ? env : "./amanah-data";
}

// Prints progress on stderr for work that takes more than a few seconds.
class Progress {
 public:
  explicit Progress(std::string label)
      : label_(std::move(label)),
        start_(std::chrono::steady_clock::now()),
        last_(start_),
        tty_(::isatty(STDERR_FILENO)) {}
  ~Progress() {
    if (shown_ && tty_) std::fputs("\n", stderr);
  }
  void operator()(uint64_t bytes) {
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - start_).count();
    double since = std::chrono::duration<double>(now - last_).count();
    if (elapsed < 3 || since < (tty_ ? 0.5 : 10)) return;
    last_ = now;
    shown_ = true;
    std::fprintf(stderr, "%s%s: %.2f GiB, %.0f MB/s%s", tty_ ? "\r" : "",
                 label_.c_str(), bytes / 1073741824.0, bytes / elapsed / 1e6,
                 tty_ ? "   " : "\n");
    std::fflush(stderr);
  }
  ProgressFn fn() {
    return [this](uint64_t b) { (*this)(b); };
  }

 private:
  std::string label_;
  std::chrono::steady_clock::time_point start_, last_;
  bool tty_;
  bool shown_ = false;
};

std::string Hex(const std::map<HashAlgorithm, Bytes>& d, HashAlgorithm a) {
  auto it = d.find(a);
  return it == d.end() ? "" : HexEncode(it->second);
}

// ---- init -----------------------------------------------------------------

int RunInit(const Globals& g, const std::string& name) {
  auto info = Node::Init(Env::Default(), g.data, name);
  if (!info.ok()) return Fail(info.status());
  if (g.json) {
    PrintJson({{"name", info->name},
               {"origin", info->origin},
               {"verifier_key", info->verifier_key},
               {"tls_pin", info->tls_pin},
               {"data", g.data}});
  } else {
    std::cout << "Initialised node " << info->name << " in " << g.data << "\n"
              << "Origin:       " << info->origin << "\n"
              << "Verifier key: " << info->verifier_key << "\n"
              << "TLS pin:      " << info->tls_pin << " (keys/tls.pem)\n"
              << "Give the verifier key to anyone who must check this node's "
                 "log, and both to peer nodes (amanah peer add).\n";
  }
  return 0;
}

// ---- ingest ---------------------------------------------------------------

json OutcomeJson(const IngestOutcome& o) {
  json j = {{"address", o.object.address.ToString()},
            {"size", o.object.size},
            {"hashes", HashesJson(o.object.digests)},
            {"duplicate", o.object.duplicate},
            {"entry_index", o.entry_index},
            {"entry", json::parse(o.entry)}};
  // From the report: the entry is sealed (its data are digests).
  if (o.ewf) j["ewf"] = EwfJson(*o.ewf);
  if (o.ewf && !o.ewf->header.empty()) {
    j["ewf_header"] = EwfHeaderJson(o.ewf->header);
  }
  return j;
}

void PrintOutcome(const std::string& path, const IngestOutcome& o) {
  std::cout << o.object.address.ToString() << "  " << path << "\n"
            << "  size    " << o.object.size << " bytes"
            << (o.object.duplicate ? " (content already held: recorded again)"
                                   : "")
            << "\n";
  for (HashAlgorithm a : {HashAlgorithm::kMd5, HashAlgorithm::kSha1}) {
    std::string h = Hex(o.object.digests, a);
    if (!h.empty())
      std::cout << "  " << HashName(a)
                << (a == HashAlgorithm::kMd5 ? "     " : "    ") << h << "\n";
  }
  if (o.ewf) {
    const EwfReport& e = *o.ewf;
    std::cout << "  E01 media " << e.media_size << " bytes\n"
              << "    md5     " << Hex(e.media, HashAlgorithm::kMd5)
              << " (image records "
              << (e.stored_md5.empty() ? "none" : e.stored_md5) << ")\n"
              << "    sha1    " << Hex(e.media, HashAlgorithm::kSha1)
              << " (image records "
              << (e.stored_sha1.empty() ? "none" : e.stored_sha1) << ")\n"
              << "    sha256  " << Hex(e.media, HashAlgorithm::kSha256) << "\n"
              << "    verdict " << e.verdict << "\n";
    for (const auto& [name, p] : e.segments) {
      std::cout << "    segment " << name << " " << p.address.ToString()
                << "\n";
    }
    // One line each: no value has a control character (vault/e01.h).
    for (const auto& [name, value] : e.header.values) {
      std::cout << "    " << name << std::string(17 - name.size(), ' ') << value
                << "\n";
    }
    for (const auto& why : e.header.refused) {
      std::cout << "    header value not taken: " << why << "\n";
    }
  }
  std::cout << "  custody entry " << o.entry_index << "\n";
}

int RunIngest(const Globals& g, const std::vector<std::string>& paths,
              const std::string& case_id, bool md5, bool sha1,
              const std::string& note) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  json all = json::array();
  bool mismatch = false;
  for (const auto& path : paths) {
    IngestRequest req{path, case_id, g.actor, note, md5, sha1};
    Progress progress("ingesting " + path);
    auto out = Ingest(**node, req, progress.fn());
    if (!out.ok()) return Fail(out.status().Annotate(path));
    if (out->ewf && out->ewf->verdict == "mismatch") mismatch = true;
    if (g.json) {
      all.push_back(OutcomeJson(*out));
    } else {
      PrintOutcome(path, *out);
    }
  }
  if (g.json) PrintJson(all);
  if (mismatch) {
    std::fprintf(stderr,
                 "amanah: corruption: an E01 image's media does not match the "
                 "hashes it records (ingested and recorded as such)\n");
    return ExitCodeFor(Code::kCorruption);
  }
  return 0;
}

// ---- log ------------------------------------------------------------------

int RunLogCheckpoint(const Globals& g) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto cp = (*node)->ReadCheckpoint();
  if (!cp.ok()) return Fail(cp.status());
  if (g.json) {
    PrintJson({{"origin", (*node)->info().origin},
               {"size", cp->size},
               {"root", Base64Encode(cp->root)},
               {"note", cp->note},
               {"verifier_key", (*node)->info().verifier_key}});
  } else {
    std::cout << cp->note;
  }
  return 0;
}

int RunLogShow(const Globals& g, uint64_t from, std::optional<uint64_t> to,
               bool open) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto cp = (*node)->ReadCheckpoint();
  if (!cp.ok()) return Fail(cp.status());
  uint64_t end = to ? std::min(*to + 1, cp->size) : cp->size;
  if (from > end) {
    return Fail(Status::InvalidInput("--from is beyond --to or the log size " +
                                     std::to_string(cp->size)));
  }
  LogReader reader(&(*node)->tiles(), nullptr, cp->size);
  CustodyIndex index(&(*node)->sql());
  json all = json::array();
  for (uint64_t i = from; i < end; ++i) {
    auto e = reader.Entry(i);
    if (!e.ok()) return Fail(e.status());
    // --open: as the case's members read it, with the disclosures this
    // node's database keeps (the log, which peers read, holds it sealed).
    json opened;
    if (open) {
      auto o = index.Opened(reader, i);
      if (!o.ok()) return Fail(o.status());
      opened = CustodyEntryJson(o->entry);
    }
    if (g.json) {
      json j = {{"index", i}, {"entry", json::parse(*e, nullptr, false)}};
      if (open) j["opened"] = std::move(opened);
      all.push_back(std::move(j));
    } else {
      std::cout << i << "\t" << (open ? opened.dump() : *e) << "\n";
    }
  }
  if (g.json) PrintJson(all);
  return 0;
}

int RunLogProve(const Globals& g, uint64_t index,
                std::optional<uint64_t> size) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto cp = (*node)->ReadCheckpoint();
  if (!cp.ok()) return Fail(cp.status());
  uint64_t n = size.value_or(cp->size);
  if (n > cp->size) {
    return Fail(Status::InvalidInput("--size " + std::to_string(n) +
                                     " is beyond the log size " +
                                     std::to_string(cp->size)));
  }
  if (index >= n) {
    return Fail(Status::InvalidInput("index " + std::to_string(index) +
                                     " is not in a log of size " +
                                     std::to_string(n)));
  }
  LogReader reader(&(*node)->tiles(), nullptr, n);
  auto entry = reader.Entry(index);
  if (!entry.ok()) return Fail(entry.status());
  auto proof = reader.InclusionProof(index);
  if (!proof.ok()) return Fail(proof.status());
  auto root = reader.Root();
  if (!root.ok()) return Fail(root.status());
  Hash256 leaf = merkle::LeafHash(AsBytes(*entry));
  Status v = merkle::VerifyInclusion(index, n, leaf, *proof, *root);
  if (n == cp->size && *root != cp->root) {
    v = Status::Corruption("tiles give a root that is not the checkpoint's");
  }
  if (g.json) {
    json j = {{"index", index},
              {"tree_size", n},
              {"leaf_hash", Base64Encode(leaf)},
              {"root", Base64Encode(*root)},
              {"proof", ProofToJson(*proof)},
              {"entry", *entry},
              {"verified", v.ok()}};
    if (n == cp->size) j["checkpoint"] = cp->note;
    PrintJson(j);
  } else {
    std::cout << "entry " << index << " in tree of size " << n << "\n"
              << *entry << "\n"
              << "leaf hash " << Base64Encode(leaf) << "\n"
              << "root      " << Base64Encode(*root) << "\n"
              << "proof (" << proof->size() << " hashes, leaf to root):\n";
    for (const auto& h : *proof) std::cout << "  " << Base64Encode(h) << "\n";
    std::cout << "verified: " << (v.ok() ? "yes" : "NO (" + v.message() + ")")
              << "\n";
  }
  return v.ok() ? 0 : Fail(v);
}

int RunLogConsistency(const Globals& g, uint64_t old_size, uint64_t new_size) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto cp = (*node)->ReadCheckpoint();
  if (!cp.ok()) return Fail(cp.status());
  if (new_size > cp->size || old_size > new_size || old_size == 0) {
    return Fail(Status::InvalidInput("need 0 < OLD <= NEW <= log size " +
                                     std::to_string(cp->size)));
  }
  LogReader old_reader(&(*node)->tiles(), nullptr, old_size);
  LogReader reader(&(*node)->tiles(), nullptr, new_size);
  auto r1 = old_reader.Root();
  auto r2 = reader.Root();
  if (!r1.ok()) return Fail(r1.status());
  if (!r2.ok()) return Fail(r2.status());
  auto proof = reader.ConsistencyProof(old_size);
  if (!proof.ok()) return Fail(proof.status());
  Status v = merkle::VerifyConsistency(old_size, new_size, *r1, *r2, *proof);
  if (g.json) {
    PrintJson({{"old_size", old_size},
               {"new_size", new_size},
               {"old_root", Base64Encode(*r1)},
               {"new_root", Base64Encode(*r2)},
               {"proof", ProofToJson(*proof)},
               {"verified", v.ok()}});
  } else {
    std::cout << "tree " << old_size << " root " << Base64Encode(*r1) << "\n"
              << "tree " << new_size << " root " << Base64Encode(*r2) << "\n"
              << "consistency proof (" << proof->size() << " hashes):\n";
    for (const auto& h : *proof) std::cout << "  " << Base64Encode(h) << "\n";
    std::cout << "verified: " << (v.ok() ? "yes" : "NO (" + v.message() + ")")
              << "\n";
  }
  return v.ok() ? 0 : Fail(v);
}

// ---- cat, verify, fsck ----------------------------------------------------

class StdoutSink final : public ChunkSink {
 public:
  Status Consume(ByteView chunk, uint64_t, bool) override {
    if (std::fwrite(chunk.data(), 1, chunk.size(), stdout) != chunk.size()) {
      return Status::IOError("writing to standard output failed");
    }
    return Status::OK();
  }
};

int RunCat(const Globals& g, const std::string& case_id,
           const std::string& address) {
  auto a = ContentAddress::Parse(address);
  if (!a.ok()) return Fail(a.status());
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  StdoutSink sink;
  auto r = ReadEvidence(**node, case_id, *a, g.actor, &sink);
  if (std::fflush(stdout) != 0 && r.ok()) {
    return Fail(Status::IOError("writing to standard output failed"));
  }
  if (!r.ok()) return Fail(r.status());
  return 0;
}

int RunVerify(const Globals& g, const std::string& case_id,
              const std::string& address) {
  auto a = ContentAddress::Parse(address);
  if (!a.ok()) return Fail(a.status());
  if (case_id.empty()) {
    return Fail(Status::InvalidInput(
        "name the case the object is evidence of: --case ID"));
  }
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  Progress progress("verifying " + address);
  auto r = VerifyEvidence(**node, case_id, *a, g.actor, progress.fn());
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    PrintJson({{"address", address},
               {"intact", r->intact},
               {"size", r->check.size},
               {"problem", r->problem},
               {"entry_index", r->entry_index}});
  } else if (r->intact) {
    std::cout << address << ": intact (" << r->check.size
              << " bytes, every chunk authenticated, SHA-256 matches)\n"
              << "recorded as custody entry " << r->entry_index << "\n";
  } else {
    std::cout << address << ": CORRUPT: " << r->problem << "\n"
              << "recorded as custody entry " << r->entry_index << "\n";
  }
  return r->intact ? 0 : ExitCodeFor(Code::kCorruption);
}

// ---- export ----------------------------------------------------------------

struct ExportArgs {
  std::string case_id, out;
  std::vector<std::string> items;
  bool no_witness = false;
};

int RunExport(const Globals& g, const ExportArgs& a) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  Node* n = node->get();
  ExportRequest req{a.case_id, a.items, g.actor,
                    a.out.substr(a.out.find_last_of('/') + 1)};
  std::function<void()> cosign;
  if (!a.no_witness) {
    // Ask the peers to witness the checkpoint that covers the export, so
    // that the bundle carries their cosignatures; a peer that cannot be
    // reached is left out (amanah peer list says why).
    cosign = [n] { WitnessClient(n, std::chrono::seconds(10)).SubmitToAll(); };
  }
  Progress progress("exporting " + a.case_id);
  auto r = ExportToFile(n, req, a.out, cosign, progress.fn());
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    PrintJson({{"bundle", a.out},
               {"case", a.case_id},
               {"manifest_sha256", r->manifest_sha256},
               {"items", r->items},
               {"bytes", r->bytes},
               {"entries", r->entries},
               {"peer_entries", r->peer_entries},
               {"checkpoint_size", r->checkpoint_size},
               {"first_export_entry", r->first_export_entry},
               {"cosigned_by", r->cosigned_by},
               {"key", r->verifier_key}});
    return 0;
  }
  std::cout << "exported case " << a.case_id << " to " << a.out << ": "
            << r->items << " item(s), " << r->bytes << " bytes, " << r->entries
            << " custody entries";
  if (r->peer_entries > 0) {
    std::cout << " and " << r->peer_entries << " of peers";
  }
  std::cout << "\nmanifest sha256:" << r->manifest_sha256
            << ", logged in entries " << r->first_export_entry << " to "
            << r->first_export_entry + r->items - 1 << "\n"
            << "checkpoint size " << r->checkpoint_size;
  if (r->cosigned_by.empty()) {
    std::cout << ", not cosigned (no peer witnessed it)";
  } else {
    std::cout << ", cosigned by";
    for (const auto& w : r->cosigned_by) std::cout << " " << w;
  }
  std::cout << "\nverify with: amanah-verify " << a.out << " --key '"
            << r->verifier_key << "'\n";
  return 0;
}

int RunFsck(const Globals& g, bool repair) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  // Recovered first, as opening the node to serve it would be (changes a
  // crash kept from committing are voided, vault intents settled): right
  // after a crash, fsck checks the node as it will be used, rather than
  // fail on what its next open undoes. While `amanah serve` holds the log,
  // it has done this, and the check goes on without it; a log that does
  // not open is checked as it is, to say why.
  auto log = (*node)->Log();
  Progress progress("checking vault");
  auto r = Fsck(**node, progress.fn());
  if (!r.ok()) return Fail(r.status());
  if (!log.ok() && log.status().code() != Code::kUnavailable && r->ok) {
    r->ok = false;
    r->file = JoinPath(g.data, "log");
    r->problem = log.status().message();
  }
  // --repair removes what no ingest, upload or pull accounts for (recorded
  // first, in one node.repaired entry), then checks again.
  VaultLeftovers removed;
  if (repair && r->log_ok && !r->leftovers.empty()) {
    removed = r->leftovers;
    Status s = RemoveVaultLeftovers(**node, g.actor, removed);
    if (!s.ok()) return Fail(s);
    r = Fsck(**node, progress.fn());
    if (!r.ok()) return Fail(r.status());
  }
  // Record the check, unless the log itself failed it: appending to a log
  // that does not verify would bury the evidence of the problem.
  std::optional<uint64_t> index;
  if (r->log_ok && log.ok()) {
    CustodyEntry e;
    e.kind = EntryKind::kNodeChecked;
    e.actor = g.actor;
    e.subject = (*node)->info().origin;
    e.data = {{"result", r->ok ? "ok" : "failed"},
              {"log_size", r->log_size},
              {"objects", r->objects_checked},
              {"bytes", r->object_bytes}};
    // The problem is printed, not logged: it may name an object.
    auto rec = (*node)->Record(std::move(e));
    if (rec.ok()) index = rec->first;
  }
  if (g.json) {
    json j = {{"ok", r->ok},
              {"log_size", r->log_size},
              {"entries_checked", r->entries_checked},
              {"tiles_checked", r->tiles_checked},
              {"objects_checked", r->objects_checked},
              {"object_bytes", r->object_bytes}};
    if (!r->ok) {
      j["problem"] = r->problem;
      j["file"] = r->file;
    }
    if (index) j["entry_index"] = *index;
    if (repair) {
      j["removed"] = {{"orphan_objects", removed.orphans.size()},
                      {"orphan_bytes", removed.orphan_bytes},
                      {"temp_files", removed.temp_files.size()},
                      {"temp_bytes", removed.temp_bytes}};
    }
    PrintJson(j);
  } else {
    if (!removed.empty()) {
      std::cout << "repaired: removed " << removed.orphans.size()
                << " vault object(s) that no ingest records ("
                << removed.orphan_bytes << " bytes) and "
                << removed.temp_files.size() << " temporary file(s) ("
                << removed.temp_bytes << " bytes)\n";
    }
    std::cout << "log: " << r->entries_checked << " of " << r->log_size
              << " entries, " << r->tiles_checked << " tiles checked\n"
              << "vault: " << r->objects_checked << " objects, "
              << r->object_bytes << " bytes checked\n";
    if (r->ok) {
      std::cout << "fsck: ok\n";
    } else {
      std::cout << "fsck: FAILED\n  file:    " << r->file
                << "\n  problem: " << r->problem << "\n";
    }
  }
  return r->ok ? 0 : ExitCodeFor(Code::kCorruption);
}

// ---- tour: the README's main command ---------------------------------------

int RunTour(Globals g) {
  Env* env = Env::Default();
  if (!env->FileExists(JoinPath(g.data, "node.toml"))) {
    std::cout << "== amanah init --name demo.amanah.local --data " << g.data
              << "\n";
    int rc = RunInit(g, "demo.amanah.local");
    if (rc != 0) return rc;
  }
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  std::string sample = JoinPath(g.data, "sample-evidence.txt");
  std::string text =
      "Sample evidence made by `amanah tour` at " +
      FormatTime(env->NowUnixNanos() / 1000) +
      ".\nIn a real case this would be a disk image, a phone extraction or a "
      "provider's production.\n";
  Status s = WriteFileAtomic(env, sample, AsBytes(text), 0600);
  if (!s.ok()) return Fail(s);
  {
    CaseBook book(node->get());
    auto existing = book.Get("TOUR-1");
    if (!existing.ok()) return Fail(existing.status());
    if (!*existing) {
      std::cout << "\n== amanah case open TOUR-1 --title \"amanah tour\" "
                   "--offence other --legal-basis \"demonstration\"\n";
      CaseDraft d{"TOUR-1", "amanah tour", Offence::kOther, "demonstration"};
      auto c = book.Open(g.actor, d, "");
      if (!c.ok()) return Fail(c.status());
      std::cout << "opened case TOUR-1\n";
    }
  }
  std::cout << "\n== amanah ingest " << sample
            << " --case TOUR-1 --md5 --sha1\n";
  IngestRequest req{sample, "TOUR-1", g.actor, "ingested by amanah tour",
                    true,   true};
  auto out = Ingest(**node, req);
  if (!out.ok()) return Fail(out.status());
  PrintOutcome(sample, *out);
  std::cout << "\n== custody entry " << out->entry_index << "\n"
            << out->entry << "\n";
  CustodyLog* log = *(*node)->Log();
  SignedCheckpoint cp = log->Latest();
  LogReader reader = log->Reader();
  auto proof = reader.InclusionProof(out->entry_index);
  if (!proof.ok()) return Fail(proof.status());
  std::cout << "\n== inclusion proof of entry " << out->entry_index
            << " in the tree of size " << cp.size << "\n";
  for (const auto& h : *proof) std::cout << "  " << Base64Encode(h) << "\n";
  Status v = merkle::VerifyInclusion(out->entry_index, cp.size,
                                     merkle::LeafHash(AsBytes(out->entry)),
                                     *proof, cp.root);
  std::cout << "\n== signed checkpoint\n" << cp.note;
  std::cout << "\n== verification\n"
            << "inclusion proof against the checkpoint: "
            << (v.ok() ? "verified" : "FAILED: " + v.message()) << "\n";
  auto ver = VerifyEvidence(**node, req.case_id, out->object.address, g.actor);
  if (!ver.ok()) return Fail(ver.status());
  std::cout << "vault object " << out->object.address.ToString() << ": "
            << (ver->intact ? "intact" : "CORRUPT: " + ver->problem)
            << " (custody entry " << ver->entry_index << ")\n"
            << "\nVerifier key: " << (*node)->info().verifier_key << "\n"
            << "Data directory: " << g.data << "\n";
  return v.ok() && ver->intact ? 0 : ExitCodeFor(Code::kCorruption);
}

int Main(int argc, char** argv) {
  CLI::App app{
      "amanah: preserve, hold and exchange electronic evidence with "
      "cryptographic proof of custody"};
  app.require_subcommand(1);
  Globals g;
  g.data = DefaultDataDir();
  g.actor = LocalActor();
  app.add_option("--data", g.data,
                 "node directory (default $AMANAH_DATA, else ./amanah-data)");
  app.add_flag("--json", g.json, "machine-readable output");
  app.fallthrough();

  int rc = 0;
  std::string name;
  auto* init = app.add_subcommand("init", "create a node directory");
  init->add_option("--name", name, "node name, e.g. ccd.moi.gov.kw")
      ->required();
  init->callback([&] { rc = RunInit(g, name); });

  std::vector<std::string> paths;
  std::string case_id, note;
  bool md5 = false, sha1 = false;
  auto* ingest = app.add_subcommand("ingest", "stream evidence into the vault");
  ingest->add_option("paths", paths, "files to ingest; - for standard input")
      ->required();
  ingest->add_option("--case", case_id, "case identifier")->required();
  ingest->add_flag("--md5", md5, "also compute MD5");
  ingest->add_flag("--sha1", sha1, "also compute SHA-1");
  ingest->add_option("--note", note, "a note recorded with the entry");
  ingest->callback([&] { rc = RunIngest(g, paths, case_id, md5, sha1, note); });

  auto* log = app.add_subcommand("log", "read the custody log");
  log->require_subcommand(1);
  log->add_subcommand("checkpoint", "print the signed checkpoint")
      ->callback([&] { rc = RunLogCheckpoint(g); });
  uint64_t from = 0;
  std::optional<uint64_t> to, size;
  auto* show = log->add_subcommand("show", "print entries");
  show->add_option("--from", from, "first index");
  show->add_option("--to", to, "last index (inclusive)");
  bool open_entries = false;
  show->add_flag("--open", open_entries,
                 "entries about a case opened with their disclosures");
  show->callback([&] { rc = RunLogShow(g, from, to, open_entries); });
  uint64_t index = 0;
  auto* prove = log->add_subcommand("prove", "inclusion proof of an entry");
  prove->add_option("index", index, "entry index")->required();
  prove->add_option("--size", size, "tree size (default: the checkpoint's)");
  prove->callback([&] { rc = RunLogProve(g, index, size); });
  uint64_t old_size = 0, new_size = 0;
  auto* cons = log->add_subcommand("consistency", "consistency proof");
  cons->add_option("old", old_size, "older tree size")->required();
  cons->add_option("new", new_size, "newer tree size")->required();
  cons->callback([&] { rc = RunLogConsistency(g, old_size, new_size); });

  std::string address, evidence_case;
  auto* cat = app.add_subcommand("cat", "decrypt evidence to standard output");
  cat->add_option("address", address, "sha256:HEX")->required();
  cat->add_option("--case", evidence_case, "the case it is evidence of")
      ->required();
  cat->callback([&] { rc = RunCat(g, evidence_case, address); });
  VerifyCommand bundle_check;
  auto* verify = app.add_subcommand(
      "verify",
      "re-hash one vault object (sha256:HEX), or check an exported bundle "
      "offline (FILE.tar or a directory, with --key)");
  verify->add_option("target", address, "sha256:HEX, or a bundle")->required();
  verify->add_option("--case", evidence_case,
                     "object: the case it is evidence of");
  verify->add_option("--key", bundle_check.policy.key,
                     "bundle: the exporting node's verifier key");
  verify->add_option("--witness", bundle_check.policy.witnesses,
                     "bundle: a witness whose cosignature is required");
  verify->add_option("--min-witnesses", bundle_check.policy.min_witnesses,
                     "bundle: how many of the witnesses (default: all)");
  verify->add_option("--peer-key", bundle_check.policy.peer_keys,
                     "bundle: a key for a peer whose history it carries");
  verify->callback([&] {
    if (address.rfind("sha256:", 0) == 0) {
      rc = RunVerify(g, evidence_case, address);
      return;
    }
    if (bundle_check.policy.key.empty()) {
      rc = Fail(Status::InvalidInput(
          "verifying a bundle needs --key, the exporting node's verifier "
          "key"));
      return;
    }
    bundle_check.bundle = address;
    bundle_check.json = g.json;
    rc = RunVerifyCommand(bundle_check);
  });
  ExportArgs export_args;
  auto* exp = app.add_subcommand(
      "export", "export a case's evidence as a bundle for court");
  exp->add_option("--case", export_args.case_id, "case identifier")->required();
  exp->add_option("--item", export_args.items,
                  "sha256:HEX (default: every item of the case)");
  exp->add_option("--out", export_args.out, "the bundle to write, FILE.tar")
      ->required();
  exp->add_flag("--no-witness", export_args.no_witness,
                "do not ask the peers to cosign the checkpoint first");
  exp->callback([&] { rc = RunExport(g, export_args); });
  bool repair = false;
  auto* fsck = app.add_subcommand(
      "fsck",
      "re-verify the whole log and vault, and that log, database and vault "
      "agree");
  fsck->add_flag("--repair", repair,
                 "remove vault objects and temporary files that nothing "
                 "accounts for (recorded as node.repaired)");
  fsck->callback([&] { rc = RunFsck(g, repair); });
  UserArgs user_args;
  AddUserCommands(app, g, user_args, rc);
  PeerArgs peer_args;
  AddPeerCommands(app, g, peer_args, rc);
  CaseArgs case_args;
  AddCaseCommands(app, g, case_args, rc);
  RequestArgs request_args;
  AddRequestCommands(app, g, request_args, rc);
  ServeArgs serve_args;
  AddServeCommand(app, g, serve_args, rc);
  AddDemoCommand(app, rc);
  app.add_subcommand("tour",
                     "initialise a node if needed, ingest a sample, and show "
                     "its entry, proof and verification")
      ->callback([&] { rc = RunTour(g); });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : ExitCodeFor(Code::kInvalidInput);
  }
  return rc;
}

}  // namespace
}  // namespace amanah

int main(int argc, char** argv) { return amanah::Main(argc, argv); }
