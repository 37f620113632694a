// The bundle's tar container: round trips, strict reading of crafted and
// damaged archives, and interoperability with GNU tar both ways.

#include "bundle/tar.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>
#include <sstream>

#include "storage/fault_injection_env.h"
#include "storage/testutil.h"

namespace amanah {
namespace {

using testutil::StringSource;

namespace fs = std::filesystem;
using namespace std::string_literals;

constexpr int64_t kMtime = 1700000000;
constexpr uint64_t kEightGiB = uint64_t{8} << 30;

// Records everything appended, and each Append's address and size.
class StringSink : public ByteSink {
 public:
  Status Append(ByteView data) override {
    out.append(AsString(data));
    appends.emplace_back(data.data(), data.size());
    return Status::OK();
  }
  std::string out;
  std::vector<std::pair<const uint8_t*, size_t>> appends;
};

// Writes to a WritableFile.
class FileSink : public ByteSink {
 public:
  explicit FileSink(WritableFile* file) : file_(file) {}
  Status Append(ByteView data) override { return file_->Append(data); }

 private:
  WritableFile* file_;
};

using Files = std::vector<std::pair<std::string, std::string>>;

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

std::string Pad(std::string data) {
  data.append((512 - data.size() % 512) % 512, '\0');
  return data;
}

const std::string kEnd(1024, '\0');

// An archive of `files` written with TarWriter::Add.
std::string Build(const Files& files, int64_t mtime = kMtime) {
  StringSink sink;
  TarWriter w(&sink, mtime);
  for (const auto& [path, content] : files) {
    Status s = w.Add(path, AsBytes(content));
    EXPECT_TRUE(s.ok()) << path << ": " << s.ToString();
  }
  EXPECT_TRUE(w.Finish().ok());
  EXPECT_EQ(w.bytes_written(), sink.out.size());
  return sink.out;
}

Result<std::string> ReadBody(SequentialFile* f, size_t chunk) {
  std::string out;
  std::vector<uint8_t> buf(chunk);
  for (;;) {
    ASSIGN_OR_RETURN(size_t n, f->Read(buf.data(), buf.size()));
    if (n == 0) return out;
    out.append(reinterpret_cast<const char*>(buf.data()), n);
  }
}

// Every member of `archive`, read through member() `chunk` bytes at a time
// from a source returning at most `source_chunk` bytes a read.
Result<Files> ReadAll(std::string archive, size_t chunk = 4096,
                      size_t source_chunk = 1 << 30) {
  StringSource src(std::move(archive), source_chunk);
  TarReader reader(&src);
  Files files;
  TarMember m;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&m));
    if (!more) return files;
    ASSIGN_OR_RETURN(std::string body, ReadBody(reader.member(), chunk));
    if (body.size() != m.size) return Status::Corruption("short member");
    files.emplace_back(m.path, std::move(body));
  }
}

// The status of reading all of `archive`, skipping the data.
Status Scan(std::string archive) {
  StringSource src(std::move(archive));
  TarReader reader(&src);
  TarMember m;
  for (;;) {
    ASSIGN_OR_RETURN(bool more, reader.Next(&m));
    if (!more) return Status::OK();
  }
}

// ---- An independent ustar header builder (POSIX.1-2001, "ustar Interchange
// Format"), for archives TarWriter would never write.

std::string Octal(uint64_t v, size_t width) {
  std::string s(width - 1, '0');
  for (size_t i = width - 1; i-- > 0; v >>= 3) s[i] = char('0' + (v & 7));
  return s + '\0';
}

struct RawHeader {
  std::string name;
  std::string prefix;
  std::string size = Octal(0, 12);
  char type = '0';
  std::string magic = std::string(
      "ustar\0"
      "00",
      8);
};

void Put(std::string* block, size_t off, const std::string& value) {
  block->replace(off, value.size(), value);
}

// Recomputes the checksum of the header at `off` of `archive`.
void Reseal(std::string* archive, size_t off) {
  Put(archive, off + 148, "        ");
  unsigned sum = 0;
  for (size_t i = 0; i < 512; ++i) {
    sum += static_cast<unsigned char>((*archive)[off + i]);
  }
  Put(archive, off + 148, Octal(sum, 7) + " ");
}

