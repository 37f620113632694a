#include "app/node.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/cases.h"
#include "app/evidence.h"
#include "app/evidence_db.h"
#include "app/fsck.h"
#include "app/testutil.h"
#include "storage/fault_injection_env.h"
#include "storage/sqlite/schema.h"
#include "storage/sqlite/sqlite.h"
#include "storage/testutil.h"

namespace amanah {
namespace {

namespace fs = std::filesystem;

// InitAndOpen opens four cases: four custody entries.
constexpr uint64_t kCaseEntries = 4;

class NodeTest : public testutil::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    data_ = (dir_ / "data").string();
  }

  std::unique_ptr<Node> InitAndOpen(Env* env = Env::Default()) {
    auto info = Node::Init(env, data_, "ccd.moi.gov.kw");
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    auto node = Node::Open(env, data_);
    EXPECT_TRUE(node.ok()) << node.status().ToString();
    if (!node.ok()) return nullptr;
    // The cases the tests ingest into.
    for (const char* id : {"C", "C-1", "KW-1", "C-E01"}) {
      CaseDraft d{id, "test case", Offence::kCybercrime, "test"};
      EXPECT_TRUE(CaseBook(node->get()).Open("local:test", d, "").ok());
    }
    return std::move(node).value();
  }

  static void FlipByte(const fs::path& p, size_t offset) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(static_cast<std::streamoff>(offset));
    char c;
    f.get(c);
    f.seekp(static_cast<std::streamoff>(offset));
    f.put(static_cast<char>(c ^ 0x20));
  }

  // A node with a few ingests: 300 entries so there is a full tile.
  std::unique_ptr<Node> Populated() {
    auto node = InitAndOpen();
    std::string in = WriteInput("a.bin", std::string(5000, 'a'));
    for (int i = 0; i < 296; ++i) {  // after the 4 case.opened entries
      IngestRequest req{in, "C-1", "local:test", "", i == 0, false};
      EXPECT_TRUE(Ingest(*node, req).ok());
    }
    return node;
  }

  std::string data_;
};

TEST_F(NodeTest, InitCreatesKeysAndRefusesToOverwrite) {
  auto info = Node::Init(Env::Default(), data_, "ccd.moi.gov.kw");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->origin, "ccd.moi.gov.kw/custody");
  EXPECT_EQ(info->verifier_key.rfind("ccd.moi.gov.kw/custody+", 0), 0u);
  for (const char* key : {"keys/signing.key", "keys/vault.key"}) {
    struct stat st;
    ASSERT_EQ(::stat((fs::path(data_) / key).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
  EXPECT_EQ(Node::Init(Env::Default(), data_, "other").status().code(),
            Code::kConflict);
  EXPECT_EQ(Node::Init(Env::Default(), (dir_ / "x").string(), "Bad Name")
                .status()
                .code(),
            Code::kInvalidInput);
  auto node = Node::Open(Env::Default(), data_);
  ASSERT_TRUE(node.ok());
  auto cp = (*node)->ReadCheckpoint();
  ASSERT_TRUE(cp.ok()) << cp.status().ToString();
  EXPECT_EQ(cp->size, 0u);
  // A key file others can read is refused.
  fs::permissions(fs::path(data_) / "keys/vault.key", fs::perms::others_read,
                  fs::perm_options::add);
  EXPECT_EQ(Node::Open(Env::Default(), data_).status().code(),
            Code::kPermission);
}

TEST_F(NodeTest, WrongDataDirectory) {
  auto node = Node::Open(Env::Default(), (dir_ / "nowhere").string());
  EXPECT_EQ(node.status().code(), Code::kNotFound);
  EXPECT_NE(node.status().message().find("amanah init"), std::string::npos);
}

// The node's schema is at the latest version once it opens; a database a
// later amanah has migrated is refused, naming the file, and not touched.
TEST_F(NodeTest, ADatabaseOfALaterVersionIsRefused) {
  auto node = InitAndOpen();
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(*SqliteSchemaVersion(node->sql()), LatestSqliteSchemaVersion());
  int later = LatestSqliteSchemaVersion() + 1;
  ASSERT_TRUE(
      node->sql()
          .Exec(("PRAGMA user_version = " + std::to_string(later)).c_str())
          .ok());
  node.reset();
  auto opened = Node::Open(Env::Default(), data_);
  EXPECT_EQ(opened.status().code(), Code::kConflict);
  EXPECT_NE(opened.status().message().find("amanah.db"), std::string::npos)
      << opened.status().ToString();
  EXPECT_NE(opened.status().message().find("later amanah"), std::string::npos)
      << opened.status().ToString();
  auto db = SqliteDb::Open((fs::path(data_) / "amanah.db").string());
  ASSERT_TRUE(db.ok());
  EXPECT_EQ(*SqliteSchemaVersion(**db), later);
}

TEST_F(NodeTest, IngestRecordsEntryAndIsProvable) {
  auto node = InitAndOpen();
  std::string in = WriteInput("e.txt", "evidence");
  IngestRequest req{in, "KW-1", "local:test", "seized phone", true, true};
  auto out = Ingest(*node, req);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(out->object.address.digest, Sha256(AsBytes("evidence")));
  // In the log the entry is sealed: nothing of the case, the content or
  // the note; its members read it opened.
  for (const char* text :
       {"KW-1", "seized phone", "e.txt", "ee8250fb76e094b34b471f13a73dbbe5"}) {
    EXPECT_EQ(out->entry.find(text), std::string::npos) << text;
  }
  auto e = testutil::OpenedEntryAt(node.get(), out->entry_index);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->kind, EntryKind::kEvidenceIngested);
  EXPECT_EQ(e->case_id, "KW-1");
  Hasher md5(HashAlgorithm::kMd5);
  md5.Update(AsBytes("evidence"));
  EXPECT_EQ(e->data["hashes"]["md5"], HexEncode(md5.Finish()));
  EXPECT_EQ(e->data["hashes"]["sha256"],
            HexEncode(Sha256(AsBytes("evidence"))));
  EXPECT_EQ(e->data["note"], "seized phone");
  auto again = Ingest(*node, req);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->object.duplicate);
  EXPECT_EQ(again->entry_index, out->entry_index + 1);
  EXPECT_EQ((*node->db().IngestsOf(out->object.address.ToString())).size(), 2u);
  auto fsck = Fsck(*node);
  ASSERT_TRUE(fsck.ok());
  EXPECT_TRUE(fsck->ok) << fsck->problem;
}

