#include "app/export.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>

#include "app/custody_index.h"
#include "app/evidence.h"
#include "app/peers.h"
#include "app/testutil.h"
#include "app/witness.h"
#include "base/encoding.h"
#include "bundle/proof_text.h"
#include "bundle/verify.h"
#include "ledger/log_reader.h"

namespace amanah {
namespace {

namespace fs = std::filesystem;

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void WriteFile(const fs::path& p, const std::string& content) {
  std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
}

int Sh(const std::string& command) {
  int rc = std::system(command.c_str());
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

// The Kuwaiti node of the fixture holds a case with two items; a US node in
// the same process witnesses its log.
class ExportTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    std::string us_dir = (dir_ / "us").string();
    ASSERT_TRUE(Node::Init(Env::Default(), us_dir, "cyber.doj.example").ok());
    us_ = std::move(Node::Open(Env::Default(), us_dir)).value();
    ASSERT_TRUE(PeerBook(node_.get())
                    .Add("local:a", "cyber.doj.example", "http://127.0.0.1:9",
                         us_->info().verifier_key, "")
                    .ok());
    ASSERT_TRUE(PeerBook(us_.get())
                    .Add("local:a", "ccd.moi.gov.kw", "http://127.0.0.1:9",
                         node_->info().verifier_key, "")
                    .ok());
    ASSERT_TRUE(CaseBook(node_.get())
                    .Open("local:poc",
                          {"KW-7", "Phishing ring", Offence::kCybercrime, "x"},
                          "")
                    .ok());
    a_ = Evidence("a.bin", 3 * 1024 * 1024 + 17, 1, true, true, &a_entry_);
    b_ = Evidence("b.txt", 10, 2, false, false, &b_entry_);
    auto v = VerifyEvidence(*node_, "KW-7", b_, "local:analyst");
    ASSERT_TRUE(v.ok());
    b_verified_ = v->entry_index;
  }
  void TearDown() override {
    us_.reset();
    NodeFixture::TearDown();
  }

  ContentAddress Evidence(const std::string& name, size_t size, uint32_t seed,
                          bool md5, bool sha1, uint64_t* entry) {
    std::mt19937 rng(seed);
    std::string s(size, '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    std::string path = WriteInput(name, s);
    auto out = Ingest(*node_, {path, "KW-7", "local:analyst", "", md5, sha1});
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    *entry = out->entry_index;
    return out->object.address;
  }

  // What `amanah serve` does to have its checkpoint witnessed, in process.
  void Cosign() {
    Witness w(node_.get());
    auto body = w.SubmissionBody(cosigned_);
    ASSERT_TRUE(body.ok()) << body.status().ToString();
    WitnessReply r = Witness(us_.get()).AddCheckpoint(body->first);
    ASSERT_EQ(r.http_status, 200) << r.reason;
    std::string note = body->first.substr(body->first.find("\n\n") + 2);
    ASSERT_TRUE(
        w.AcceptCosignature("cyber.doj.example", body->second, note, r.body)
            .ok());
    cosigned_ = body->second;
  }

  Result<ExportSummary> Export(const fs::path& out, bool cosign = true,
                               std::vector<std::string> items = {}) {
    std::function<void()> fn;
    if (cosign) fn = [this] { Cosign(); };
    return ExportToFile(node_.get(),
                        {"KW-7", items, "local:prosecutor", "bundle.tar"},
                        out.string(), fn);
  }

  VerifyPolicy Policy() {
    VerifyPolicy p;
    p.key = node_->info().verifier_key;
    p.witnesses = {us_->CosignerKey()};
    return p;
  }

  BundleReport Check(const fs::path& bundle, const VerifyPolicy& policy) {
    auto source = OpenBundle(Env::Default(), bundle.string());
    EXPECT_TRUE(source.ok()) << source.status().ToString();
    auto report = VerifyBundle(source->get(), policy);
    EXPECT_TRUE(report.ok()) << report.status().ToString();
    return *report;
  }

  // Exports once and extracts the bundle into `dir` with GNU tar.
  fs::path Extracted(const std::string& name) {
    fs::path tar = dir_ / (name + ".tar");
    auto r = Export(tar);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    fs::path out = dir_ / name;
    fs::create_directories(out);
    EXPECT_EQ(Sh("tar -xf " + tar.string() + " -C " + out.string()), 0);
    return out;
  }

  std::unique_ptr<Node> us_;
  uint64_t cosigned_ = 0;
  ContentAddress a_, b_;
  uint64_t a_entry_ = 0, b_entry_ = 0, b_verified_ = 0;  // their ingests
};

TEST_F(ExportTest, ABundleVerifiesWithOnlyThePublicKeys) {
  fs::path tar = dir_ / "out" / "KW-7.tar";
  fs::create_directories(tar.parent_path());
  uint64_t before = LogSize();
  auto r = Export(tar);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->items, 2u);
  EXPECT_EQ(r->bytes, 3u * 1024 * 1024 + 17 + 10);
  EXPECT_EQ(r->cosigned_by, std::vector<std::string>{"cyber.doj.example"});
  EXPECT_FALSE(fs::exists(tar.string() + ".partial"));
  // Evidence in clear: readable by its owner alone.
  EXPECT_EQ(fs::status(tar).permissions() & fs::perms::all,
            fs::perms::owner_read | fs::perms::owner_write);