std::string Raw(const RawHeader& h) {
  std::string b(512, '\0');
  Put(&b, 0, h.name.substr(0, 100));
  Put(&b, 100, Octal(0644, 8));
  Put(&b, 108, Octal(0, 8));
  Put(&b, 116, Octal(0, 8));
  Put(&b, 124, h.size);
  Put(&b, 136, Octal(kMtime, 12));
  b[156] = h.type;
  Put(&b, 257, h.magic);
  Put(&b, 345, h.prefix);
  Reseal(&b, 0);
  return b;
}

std::string RawFile(const std::string& name, const std::string& content,
                    char type = '0') {
  RawHeader h;
  h.name = name;
  h.size = Octal(content.size(), 12);
  h.type = type;
  return Raw(h) + Pad(content);
}

// A pax record "<len> <key>=<value>\n", <len> counting itself.
std::string Rec(const std::string& key, const std::string& value) {
  std::string body = " " + key + "=" + value + "\n";
  for (size_t digits = 1;; ++digits) {
    std::string len = std::to_string(body.size() + digits);
    if (len.size() == digits) return len + body;
  }
}

std::string RawPax(const std::string& records) {
  RawHeader h;
  h.name = "PaxHeaders/x";
  h.size = Octal(records.size(), 12);
  h.type = 'x';
  return Raw(h) + Pad(records);
}

void ExpectCorruption(const Status& s, const std::string& what,
                      const std::string& where) {
  EXPECT_EQ(s.code(), Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find(what), std::string::npos) << s.ToString();
  EXPECT_NE(s.message().find("tar offset " + where + ":"), std::string::npos)
      << s.ToString();
}

// ---- Writing and reading back

TEST(TarTest, RoundTripOfAwkwardSizesAndPaths) {
  const std::string hex(64, 'a');
  Files files = {
      {"manifest.json", Random(300, 1)},
      {"empty", ""},
      {"one", "x"},
      {"blobs/sha256/" + hex, Random(512, 2)},
      {"entries/511", Random(511, 3)},
      {"entries/513", Random(513, 4)},
      {"entries/1024", Random(1024, 5)},
      {"odd", Random(70001, 6)},
      // Over 100 bytes: split into prefix and name.
      {"peers/" + std::string(90, 'p') + "/entries/12", Random(7, 7)},
      // A last component over 100 bytes: a pax path.
      {"peers/" + std::string(120, 'q'), Random(600, 8)},
      // Over 256 bytes in all: a pax path.
      {std::string(99, 'a') + "/" + std::string(99, 'b') + "/" +
           std::string(99, 'c') + "/d",
       ""},
      {"VERIFY.txt", "#!/bin/sh\n# end of script\n"},
  };
  const std::string archive = Build(files);
  EXPECT_EQ(archive.size() % 512, 0u);
  for (size_t source_chunk : {size_t{1} << 30, size_t{7}, size_t{512}}) {
    for (size_t chunk : {size_t{1}, size_t{333}, size_t{1} << 20}) {
      auto back = ReadAll(archive, chunk, source_chunk);
      ASSERT_TRUE(back.ok()) << back.status().ToString();
      EXPECT_EQ(*back, files) << chunk << " " << source_chunk;
    }
  }
}

TEST(TarTest, HeadersAreUstarWithTheGivenMtime) {
  const std::string archive = Build({{"checkpoint", "abc"}}, 1234567890);
  ASSERT_EQ(archive.size(), 512u + 512u + 1024u);
  const std::string h = archive.substr(0, 512);
  EXPECT_EQ(h.substr(0, 11), std::string("checkpoint\0", 11));
  EXPECT_EQ(h.substr(100, 8), Octal(0644, 8));
  EXPECT_EQ(h.substr(108, 8), Octal(0, 8));
  EXPECT_EQ(h.substr(116, 8), Octal(0, 8));
  EXPECT_EQ(h.substr(124, 12), Octal(3, 12));
  EXPECT_EQ(h.substr(136, 12), Octal(1234567890, 12));
  EXPECT_EQ(h[156], '0');
  EXPECT_EQ(h.substr(257, 8), std::string("ustar\0"
                                          "00",
                                          8));
  std::string resealed = h;
  Reseal(&resealed, 0);
  EXPECT_EQ(resealed.substr(148, 7), h.substr(148, 7));
  EXPECT_EQ(archive.substr(512, 3), "abc");
  EXPECT_EQ(archive.substr(515), std::string(509 + 1024, '\0'));

  // One export is byte-reproducible; another mtime changes the bytes.
  EXPECT_EQ(Build({{"checkpoint", "abc"}}, 1234567890), archive);
  EXPECT_NE(Build({{"checkpoint", "abc"}}, 1234567891), archive);
}