TEST_F(NodeTest, BadInputsFailCleanly) {
  auto node = InitAndOpen();
  IngestRequest missing{
      (dir_ / "missing").string(), "C", "a", "", false, false};
  EXPECT_EQ(Ingest(*node, missing).status().code(), Code::kNotFound);
  std::string unreadable = WriteInput("secret", "x");
  ::chmod(unreadable.c_str(), 0);
  if (::geteuid() != 0) {  // root reads anything
    IngestRequest r{unreadable, "C", "a", "", false, false};
    EXPECT_EQ(Ingest(*node, r).status().code(), Code::kPermission);
  }
  IngestRequest dir{dir_.string(), "C", "a", "", false, false};
  EXPECT_EQ(Ingest(*node, dir).status().code(), Code::kInvalidInput);
  IngestRequest nocase{WriteInput("f", "x"), "", "a", "", false, false};
  EXPECT_EQ(Ingest(*node, nocase).status().code(), Code::kInvalidInput);
  // Nothing partial is visible: no object, no entry beyond the cases'.
  EXPECT_TRUE(node->vault().List()->empty());
  EXPECT_EQ(node->ReadCheckpoint()->size, kCaseEntries);
}

TEST_F(NodeTest, FullDiskDuringIngestLeavesNothingPartial) {
  FaultInjectionEnv env(Env::Default());
  auto node = InitAndOpen(&env);
  std::string in = WriteInput("big.bin", std::string(3 << 20, 'q'));
  env.SetWriteBudget(1 << 20);
  IngestRequest req{in, "C-1", "local:test", "", false, false};
  auto out = Ingest(*node, req);
  EXPECT_EQ(out.status().code(), Code::kIO);
  EXPECT_NE(out.status().message().find("No space"), std::string::npos);
  env.ClearFaults();
  EXPECT_TRUE(node->vault().List()->empty());
  EXPECT_TRUE(fs::is_empty(fs::path(data_) / "vault/tmp"));
  EXPECT_EQ(node->ReadCheckpoint()->size, kCaseEntries);
  // Space is back: the same ingest now works.
  ASSERT_TRUE(Ingest(*node, req).ok());
  EXPECT_TRUE(Fsck(*node)->ok);
}

TEST_F(NodeTest, FullDiskDuringInitLeavesNothing) {
  FaultInjectionEnv env(Env::Default());
  env.SetWriteBudget(100);
  auto info = Node::Init(&env, data_, "ccd.moi.gov.kw");
  EXPECT_EQ(info.status().code(), Code::kIO);
  EXPECT_FALSE(fs::exists(fs::path(data_) / "node.toml"));
  EXPECT_FALSE(fs::exists(fs::path(data_) / "keys"));
  env.ClearFaults();
  EXPECT_TRUE(Node::Init(&env, data_, "ccd.moi.gov.kw").ok());
}