  // The export is in the log: one evidence.exported entry per item, naming
  // the manifest, before the checkpoint the bundle carries.
  EXPECT_EQ(r->first_export_entry, before);
  LogReader at = (*node_->Log())->ReaderAt(r->checkpoint_size);
  for (uint64_t i = before; i < before + 2; ++i) {
    auto e = *testutil::OpenedEntryAt(node_.get(), i);
    EXPECT_EQ(e.kind, EntryKind::kEvidenceExported);
    EXPECT_EQ(e.case_id, "KW-7");
    EXPECT_EQ(e.actor, "local:prosecutor");
    EXPECT_EQ(e.data["manifest"], "sha256:" + r->manifest_sha256);
  }

  // Checked by someone with no node: only the two public keys.
  BundleReport report = Check(tar, Policy());
  EXPECT_TRUE(report.ok) << report.ToText();
  EXPECT_EQ(report.manifest_sha256, r->manifest_sha256);
  EXPECT_EQ(report.items, 2u);
  EXPECT_EQ(report.cosigned_by, std::vector<std::string>{"cyber.doj.example"});
  EXPECT_NE(report.ToText().find("PASS"), std::string::npos);

  // The archive is an ordinary tar: extracted by GNU tar, it verifies too,
  // and the objects are byte for byte what was ingested.
  fs::path out = dir_ / "extracted";
  fs::create_directories(out);
  ASSERT_EQ(Sh("tar -xf " + tar.string() + " -C " + out.string()), 0);
  EXPECT_EQ(ReadFile(out / "blobs" / "sha256" / HexEncode(a_.digest)),
            ReadFile(dir_ / "a.bin"));
  EXPECT_TRUE(Check(out, Policy()).ok);

