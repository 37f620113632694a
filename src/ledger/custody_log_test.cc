#include "ledger/custody_log.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "ledger/note.h"
#include "storage/fault_injection_env.h"
#include "storage/testutil.h"

namespace amanah {
namespace {

namespace fs = std::filesystem;

class CustodyLogTest : public testutil::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    opts_.log_dir = dir_ / "log";
    opts_.journal_path = dir_ / "journal/custody.wal";
    opts_.origin = "test.example/custody";
    opts_.signer = *Ed25519PrivateKey::FromSeed(Bytes(32, 7));
  }

  std::unique_ptr<CustodyLog> OpenLog(Env* env = Env::Default()) {
    auto log = CustodyLog::Open(env, opts_);
    EXPECT_TRUE(log.ok()) << log.status().ToString();
    return log.ok() ? std::move(log).value() : nullptr;
  }

  // Verifies every entry and tile against a tree recomputed in memory.
  void CheckLog(const std::vector<std::string>& want_prefix, uint64_t size) {
    auto log = OpenLog();
    ASSERT_TRUE(log);
    SignedCheckpoint cp = log->Latest();
    ASSERT_GE(cp.size, size);
    LogReader r = log->Reader();
    merkle::CompactRange range;
    for (uint64_t i = 0; i < cp.size; ++i) {
      auto e = r.Entry(i);
      ASSERT_TRUE(e.ok()) << i << ": " << e.status().ToString();
      if (i < want_prefix.size()) {
        ASSERT_EQ(*e, want_prefix[i]) << i;
      }
      range.Append(merkle::LeafHash(AsBytes(*e)), {});
    }
    EXPECT_EQ(range.Root(), cp.root);
    EXPECT_EQ(*r.Root(), cp.root);
    // Checkpoint on disk is signed and matches.
    ASSERT_TRUE(log->FlushFiles().ok());
    auto note = ParseNote(*log->store().ReadCheckpoint());
    ASSERT_TRUE(note.ok());
    auto key = *ParseVerifierKey(FormatVerifierKey(
        opts_.origin, kNoteKeyTypeEd25519, opts_.signer.public_key()));
    EXPECT_TRUE(VerifyNoteSignature(*note, key).ok());
    EXPECT_EQ(ParseCheckpointBody(note->text)->size, cp.size);
    // And the files alone hold that tree.
    EXPECT_EQ(*LogReader(&log->store(), nullptr, cp.size).Root(), cp.root);
  }

  static std::string EntryText(uint64_t i) {
    return "{\"entry\":" + std::to_string(i) + "}";
  }

