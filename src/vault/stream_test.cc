#include "vault/stream.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <optional>
#include <random>
#include <thread>

#include "storage/testutil.h"

namespace amanah {
namespace {

using testutil::StringSource;

constexpr size_t kChunk = 4096;

// Records what it is given and checks that no two calls overlap. Slow if
// asked, so that the hashers run ahead of it, or it behind them.
class RecordingSink : public ChunkSink {
 public:
  explicit RecordingSink(std::chrono::microseconds delay = {})
      : delay_(delay) {}
  Status Consume(ByteView chunk, uint64_t index, bool last) override {
    if (inside_.fetch_add(1) != 0) overlapped_ = true;
    std::this_thread::sleep_for(delay_);
    data.append(AsString(chunk));
    indices.push_back(index);
    lasts.push_back(last);
    if (fail_at.has_value() && index == *fail_at) {
      inside_.fetch_sub(1);
      return Status::IOError("the sink's disk is full");
    }
    inside_.fetch_sub(1);
    return Status::OK();
  }
  std::string data;
  std::vector<uint64_t> indices;
  std::vector<bool> lasts;
  std::optional<uint64_t> fail_at;
  bool overlapped() const { return overlapped_; }

 private:
  std::chrono::microseconds delay_;
  std::atomic<int> inside_{0};
  bool overlapped_ = false;
};

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

Bytes Digest(HashAlgorithm a, const std::string& data) {
  Hasher h(a);
  h.Update(AsBytes(data));
  return h.Finish();
}

const std::vector<HashAlgorithm> kAll = {
    HashAlgorithm::kSha256, HashAlgorithm::kMd5, HashAlgorithm::kSha1};

// Every consumer sees every chunk once, in order, whether the sink is the
// slowest consumer or the fastest, for sizes around the chunk size and
// streams far longer than the ring of chunks.
TEST(DigestStreamTest, EveryConsumerSeesEveryChunkInOrder) {
  for (auto delay :
       {std::chrono::microseconds(0), std::chrono::microseconds(300)}) {
    for (size_t n : {size_t{0}, size_t{1}, kChunk - 1, kChunk, kChunk + 1,
                     40 * kChunk, 40 * kChunk + 7}) {
      SCOPED_TRACE("size " + std::to_string(n) + ", sink delay " +
                   std::to_string(delay.count()) + " us");
      std::string data = Random(n, static_cast<uint32_t>(n));
      StringSource src(data);
      RecordingSink sink(delay);
      auto r = DigestStream(&src, kAll, &sink, kChunk);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      EXPECT_EQ(r->size, n);
      for (HashAlgorithm a : kAll) {
        EXPECT_EQ(r->digests[a], Digest(a, data));
      }
      EXPECT_EQ(sink.data, data);
      EXPECT_FALSE(sink.overlapped());
      size_t calls = n == 0 ? 1 : (n + kChunk - 1) / kChunk;
      ASSERT_EQ(sink.indices.size(), calls);
      for (size_t i = 0; i < calls; ++i) {
        EXPECT_EQ(sink.indices[i], i);
        EXPECT_EQ(sink.lasts[i], i + 1 == calls) << "call " << i;
      }
    }
  }
}

TEST(DigestStreamTest, HashesAloneAndSinkAlone) {
  std::string data = Random(9 * kChunk + 100, 7);
  {
    StringSource src(data);
    auto r = DigestStream(&src, kAll, nullptr, kChunk);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    for (HashAlgorithm a : kAll) EXPECT_EQ(r->digests[a], Digest(a, data));
  }
  {
    StringSource src(data);
    RecordingSink sink;
    auto r = DigestStream(&src, {}, &sink, kChunk);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    EXPECT_EQ(sink.data, data);
    EXPECT_TRUE(r->digests.empty());
  }
  StringSource src(data);
  EXPECT_EQ(DigestStream(&src, {}, nullptr, kChunk).status().code(),
            Code::kInvalidInput);
}

// A sink failing part way stops the stream with its error: every thread
// returns, however far ahead or behind the hashers are.
TEST(DigestStreamTest, ASinkFailureEndsTheStream) {
  std::string data = Random(30 * kChunk, 3);
  for (uint64_t at : {0, 1, 17, 29}) {
    SCOPED_TRACE("failing at chunk " + std::to_string(at));
    StringSource src(data);
    RecordingSink sink;
    sink.fail_at = at;
    auto r = DigestStream(&src, kAll, &sink, kChunk);
    EXPECT_EQ(r.status().code(), Code::kIO);
    EXPECT_NE(r.status().message().find("disk is full"), std::string::npos);
    EXPECT_EQ(sink.indices.back(), at);
  }
}

// Progress is reported one call at a time with growing counts, ending at
// the stream's size.
TEST(DigestStreamTest, ProgressGrowsToTheSize) {
  std::string data = Random(200 * kChunk + 5, 11);
  StringSource src(data);
  RecordingSink sink;
  std::atomic<int> inside{0};
  bool overlapped = false;
  std::vector<uint64_t> seen;
  auto r = DigestStream(&src, kAll, &sink, kChunk, [&](uint64_t done) {
    if (inside.fetch_add(1) != 0) overlapped = true;
    seen.push_back(done);
    inside.fetch_sub(1);
  });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_FALSE(overlapped);
  ASSERT_GE(seen.size(), 2u);
  for (size_t i = 1; i < seen.size(); ++i) EXPECT_LT(seen[i - 1], seen[i]);
  EXPECT_EQ(seen.back(), data.size());
}

}  // namespace
}  // namespace amanah