  // A second export never overwrites the first, and logs nothing.
  uint64_t size = LogSize();
  auto again = Export(tar, false);
  EXPECT_EQ(again.status().code(), Code::kConflict);
  EXPECT_EQ(LogSize(), size);
}

TEST_F(ExportTest, TheByHandInstructionsWork) {
  fs::path out = Extracted("hand");
  std::string text = ReadFile(out / "VERIFY.txt");
  size_t begin = text.find("#!/bin/sh\n");
  size_t end = text.find("# end of script\n");
  ASSERT_NE(begin, std::string::npos);
  ASSERT_NE(end, std::string::npos);
  fs::path script = dir_ / "check.sh";
  WriteFile(script, text.substr(begin, end - begin));
  std::string run = "cd " + out.string() + " && sh " + script.string() + " '" +
                    node_->info().verifier_key + "' > " +
                    (dir_ / "check.out").string() + " 2>&1";
  EXPECT_EQ(Sh(run), 0) << ReadFile(dir_ / "check.out");
  // It checks against the key it is given, not the bundle's.
  EXPECT_NE(Sh("cd " + out.string() + " && sh " + script.string() + " '" +
               us_->info().verifier_key + "' > /dev/null 2>&1"),
            0);

  // The same script notices a changed entry and a changed object.
  fs::path entry = out / "entries" / std::to_string(a_entry_);
  std::string original = ReadFile(entry);
  WriteFile(entry, original.substr(0, original.size() - 2) + " }");
  EXPECT_NE(Sh(run), 0);
  WriteFile(entry, original);
  EXPECT_EQ(Sh(run), 0) << ReadFile(dir_ / "check.out");
  fs::path blob = out / "blobs" / "sha256" / HexEncode(b_.digest);
  std::string bytes = ReadFile(blob);
  bytes[3] ^= 1;
  WriteFile(blob, bytes);
  EXPECT_NE(Sh(run), 0);
}

// Issue 18, item 13: a checkpoint is a signed note; a signature line by a
// key the verifier does not know (a witness's cosignature added after the
// export, say) is ignored (C2SP signed-note), by the verifier and by the
// by-hand script, although the proofs embed the checkpoint as exported.
TEST_F(ExportTest, AnUnknownSignatureOnTheCheckpointIsIgnored) {
  fs::path out = Extracted("extra");
  std::string cp = ReadFile(out / "checkpoint");
  ASSERT_EQ(cp.back(), '\n');
  // Four bytes of key hash and 64 of signature, as an Ed25519 line has.
  std::string sig(68, '\0');
  for (size_t i = 0; i < sig.size(); ++i) sig[i] = static_cast<char>(i * 7);
  WriteFile(out / "checkpoint",
            cp + "— late-witness.example " + Base64Encode(AsBytes(sig)) + "\n");
  BundleReport r = Check(out, Policy());
  EXPECT_TRUE(r.ok) << r.ToText();

  std::string text = ReadFile(out / "VERIFY.txt");
  size_t begin = text.find("#!/bin/sh\n");
  size_t end = text.find("# end of script\n");
  ASSERT_NE(end, std::string::npos);
  fs::path script = dir_ / "extra.sh";
  WriteFile(script, text.substr(begin, end - begin));
  EXPECT_EQ(Sh("cd " + out.string() + " && sh " + script.string() + " '" +
               node_->info().verifier_key + "' > " +
               (dir_ / "extra.out").string() + " 2>&1"),
            0)
      << ReadFile(dir_ / "extra.out");
  // The signed body itself still may not change.
  std::string body_changed = cp;
  body_changed[body_changed.find('\n') + 1] ^= 1;
  WriteFile(out / "checkpoint", body_changed);
  EXPECT_FALSE(Check(out, Policy()).ok);
}

// Each way of altering a bundle fails verification and names the file.
TEST_F(ExportTest, TamperingWithAnyPartIsNamed) {
  fs::path good = Extracted("good");
  ASSERT_TRUE(Check(good, Policy()).ok);
  std::string a_blob = "blobs/sha256/" + HexEncode(a_.digest);

  struct Case {
    std::string name, part;
    std::function<void(const fs::path&)> alter;
  };
  auto flip = [](const std::string& file, size_t at) {
    return [file, at](const fs::path& d) {
      std::string s = ReadFile(d / file);
      s[std::min(at, s.size() - 1)] ^= 0x01;
      WriteFile(d / file, s);
    };
  };
  auto replace = [](const std::string& file, std::string from, std::string to) {
    return [file, from, to](const fs::path& d) {
      std::string s = ReadFile(d / file);
      size_t at = s.find(from);
      ASSERT_NE(at, std::string::npos) << from << " in " << file;
      s.replace(at, from.size(), to);
      WriteFile(d / file, s);
    };
  };
  const std::string ae = "entries/" + std::to_string(a_entry_);
  const std::string ap = "proofs/" + std::to_string(a_entry_);
  std::string proof = ReadFile(good / ap);
  size_t first_hash = proof.find('\n', proof.find("index ")) + 1;
  std::string hash_line = proof.substr(first_hash, 44);
  std::string checkpoint = ReadFile(good / "checkpoint");
  std::string cosig = checkpoint.substr(checkpoint.find("— cyber.doj"));
  std::vector<Case> cases = {
      {"a byte of an object", a_blob, flip(a_blob, 2 * 1024 * 1024)},
      {"an entry", ae, replace(ae, "\"actor\":\"sd:", "\"actor\":\"sd:0")},
      {"a disclosure", "disclosures/" + std::to_string(a_entry_),
       replace("disclosures/" + std::to_string(a_entry_), "local:analyst",
               "local:analyst2")},
      {"a missing disclosure", ae,
       [&](const fs::path& d) {
         fs::remove(d / "disclosures" / std::to_string(a_entry_));
       }},
      {"a proof", ae,
       replace(ap, hash_line,
               (hash_line[0] == 'A' ? "B" : "A") + hash_line.substr(1))},
      {"the checkpoint's root", "checkpoint",
       [&](const fs::path& d) {
         std::string s = checkpoint;
         size_t line3 = s.find('\n', s.find('\n') + 1) + 1;
         s[line3 + 1] = s[line3 + 1] == 'A' ? 'B' : 'A';
         WriteFile(d / "checkpoint", s);
       }},
      {"a cosignature", "cosignature cyber.doj.example",
       [&](const fs::path& d) {
         std::string s = checkpoint;
         size_t at = s.find("— cyber.doj") + cosig.size() - 10;
         s[at] = s[at] == 'A' ? 'B' : 'A';
         WriteFile(d / "checkpoint", s);
       }},
      {"the manifest", "manifest.json",
       replace("manifest.json", "Phishing ring", "Phishing rind")},
      {"a missing object", a_blob,
       [&](const fs::path& d) { fs::remove(d / a_blob); }},
      {"a missing entry", "entries/" + std::to_string(b_entry_),
       [&](const fs::path& d) {
         fs::remove(d / "entries" / std::to_string(b_entry_));
       }},
      {"a missing proof", "proofs/" + std::to_string(b_verified_),
       [&](const fs::path& d) {
         fs::remove(d / "proofs" / std::to_string(b_verified_));
       }},
      {"an entry not about the item", "entries/0",
       [&](const fs::path& d) {
         // The peer.added entry, with its proof, slipped in.
         std::string cp = ReadFile(d / "checkpoint");
         uint64_t size = std::stoull(cp.substr(cp.find('\n') + 1));
         LogReader at = (*node_->Log())->ReaderAt(size);
         WriteFile(d / "entries" / "0", *at.Entry(0));
         WriteFile(d / "proofs" / "0",
                   FormatTlogProof({"", 0, *at.InclusionProof(0), cp}));
       }},
      {"an extra file", "notes.txt",
       [&](const fs::path& d) { WriteFile(d / "notes.txt", "x"); }},
      {"an extra object", "blobs/sha256/" + std::string(64, 'a'),
       [&](const fs::path& d) {
         WriteFile(d / "blobs" / "sha256" / std::string(64, 'a'), "");
       }},
      {"VERIFY.txt", "VERIFY.txt", flip("VERIFY.txt", 100)},
      {"a manifest emptied of its items", "manifest.json",
       [&](const fs::path& d) {
         // Nothing would tie it to the log: a forged export.
         std::string m = ReadFile(d / "manifest.json");
         size_t from = m.find("\"items\":[") + 9;
         size_t to = m.find("],\"node\"");
         WriteFile(d / "manifest.json", m.substr(0, from) + m.substr(to));
         for (const auto& e : fs::directory_iterator(d / "blobs" / "sha256")) {
           fs::remove(e.path());
         }
       }},
      {"case.jsonld", "case.jsonld", flip("case.jsonld", 50)},
  };
  int n = 0;
  for (const auto& c : cases) {
    fs::path d = dir_ / "t";
    d += std::to_string(n++);  // not "t" + ...: GCC 12 -O3 -Wrestrict
    fs::copy(good, d, fs::copy_options::recursive);
    c.alter(d);
    BundleReport r = Check(d, Policy());
    EXPECT_FALSE(r.ok) << c.name << " went unnoticed";
    if (!c.part.empty()) {
      EXPECT_NE(r.FirstFailure().find(c.part), std::string::npos)
          << c.name << ": " << r.FirstFailure();
    }
  }
  // An altered manifest no longer matches the export entries.
  fs::path d = dir_ / "manifest";
  fs::copy(good, d, fs::copy_options::recursive);
  replace("manifest.json", "Phishing ring", "Phishing rind")(d);
  std::string text = Check(d, Policy()).ToText();
  EXPECT_NE(text.find("not the manifest the node logged"), std::string::npos)
      << text;
}

TEST_F(ExportTest, TheWrongKeyOrAMissingWitnessFails) {
  fs::path good = Extracted("keys");
  VerifyPolicy p = Policy();
  p.key = us_->info().verifier_key;
  BundleReport r = Check(good, p);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.FirstFailure().find("key"), std::string::npos);

