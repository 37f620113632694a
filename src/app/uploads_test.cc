#include "app/uploads.h"

#include <gtest/gtest.h>

#include "app/cases.h"
#include "app/fsck.h"
#include "app/recovery.h"
#include "app/testutil.h"
#include "crypto/hash.h"
#include "storage/fault_injection_env.h"
#include "vault/testutil.h"

namespace amanah {
namespace {

class UploadsTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    CaseDraft d{"UP", "t", Offence::kOther, "x"};
    ASSERT_TRUE(CaseBook(node_.get()).Open("local:test", d, "").ok());
  }
  static BodyReader Body(const std::string& bytes) {
    return [bytes](const std::function<bool(ByteView)>& take) {
      return take(AsBytes(bytes));
    };
  }
};

// The object could not be moved into the vault after the upload was sealed
// (here: a rename that fails; in life, a crash). The next request finishes
// it, with exactly one evidence.ingested entry.
TEST_F(UploadsTest, ASealedUploadIsFinishedByTheNextRequest) {
  UploadDesk desk(node_.get());
  auto u = desk.Begin("user:inv", "UP", "disk.img", "", true, false);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  std::string data(3 * 1048576 + 5, 'z');
  uint64_t log = LogSize();
  env_.SetRenameFailure(true);
  auto first = desk.Receive(u->id, 0, true, Body(data));
  EXPECT_FALSE(first.ok());
  EXPECT_EQ(LogSize(), log);
  EXPECT_EQ((*desk.Get(u->id))->state, "sealed");
  env_.ClearFaults();
  auto second = desk.Receive(u->id, data.size(), true, Body(""));
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  ASSERT_TRUE(second->has_value());
  EXPECT_EQ((*second)->object.size, data.size());
  EXPECT_EQ((*second)->object.address.digest, Sha256(AsBytes(data)));
  EXPECT_EQ(LogSize(), log + 1);
  EXPECT_TRUE(node_->vault().Contains((*second)->object.address));
  auto done = *desk.Get(u->id);
  EXPECT_EQ(done->state, "done");
  EXPECT_EQ(done->address, (*second)->object.address.ToString());
  // And never twice.
  EXPECT_EQ(desk.Receive(u->id, data.size(), true, Body("")).status().code(),
            Code::kConflict);
  EXPECT_EQ(LogSize(), log + 1);
}

TEST_F(UploadsTest, OffsetsAndBrokenBodies) {
  UploadDesk desk(node_.get());
  auto u = desk.Begin("user:inv", "UP", "a.bin", "", false, false);
  ASSERT_TRUE(u.ok());
  std::string data(2 * 1048576 + 100, 'q');
  // A body that breaks off after 1.5 MiB commits the one whole chunk.
  BodyReader broken = [&](const std::function<bool(ByteView)>& take) {
    take(AsBytes(data).subspan(0, 1572864));
    return false;
  };
  auto r = desk.Receive(u->id, 0, true, broken);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ((*desk.Get(u->id))->offset, 1048576u);
  EXPECT_EQ(desk.Receive(u->id, 0, true, Body(data)).status().code(),
            Code::kConflict);
  auto done = desk.Receive(u->id, 1048576, true, Body(data.substr(1048576)));
  ASSERT_TRUE(done.ok() && done->has_value()) << done.status().ToString();
  EXPECT_EQ((*done)->object.address.digest, Sha256(AsBytes(data)));
  EXPECT_FALSE(desk.Begin("user:inv", "NOPE", "a", "", false, false).ok());
  EXPECT_FALSE(desk.Begin("user:inv", "UP", "../a", "", false, false).ok());
}