  // With a journal rolled at 64 KiB: appends about 20 KiB (past a quarter
  // of it, short of a roll), then waits for the log's early sync.
  static void AppendUntilEarlySync(FaultInjectionEnv& env, CustodyLog* log,
                                   std::vector<std::string>* all) {
    int before = env.filesystem_syncs();
    for (int i = 0; i < 40; ++i) {
      all->push_back(EntryText(all->size()) + std::string(400, 'x'));
      ASSERT_TRUE(log->Append(all->back()).ok());
    }
    for (int i = 0; i < 200 && env.filesystem_syncs() == before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    EXPECT_GT(env.filesystem_syncs(), before);
  }

  CustodyLogOptions opts_;
};

TEST_F(CustodyLogTest, AppendProveReopen) {
  ASSERT_TRUE(CustodyLog::Create(Env::Default(), opts_).ok());
  EXPECT_EQ(CustodyLog::Create(Env::Default(), opts_).code(), Code::kConflict);
  std::vector<std::string> all;
  {
    auto log = OpenLog();
    EXPECT_EQ(log->Latest().size, 0u);
    EXPECT_EQ(log->Latest().root, merkle::EmptyRoot());
    // Batches of assorted sizes cross tile boundaries at levels 0 and 1.
    uint64_t n = 0;
    for (int batch : {1, 2, 253, 1, 256, 700, 1, 65536 - 1214 + 3}) {
      std::vector<std::string> b;
      for (int i = 0; i < batch; ++i) b.push_back(EntryText(n++));
      all.insert(all.end(), b.begin(), b.end());
      auto first = log->Append(b);
      ASSERT_TRUE(first.ok()) << first.status().ToString();
      EXPECT_EQ(*first, n - batch);
      EXPECT_EQ(log->Latest().size, n);
    }
    LogReader r = log->Reader();
    for (uint64_t i : std::vector<uint64_t>{0, 255, 256, 1000, 65535, n - 1}) {
      auto proof = r.InclusionProof(i);
      ASSERT_TRUE(proof.ok());
      EXPECT_TRUE(merkle::VerifyInclusion(i, n,
                                          merkle::LeafHash(AsBytes(all[i])),
                                          *proof, log->Latest().root)
                      .ok());
    }
    ASSERT_TRUE(log->FlushFiles().ok());  // the files alone, below
    LogReader old(&log->store(), nullptr, 300);
    auto cproof = r.ConsistencyProof(300);
    ASSERT_TRUE(cproof.ok());
    EXPECT_TRUE(merkle::VerifyConsistency(300, n, *old.Root(),
                                          log->Latest().root, *cproof)
                    .ok());
  }
  CheckLog(all, all.size());
  // Reopened, it keeps appending where it was.
  auto log = OpenLog();
  ASSERT_EQ(*log->Append("{\"after\":1}"), all.size());
}

TEST_F(CustodyLogTest, ConcurrentAppendsShareBatches) {
  ASSERT_TRUE(CustodyLog::Create(Env::Default(), opts_).ok());
  auto log = OpenLog();
  constexpr int kThreads = 16, kEach = 200;
  std::vector<std::thread> threads;
  std::vector<std::vector<uint64_t>> got(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto idx = log->Append("{\"t\":" + std::to_string(t) +
                               ",\"i\":" + std::to_string(i) + "}");
        ASSERT_TRUE(idx.ok());
        got[t].push_back(*idx);
      }
    });
  }
  for (auto& th : threads) th.join();
  std::set<uint64_t> seen;
  LogReader r = log->Reader();
  for (int t = 0; t < kThreads; ++t) {
    for (int i = 0; i < kEach; ++i) {
      EXPECT_TRUE(seen.insert(got[t][i]).second);
      EXPECT_EQ(*r.Entry(got[t][i]), "{\"t\":" + std::to_string(t) +
                                         ",\"i\":" + std::to_string(i) + "}");
    }
  }
  EXPECT_EQ(log->Latest().size, uint64_t{kThreads * kEach});
}