// Flip a byte in a vault object, a tile, an entry bundle, the checkpoint:
// fsck fails and names the file.
TEST_F(NodeTest, FsckNamesEveryTamper) {
  { auto node = Populated(); }
  fs::path log = fs::path(data_) / "log";
  struct Case {
    fs::path file;
    size_t offset;
    std::string expect;  // in the problem text
  };
  auto object =
      *fs::recursive_directory_iterator(fs::path(data_) / "vault/sha256");
  while (!fs::is_regular_file(object.path())) {
    object = *fs::recursive_directory_iterator(object.path());
  }
  std::vector<Case> cases = {
      {object.path(), 300, "fails authentication"},
      {log / "tile/0/000", 40, "tile/0/000: hash 1"},
      {log / "tile/0/001.p/44", 33 * 32, "tile/0/001.p/44"},
      {log / "tile/entries/000", 30, "tile/entries/000"},
      {log / "tile/entries/001.p/44", 60, "tile/entries/001.p/44"},
      {log / "checkpoint", 30, "checkpoint"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.file.string());
    ASSERT_TRUE(fs::exists(c.file));
    FlipByte(c.file, c.offset);
    auto node = Node::Open(Env::Default(), data_);
    ASSERT_TRUE(node.ok());
    auto r = Fsck(**node);
    ASSERT_TRUE(r.ok());
    EXPECT_FALSE(r->ok);
    EXPECT_NE(r->problem.find(c.expect), std::string::npos) << r->problem;
    EXPECT_EQ(fs::path(r->file), c.file) << r->problem;
    FlipByte(c.file, c.offset);  // restore
    EXPECT_TRUE(Fsck(**node)->ok);
  }
}

TEST_F(NodeTest, E01IngestChecksEmbeddedHashes) {
  if (std::system("command -v ewfacquire >/dev/null 2>&1") != 0) {
    GTEST_SKIP() << "ewfacquire (Debian package ewf-tools) is not installed";
  }
  std::string raw(2 << 20, '\0');
  for (size_t i = 0; i < raw.size(); ++i)
    raw[i] = static_cast<char>(i * 7 % 251);
  std::string raw_path = WriteInput("disk.raw", raw);
  std::string cmd =
      "ewfacquire -u -q -d sha1 -c none -C EWF-qz-0042 -e 'Examiner qz' "
      "-N 'sealed bag qz' -t " +
      (dir_ / "img").string() + " " + raw_path + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  auto node = InitAndOpen();
  IngestRequest req{
      (dir_ / "img.E01").string(), "C-E01", "local:t", "", false, false};
  auto out = Ingest(*node, req);
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  ASSERT_TRUE(out->ewf);
  EXPECT_EQ(out->ewf->verdict, "match");
  EXPECT_EQ(out->ewf->media_size, raw.size());
  Hash256 want = Sha256(AsBytes(raw));
  EXPECT_EQ(out->ewf->media[HashAlgorithm::kSha256],
            Bytes(want.begin(), want.end()));
  auto e = testutil::OpenedEntryAt(node.get(), out->entry_index);
  EXPECT_EQ(e->data["ewf"]["verdict"], "match");
  EXPECT_EQ(e->data["ewf"]["stored"]["md5"],
            HexEncode(out->ewf->media[HashAlgorithm::kMd5]));
  // The container's own hashes are recorded too.
  EXPECT_TRUE(e->data["hashes"].contains("md5"));
  // What the image's header says, for the case's members: sealed in the
  // log like the rest of the entry, whose files never hold it in clear.
  EXPECT_EQ(e->data["ewf_header"]["case_number"], "EWF-qz-0042");
  EXPECT_EQ(e->data["ewf_header"]["examiner"], "Examiner qz");
  EXPECT_EQ(e->data["ewf_header"]["notes"], "sealed bag qz");
  EXPECT_FALSE(e->data["ewf_header"].contains("refused"));
  EXPECT_EQ(
      out->ewf->header.values.front(),
      std::make_pair(std::string("case_number"), std::string("EWF-qz-0042")));
  for (const auto& f : fs::recursive_directory_iterator(dir_ / "data/log")) {
    if (!f.is_regular_file()) continue;
    std::ifstream in(f.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    for (const char* value : {"EWF-qz-0042", "Examiner qz", "sealed bag qz"}) {
      EXPECT_EQ(bytes.find(value), std::string::npos) << f.path();
    }
  }

  // Corrupt the media data: reported as corruption, nothing recorded.
  fs::path img = dir_ / "img.E01";
  FlipByte(img, fs::file_size(img) / 2);
  uint64_t before = node->ReadCheckpoint()->size;
  auto bad = Ingest(*node, req);
  EXPECT_EQ(bad.status().code(), Code::kCorruption) << bad.status().ToString();
  EXPECT_EQ(node->ReadCheckpoint()->size, before);
}

}  // namespace
}  // namespace amanah