TEST(TarTest, LongPathsUsePrefixOrPax) {
  const std::string dir(60, 'd'), base(60, 'f');
  std::string split = Build({{dir + "/" + base, "x"}});
  EXPECT_EQ(split.size(), 512u + 512u + 1024u);
  EXPECT_EQ(split.substr(0, 61), base + '\0');
  EXPECT_EQ(split.substr(345, 61), dir + '\0');

  std::string pax = Build({{dir + "/" + std::string(101, 'g'), "x"}});
  EXPECT_EQ(pax[156], 'x');
  const std::string record =
      "172 path=" + dir + "/" + std::string(101, 'g') + "\n";
  EXPECT_EQ(record.size(), 172u);
  EXPECT_EQ(pax.substr(512, 173), record + '\0');
  EXPECT_EQ(pax[1024 + 156], '0');
}

// The length of a pax record counts its own digits.
TEST(TarTest, PaxRecordLengthsCrossingDigitBoundaries) {
  for (size_t n : {101, 987, 988, 989, 990, 991, 992}) {
    // A single component over 100 bytes cannot be split.
    const std::string path(n, 'a');
    StringSink sink;
    TarWriter w(&sink, kMtime);
    ASSERT_TRUE(w.Add(path, AsBytes("1")).ok());
    ASSERT_TRUE(w.Finish().ok());
    ASSERT_EQ(sink.out[156], 'x');
    const size_t records = std::stoul(sink.out.substr(124, 12), nullptr, 8);
    const std::string data = sink.out.substr(512, records);
    const size_t space = data.find(' ');
    EXPECT_EQ(std::stoul(data.substr(0, space)), data.size()) << data;
    EXPECT_EQ(data.substr(space), " path=" + path + "\n");
    auto back = ReadAll(sink.out);
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    EXPECT_EQ(*back, (Files{{path, "1"}}));
  }
}

TEST(TarTest, DataWrittenInPiecesPassesStraightThrough) {
  const std::string data = Random(300001, 9);
  StringSink sink;
  TarWriter w(&sink, kMtime);
  ASSERT_TRUE(w.Begin("blobs/sha256/x", data.size()).ok());
  size_t pos = 0;
  for (size_t piece = 0; pos < data.size(); ++piece) {
    const size_t n = std::min(data.size() - pos, piece * 37 % 5000);
    ASSERT_TRUE(w.Write(AsBytes(data).subspan(pos, n)).ok());
    if (n > 0) {
      EXPECT_EQ(sink.appends.back().first, AsBytes(data).data() + pos);
      EXPECT_EQ(sink.appends.back().second, n);
    }
    pos += n;
  }
  ASSERT_TRUE(w.End().ok());
  ASSERT_TRUE(w.Finish().ok());
  EXPECT_EQ(sink.out, Build({{"blobs/sha256/x", data}}));
}

TEST(TarTest, SizeMismatchesAndMisuseAreRefused) {
  StringSink sink;
  {
    TarWriter w(&sink, kMtime);
    ASSERT_TRUE(w.Begin("a", 5).ok());
    ASSERT_TRUE(w.Write(AsBytes("abc")).ok());
    EXPECT_EQ(w.End().code(), Code::kInvalidInput);
    // The archive is now unusable: the error sticks.
    EXPECT_EQ(w.Add("b", AsBytes("x")).code(), Code::kInvalidInput);
    EXPECT_EQ(w.Finish().code(), Code::kInvalidInput);
  }
  {
    TarWriter w(&sink, kMtime);
    ASSERT_TRUE(w.Begin("a", 5).ok());
    EXPECT_EQ(w.Write(AsBytes("abcdef")).code(), Code::kInvalidInput);
    EXPECT_EQ(w.End().code(), Code::kInvalidInput);
  }
  {
    TarWriter w(&sink, kMtime);
    EXPECT_EQ(w.Write(AsBytes("x")).code(), Code::kInvalidInput);
    EXPECT_EQ(w.End().code(), Code::kInvalidInput);
    ASSERT_TRUE(w.Begin("a", 1).ok());
    EXPECT_EQ(w.Begin("b", 1).code(), Code::kInvalidInput);
    EXPECT_EQ(w.Finish().code(), Code::kInvalidInput);
    ASSERT_TRUE(w.Write(AsBytes("x")).ok());
    ASSERT_TRUE(w.End().ok());
    ASSERT_TRUE(w.Finish().ok());
    EXPECT_EQ(w.Finish().code(), Code::kInvalidInput);
    EXPECT_EQ(w.Add("c", {}).code(), Code::kInvalidInput);
  }
}