// An fsync fails while a request is committing its chunks: the request
// fails, and the chunks it sealed stay in the staging file, uncommitted.
// The client sends again from the committed offset, here other bytes (the
// file changed meanwhile). The chunks are sealed again, each under a nonce
// of its own: a copy of the staging file taken before (a backup) and the
// object after must not share a keystream, which would give away the XOR
// of the two plaintexts.
TEST_F(UploadsTest, AResumedUploadSealsUnderFreshNonces) {
  UploadDesk desk(node_.get());
  auto u = desk.Begin("user:inv", "UP", "live.log", "", false, false);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  const std::string path = node_->vault().TmpDir() + "/upload-" + u->id;
  const size_t c = 1048576;
  std::string p1(3 * c, '\0'), p2(3 * c + 7, '\0');
  for (size_t i = 0; i < p1.size(); ++i) p1[i] = static_cast<char>(i * 7);
  for (size_t i = 0; i < p2.size(); ++i) p2[i] = static_cast<char>(i * 13);
  const uint64_t header = testutil::ReadWholeFile(path).size();

  env_.SetSyncFailure(true);
  EXPECT_FALSE(desk.Receive(u->id, 0, false, Body(p1)).ok());
  env_.ClearFaults();
  EXPECT_EQ((*desk.Get(u->id))->offset, 0u);
  const std::string first = testutil::ReadWholeFile(path);
  ASSERT_GT(first.size(), header + 3 * c);  // sealed, not committed

  auto r = desk.Receive(u->id, 0, false, Body(p2.substr(0, 3 * c)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*desk.Get(u->id))->offset, 3 * c);
  const std::string second = testutil::ReadWholeFile(path);
  ASSERT_EQ(second.size(), first.size());
  EXPECT_EQ(first.substr(0, header), second.substr(0, header));  // one key
  EXPECT_FALSE(testutil::KeystreamReused(first, second, header,
                                         (first.size() - header) / 3, 3, c, p1,
                                         p2.substr(0, 3 * c)));

  auto done = desk.Receive(u->id, 3 * c, true, Body(p2.substr(3 * c)));
  ASSERT_TRUE(done.ok() && done->has_value()) << done.status().ToString();
  EXPECT_EQ((*done)->object.address.digest, Sha256(AsBytes(p2)));
  EXPECT_TRUE(node_->vault().Verify((*done)->object.address).ok());
}

// Whenever the server is killed while a session begins, what it leaves
// is owned: at the moment its staging file comes into being, the session
// that owns it is already recorded (else fsck finds a temporary file that
// nothing is writing, as the crash test did).
TEST_F(UploadsTest, ABeginningSessionNeverLeavesAFileNobodyOwns) {
  UploadDesk desk(node_.get());
  int made = 0, unowned = 0;
  env_.SetOnFileMade([&](const std::string& path) {
    if (path.find("/upload-") == std::string::npos) return;
    ++made;
    auto leftovers = FindVaultLeftovers(*node_);
    ASSERT_TRUE(leftovers.ok()) << leftovers.status().ToString();
    unowned += leftovers->temp_files.size();
  });
  auto u = desk.Begin("user:inv", "UP", "a.bin", "", false, false);
  env_.SetOnFileMade(nullptr);
  ASSERT_TRUE(u.ok()) << u.status().ToString();
  EXPECT_EQ(made, 1);
  EXPECT_EQ(unowned, 0);
}

// Killed after the session was recorded and before its staging file was
// made, or whole: nothing was committed, and the first request after the
// restart starts the file afresh.
TEST_F(UploadsTest, ASessionWhoseFileWasNeverMadeStartsAfresh) {
  std::string data(1048576 + 77, 'm');
  for (bool partial : {false, true}) {
    std::string id;
    {
      UploadDesk before(node_.get());
      auto u = before.Begin("user:inv", "UP", "a.bin", "", false, false);
      ASSERT_TRUE(u.ok()) << u.status().ToString();
      id = u->id;
    }
    std::string path = node_->vault().TmpDir() + "/upload-" + id;
    if (partial) {
      ASSERT_TRUE(env_.TruncateFile(path, 9).ok());
    } else {
      ASSERT_TRUE(env_.RemoveFile(path).ok());
    }
    UploadDesk after(node_.get());  // as after a restart
    auto done = after.Receive(id, 0, true, Body(data));
    ASSERT_TRUE(done.ok() && done->has_value()) << done.status().ToString();
    EXPECT_EQ((*done)->object.address.digest, Sha256(AsBytes(data)));
    auto check = Fsck(*node_);
    ASSERT_TRUE(check.ok());
    EXPECT_TRUE(check->ok) << check->problem;
    data.back() = 'n';
  }
}

}  // namespace
}  // namespace amanah