// A failure in the middle of many concurrent appends: every call returns,
// each with its entry published or an error, and nothing published is lost.
TEST_F(CustodyLogTest, ConcurrentAppendsAllReturnWhenPublishingFails) {
  FaultInjectionEnv env(Env::Default());
  opts_.file_interval_ms = 600000;  // files written only when flushed
  ASSERT_TRUE(CustodyLog::Create(&env, opts_).ok());
  auto log = OpenLog(&env);
  constexpr int kThreads = 32, kEach = 100;
  std::atomic<int> acknowledged{0}, refused{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto idx = log->Append(EntryText(t * kEach + i));
        if (idx.ok()) {
          if (++acknowledged == 500) {
            // Files pending since the first batch now fail to be written:
            // every batch published after this is refused.
            env.SetRenameFailure(true);
            EXPECT_FALSE(log->FlushFiles().ok());
            EXPECT_FALSE(log->Append(EntryText(999999)).ok());
            ++refused;
          }
        } else {
          ++refused;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_GE(acknowledged.load(), 500);
  EXPECT_GT(refused.load(), 1);
  EXPECT_EQ(acknowledged + refused, kThreads * kEach + 1);
  EXPECT_LE(static_cast<uint64_t>(acknowledged.load()), log->Latest().size);
  env.ClearFaults();
  log.reset();
  // Reopened, it holds at least every acknowledged entry and verifies.
  log = OpenLog();
  EXPECT_GE(log->Latest().size, static_cast<uint64_t>(acknowledged.load()));
  EXPECT_TRUE(log->Append(EntryText(99999)).ok());
}

// The partial tiles and checkpoint on disk are written behind the appends:
// they catch up with Latest(), and a failure to write them refuses the next
// batch.
TEST_F(CustodyLogTest, CheckpointFileFollowsTheLog) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(CustodyLog::Create(&env, opts_).ok());
  auto log = OpenLog(&env);
  auto file_note = [&] { return *log->store().ReadCheckpoint(); };
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        ASSERT_TRUE(log->Append(EntryText(t * 50 + i)).ok());
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_TRUE(log->FlushFiles().ok());
  EXPECT_EQ(file_note(), log->Latest().note);
  EXPECT_EQ(log->Latest().size, 400u);

  // A write that fails once is made good by the next batch.
  env.SetRenameFailureFor("checkpoint");
  ASSERT_TRUE(log->Append(EntryText(400)).ok());  // published: Latest()
  EXPECT_EQ(log->Latest().size, 401u);
  Status flushed = log->FlushFiles();
  EXPECT_EQ(flushed.code(), Code::kIO);
  EXPECT_NE(flushed.message().find("log's files"), std::string::npos);
  EXPECT_NE(file_note(), log->Latest().note);
  env.ClearFaults();
  ASSERT_TRUE(log->Append(EntryText(401)).ok());
  ASSERT_TRUE(log->FlushFiles().ok());
  EXPECT_EQ(file_note(), log->Latest().note);

  // One that goes on failing refuses the next batch, and the log stops.
  env.SetRenameFailureFor("checkpoint");
  ASSERT_TRUE(log->Append(EntryText(402)).ok());
  EXPECT_FALSE(log->FlushFiles().ok());
  auto refused = log->Append(EntryText(403));
  EXPECT_EQ(refused.status().code(), Code::kIO);
  EXPECT_EQ(log->Latest().size, 403u);
  env.ClearFaults();
  EXPECT_FALSE(log->Append(EntryText(404)).ok());
  // The disk is back: the files follow Latest(), never the refused batch.
  ASSERT_TRUE(log->FlushFiles().ok());
  EXPECT_EQ(file_note(), log->Latest().note);
  log.reset();
  // Reopened, the file names everything the journal holds.
  log = OpenLog();
  EXPECT_EQ(log->Latest().size, 404u);
  EXPECT_EQ(file_note(), log->Latest().note);
  CheckLog({}, 404);
}

// The right edge of the tree is read from memory until the files on disk
// follow, at most once per interval; a tree on disk alone reads a partial
// tile from a wider one when its own width was never written.
TEST_F(CustodyLogTest, TheEdgeIsReadFromMemoryUntilTheFilesFollow) {
  opts_.file_interval_ms = 600000;
  ASSERT_TRUE(CustodyLog::Create(Env::Default(), opts_).ok());
  auto log = OpenLog();
  std::vector<std::string> all = {EntryText(0)};
  ASSERT_TRUE(log->Append(all[0]).ok());  // written at once: the first
  ASSERT_TRUE(log->FlushFiles().ok());
  for (uint64_t i = 1; i < 300; ++i) {
    all.push_back(EntryText(i));
    ASSERT_TRUE(log->Append(all.back()).ok());
  }
  auto on_disk = [&](uint64_t size) {
    return LogReader(&log->store(), nullptr, size);
  };
  auto file_size = [&] {
    auto note = ParseNote(*log->store().ReadCheckpoint());
    return ParseCheckpointBody(note->text)->size;
  };
  // Within the interval: the disk still holds the tree of size 1.
  EXPECT_EQ(file_size(), 1u);
  EXPECT_FALSE(fs::exists(opts_.log_dir + "/tile/entries/001.p/44"));
  EXPECT_EQ(on_disk(300).Entry(299).status().code(), Code::kNotFound);
  LogReader r = log->Reader();
  for (uint64_t i : {0, 255, 256, 299}) EXPECT_EQ(*r.Entry(i), all[i]);
  EXPECT_EQ(*r.Root(), log->Latest().root);
  LogReader older = log->ReaderAt(280);  // a prefix of the edge
  EXPECT_EQ(*older.Entry(279), all[279]);
  auto edge = log->Edge();
  ASSERT_TRUE(edge->Tile(0, 1, 44));
  EXPECT_EQ(edge->Tile(0, 1, 44)->size(), 44u);
  EXPECT_EQ(edge->Tile(0, 1, 45), nullptr);
  // Full, not yet on disk either.
  EXPECT_FALSE(fs::exists(opts_.log_dir + "/tile/0/000"));
  EXPECT_EQ(edge->Tile(0, 0, 256)->size(), 256u);
  EXPECT_EQ(edge->Tile(0, 0, 10)->size(), 10u);
  EXPECT_EQ(*DecodeEntryBundle(*edge->Bundle(0, 256)),
            std::vector<std::string>(all.begin(), all.begin() + 256));
  EXPECT_EQ(edge->Tile(0, 2, 1), nullptr);
  EXPECT_FALSE(edge->Bundle(1, 45).has_value());
  EXPECT_EQ(*DecodeEntryBundle(*edge->Bundle(1, 2)),
            std::vector<std::string>({all[256], all[257]}));

  // Flushed, the disk holds the whole tree; narrower widths never written
  // are read from the wider partial file.
  ASSERT_TRUE(log->FlushFiles().ok());
  EXPECT_EQ(file_size(), 300u);
  EXPECT_TRUE(fs::exists(opts_.log_dir + "/tile/0/000"));
  EXPECT_EQ(*log->store().ReadCheckpoint(), log->Latest().note);
  EXPECT_EQ(*on_disk(300).Root(), log->Latest().root);
  EXPECT_FALSE(fs::exists(opts_.log_dir + "/tile/entries/001.p/34"));
  EXPECT_EQ(*on_disk(290).Entry(289), all[289]);
  EXPECT_EQ(*on_disk(290).Root(), *log->ReaderAt(290).Root());

  // Closed with files pending: they are written first.
  all.push_back(EntryText(300));
  ASSERT_TRUE(log->Append(all.back()).ok());
  EXPECT_TRUE(log->Edge()->full.empty());  // written: no longer held
  log.reset();
  auto note =
      ParseNote(*TileStore(Env::Default(), opts_.log_dir).ReadCheckpoint());
  EXPECT_EQ(ParseCheckpointBody(note->text)->size, 301u);
}

// Full tiles not yet written are held in memory up to a bound; past it,
// publishing waits for the disk instead of holding more.
TEST_F(CustodyLogTest, FullTilesWaitingForTheDiskAreBounded) {
  opts_.file_interval_ms = 600000;  // the thread alone would not write
  opts_.max_unwritten_bytes = 3 * kTileWidth * sizeof(Hash256);
  ASSERT_TRUE(CustodyLog::Create(Env::Default(), opts_).ok());
  auto log = OpenLog();
  ASSERT_TRUE(log->Append(EntryText(0)).ok());  // the first: written at once
  ASSERT_TRUE(log->FlushFiles().ok());
  auto held = [&] {
    size_t bytes = 0;
    for (const auto& f : log->Edge()->full) bytes += f.bytes();
    return bytes;
  };
  size_t most = 0;
  for (uint64_t i = 1; i < 4000; i += 100) {
    std::vector<std::string> batch;
    for (uint64_t j = i; j < i + 100; ++j) batch.push_back(EntryText(j));
    ASSERT_TRUE(log->Append(std::move(batch)).ok());
    most = std::max(most, held());
  }
  // The bound, and what one batch of 100 entries adds to it: a tile and a
  // bundle.
  EXPECT_LE(most, opts_.max_unwritten_bytes + 32 * kTileWidth + 4096);
  EXPECT_GT(most, 0u);
  EXPECT_TRUE(fs::exists(opts_.log_dir + "/tile/0/010"));  // of 15 full
  EXPECT_TRUE(fs::exists(opts_.log_dir + "/tile/entries/010"));
  log.reset();
  CheckLog({}, 4001);
}

// The file system is synced early, each quarter of the journal's roll
// size, by the log's own thread; the roll then syncs once more.
TEST_F(CustodyLogTest, SyncsEarlyBeforeEachRoll) {
  FaultInjectionEnv env(Env::Default());
  opts_.journal_roll_bytes = 64 << 10;
  ASSERT_TRUE(CustodyLog::Create(&env, opts_).ok());
  auto log = OpenLog(&env);
  std::vector<std::string> all;
  AppendUntilEarlySync(env, log.get(), &all);
  for (int i = 40; i < 200; ++i) {  // past a roll
    all.push_back(EntryText(i) + std::string(400, 'x'));
    ASSERT_TRUE(log->Append(all.back()).ok());
  }
  log.reset();
  CheckLog(all, all.size());
}

// After a roll, the partial files of tiles that filled before it are
// removed, behind the appends; readers take the full tiles.
TEST_F(CustodyLogTest, TheRollRemovesPartialsOfFullTiles) {
  opts_.journal_roll_bytes = 64 << 10;
  ASSERT_TRUE(CustodyLog::Create(Env::Default(), opts_).ok());
  auto log = OpenLog();
  std::vector<std::string> all;
  const fs::path dir = opts_.log_dir;
  for (int b = 0; b < 30; ++b) {  // 300 entries of about 220 bytes
    std::vector<std::string> batch;
    for (int i = 0; i < 10; ++i) {
      batch.push_back(EntryText(all.size() + i) + std::string(200, 'x'));
    }
    all.insert(all.end(), batch.begin(), batch.end());
    ASSERT_TRUE(log->Append(std::move(batch)).ok());
    ASSERT_TRUE(log->FlushFiles().ok());  // each width's partial files
  }
  EXPECT_TRUE(fs::exists(dir / "tile/entries/000.p/250"));
  EXPECT_TRUE(fs::exists(dir / "tile/0/000.p/250"));
  // Past the roll size: the next batch rolls.
  ASSERT_TRUE(log->Append(EntryText(all.size())).ok());
  all.push_back(EntryText(all.size()));
  log.reset();  // waits for the removals
  EXPECT_FALSE(fs::exists(dir / "tile/entries/000.p"));
  EXPECT_FALSE(fs::exists(dir / "tile/0/000.p"));
  EXPECT_TRUE(fs::exists(dir / "tile/entries/001.p/44"));  // the edge's
  CheckLog(all, all.size());
  EXPECT_EQ(*LogReader(&OpenLog()->store(), nullptr, 250).Entry(249), all[249]);
}

// syncfs reports a failed write-back once: an early sync that fails makes
// the next roll fail (the log stops) rather than roll past tiles that may
// not be on disk; reopened, the journal still holds every entry.
TEST_F(CustodyLogTest, AFailedEarlySyncStopsTheRoll) {
  FaultInjectionEnv env(Env::Default());
  opts_.journal_roll_bytes = 64 << 10;
  ASSERT_TRUE(CustodyLog::Create(&env, opts_).ok());
  auto log = OpenLog(&env);
  env.SetFilesystemSyncFailure(true);
  std::vector<std::string> all;
  AppendUntilEarlySync(env, log.get(), &all);
  env.ClearFaults();  // the roll's own sync would now succeed
  Status refused;
  for (int i = 40; i < 200 && refused.ok(); ++i) {
    all.push_back(EntryText(i) + std::string(400, 'x'));
    refused = log->Append(all.back()).status();
  }
  EXPECT_EQ(refused.code(), Code::kIO);
  EXPECT_NE(refused.message().find("syncfs failed"), std::string::npos);
  log.reset();
  log = OpenLog();
  EXPECT_GE(log->Latest().size, all.size() - 1);
  CheckLog(std::vector<std::string>(all.begin(), all.end() - 1),
           all.size() - 1);
}

// A write-back error reported to an early sync that is still running when
// the roll comes: the roll waits for it, and stops the log, rather than
// take its own sync's success (syncfs reports such an error once only).
// (Without the wait this fails whenever the early sync begins first, in
// about half the runs here; with it, the order is fixed.)
TEST_F(CustodyLogTest, TheRollWaitsForAnEarlySyncStillRunning) {
  FaultInjectionEnv env(Env::Default());
  opts_.journal_roll_bytes = 64 << 10;
  // The files' thread writes only when flushed, so the early sync asked
  // for below starts only when the roll flushes the files, and is still
  // running when the roll goes on.
  opts_.file_interval_ms = 600000;
  ASSERT_TRUE(CustodyLog::Create(&env, opts_).ok());
  auto log = OpenLog(&env);
  env.FailNextFilesystemSync(/*delay_ms=*/500);
  std::vector<std::string> all;
  for (int i = 0; i < 40; ++i) {  // past a quarter of the roll size
    all.push_back(EntryText(i) + std::string(400, 'x'));
    ASSERT_TRUE(log->Append(all.back()).ok());
  }
  std::vector<std::string> batch;
  for (int i = 0; i < 150; ++i) {  // past the roll size
    batch.push_back(EntryText(all.size() + i) + std::string(400, 'x'));
  }
  all.insert(all.end(), batch.begin(), batch.end());
  ASSERT_TRUE(log->Append(std::move(batch)).ok());
  EXPECT_EQ(env.filesystem_syncs(), 0);
  auto refused = log->Append(EntryText(999999));  // rolls
  EXPECT_EQ(refused.status().code(), Code::kIO);
  EXPECT_NE(refused.status().message().find("syncfs failed"),
            std::string::npos);
  env.ClearFaults();
  log.reset();
  CheckLog(all, all.size());
  EXPECT_EQ(OpenLog()->Latest().size, all.size());
}

// A partial tile's file, once on disk, is never replaced (the journal's
// base needs the ones synced at the last roll): not as the log goes on, not
// when it is reopened; a wrong one is made right when the log is reopened.
TEST_F(CustodyLogTest, PartialTilesOnDiskAreNeverReplaced) {
  ASSERT_TRUE(CustodyLog::Create(Env::Default(), opts_).ok());
  auto log = OpenLog();
  std::vector<std::string> all;
  auto append = [&](int n) {
    std::vector<std::string> batch;
    for (int i = 0; i < n; ++i) batch.push_back(EntryText(all.size() + i));
    all.insert(all.end(), batch.begin(), batch.end());
    ASSERT_TRUE(log->Append(std::move(batch)).ok());
    ASSERT_TRUE(log->FlushFiles().ok());
  };
  append(300);
  fs::path level1 = fs::path(opts_.log_dir) / "tile/1/000.p/1";
  ASSERT_TRUE(fs::exists(level1));
  auto inode = [](const fs::path& p) {
    struct stat st;
    return ::stat(p.c_str(), &st) == 0 ? st.st_ino : ino_t{0};
  };
  ino_t before = inode(level1);
  append(10);
  EXPECT_EQ(inode(level1), before);
  log.reset();
  log = OpenLog();
  EXPECT_EQ(inode(level1), before);
  // A wrong partial file past the journal's base (as a crash may leave) is
  // rewritten on opening.
  append(5);
  fs::path edge = fs::path(opts_.log_dir) / "tile/0/001.p/59";
  ASSERT_TRUE(fs::exists(edge));
  log.reset();
  { std::ofstream(edge, std::ios::trunc) << "torn"; }
  log = OpenLog();
  EXPECT_EQ(fs::file_size(edge), 59u * 32);
  EXPECT_EQ(inode(level1), before);
  log.reset();
  CheckLog(all, all.size());
}

TEST(TileIndexPathTest, ParsesWhatItMakes) {
  for (uint64_t i : {uint64_t{0}, uint64_t{7}, uint64_t{999}, uint64_t{1000},
                     uint64_t{1234067}, uint64_t{18446744073709551615u}}) {
    EXPECT_EQ(*ParseTileIndexPath(TileIndexPath(i)), i) << i;
  }
  for (const char* bad :
       {"", "1", "01", "0000", "x001", "x001/", "001/002", "x00a/001",
        "x001/x002", "x000/005", "x018/x446/x744/x073/x709/x551/616"}) {
    EXPECT_FALSE(ParseTileIndexPath(bad).ok()) << bad;
  }
}

TEST_F(CustodyLogTest, RejectsOversizeAndEmptyEntries) {
  ASSERT_TRUE(CustodyLog::Create(Env::Default(), opts_).ok());
  auto log = OpenLog();
  EXPECT_EQ(log->Append(std::string(65536, 'x')).status().code(),
            Code::kInvalidInput);
  EXPECT_EQ(log->Append(std::string()).status().code(), Code::kInvalidInput);
  EXPECT_TRUE(log->Append(std::string(65535, 'x')).ok());
}

// A full disk while writing the journal: the append fails, nothing of it is
// visible, and the log goes on once space returns.
TEST_F(CustodyLogTest, FullDiskLosesNothing) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(CustodyLog::Create(&env, opts_).ok());
  std::vector<std::string> all;
  {
    auto log = OpenLog(&env);
    for (int i = 0; i < 10; ++i) {
      all.push_back(EntryText(i));
      ASSERT_TRUE(log->Append(all.back()).ok());
    }
    env.SetWriteBudget(5);
    auto r = log->Append(EntryText(999));
    EXPECT_EQ(r.status().code(), Code::kIO);
    EXPECT_NE(r.status().message().find("No space"), std::string::npos);
    EXPECT_EQ(log->Latest().size, 10u);
    env.ClearFaults();
    all.push_back(EntryText(10));
    EXPECT_EQ(*log->Append(all.back()), 10u);
  }
  CheckLog(all, all.size());
  // A failed fsync of the journal is not acknowledged either; the next
  // append takes its place, and survives a reopening.
  {
    auto log = OpenLog(&env);
    env.SetSyncFailure(true);
    EXPECT_FALSE(log->Append(EntryText(12345)).ok());
    env.ClearFaults();
    all.push_back(EntryText(11));
    EXPECT_EQ(*log->Append(all.back()), 11u);
  }
  CheckLog(all, all.size());
  auto log = OpenLog();
  EXPECT_EQ(log->Latest().size, all.size());
}