const char* const kUnsafePaths[] = {
    "/etc/passwd", "..",  "../x",  "a/../../b", "a/..", "a//b",
    "a/",          "./a", "a/./b", ".",         "a\nb", "a\x7f",
};

TEST(TarTest, WriterRefusesUnsafePaths) {
  std::vector<std::string> paths(std::begin(kUnsafePaths),
                                 std::end(kUnsafePaths));
  paths.push_back("");
  paths.push_back(std::string("a\0b", 3));
  paths.push_back(std::string(kMaxTarPath + 1, 'a'));
  for (const std::string& path : paths) {
    StringSink sink;
    TarWriter w(&sink, kMtime);
    Status s = w.Add(path, AsBytes("x"));
    EXPECT_EQ(s.code(), Code::kInvalidInput) << path;
    EXPECT_NE(s.message().find("unsafe tar path"), std::string::npos);
    EXPECT_EQ(w.bytes_written(), 0u);
    // Nothing was written: the writer is still usable.
    EXPECT_TRUE(w.Add("ok", AsBytes("x")).ok());
  }
  EXPECT_TRUE(CheckTarPath(std::string(kMaxTarPath, 'a')).ok());
  EXPECT_TRUE(CheckTarPath("a/.b/..c/b..").ok());
}

using TarFileTest = testutil::TempDirTest;

TEST_F(TarFileTest, SinkFailureSticks) {
  const std::string path = (dir_ / "bundle.tar").string();
  FaultInjectionEnv env(Env::Default());
  auto file = env.NewWritableFile(path, 0644);
  ASSERT_TRUE(file.ok());
  FileSink sink(file->get());
  TarWriter w(&sink, kMtime);
  env.SetWriteBudget(1536);
  ASSERT_TRUE(w.Add("a", AsBytes("x")).ok());
  EXPECT_EQ(w.Add("b", AsBytes(Random(2000, 1))).code(), Code::kIO);
  env.ClearFaults();
  EXPECT_EQ(w.Add("c", AsBytes("x")).code(), Code::kIO);
  EXPECT_EQ(w.Finish().code(), Code::kIO);
  ASSERT_TRUE((*file)->Close().ok());
}

// ---- Reading

TEST(TarTest, ReaderReadsLargeRequestsStraightFromTheSource) {
  const std::string big = Random(1 << 20, 10);
  StringSource src(Build({{"a", "hello"}, {"big", big}, {"c", "tail"}}));
  TarReader reader(&src);
  TarMember m;
  ASSERT_TRUE(*reader.Next(&m));
  EXPECT_EQ(m.path, "a");
  // Leave "a" half read: Next skips the rest.
  uint8_t two[2];
  ASSERT_EQ(*reader.Read(two, 2), 2u);
  ASSERT_TRUE(*reader.Next(&m));
  EXPECT_EQ(m.path, "big");
  EXPECT_EQ(m.size, big.size());
  std::string buf(2 << 20, '\0');
  src.requests.clear();
  auto n =
      reader.member()->Read(reinterpret_cast<uint8_t*>(buf.data()), buf.size());
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, big.size());
  EXPECT_EQ(src.requests, std::vector<size_t>{big.size()});
  EXPECT_EQ(buf.substr(0, *n), big);
  EXPECT_EQ(*reader.member()->Read(two, 2), 0u);
  ASSERT_TRUE(*reader.Next(&m));
  EXPECT_EQ(m.path, "c");
  EXPECT_EQ(*ReadBody(reader.member(), 100), "tail");
  EXPECT_FALSE(*reader.Next(&m));
  EXPECT_FALSE(*reader.Next(&m));
  EXPECT_EQ(reader.offset(), 512u + 512 + 512 + (1 << 20) + 512 + 512 + 1024);
}

