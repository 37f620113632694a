#include "app/recovery.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "app/custody_index.h"
#include "app/evidence.h"
#include "app/evidence_db.h"
#include "app/fsck.h"
#include "app/testutil.h"
#include "app/uploads.h"

namespace amanah {
namespace {

namespace fs = std::filesystem;

class RecoveryTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    for (const char* id : {"C-1", "C-2"}) {
      ASSERT_TRUE(
          CaseBook(node_.get())
              .Open("local:poc", {id, "t", Offence::kCybercrime, "x"}, "")
              .ok());
    }
  }
  std::string Data() const { return (dir_ / "data").string(); }
  void Reopen() {
    node_.reset();
    auto node = Node::Open(&env_, Data());
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(node).value();
    ASSERT_TRUE(node_->Log().ok());
  }
  Result<IngestOutcome> IngestBytes(const std::string& case_id,
                                    const std::string& name,
                                    const std::string& bytes) {
    return Ingest(*node_, {WriteInput(name, bytes), case_id, "local:t", "",
                           false, false});
  }
  // Puts bytes into the vault as a process killed before recording its
  // ingest would have: with `intent`, announced as this version does.
  ContentAddress PutUnrecorded(const std::string& bytes, bool intent) {
    auto f = env_.NewSequentialFile(WriteInput("raw", bytes));
    EXPECT_TRUE(f.ok());
    int64_t id = -1;
    PutHooks hooks;
    hooks.before_write = [&](const std::string& tmp) -> Status {
      ASSIGN_OR_RETURN(id, node_->db().BeginPending(tmp));
      return Status::OK();
    };
    hooks.before_adopt = [&](const ContentAddress& a) {
      return node_->db().SetPendingAddress(id, a.ToString());
    };
    auto put =
        node_->vault().Put(f->get(), {}, nullptr, intent ? &hooks : nullptr);
    EXPECT_TRUE(put.ok());
    return put->address;
  }
  size_t Count(const std::string& kind) {
    auto log = node_->Log();
    LogReader reader = (*log)->Reader();
    size_t n = 0;
    for (uint64_t i = 0; i < reader.size(); ++i) {
      n += ParseCustodyEntry(*reader.Entry(i))->kind == *ParseEntryKind(kind);
    }
    return n;
  }
};

// An ingest killed after its object entered the vault and before its entry
// committed: at open the node removes the object (nothing recorded it),
// unless a case holds the same bytes; fsck then finds everything agreeing.
TEST_F(RecoveryTest, AnIngestKilledBeforeItsRecordIsUndoneAtOpen) {
  ContentAddress lone = PutUnrecorded("never recorded", true);
  ASSERT_TRUE(IngestBytes("C-2", "held.bin", "held by C-2").ok());
  ContentAddress held = PutUnrecorded("held by C-2", true);
  ASSERT_TRUE(node_->vault().Contains(lone));
  Reopen();
  EXPECT_FALSE(node_->vault().Contains(lone));
  EXPECT_TRUE(node_->vault().Contains(held));
  EXPECT_TRUE(node_->db().Pending()->empty());
  auto r = Fsck(*node_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
}

// What an earlier version's crash left (no intent said so): fsck reports
// it and fails; --repair removes it, recorded first as node.repaired with
// counts only; re-ingesting the orphan's bytes is "new" to the case.
TEST_F(RecoveryTest, OrphansAndTempLeaksAreReportedThenRepaired) {
  ASSERT_TRUE(IngestBytes("C-1", "a.bin", "evidence a").ok());
  ContentAddress orphan = PutUnrecorded("an orphan's bytes", false);
  std::string leak = JoinPath(node_->vault().TmpDir(), "put-0123456789abcdef");
  std::ofstream(leak) << std::string(4096, 'x');
  auto r = Fsck(*node_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->problem.find("no ingest records"), std::string::npos)
      << r->problem;
  EXPECT_EQ(r->file, node_->vault().PathOf(orphan));
  ASSERT_EQ(r->leftovers.orphans.size(), 1u);
  ASSERT_EQ(r->leftovers.temp_files.size(), 1u);
  EXPECT_EQ(r->leftovers.temp_bytes, 4096u);

  uint64_t before = LogSize();
  ASSERT_TRUE(RemoveVaultLeftovers(*node_, "local:root", r->leftovers).ok());
  EXPECT_FALSE(node_->vault().Contains(orphan));
  EXPECT_FALSE(fs::exists(leak));
  ASSERT_EQ(LogSize(), before + 1);
  auto repaired = testutil::OpenedEntryAt(node_.get(), before);
  ASSERT_TRUE(repaired.ok());
  EXPECT_EQ(repaired->kind, EntryKind::kNodeRepaired);
  EXPECT_EQ(repaired->data["orphan_objects"], 1);
  EXPECT_EQ(repaired->data["temp_files"], 1);
  auto raw = (*node_->Log())->Reader().Entry(before);
  EXPECT_EQ(raw->find(orphan.ToString().substr(7)), std::string::npos);
  EXPECT_TRUE(Fsck(*node_)->ok);

  // The same bytes again, an orphan: to the case they are new.
  PutUnrecorded("an orphan's bytes", false);
  auto again = IngestBytes("C-1", "b.bin", "an orphan's bytes");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->object.duplicate);
  auto e = testutil::OpenedEntryAt(node_.get(), again->entry_index);
  EXPECT_EQ(e->data["stored"], "new");
  EXPECT_TRUE(Fsck(*node_)->ok);
}

