// A node's directory is its owner's alone: directories 0700, files 0600
// (the public verifier key and TLS certificate 0644), whatever the
// directory was made with and whatever the umask.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <string>

#include "app/cases.h"
#include "app/evidence.h"
#include "app/node.h"
#include "storage/testutil.h"

namespace amanah {
namespace {

namespace fs = std::filesystem;

// "0600", or "none" for no such file.
std::string ModeOf(const fs::path& p) {
  struct stat st;
  if (::stat(p.c_str(), &st) != 0) return "none";
  char octal[8];
  std::snprintf(octal, sizeof(octal), "%04o",
                static_cast<unsigned>(st.st_mode & 07777));
  return octal;
}

class NodeModesTest : public testutil::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    old_umask_ = ::umask(022);  // the usual one, which lets 0644 through
    data_ = dir_ / "data";
  }
  void TearDown() override {
    ::umask(old_umask_);
    TempDirTest::TearDown();
  }

  // Opens a case and ingests into it, so that the vault, the log's tiles
  // and the database's -wal and -shm exist.
  void Use(Node* node) {
    CaseDraft d{"KW-1", "t", Offence::kCybercrime, "x"};
    ASSERT_TRUE(CaseBook(node).Open("local:test", d, "").ok());
    std::string in = WriteInput("e.bin", "evidence");
    ASSERT_TRUE(
        Ingest(*node, {in, "KW-1", "local:test", "", false, false}).ok());
  }

  // Every directory and file under the node's directory with a mode other
  // than 0700 (directories) or 0600 (files; 0644 for the public key and
  // certificate), by path relative to it.
  std::map<std::string, std::string> Loose() {
    std::map<std::string, std::string> out;
    if (ModeOf(data_) != "0700") out["."] = ModeOf(data_);
    for (const auto& e : fs::recursive_directory_iterator(data_)) {
      std::string rel = fs::relative(e.path(), data_).string();
      std::string want = e.is_directory() ? "0700" : "0600";
      if (rel == "keys/verifier.key" || rel == "keys/tls.pem") want = "0644";
      if (ModeOf(e.path()) != want) out[rel] = ModeOf(e.path());
    }
    return out;
  }

  mode_t old_umask_;
  fs::path data_;
};

TEST_F(NodeModesTest, ADirectoryMadeBeforehandEndsTheOwnersAlone) {
  fs::create_directory(data_);
  fs::permissions(data_, fs::perms(0755));
  ASSERT_TRUE(
      Node::Init(Env::Default(), data_.string(), "ccd.moi.gov.kw").ok());
  EXPECT_EQ(Loose(), (std::map<std::string, std::string>{}));
  {
    auto node = Node::Open(Env::Default(), data_.string());
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    Use(node->get());
    EXPECT_EQ(ModeOf(data_ / "amanah.db-wal"), "0600");
    EXPECT_EQ(ModeOf(data_ / "amanah.db-shm"), "0600");
  }
  bool tiles = false;
  for (const auto& e : fs::recursive_directory_iterator(data_ / "log")) {
    if (e.is_regular_file() && e.path().filename() != "checkpoint") {
      tiles = true;
    }
  }
  EXPECT_TRUE(tiles) << "no tile was written: the walk checks too little";
  EXPECT_EQ(Loose(), (std::map<std::string, std::string>{}));
}

// A node made by an earlier version, or loosened by hand, is repaired when
// it opens: a few stats at the top of the tree.
TEST_F(NodeModesTest, OpeningRepairsTheTopOfTheTree) {
  ASSERT_TRUE(
      Node::Init(Env::Default(), data_.string(), "ccd.moi.gov.kw").ok());
  {
    auto node = Node::Open(Env::Default(), data_.string());
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    Use(node->get());
  }
  // As main made them before: the directory made beforehand, SQLite's
  // default mode, the log's directories and node.toml.
  for (const char* part : {".", "keys", "log", "journal", "vault"}) {
    fs::permissions(data_ / part, fs::perms(0755));
  }
  for (const char* part :
       {"amanah.db", "node.toml", "log/checkpoint", "journal/custody.wal"}) {
    fs::permissions(data_ / part, fs::perms(0644));
  }
  auto node = Node::Open(Env::Default(), data_.string());
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  for (const char* part : {".", "keys", "log", "journal", "vault"}) {
    EXPECT_EQ(ModeOf(data_ / part), "0700") << part;
  }
  for (const char* part :
       {"amanah.db", "node.toml", "log/checkpoint", "journal/custody.wal"}) {
    EXPECT_EQ(ModeOf(data_ / part), "0600") << part;
  }
  // SQLite makes its -wal and -shm with the database's mode.
  CaseDraft d{"KW-2", "t", Offence::kCybercrime, "x"};
  ASSERT_TRUE(CaseBook(node->get()).Open("local:test", d, "").ok());
  EXPECT_EQ(ModeOf(data_ / "amanah.db-wal"), "0600");
  EXPECT_EQ(ModeOf(data_ / "amanah.db-shm"), "0600");
}

}  // namespace
}  // namespace amanah