TEST(TarTest, ReaderRefusesUnsafePaths) {
  for (const char* path : kUnsafePaths) {
    ExpectCorruption(Scan(RawFile(path, "x") + kEnd), "unsafe tar path", "0");
    ExpectCorruption(Scan(RawFile("fine", "") + RawPax(Rec("path", path)) +
                          RawFile("fine", "x") + kEnd),
                     "unsafe tar path", "512");
  }
  ExpectCorruption(Scan(RawFile("", "x") + kEnd), "empty", "0");
  RawHeader h;
  h.name = "passwd";
  h.prefix = "/etc";
  ExpectCorruption(Scan(Raw(h) + kEnd), "absolute", "0");
  ExpectCorruption(Scan(RawFile("../dir/", "", '5') + kEnd), "\"..\"", "0");
  // The path of a pax record replaces the header's.
  ExpectCorruption(
      Scan(RawPax("14 path=../up\n") + RawFile("fine", "x") + kEnd),
      "unsafe tar path \"../up\"", "0");
}

TEST(TarTest, ReaderRefusesMembersOtherThanFilesAndDirectories) {
  const std::pair<char, const char*> types[] = {
      {'1', "hard link"},
      {'2', "symbolic link"},
      {'3', "character device"},
      {'4', "block device"},
      {'6', "FIFO"},
      {'7', "contiguous file"},
      {'g', "pax global header"},
      {'L', "GNU long name"},
      {'K', "GNU long link name"},
      {'S', "GNU sparse file"},
      {'\0', "pre-POSIX"},
      {'Z', "member of unknown type"},
  };
  for (const auto& [type, name] : types) {
    std::string archive = RawFile("a", "x") + RawFile("b", "", type) + kEnd;
    ExpectCorruption(Scan(archive), std::string("\"b\" is a ") + name, "1024");
  }
}

TEST(TarTest, ReaderRefusesMalformedHeaders) {
  RawHeader h;
  h.name = "a";
  h.size = "00000x00000";
  ExpectCorruption(Scan(Raw(h) + kEnd), "size field", "0");
  h.size = std::string("\x80\0\0\0\0\0\0\0\0\0\0\x01", 12);
  ExpectCorruption(Scan(Raw(h) + kEnd), "size field", "0");
  h.size = std::string(12, '\0');
  ExpectCorruption(Scan(Raw(h) + kEnd), "size field", "0");
  h.size = Octal(0, 12);
  h.magic = std::string("ustar  \0", 8);
  ExpectCorruption(Scan(Raw(h) + kEnd), "old GNU tar header", "0");
  h.magic = std::string(8, '\0');
  ExpectCorruption(Scan(Raw(h) + kEnd), "not a POSIX ustar header", "0");
  h.magic = std::string(
      "ustar\0"
      "00",
      8);
  std::string bad_mode = Raw(h);
  Put(&bad_mode, 100, "0000/44");
  Reseal(&bad_mode, 0);
  ExpectCorruption(Scan(bad_mode + kEnd), "mode field", "0");
  EXPECT_TRUE(Scan(Raw(h) + kEnd).ok());

  const std::string file = RawFile("f", "x");
  ExpectCorruption(Scan(RawFile("d/", "x", '5') + kEnd), "directory", "0");
  ExpectCorruption(Scan(RawPax("13 path=ab\n") + file + kEnd), "length", "0");
  ExpectCorruption(Scan(RawPax("2 path=ab\n") + file + kEnd), "length", "0");
  ExpectCorruption(Scan(RawPax("path=ab\n") + file + kEnd), "length", "0");
  ExpectCorruption(Scan(RawPax("11 path=ab!") + file + kEnd), "newline", "0");
  ExpectCorruption(Scan(RawPax("09 path=\n") + file + kEnd), "length", "0");
  ExpectCorruption(Scan(RawPax("6 =ab\n") + file + kEnd), "keyword", "0");
  ExpectCorruption(Scan(RawPax(Rec("size", "1x")) + file + kEnd), "pax size",
                   "0");
  ExpectCorruption(
      Scan(RawPax(Rec("size", "99999999999999999999")) + file + kEnd),
      "pax size", "0");
  ExpectCorruption(Scan(RawPax(Rec("GNU.sparse.major", "1")) + file + kEnd),
                   "sparse", "0");
  const std::string size1 = Rec("size", "1");
  EXPECT_EQ(size1, "9 size=1\n");
  ExpectCorruption(Scan(RawPax(size1) + RawPax(size1) + file + kEnd),
                   "two pax headers", "1024");
  ExpectCorruption(Scan(RawPax(size1) + kEnd), "zero block", "1024");
  ExpectCorruption(Scan(RawPax(size1)), "ends after a pax header", "1024");
  RawHeader huge;
  huge.name = "PaxHeaders/x";
  huge.type = 'x';
  huge.size = Octal(kMaxTarPaxHeader + 1, 12);
  ExpectCorruption(Scan(Raw(huge) + kEnd), "over the limit", "0");

  // Accepted: other keywords are ignored; an empty value reverts a record.
  auto ok = ReadAll(RawPax("20 mtime=1700000000\n11 path=zz\n8 path=\n") +
                    RawFile("f", "x") + kEnd);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, (Files{{"f", "x"}}));
  ok = ReadAll(RawPax(Rec("size", "3")) + RawFile("f", "") + Pad("abc") + kEnd);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, (Files{{"f", "abc"}}));
  ok = ReadAll(RawPax(Rec("path", "p/q") + Rec("size", "3")) +
               RawFile("f", "") + Pad("abc") + kEnd);
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, (Files{{"p/q", "abc"}}));
}