// An upload still being written owns its staging file: not a leak.
TEST_F(RecoveryTest, FilesBeingWrittenAreNotLeaks) {
  auto upload = UploadDesk(node_.get())
                    .Begin("local:t", "C-1", "phone.bin", "", false, false);
  ASSERT_TRUE(upload.ok()) << upload.status().ToString();
  std::ofstream(JoinPath(node_->vault().TmpDir(), "upload-" + upload->id))
      << "sealed chunks";
  auto r = Fsck(*node_);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->ok) << r->problem;
}

// A change whose entry reached the log but whose transaction never
// committed: the node voids the entry when it opens, once.
TEST_F(RecoveryTest, AnEntryWhoseChangeNeverCommittedIsVoidedOnce) {
  CustodyEntry e;
  e.kind = EntryKind::kCaseOpened;
  e.node = node_->info().name;
  e.actor = "user:alice";
  e.case_id = "C-1";
  e.subject = "case:C-9";
  auto sealed = node_->Seal(e);
  ASSERT_TRUE(sealed.ok());
  // Appended as Apply would, then the process dies before COMMIT.
  uint64_t at = *(*node_->Log())->Append(sealed->bytes);
  auto r = Fsck(*node_);
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->problem.find("does not know this entry"), std::string::npos)
      << r->problem;
  Reopen();
  ASSERT_EQ(LogSize(), at + 2);
  auto v = testutil::OpenedEntryAt(node_.get(), at + 1);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->kind, EntryKind::kEntryVoided);
  EXPECT_EQ(v->subject, "entry:" + std::to_string(at));
  EXPECT_EQ(v->data["kind"], "case.opened");
  // The voided entry shows in no case's custody.
  auto custody = CustodyIndex(&node_->sql()).ForCase("C-1", -1, 100);
  for (const auto& x : *custody) EXPECT_NE(x.index, at);
  EXPECT_TRUE(Fsck(*node_)->ok);
  Reopen();
  EXPECT_EQ(LogSize(), at + 2);
  EXPECT_EQ(Count("entry.voided"), 1u);
}

// The other half: a row the database committed without its entry (what an
// earlier version's crash could leave) is a disagreement fsck names.
TEST_F(RecoveryTest, ARowWithoutItsEntryIsNamed) {
  Statement ins(node_->sql(),
                "INSERT INTO cases(id, title, offence, legal_basis, opened, "
                "opened_by) VALUES('C-9','t','other','x','now','x')");
  ASSERT_TRUE(ins.Run().ok());
  auto r = Fsck(*node_);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->ok);
  EXPECT_NE(r->problem.find("case C-9"), std::string::npos) << r->problem;
}

}  // namespace
}  // namespace amanah
