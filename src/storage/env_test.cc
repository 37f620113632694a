#include "storage/env.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sodium.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "storage/testutil.h"

namespace amanah {
namespace {

class StreamingFileTest : public testutil::TempDirTest {
 protected:
  // Directories to write in: the test's own, and tmpfs where there is one
  // (the two take different paths through O_DIRECT).
  std::vector<std::string> Dirs() {
    std::vector<std::string> out = {dir_.string()};
    if (std::filesystem::is_directory("/dev/shm")) {
      shm_ = std::filesystem::path("/dev/shm") / dir_.filename();
      std::filesystem::create_directories(shm_);
      out.push_back(shm_.string());
    }
    return out;
  }
  void TearDown() override {
    if (!shm_.empty()) std::filesystem::remove_all(shm_);
    TempDirTest::TearDown();
  }

  static std::string Random(size_t n) {
    std::string s(n, '\0');
    randombytes_buf(s.data(), n);
    return s;
  }
  static std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  static ByteView View(const std::string& s, size_t from, size_t n) {
    return ByteView(reinterpret_cast<const uint8_t*>(s.data()) + from, n);
  }

  std::filesystem::path shm_;
};

// Appends of every awkward size, across buffer boundaries, with syncs at
// unaligned and aligned offsets in the middle: the file holds exactly what
// was appended, in order.
TEST_F(StreamingFileTest, HoldsExactlyWhatWasAppended) {
  const size_t kMiB = 1 << 20;
  std::string data = Random(27 * kMiB + 12345);
  const std::vector<size_t> pieces = {1,         4095,     4096,    104,
                                      kMiB + 16, 8 * kMiB, 3,       5 * kMiB,
                                      77,        4 * kMiB, 9 * kMiB};
  for (const std::string& dir : Dirs()) {
    for (int sync_mode = 0; sync_mode < 4; ++sync_mode) {
      SCOPED_TRACE(dir + " sync mode " + std::to_string(sync_mode));
      std::string path = dir + "/f" + std::to_string(sync_mode);
      auto file = Env::Default()->NewStreamingFile(path, 0600);
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      size_t at = 0;
      if (sync_mode == 2) {  // a sync at exactly one buffer's end
        ASSERT_TRUE((*file)->Append(View(data, 0, 8 * kMiB)).ok());
        ASSERT_TRUE((*file)->Sync().ok());
        at = 8 * kMiB;
      }
      for (size_t i = 0; at < data.size(); ++i) {
        size_t n = std::min(pieces[i % pieces.size()], data.size() - at);
        ASSERT_TRUE((*file)->Append(View(data, at, n)).ok());
        at += n;
        // A sync at an unaligned offset (8,296 bytes), or after every
        // piece (a staging file committed as it arrives).
        if ((sync_mode == 1 && i == 3) || sync_mode == 3) {
          ASSERT_TRUE((*file)->Sync().ok());
        }
      }
      if (sync_mode == 0) {
        ASSERT_TRUE((*file)->Sync().ok());
      }
      ASSERT_TRUE((*file)->Close().ok());
      EXPECT_EQ(std::filesystem::file_size(path), data.size());
      EXPECT_TRUE(Slurp(path) == data);
      EXPECT_EQ(std::filesystem::status(path).permissions() &
                    std::filesystem::perms::all,
                std::filesystem::perms::owner_read |
                    std::filesystem::perms::owner_write);
    }
  }
}

// A streaming file reopened goes on from where the file ends, whether that
// is on a block boundary or not, and keeps what was there.
TEST_F(StreamingFileTest, ReopenedGoesOnFromTheEnd) {
  const size_t kMiB = 1 << 20;
  std::string data = Random(20 * kMiB + 777);
  for (const std::string& dir : Dirs()) {
    for (size_t cut : {size_t{0}, size_t{104}, size_t{8192}, kMiB + 16 + 104,
                       9 * kMiB + 5}) {
      SCOPED_TRACE(dir + " cut at " + std::to_string(cut));
      std::string path = dir + "/re" + std::to_string(cut);
      {
        auto file = Env::Default()->NewStreamingFile(path, 0600);
        ASSERT_TRUE(file.ok());
        ASSERT_TRUE((*file)->Append(View(data, 0, cut)).ok());
        ASSERT_TRUE((*file)->Sync().ok());
        // More that is never synced nor kept: a crash would lose it, and
        // the caller cuts it off before going on.
        ASSERT_TRUE((*file)->Append(View(data, cut, 3 * kMiB + 1)).ok());
        ASSERT_TRUE((*file)->Close().ok());
      }
      ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(cut)), 0);
      auto file = Env::Default()->ReopenStreamingFile(path);
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      size_t at = cut;
      for (size_t n : {size_t{5}, kMiB + 16, 8 * kMiB, size_t{4091}}) {
        ASSERT_TRUE((*file)->Append(View(data, at, n)).ok());
        at += n;
        ASSERT_TRUE((*file)->Sync().ok());
      }
      ASSERT_TRUE((*file)->Append(View(data, at, data.size() - at)).ok());
      ASSERT_TRUE((*file)->Close().ok());
      EXPECT_TRUE(Slurp(path) == data);
    }
  }
  EXPECT_FALSE(Env::Default()->ReopenStreamingFile(dir_ / "absent").ok());
}