TEST(TarTest, FlippedHeaderByteIsACorruptionAtItsOffset) {
  const std::string archive = Build({{"a", Random(600, 1)}, {"b", "x"}});
  for (size_t at : {size_t{0}, size_t{5}, size_t{124}, size_t{300}}) {
    std::string first = archive;
    first[at] ^= 0x04;
    ExpectCorruption(Scan(first), "bad header checksum", "0");
    std::string second = archive;
    second[1536 + at] ^= 0x04;
    ExpectCorruption(Scan(second), "bad header checksum", "1536");
  }
  std::string field = archive;
  field[148] = 'x';
  ExpectCorruption(Scan(field), "checksum field", "0");
}

TEST(TarTest, TruncatedArchivesAreCorrupt) {
  const std::string archive = Build({{"a", Random(600, 1)}, {"b", "x"}});
  ASSERT_EQ(archive.size(), 1536u + 1024 + 1024);
  // In the data of "a": read through member() and skipped by Next.
  auto read = ReadAll(archive.substr(0, 612));
  EXPECT_EQ(read.status().code(), Code::kCorruption);
  EXPECT_NE(read.status().message().find("inside the data of \"a\""),
            std::string::npos)
      << read.status().ToString();
  ExpectCorruption(Scan(archive.substr(0, 612)), "inside the data of \"a\"",
                   "612");
  ExpectCorruption(Scan(archive.substr(0, 1200)), "inside the padding", "1200");
  ExpectCorruption(Scan(archive.substr(0, 1536 + 100)), "inside a header",
                   "1536");
  ExpectCorruption(Scan(archive.substr(0, archive.size() - 1024)),
                   "without its two end-of-archive zero blocks", "2560");
  ExpectCorruption(Scan(archive.substr(0, archive.size() - 512)),
                   "single zero block", "2560");
  ExpectCorruption(Scan(""), "without its two", "0");

  // Zero padding after the end blocks is fine; anything else is not.
  EXPECT_TRUE(Scan(archive + std::string(10240, '\0')).ok());
  std::string trailing = archive + std::string(1000, '\0') + "x";
  ExpectCorruption(Scan(trailing), "after the end of the archive",
                   std::to_string(archive.size() + 1000));
}

// offset() counts every byte taken from the source, also the trailer read
// before it is refused (found by fuzz/tar_fuzz.cc).
TEST(TarTest, OffsetCountsTheTrailerItRefuses) {
  const std::string archive = Build({{"a", "x"}});
  const std::string trailing = archive + std::string(100, '\0') + "x";
  testutil::StringSource in(trailing);
  TarReader reader(&in);
  TarMember m;
  ASSERT_TRUE(*reader.Next(&m));
  auto next = reader.Next(&m);
  ASSERT_EQ(next.status().code(), Code::kCorruption);
  EXPECT_NE(next.status().message().find(std::to_string(archive.size() + 100)),
            std::string::npos)
      << next.status().ToString();
  EXPECT_EQ(reader.offset(), trailing.size());
}

// ---- GNU tar, both ways