// A failure after the journal is durable (here, writing a full tile, which
// the log does behind the appends): the tree stays readable from memory,
// the next append is refused once writing fails again, the log refuses
// appends instead of publishing ahead of its files, and reopening
// publishes what the journal holds.
TEST_F(CustodyLogTest, PublishFailureStopsTheLogUntilReopened) {
  FaultInjectionEnv env(Env::Default());
  ASSERT_TRUE(CustodyLog::Create(&env, opts_).ok());
  std::vector<std::string> all;
  {
    auto log = OpenLog(&env);
    std::vector<std::string> batch;
    for (int i = 0; i < 255; ++i) batch.push_back(EntryText(i));
    all = batch;
    ASSERT_TRUE(log->Append(std::move(batch)).ok());
    ASSERT_TRUE(log->FlushFiles().ok());
    env.SetRenameFailure(true);
    all.push_back(EntryText(255));  // fills the first tiles
    ASSERT_TRUE(log->Append(all.back()).ok());
    EXPECT_EQ(log->Latest().size, 256u);
    Status flushed = log->FlushFiles();
    EXPECT_EQ(flushed.code(), Code::kIO);
    EXPECT_FALSE(fs::exists(opts_.log_dir + "/tile/entries/000"));
    LogReader r = log->Reader();  // the full tiles, from memory
    EXPECT_EQ(*r.Entry(255), all.back());
    EXPECT_EQ(*r.Root(), log->Latest().root);
    EXPECT_EQ(r.InclusionProof(3)->size(), 8u);

    auto refused = log->Append(EntryText(999));
    EXPECT_EQ(refused.status().code(), Code::kIO);
    EXPECT_EQ(log->Latest().size, 256u);
    env.ClearFaults();
    EXPECT_FALSE(log->Append(EntryText(999)).ok());
    EXPECT_EQ(log->Latest().size, 256u);
  }
  CheckLog(all, all.size());
  auto log = OpenLog();
  EXPECT_EQ(log->Latest().size, 257u);  // with the refused entry, journaled
  EXPECT_EQ(*log->Append(EntryText(257)), 257u);
}