// A journal file holds what was there up to its end, then exactly what was
// appended, then zeros: across block boundaries, ending on one, past the
// zeros written ahead, reopened inside a block and on its boundary, and cut
// back after a failed batch.
TEST_F(StreamingFileTest, JournalHoldsItsRecordsThenZeros) {
  const size_t kAhead = 64 << 10;
  std::string records = Random(300 * 1024 + 17);
  for (const std::string& dir : Dirs()) {
    for (size_t start : {size_t{5000}, size_t{8192}}) {
      SCOPED_TRACE(dir + " from " + std::to_string(start));
      std::string path = dir + "/journal" + std::to_string(start);
      std::string expect = records.substr(0, start);
      {
        std::ofstream out(path, std::ios::binary);
        out << expect;
      }
      auto check = [&](const std::string& why) {
        std::string got = Slurp(path);
        ASSERT_GE(got.size(), expect.size()) << why;
        EXPECT_TRUE(got.substr(0, expect.size()) == expect) << why;
        EXPECT_EQ(got.find_first_not_of('\0', expect.size()), std::string::npos)
            << why;
      };
      auto file = Env::Default()->NewJournalFile(path, expect.size(), kAhead);
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      check("opened");
      size_t at = expect.size();
      // Ends 4096 - (start % 4096) bytes on: a block boundary.
      size_t to_boundary = 4096 - start % 4096;
      for (size_t n : {size_t{1}, to_boundary - 1, size_t{4096}, size_t{10000},
                       size_t{90000}, size_t{3}, size_t{8192}}) {
        ASSERT_TRUE((*file)->Append(View(records, at, n)).ok());
        ASSERT_TRUE((*file)->Sync().ok());
        at += n;
        expect = records.substr(0, at);
        check("after " + std::to_string(n) + " bytes");
        // Zeros are written ahead of the records.
        EXPECT_GT(std::filesystem::file_size(path), at);
      }
      ASSERT_TRUE((*file)->Close().ok());

      // Reopened where the records end, zeros and all.
      file = Env::Default()->NewJournalFile(path, at, kAhead);
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      ASSERT_TRUE((*file)->Append(View(records, at, 20000)).ok());
      at += 20000;
      expect = records.substr(0, at);
      check("reopened");

      // A failed batch is cut off by the caller, who opens the journal
      // again; appends go on from there.
      ASSERT_TRUE((*file)->Append(View(std::string(7000, 'x'), 0, 7000)).ok());
      file = Status::IOError("closed");
      ASSERT_TRUE(Env::Default()->TruncateFile(path, at).ok());
      file = Env::Default()->NewJournalFile(path, at, kAhead);
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      check("dropped");
      ASSERT_TRUE((*file)->Append(View(records, at, 100)).ok());
      ASSERT_TRUE((*file)->Sync().ok());
      at += 100;
      expect = records.substr(0, at);
      check("went on");
    }
  }
}