  // A witness that did not cosign.
  std::string other = (dir_ / "other").string();
  ASSERT_TRUE(Node::Init(Env::Default(), other, "witness.example").ok());
  auto w = std::move(Node::Open(Env::Default(), other)).value();
  p = Policy();
  p.witnesses.push_back(w->CosignerKey());
  r = Check(good, p);
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.FirstFailure().find("cosignature witness.example"),
            std::string::npos)
      << r.FirstFailure();
  // One of the two is enough when the court says so.
  p.min_witnesses = 1;
  EXPECT_TRUE(Check(good, p).ok);
}

TEST_F(ExportTest, AnUncosignedBundleStillProvesItsHistory) {
  fs::path tar = dir_ / "plain.tar";
  auto r = Export(tar, /*cosign=*/false, {b_.ToString()});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->cosigned_by.empty());
  EXPECT_EQ(r->items, 1u);
  VerifyPolicy p = Policy();
  p.witnesses.clear();
  BundleReport report = Check(tar, p);
  EXPECT_TRUE(report.ok) << report.ToText();
  // Requiring a witness fails it.
  EXPECT_FALSE(Check(tar, Policy()).ok);
}

TEST_F(ExportTest, BadRequestsLogNothingAndLeaveNothing) {
  uint64_t size = LogSize();
  fs::path tar = dir_ / "x.tar";
  auto r = ExportToFile(node_.get(), {"NO-SUCH", {}, "local:p", "x.tar"},
                        tar.string(), nullptr);
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  r = Export(tar, false, {"sha256:" + std::string(64, '0')});
  EXPECT_EQ(r.status().code(), Code::kNotFound);
  r = Export(tar, false, {"sha256:zz"});
  EXPECT_EQ(r.status().code(), Code::kInvalidInput);
  ASSERT_TRUE(
      CaseBook(node_.get())
          .Open("local:poc", {"EMPTY", "t", Offence::kCybercrime, "x"}, "")
          .ok());
  r = ExportToFile(node_.get(), {"EMPTY", {}, "local:p", "x.tar"}, tar.string(),
                   nullptr);
  EXPECT_EQ(r.status().code(), Code::kInvalidInput);
  r = Export(dir_ / "no-such-dir" / "x.tar", false);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(LogSize(), size + 1);  // only the case.opened of EMPTY
  EXPECT_FALSE(fs::exists(tar));
  EXPECT_FALSE(fs::exists(tar.string() + ".partial"));
}

TEST_F(ExportTest, ACorruptObjectOrAFullDiskLeavesNoBundle) {
  // A full disk while writing: no bundle, no partial file.
  fs::path tar = dir_ / "full.tar";
  env_.SetWriteBudget(1024 * 1024);
  auto r = Export(tar, false);
  env_.ClearFaults();
  EXPECT_FALSE(r.ok());
  EXPECT_FALSE(fs::exists(tar));
  EXPECT_FALSE(fs::exists(tar.string() + ".partial"));

  // A vault object that no longer decrypts: the export fails, names it, and
  // leaves nothing.
  std::string path = node_->vault().PathOf(a_);
  std::string bytes = ReadFile(path);
  bytes[bytes.size() / 2] ^= 0x40;
  WriteFile(path, bytes);
  r = Export(tar, false);
  EXPECT_EQ(r.status().code(), Code::kCorruption) << r.status().ToString();
  EXPECT_FALSE(fs::exists(tar));
  EXPECT_FALSE(fs::exists(tar.string() + ".partial"));
}

}  // namespace
}  // namespace amanah