namespace amanah {
namespace {

// Many threads' changes share transactions and log appends; a change that
// fails leaves nothing, the others all land, each with its entry.
TEST_F(NodeTest, ApplyGroupCommitsAndIsolatesFailures) {
  auto node = InitAndOpen();
  ASSERT_TRUE(node->sql().Exec("CREATE TABLE t (v INTEGER UNIQUE)").ok());
  uint64_t before = (*node->Log())->Latest().size;
  constexpr int kThreads = 16, kEach = 20;
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        int v = t * kEach + i;
        auto r = node->Apply([&]() -> Result<std::vector<CustodyEntry>> {
          Statement ins(node->sql(), "INSERT INTO t(v) VALUES(?)");
          ins.Bind(1, v);
          RETURN_IF_ERROR(ins.Run());
          if (v % 7 == 0) return Status::Conflict("refused on purpose");
          CustodyEntry e;
          e.kind = EntryKind::kNodeChecked;
          e.actor = "local:test";
          e.subject = "row:" + std::to_string(v);
          return std::vector<CustodyEntry>{e};
        });
        if (v % 7 == 0) {
          EXPECT_EQ(r.status().code(), Code::kConflict);
        } else {
          EXPECT_TRUE(r.ok()) << r.status().ToString();
          if (r.ok()) {
            auto bytes = (*node->Log())->Reader().Entry(*r);
            ASSERT_TRUE(bytes.ok());
            EXPECT_EQ(ParseCustodyEntry(*bytes)->subject,
                      "row:" + std::to_string(v));
          }
          ++ok;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  Statement q(node->sql(), "SELECT COUNT(*) FROM t");
  ASSERT_EQ(q.Step(), SQLITE_ROW);
  EXPECT_EQ(q.Int(0), ok.load());
  EXPECT_EQ((*node->Log())->Latest().size, before + ok.load());
}

// A change applied inside a transaction its caller holds (a request filed
// from the inbox is one): it joins that transaction, commits or is undone
// with it, rather than wait behind another thread's batch, whose
// transaction cannot begin until the caller's ends. It waited, for ever,
// when the crash test first filed requests in one transaction.
TEST_F(NodeTest, ApplyInsideATransactionJoinsIt) {
  auto node = InitAndOpen();
  ASSERT_TRUE(node->sql().Exec("CREATE TABLE t (v INTEGER)").ok());
  auto change = [&](int v) {
    return [&node, v]() -> Result<std::vector<CustodyEntry>> {
      Statement ins(node->sql(), "INSERT INTO t(v) VALUES(?)");
      ins.Bind(1, v);
      RETURN_IF_ERROR(ins.Run());
      CustodyEntry e;
      e.kind = EntryKind::kNodeChecked;
      e.actor = "local:test";
      e.subject = "row:" + std::to_string(v);
      return std::vector<CustodyEntry>{e};
    };
  };
  std::atomic<bool> done{false};
  std::thread watchdog([&] {
    for (int i = 0; i < 300 && !done; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!done) {
      std::fprintf(stderr, "ApplyInsideATransactionJoinsIt: deadlocked\n");
      std::_Exit(1);
    }
  });
  uint64_t before = (*node->Log())->Latest().size;
  std::thread other;
  Status s = node->sql().Transaction([&]() -> Status {
    // Another thread's change, queued first: it leads a batch and waits
    // for this transaction to end.
    other = std::thread([&] { EXPECT_TRUE(node->Apply(change(1)).ok()); });
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    return node->Apply(change(2)).status();
  });
  other.join();
  EXPECT_TRUE(s.ok()) << s.ToString();
  // Undone with the transaction that holds it: its entry stays in the log,
  // voided when the node next opens.
  Status undone = node->sql().Transaction([&]() -> Status {
    RETURN_IF_ERROR(node->Apply(change(3)).status());
    return Status::Conflict("changed my mind");
  });
  done = true;
  watchdog.join();
  EXPECT_EQ(undone.code(), Code::kConflict);
  {
    Statement q(node->sql(),
                "SELECT group_concat(v) FROM (SELECT v FROM t ORDER BY v)");
    ASSERT_EQ(q.Step(), SQLITE_ROW);
    EXPECT_EQ(q.Text(0), "1,2");
  }
  EXPECT_EQ((*node->Log())->Latest().size, before + 3);
  node.reset();
  node = std::move(Node::Open(Env::Default(), data_)).value();
  ASSERT_TRUE(node->Log().ok());
  auto check = Fsck(*node);
  ASSERT_TRUE(check.ok());
  EXPECT_TRUE(check->ok) << check->problem;
}

}  // namespace
}  // namespace amanah