// Where zeros cannot be written ahead (here the file size limit stands for
// a full disk), batches that fit still go in, and one that does not fails
// without touching the records before it.
TEST_F(StreamingFileTest, JournalGoesOnWithoutZerosAhead) {
  std::string records = Random(64 * 1024);
  std::string path = (dir_ / "journal").string();
  {
    std::ofstream out(path, std::ios::binary);
    out << records.substr(0, 100);
  }
  struct rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 40 * 1024;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  auto file = Env::Default()->NewJournalFile(path, 100, 1 << 20);
  Status opened = file.status();
  Status first, second, third;
  if (file.ok()) {
    first = (*file)->Append(View(records, 100, 20000));
    if (first.ok()) first = (*file)->Sync();
    second = (*file)->Append(View(records, 20100, 30000));  // past the limit
    third = (*file)->Sync();
  }
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_TRUE(opened.ok()) << opened.ToString();
  EXPECT_TRUE(first.ok()) << first.ToString();
  EXPECT_FALSE(second.ok());
  std::string got = Slurp(path);
  ASSERT_GE(got.size(), 20100u);
  EXPECT_TRUE(got.substr(0, 20100) == records.substr(0, 20100));
  EXPECT_LE(got.size(), 40u * 1024);
  (void)third;
}

TEST_F(StreamingFileTest, EmptyAndTinyFiles) {
  for (const std::string& dir : Dirs()) {
    auto empty = Env::Default()->NewStreamingFile(dir + "/empty");
    ASSERT_TRUE(empty.ok());
    ASSERT_TRUE((*empty)->Sync().ok());
    ASSERT_TRUE((*empty)->Close().ok());
    EXPECT_EQ(std::filesystem::file_size(dir + "/empty"), 0u);

    // Closed by the destructor alone: what was appended is written.
    {
      auto tiny = Env::Default()->NewStreamingFile(dir + "/tiny");
      ASSERT_TRUE(tiny.ok());
      ASSERT_TRUE((*tiny)->Append(View("amanah", 0, 6)).ok());
    }
    EXPECT_EQ(Slurp(dir + "/tiny"), "amanah");
  }
}

// A write the writer thread cannot make (the file size limit, here) comes
// back to the caller, at a later Append or at Sync, never lost.
TEST_F(StreamingFileTest, AFailedWriteIsReported) {
  struct rlimit old;
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &old), 0);
  auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
  struct rlimit small = old;
  small.rlim_cur = 12 << 20;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  std::string data = Random(1 << 20);
  Status failed;
  auto file = Env::Default()->NewStreamingFile((dir_ / "big").string());
  ASSERT_TRUE(file.ok());
  for (int i = 0; i < 40 && failed.ok(); ++i) {
    failed = (*file)->Append(View(data, 0, data.size()));
  }
  if (failed.ok()) failed = (*file)->Sync();
  ::setrlimit(RLIMIT_FSIZE, &old);
  std::signal(SIGXFSZ, old_handler);
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.message().find("big"), std::string::npos)
      << failed.ToString();
  EXPECT_FALSE((*file)->Close().ok());
}