// kill -9 at random points during a stream of appends, many times: after
// each restart the log verifies and holds every acknowledged entry.
TEST_F(CustodyLogTest, CrashDuringAppendsLosesNoAcknowledgedEntry) {
  opts_.journal_roll_bytes = 64 << 10;  // exercise journal rolls too
  ASSERT_TRUE(CustodyLog::Create(Env::Default(), opts_).ok());
  std::mt19937 rng(42);
  std::vector<std::string> acknowledged;  // by index
  for (int round = 0; round < 25; ++round) {
    int fds[2];
    ASSERT_EQ(::pipe(fds), 0);
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(fds[0]);
      auto log = CustodyLog::Open(Env::Default(), opts_);
      if (!log.ok()) ::_exit(3);
      // Four writers so batches form; each acknowledgement is reported.
      std::vector<std::thread> ts;
      for (int t = 0; t < 4; ++t) {
        ts.emplace_back([&, t] {
          for (uint64_t i = 0;; ++i) {
            std::string e = "{\"round\":" + std::to_string(round) +
                            ",\"t\":" + std::to_string(t) +
                            ",\"i\":" + std::to_string(i) + "}";
            auto idx = (*log)->Append(e);
            if (!idx.ok()) ::_exit(4);
            std::string line = std::to_string(*idx) + " " + e + "\n";
            if (::write(fds[1], line.data(), line.size()) < 0) ::_exit(5);
          }
        });
      }
      for (auto& t : ts) t.join();
      ::_exit(0);
    }
    ::close(fds[1]);
    std::this_thread::sleep_for(std::chrono::microseconds(
        std::uniform_int_distribution<int>(2000, 60000)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited " << status;
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof(buf))) > 0) out.append(buf, n);
    ::close(fds[0]);
    std::istringstream lines(out);
    std::string line;
    while (std::getline(lines, line)) {
      size_t sp = line.find(' ');
      uint64_t idx = std::stoull(line.substr(0, sp));
      if (acknowledged.size() <= idx) acknowledged.resize(idx + 1);
      acknowledged[idx] = line.substr(sp + 1);
    }
    // Recovery: every acknowledged entry is there, the tree verifies.
    auto log = OpenLog();
    ASSERT_TRUE(log);
    uint64_t size = log->Latest().size;
    ASSERT_GE(size, acknowledged.size()) << "round " << round;
    LogReader r = log->Reader();
    for (uint64_t i = 0; i < acknowledged.size(); ++i) {
      if (acknowledged[i].empty()) continue;
      auto e = r.Entry(i);
      ASSERT_TRUE(e.ok());
      ASSERT_EQ(*e, acknowledged[i]) << "round " << round << " index " << i;
    }
    // Entries that survived without acknowledgement belong to the record.
    for (uint64_t i = acknowledged.size(); i < size; ++i) {
      if (acknowledged.size() <= i) acknowledged.resize(i + 1);
      acknowledged[i] = *r.Entry(i);
    }
    for (uint64_t i = 0; i < size; ++i) {
      if (acknowledged[i].empty()) acknowledged[i] = *r.Entry(i);
    }
  }
  CheckLog(acknowledged, acknowledged.size());
}

}  // namespace
}  // namespace amanah