class GnuTarTest : public testutil::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    if (std::system("tar --version 2>/dev/null | grep -q 'GNU tar'") != 0) {
      GTEST_SKIP() << "GNU tar is not installed";
    }
  }

  std::string Path(const std::string& name) { return (dir_ / name).string(); }

  // Runs `command` in dir_; returns its exit status, stdout in *out, and
  // fails the test if it printed anything on stderr.
  int Run(const std::string& command, std::string* out = nullptr) {
    const std::string cmd = "cd '" + dir_.string() + "' && " + command + " >'" +
                            Path("stdout") + "' 2>'" + Path("stderr") + "'";
    int rc = std::system(cmd.c_str());
    EXPECT_EQ(Slurp(Path("stderr")), "") << command;
    if (out != nullptr) *out = Slurp(Path("stdout"));
    return rc;
  }

  static std::string Slurp(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  void WriteArchive(const std::string& path, const Files& files) {
    auto file = Env::Default()->NewWritableFile(path);
    ASSERT_TRUE(file.ok());
    FileSink sink(file->get());
    TarWriter w(&sink, kMtime);
    for (const auto& [name, content] : files) {
      ASSERT_TRUE(w.Add(name, AsBytes(content)).ok()) << name;
    }
    ASSERT_TRUE(w.Finish().ok());
    ASSERT_TRUE((*file)->Close().ok());
  }

  Result<Files> ReadArchive(const std::string& path) {
    ASSIGN_OR_RETURN(auto file, Env::Default()->NewSequentialFile(path));
    TarReader reader(file.get());
    Files files;
    TarMember m;
    for (;;) {
      ASSIGN_OR_RETURN(bool more, reader.Next(&m));
      if (!more) return files;
      ASSIGN_OR_RETURN(std::string body, ReadBody(reader.member(), 1000));
      files.emplace_back(m.path, std::move(body));
    }
  }

  // The regular files under `root`, relative paths to contents.
  std::map<std::string, std::string> Tree(const fs::path& root) {
    std::map<std::string, std::string> files;
    for (const auto& e : fs::recursive_directory_iterator(root)) {
      if (e.is_regular_file() && !e.is_symlink()) {
        files[fs::relative(e.path(), root).string()] = Slurp(e.path());
      }
    }
    return files;
  }

  // Creates `files` under dir_/root.
  void MakeTree(const std::string& root, const Files& files) {
    for (const auto& [name, content] : files) {
      fs::path p = dir_ / root / name;
      fs::create_directories(p.parent_path());
      std::ofstream(p, std::ios::binary) << content;
    }
  }
};

Files SampleFiles() {
  return {
      {"manifest.json", Random(300, 1)},
      {"empty", ""},
      {"entries/0", Random(512, 2)},
      {"entries/1", Random(1025, 3)},
      {"blobs/sha256/" + std::string(64, 'e'), Random(100000, 4)},
      {std::string(60, 'p') + "/" + std::string(60, 'q') + "/file",
       Random(10, 5)},
  };
}

TEST_F(GnuTarTest, ListsAndExtractsWhatWeWrite) {
  Files files = SampleFiles();
  files.emplace_back("peers/" + std::string(150, 'n') + "/entries/3",
                     Random(77, 6));
  WriteArchive(Path("bundle.tar"), files);

  std::string listing;
  ASSERT_EQ(Run("TZ=UTC tar -tvf bundle.tar", &listing), 0);
  std::map<std::string, uint64_t> listed;
  std::istringstream lines(listing);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string mode, owner, size, date, time, name;
    fields >> mode >> owner >> size >> date >> time >> name;
    EXPECT_EQ(mode, "-rw-r--r--") << line;
    EXPECT_EQ(owner, "0/0") << line;
    EXPECT_EQ(date + " " + time.substr(0, 2), "2023-11-14 22") << line;
    listed[name] = std::stoull(size);
  }
  std::map<std::string, uint64_t> expected;
  for (const auto& [name, content] : files) expected[name] = content.size();
  EXPECT_EQ(listed, expected);

  fs::create_directories(dir_ / "out");
  ASSERT_EQ(Run("tar -xf bundle.tar -C out"), 0);
  std::map<std::string, std::string> want(files.begin(), files.end());
  EXPECT_EQ(Tree(dir_ / "out"), want);
}

TEST_F(GnuTarTest, ReadsWhatGnuTarWrites) {
  Files files = SampleFiles();
  MakeTree("pax", files);
  // A component over 100 bytes: only pax can hold it.
  MakeTree("pax", {{"long/" + std::string(150, 'n'), "long name"}});
  MakeTree("ustar", files);
  for (const std::string format : {"pax", "ustar"}) {
    SCOPED_TRACE(format);
    ASSERT_EQ(Run("tar --format=" + format + " -C " + format + " -cf " +
                  format + ".tar $(ls " + format + ")"),
              0);
    auto back = ReadArchive(Path(format + ".tar"));
    ASSERT_TRUE(back.ok()) << back.status().ToString();
    std::map<std::string, std::string> read(back->begin(), back->end());
    EXPECT_EQ(read.size(), back->size());
    EXPECT_EQ(read, Tree(dir_ / format));
  }
}