// A file read through NewStreamingReadFile gives exactly the bytes a plain
// read gives: in pieces that follow one another (read ahead), of every
// awkward size across its windows, at random places (no read-ahead), at the
// end and past it, for sizes on and off block boundaries.
TEST_F(StreamingFileTest, StreamingReadsGiveTheFile) {
  const size_t kMiB = 1 << 20;
  for (const std::string& dir : Dirs()) {
    for (size_t size :
         {size_t{0}, size_t{100}, size_t{4096}, 4 * kMiB, 13 * kMiB + 4321}) {
      SCOPED_TRACE(dir + " size " + std::to_string(size));
      std::string data = Random(size);
      std::string path = dir + "/r" + std::to_string(size);
      {
        std::ofstream out(path, std::ios::binary);
        out << data;
      }
      auto file = Env::Default()->NewStreamingReadFile(path);
      ASSERT_TRUE(file.ok()) << file.status().ToString();
      auto size_read = (*file)->Size();
      ASSERT_TRUE(size_read.ok());
      EXPECT_EQ(*size_read, size);

      // From the start to the end, as a vault object is read: its header,
      // then sealed chunks.
      std::string got;
      std::vector<uint8_t> buf(kMiB + 16);
      size_t at = 0;
      for (size_t i = 0;; ++i) {
        size_t n = i == 0 ? 104 : kMiB + 16;
        auto r = (*file)->ReadAt(at, buf.data(), n);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        got.append(reinterpret_cast<const char*>(buf.data()), *r);
        at += *r;
        if (*r < n) break;
      }
      EXPECT_EQ(got.size(), size);
      EXPECT_TRUE(got == data);

      // Anywhere, in any order.
      for (int i = 0; i < 40; ++i) {
        size_t off = size == 0 ? 0 : randombytes_uniform(size + 1);
        size_t n = randombytes_uniform(static_cast<uint32_t>(kMiB + 16)) + 1;
        auto r = (*file)->ReadAt(off, buf.data(), n);
        ASSERT_TRUE(r.ok()) << r.status().ToString();
        size_t want = std::min(n, size - off);
        ASSERT_EQ(*r, want) << "at " << off;
        EXPECT_TRUE(std::memcmp(buf.data(), data.data() + off, want) == 0)
            << "at " << off;
      }
      // Past the end: nothing.
      auto past = (*file)->ReadAt(size + 5000, buf.data(), 10);
      ASSERT_TRUE(past.ok());
      EXPECT_EQ(*past, 0u);
    }
  }
}

class MappedReadTest : public StreamingFileTest {
 protected:
  std::string Make(const std::string& content) {
    std::string path = WriteInput("input", content);
    // An old modification time, so that a change now is seen whatever the
    // clock's granularity.
    struct timespec times[2] = {{1000000000, 0}, {1000000000, 0}};
    EXPECT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, 0), 0);
    return path;
  }
  static std::string Text(const MappedRegion& r) {
    return std::string(reinterpret_cast<const char*>(r.data().data()),
                       r.data().size());
  }
};

TEST_F(MappedReadTest, RegionsHoldTheFile) {
  const size_t kMiB = 1 << 20;
  std::string content = Random(5 * kMiB + 123);
  auto file = Env::Default()->NewSequentialFile(Make(content));
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->CanMap());
  std::string seen;
  std::vector<std::unique_ptr<MappedRegion>> held;  // all alive at once
  for (;;) {
    auto r = (*file)->Map(kMiB);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    if ((*r)->data().empty()) break;
    seen += Text(**r);
    held.push_back(std::move(r).value());
  }
  EXPECT_EQ(held.size(), 6u);
  EXPECT_EQ(held.back()->data().size(), 123u);
  EXPECT_TRUE(seen == content);
  held.clear();
  EXPECT_TRUE((*file)->Finish().ok());
}

