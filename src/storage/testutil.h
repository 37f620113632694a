// Test support: a fresh directory per test, removed afterwards. Included
// only by tests.

#ifndef AMANAH_STORAGE_TESTUTIL_H_
#define AMANAH_STORAGE_TESTUTIL_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "storage/env.h"

namespace amanah::testutil {

class TempDirTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = std::filesystem::path(::testing::TempDir()) /
           (std::string(info->test_suite_name()) + "_" + info->name() + "_" +
            std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // Writes `content` to dir_/name and returns the path.
  std::string WriteInput(const std::string& name, const std::string& content) {
    std::string p = (dir_ / name).string();
    std::ofstream(p, std::ios::binary) << content;
    return p;
  }

  std::filesystem::path dir_;
};

// A SequentialFile over a string returning at most `chunk` bytes a read,
// recording the sizes asked for.
class StringSource : public SequentialFile {
 public:
  explicit StringSource(std::string s,
                        size_t chunk = std::numeric_limits<size_t>::max())
      : s_(std::move(s)), chunk_(chunk) {}
  Result<size_t> Read(uint8_t* scratch, size_t n) override {
    requests.push_back(n);
    size_t k = std::min({n, chunk_, s_.size() - pos_});
    std::memcpy(scratch, s_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  std::vector<size_t> requests;

 private:
  std::string s_;
  size_t chunk_;
  size_t pos_ = 0;
};

}  // namespace amanah::testutil

#endif  // AMANAH_STORAGE_TESTUTIL_H_