TEST_F(GnuTarTest, LinksInGnuTarArchivesAreRefused) {
  MakeTree("src", {{"f", "content"}});
  fs::create_symlink("f", dir_ / "src" / "sym");
  fs::create_hard_link(dir_ / "src" / "f", dir_ / "src" / "hard");
  for (const std::string format : {"pax", "ustar"}) {
    for (const auto& [name, kind] :
         {std::pair<std::string, std::string>{"sym", "symbolic link"},
          {"hard", "hard link"}}) {
      ASSERT_EQ(
          Run("tar --format=" + format + " -C src -cf links.tar f " + name), 0);
      auto back = ReadArchive(Path("links.tar"));
      EXPECT_EQ(back.status().code(), Code::kCorruption);
      EXPECT_NE(back.status().message().find("\"" + name + "\" is a " + kind),
                std::string::npos)
          << back.status().ToString();
    }
  }
  // The old GNU format is not POSIX.
  ASSERT_EQ(Run("tar --format=gnu -C src -cf gnu.tar f"), 0);
  auto back = ReadArchive(Path("gnu.tar"));
  EXPECT_NE(back.status().message().find("old GNU tar header"),
            std::string::npos)
      << back.status().ToString();
}

// A size of 8 GiB or more goes in a pax record; checked on a sparse file so
// that no 8 GiB are written.
TEST_F(GnuTarTest, SizesFromEightGiBUsePax) {
  const auto start = std::chrono::steady_clock::now();
  const uint64_t size = kEightGiB + 1;
  StringSink sink;
  TarWriter w(&sink, kMtime);
  ASSERT_TRUE(w.Begin("blobs/big", size).ok());
  const std::string headers = sink.out;
  ASSERT_EQ(headers.size(), 3 * 512u);
  EXPECT_EQ(headers[156], 'x');
  EXPECT_EQ(headers.substr(512, 20), "19 size=8589934593\n\0"s);
  EXPECT_EQ(headers.substr(1024 + 124, 12), Octal(0, 12));
  EXPECT_EQ(headers.substr(1024, 10), "blobs/big\0"s);
  // With a long path too: both records in one pax header.
  const std::string long_path(120, 'L');
  StringSink both;
  TarWriter w3(&both, kMtime);
  ASSERT_TRUE(w3.Begin(long_path, size).ok());
  EXPECT_EQ(both.out.substr(512, 130 + 19),
            "130 path=" + long_path + "\n19 size=8589934593\n");
  StringSource src(both.out);
  TarReader headers_only(&src);
  TarMember m;
  ASSERT_TRUE(*headers_only.Next(&m));
  EXPECT_EQ(m.path, long_path);
  EXPECT_EQ(m.size, size);
  // Just under the limit needs no pax header.
  StringSink small;
  TarWriter w2(&small, kMtime);
  ASSERT_TRUE(w2.Begin("blobs/big", kEightGiB - 1).ok());
  EXPECT_EQ(small.out.size(), 512u);
  EXPECT_EQ(small.out.substr(124, 12), "77777777777\0"s);

  // The data and the end blocks are a hole of zeros.
  const std::string path = Path("big.tar");
  std::ofstream(path, std::ios::binary) << headers;
  fs::resize_file(path, headers.size() + size + 511 + 1024);

  auto file = Env::Default()->NewSequentialFile(path);
  ASSERT_TRUE(file.ok());
  TarReader reader(file->get());
  auto more = reader.Next(&m);
  ASSERT_TRUE(more.ok()) << more.status().ToString();
  ASSERT_TRUE(*more);
  EXPECT_EQ(m.path, "blobs/big");
  EXPECT_EQ(m.size, size);
  EXPECT_EQ(reader.offset(), headers.size());
  uint8_t buf[4096];
  ASSERT_EQ(*reader.Read(buf, sizeof(buf)), sizeof(buf));

  // GNU tar seeks over the data of a regular file when listing.
  std::string listing;
  ASSERT_EQ(Run("tar -tvf big.tar", &listing), 0);
  EXPECT_NE(listing.find(" 8589934593 "), std::string::npos) << listing;
  EXPECT_NE(listing.find(" blobs/big\n"), std::string::npos) << listing;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

}  // namespace
}  // namespace amanah