// Only large regular files are mapped: not small ones, not standard input,
// and not /proc, whose files report a size of 0 and have content.
TEST_F(MappedReadTest, WhatIsNotMapped) {
  for (const std::string& content : {std::string(), Random(100000)}) {
    auto small = Env::Default()->NewSequentialFile(Make(content));
    ASSERT_TRUE(small.ok());
    EXPECT_FALSE((*small)->CanMap());
    EXPECT_FALSE((*small)->Map(4096).ok());
  }
  auto in = Env::Default()->NewSequentialFile("-");
  ASSERT_TRUE(in.ok());
  EXPECT_FALSE((*in)->CanMap());
  auto proc = Env::Default()->NewSequentialFile("/proc/self/status");
  ASSERT_TRUE(proc.ok());
  EXPECT_FALSE((*proc)->CanMap());
  uint8_t buf[4096];
  auto got = (*proc)->Read(buf, sizeof(buf));
  ASSERT_TRUE(got.ok());
  EXPECT_GT(*got, 0u);
  // The end of a mapped file: an empty region.
  auto big = Env::Default()->NewSequentialFile(Make(Random(1 << 20)));
  ASSERT_TRUE(big.ok());
  ASSERT_TRUE((*big)->CanMap());
  EXPECT_EQ((*(*big)->Map(2 << 20))->data().size(), size_t{1} << 20);
  EXPECT_TRUE((*(*big)->Map(2 << 20))->data().empty());
  EXPECT_TRUE((*big)->Finish().ok());
}

// A file cut short after its region was mapped: reading the lost pages
// raises SIGBUS, which amanah turns into zeros and a failed Finish(), not a
// dead process.
TEST_F(MappedReadTest, ATruncationWhileMappedIsReported) {
  const size_t kMiB = 1 << 20;
  std::string path = Make(Random(2 * kMiB));
  auto file = Env::Default()->NewSequentialFile(path);
  ASSERT_TRUE(file.ok());
  auto r = (*file)->Map(2 * kMiB);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(::truncate(path.c_str(), 0), 0);
  volatile const uint8_t* p = (*r)->data().data();
  uint8_t x = 0;
  for (size_t i = 0; i < 2 * kMiB; i += 4096) x |= p[i];
  EXPECT_EQ(x, 0);  // the lost pages read as zeros
  r->reset();
  Status s = (*file)->Finish();
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_NE(s.message().find("changed while it was read"), std::string::npos)
      << s.ToString();
}

TEST_F(MappedReadTest, ATruncationBeforeMappingIsReported) {
  const size_t kMiB = 1 << 20;
  std::string path = Make(Random(3 * kMiB));
  auto file = Env::Default()->NewSequentialFile(path);
  ASSERT_TRUE(file.ok());
  ASSERT_TRUE((*file)->Map(kMiB).ok());
  ASSERT_EQ(::truncate(path.c_str(), kMiB + 10), 0);
  auto r = (*file)->Map(kMiB);
  Status s = r.ok() ? (r->reset(), (*file)->Finish()) : r.status();
  EXPECT_EQ(s.code(), Code::kConflict) << s.ToString();
  EXPECT_NE(s.message().find("changed while it was read"), std::string::npos);
}

TEST_F(MappedReadTest, AChangeOfContentIsReported) {
  std::string path = Make(Random(2 << 20));
  for (bool map : {true, false}) {
    SCOPED_TRACE(map ? "mapped" : "read");
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(),
                          std::array<struct timespec, 2>{
                              {{1000000000, 0}, {1000000000, 0}}}
                              .data(),
                          0),
              0);
    auto file = Env::Default()->NewSequentialFile(path);
    ASSERT_TRUE(file.ok());
    if (map) {
      ASSERT_TRUE((*file)->Map(1 << 20).ok());
    } else {
      uint8_t buf[4096];
      ASSERT_TRUE((*file)->Read(buf, sizeof(buf)).ok());
    }
    std::fstream(path, std::ios::in | std::ios::out | std::ios::binary)
        .write("x", 1);
    Status s = (*file)->Finish();
    EXPECT_EQ(s.code(), Code::kConflict);
    EXPECT_NE(s.message().find("it was modified"), std::string::npos)
        << s.ToString();
  }
}

}  // namespace
}  // namespace amanah
