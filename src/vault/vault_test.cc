#include "vault/vault.h"

#include <gtest/gtest.h>
#include <sodium.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <random>

#include "ledger/custody_entry.h"
#include "storage/fault_injection_env.h"
#include "storage/testutil.h"
#include "vault/e01.h"
#include "vault/staged.h"
#include "vault/testutil.h"

namespace amanah {
namespace {

using testutil::StringSource;

namespace fs = std::filesystem;

// A full chunk as written (format version 2): nonce prefix, ciphertext, tag.
constexpr size_t kSealedChunk =
    kVaultNoncePrefixSize + kVaultChunkSize + kVaultTagSize;

class Collect : public ChunkSink {
 public:
  Status Consume(ByteView c, uint64_t, bool) override {
    out.append(AsString(c));
    return Status::OK();
  }
  std::string out;
};

std::string Random(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng());
  return s;
}

class VaultTest : public testutil::TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    VaultKey k{};
    k[0] = 1;
    master_ = MasterKey::FromBytes(k);
  }
  MasterKey master_;
};

TEST_F(VaultTest, RoundTripsSizesAroundChunkBoundaries) {
  Vault v(Env::Default(), dir_, master_);
  for (size_t n : {size_t{0}, size_t{1}, kVaultChunkSize - 1, kVaultChunkSize,
                   kVaultChunkSize + 1, 3 * kVaultChunkSize}) {
    std::string data = Random(n, static_cast<uint32_t>(n));
    StringSource src(data);
    auto put = v.Put(&src, {HashAlgorithm::kMd5, HashAlgorithm::kSha1});
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    EXPECT_EQ(put->size, n);
    EXPECT_EQ(put->address.digest, Sha256(AsBytes(data)));
    Hasher md5(HashAlgorithm::kMd5);
    md5.Update(AsBytes(data));
    EXPECT_EQ(put->digests[HashAlgorithm::kMd5], md5.Finish());
    Collect c;
    auto check = v.Read(put->address, &c);
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_EQ(c.out, data);
    // Encrypted at rest: the plaintext does not appear in the file.
    if (n >= 64) {
      std::ifstream f(v.PathOf(put->address), std::ios::binary);
      std::string stored((std::istreambuf_iterator<char>(f)), {});
      EXPECT_EQ(stored.find(data.substr(0, 64)), std::string::npos);
    }
  }
}

// A staged object fed in odd pieces, synced, resumed after a "restart" from
// its committed offset, and finished is the same object Put() makes, byte
// for byte of plaintext, and reads back intact.
TEST_F(VaultTest, ReadsAnyRangeAndChecksTheChunksItCovers) {
  Vault v(Env::Default(), dir_, master_);
  std::string data = Random(3 * kVaultChunkSize + 77, 5);
  StringSource src(data);
  auto put = v.Put(&src, {});
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  auto reader = v.OpenReader(put->address);
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ((*reader)->size(), data.size());
  const uint64_t c = kVaultChunkSize;
  for (auto [off, len] : {std::pair<uint64_t, uint64_t>{0, 0},
                          {0, 1},
                          {c - 1, 2},
                          {c, c},
                          {5, 2 * c + 70},
                          {3 * c, 77},
                          {0, data.size()},
                          {data.size(), 0}}) {
    std::string got;
    Status s = (*reader)->ReadRange(off, len, [&](ByteView p) {
      got.append(AsString(p));
      return true;
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(got, data.substr(off, len)) << off << "+" << len;
  }
  auto none = [](ByteView) { return true; };
  EXPECT_EQ((*reader)->ReadRange(data.size(), 1, none).code(),
            Code::kInvalidInput);
  EXPECT_EQ((*reader)->ReadRange(1, data.size(), none).code(),
            Code::kInvalidInput);

  // A flipped byte in the third chunk: ranges before it still read, one
  // touching it fails and names the file.
  std::string path = v.PathOf(put->address);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    const auto at = kVaultHeaderSize + 2 * kSealedChunk + 10;
    f.seekg(at);
    char b = static_cast<char>(f.get());
    f.seekp(at);
    f.put(static_cast<char>(b ^ 0x5a));
  }
  auto damaged = v.OpenReader(put->address);
  ASSERT_TRUE(damaged.ok());
  EXPECT_TRUE((*damaged)->ReadRange(0, 2 * c, none).ok());
  Status bad = (*damaged)->ReadRange(2 * c + 5, 1, none);
  EXPECT_EQ(bad.code(), Code::kCorruption);
  EXPECT_NE(bad.message().find(path), std::string::npos) << bad.ToString();
}

TEST_F(VaultTest, StagedObjectsResumeAndMatchPut) {
  Vault v(Env::Default(), (dir_ / "vault").string(), master_);
  for (size_t n :
       {size_t{0}, size_t{5}, kVaultChunkSize, 3 * kVaultChunkSize + 12345}) {
    SCOPED_TRACE(n);
    std::string data = Random(n, static_cast<uint32_t>(n + 7));
    std::string path = v.TmpDir() + "/upload-" + std::to_string(n);
    std::vector<HashAlgorithm> algs = {HashAlgorithm::kMd5};
    auto staged = StagedObject::Create(Env::Default(), master_, path, algs);
    ASSERT_TRUE(staged.ok()) << staged.status().ToString();
    size_t half = n / 2;
    for (size_t pos = 0; pos < half; pos += 70001) {
      ASSERT_TRUE((*staged)
                      ->Append(AsBytes(data).subspan(
                          pos, std::min<size_t>(70001, half - pos)))
                      .ok());
    }
    ASSERT_TRUE((*staged)->Sync().ok());
    uint64_t committed = (*staged)->sealed();
    EXPECT_EQ(committed % kVaultChunkSize, 0u);
    staged->reset();  // the process stops; pending bytes are lost
    auto resumed =
        StagedObject::Resume(Env::Default(), master_, path, algs, committed);
    ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
    ASSERT_TRUE((*resumed)->Append(AsBytes(data).subspan(committed)).ok());
    auto put = (*resumed)->Finish(&v);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    EXPECT_EQ(put->size, n);
    EXPECT_EQ(put->address.digest, Sha256(AsBytes(data)));
    Hasher md5(HashAlgorithm::kMd5);
    md5.Update(AsBytes(data));
    EXPECT_EQ(put->digests[HashAlgorithm::kMd5], md5.Finish());
    EXPECT_FALSE(fs::exists(path));
    Collect c;
    ASSERT_TRUE(v.Read(put->address, &c).ok());
    EXPECT_EQ(c.out, data);
    // The same content through Put() is a duplicate of it.
    StringSource src(data);
    EXPECT_TRUE(v.Put(&src, {})->duplicate);
  }
}

// A resumed upload never seals a chunk under a nonce it used before. The
// process seals chunks 1 and 2 past the committed offset (chunk 0), writes
// them out, and stops before their offset is committed; the upload resumes
// at the committed offset with other bytes (a client that sends another
// file, or the same file changed meanwhile). Whoever kept a copy of the
// first staging file (a backup, a snapshot, a stolen disk) then holds two
// sealings of chunk 1: under one (key, nonce), C1 xor C2 = P1 xor P2, and
// GCM's authentication key can be solved for. Each sealing must draw its
// own nonce.
TEST_F(VaultTest, AResumedStagingFileNeverReusesANonce) {
  Vault v(Env::Default(), (dir_ / "vault").string(), master_);
  const std::string path = v.TmpDir() + "/upload-resumed";
  const size_t c = kVaultChunkSize;
  const std::string p1 = Random(3 * c, 21);
  const std::string p2 = p1.substr(0, c) + Random(2 * c + 99, 22);
  auto staged = StagedObject::Create(Env::Default(), master_, path, {});
  ASSERT_TRUE(staged.ok()) << staged.status().ToString();
  ASSERT_TRUE((*staged)->Append(AsBytes(p1).subspan(0, c)).ok());
  ASSERT_TRUE((*staged)->Sync().ok());
  const uint64_t committed = (*staged)->sealed();
  ASSERT_EQ(committed, c);
  auto start = Env::Default()->GetFileSize(path);  // where chunk 1 begins
  ASSERT_TRUE(start.ok());
  ASSERT_TRUE((*staged)->Append(AsBytes(p1).subspan(c)).ok());
  ASSERT_TRUE((*staged)->Sync().ok());  // on disk, not committed
  staged->reset();                      // the process stops
  const std::string first = testutil::ReadWholeFile(path);
  ASSERT_GE(first.size(), *start + 2 * c);

  auto resumed =
      StagedObject::Resume(Env::Default(), master_, path, {}, committed);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  ASSERT_TRUE((*resumed)->Append(AsBytes(p2).subspan(c)).ok());
  ASSERT_TRUE((*resumed)->Sync().ok());
  const std::string second = testutil::ReadWholeFile(path);
  ASSERT_GE(second.size(), *start + 2 * c);
  // What was committed is kept as it was, not sealed again.
  EXPECT_EQ(first.substr(0, *start), second.substr(0, *start));

  // Chunks 1 and 2, sealed twice from different plaintext.
  const size_t stride = (first.size() - *start) / 2;  // a sealed chunk
  EXPECT_FALSE(testutil::KeystreamReused(first, second, *start, stride, 2, c,
                                         p1.substr(c), p2.substr(c)));

  // The object is what the resumed upload sent.
  auto put = (*resumed)->Finish(&v);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->address.digest, Sha256(AsBytes(p2)));
  Collect back;
  ASSERT_TRUE(v.Read(put->address, &back).ok());
  EXPECT_TRUE(back.out == p2);
}

// Writes `plain` as a version 1 object (as amanah wrote before format
// version 2) with chunks of `chunk_size`, to `path`. With `chunks` short of
// the whole, only that many full chunks (a staging file).
void WriteVersion1(const MasterKey& master, const std::string& plain,
                   const std::string& path,
                   size_t chunks = std::numeric_limits<size_t>::max()) {
  VaultKey key;
  std::array<uint8_t, 24> wrap_nonce;
  std::array<uint8_t, 7> prefix;
  randombytes_buf(key.data(), key.size());
  randombytes_buf(wrap_nonce.data(), wrap_nonce.size());
  randombytes_buf(prefix.data(), prefix.size());
  VaultHeader h = vault_internal::MakeVaultHeader(master, key, wrap_nonce, 1,
                                                  kVaultChunkSize, prefix);
  ChunkCipher cipher(key, h);
  auto hb = h.Encode();
  std::string out(reinterpret_cast<const char*>(hb.data()), hb.size());
  const size_t n = plain.empty()
                       ? 1
                       : (plain.size() + kVaultChunkSize - 1) / kVaultChunkSize;
  for (size_t i = 0; i < std::min(n, chunks); ++i) {
    ByteView p = AsBytes(plain).subspan(
        i * kVaultChunkSize,
        std::min<size_t>(kVaultChunkSize, plain.size() - i * kVaultChunkSize));
    Bytes sealed(p.size() + cipher.overhead());
    vault_internal::SealWithPrefix(&cipher, prefix, static_cast<uint32_t>(i),
                                   i + 1 == n, p, sealed.data());
    out.append(AsString(sealed));
  }
  fs::create_directories(fs::path(path).parent_path());
  std::ofstream(path, std::ios::binary | std::ios::trunc) << out;
}

// The vaults of earlier versions hold version 1 objects: they read, by
// range and whole, and verify.
TEST_F(VaultTest, Version1ObjectsStayReadable) {
  Vault v(Env::Default(), dir_, master_);
  for (size_t n :
       {size_t{0}, size_t{1}, kVaultChunkSize, 3 * kVaultChunkSize + 77}) {
    SCOPED_TRACE(n);
    std::string data = Random(n, static_cast<uint32_t>(n + 3));
    ContentAddress a;
    a.digest = Sha256(AsBytes(data));
    WriteVersion1(master_, data, v.PathOf(a));
    Collect c;
    auto check = v.Read(a, &c);
    ASSERT_TRUE(check.ok()) << check.status().ToString();
    EXPECT_EQ(check->size, n);
    EXPECT_TRUE(c.out == data);
    auto reader = v.OpenReader(a);
    ASSERT_TRUE(reader.ok());
    std::string got;
    const uint64_t off = n / 3, len = n - n / 3;
    ASSERT_TRUE((*reader)
                    ->ReadRange(off, len,
                                [&](ByteView p) {
                                  got.append(AsString(p));
                                  return true;
                                })
                    .ok());
    EXPECT_TRUE(got == data.substr(off, len));
  }
}

// A staging file begun in version 1, before an upgrade, resumes: its
// committed chunks are sealed again, once, into a version 2 file that takes
// its place, so nothing after them is sealed under a version 1 nonce.
TEST_F(VaultTest, AVersion1StagingFileResumesInVersion2) {
  Vault v(Env::Default(), (dir_ / "vault").string(), master_);
  const std::string path = v.TmpDir() + "/upload-old";
  const std::string data = Random(4 * kVaultChunkSize + 5, 31);
  WriteVersion1(master_, data, path, 3);  // three chunks sealed
  const std::string before = testutil::ReadWholeFile(path);
  // A damaged committed chunk is found, and the file is left as it was.
  {
    std::string bad = before;
    bad[kVaultHeaderSize + 10] ^= 1;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    EXPECT_EQ(StagedObject::Resume(Env::Default(), master_, path, {},
                                   2 * kVaultChunkSize)
                  .status()
                  .code(),
              Code::kCorruption);
    EXPECT_EQ(testutil::ReadWholeFile(path), bad);
    EXPECT_FALSE(fs::exists(path + ".v2"));
    std::ofstream(path, std::ios::binary | std::ios::trunc) << before;
  }
  std::vector<HashAlgorithm> algs = {HashAlgorithm::kSha1};
  auto resumed = StagedObject::Resume(Env::Default(), master_, path, algs,
                                      2 * kVaultChunkSize);
  ASSERT_TRUE(resumed.ok()) << resumed.status().ToString();
  EXPECT_EQ((*resumed)->sealed(), 2 * kVaultChunkSize);
  EXPECT_FALSE(fs::exists(path + ".v2"));
  const std::string after = testutil::ReadWholeFile(path);
  auto header = VaultHeader::Decode(AsBytes(after));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->version, 2);
  EXPECT_EQ(after.size(), kVaultHeaderSize +
                              2 * (kVaultChunkSize + header->chunk_overhead()));
  ASSERT_TRUE(
      (*resumed)->Append(AsBytes(data).subspan(2 * kVaultChunkSize)).ok());
  auto put = (*resumed)->Finish(&v);
  ASSERT_TRUE(put.ok()) << put.status().ToString();
  EXPECT_EQ(put->address.digest, Sha256(AsBytes(data)));
  Hasher sha1(HashAlgorithm::kSha1);
  sha1.Update(AsBytes(data));
  EXPECT_EQ(put->digests[HashAlgorithm::kSha1], sha1.Finish());
  Collect c;
  ASSERT_TRUE(v.Read(put->address, &c).ok());
  EXPECT_TRUE(c.out == data);
}

TEST_F(VaultTest, StagedObjectRefusesADamagedStagingFile) {
  Vault v(Env::Default(), (dir_ / "vault").string(), master_);
  std::string path = v.TmpDir() + "/upload-x";
  auto staged = StagedObject::Create(Env::Default(), master_, path, {});
  ASSERT_TRUE(staged.ok());
  ASSERT_TRUE((*staged)->Append(AsBytes(Random(2 * kVaultChunkSize, 1))).ok());
  ASSERT_TRUE((*staged)->Sync().ok());
  staged->reset();
  {
    // Flip a bit: writing a fixed byte leaves the file as it was whenever
    // the ciphertext already held that byte, one run in 256.
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekg(kVaultHeaderSize + 1000);
    char c = static_cast<char>(f.get());
    f.seekp(kVaultHeaderSize + 1000);
    f.put(static_cast<char>(c ^ 0x01));
  }
  auto resumed = StagedObject::Resume(Env::Default(), master_, path, {},
                                      2 * kVaultChunkSize);
  EXPECT_EQ(resumed.status().code(), Code::kCorruption);
  // More committed than the file holds.
  EXPECT_FALSE(StagedObject::Resume(Env::Default(), master_, path, {},
                                    8 * kVaultChunkSize)
                   .ok());
  EXPECT_FALSE(
      StagedObject::Resume(Env::Default(), master_, path, {}, 17).ok());
}

TEST_F(VaultTest, IdenticalContentStoredOnce) {
  Vault v(Env::Default(), dir_, master_);
  StringSource a("same bytes"), b("same bytes");
  auto p1 = v.Put(&a, {});
  auto p2 = v.Put(&b, {});
  ASSERT_TRUE(p1.ok() && p2.ok());
  EXPECT_FALSE(p1->duplicate);
  EXPECT_TRUE(p2->duplicate);
  EXPECT_EQ(v.List()->size(), 1u);
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
}

TEST_F(VaultTest, EveryTamperIsDetected) {
  Vault v(Env::Default(), dir_, master_);
  std::string data = Random(2 * kVaultChunkSize + 100, 9);
  StringSource src(data);
  auto put = v.Put(&src, {});
  ASSERT_TRUE(put.ok());
  std::string path = v.PathOf(put->address);
  std::ifstream in(path, std::ios::binary);
  const std::string orig((std::istreambuf_iterator<char>(in)), {});
  auto write = [&](const std::string& s) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << s;
  };
  // A byte in the header, the wrapped key, a chunk's nonce prefix, each
  // chunk, each tag.
  for (size_t off : {size_t{3}, size_t{20}, size_t{50}, size_t{200},
                     kVaultHeaderSize + kSealedChunk + 3,
                     kVaultHeaderSize + kVaultChunkSize + 5, orig.size() - 1}) {
    std::string t = orig;
    t[off] ^= 0x01;
    write(t);
    auto r = v.Verify(put->address);
    EXPECT_EQ(r.status().code(), Code::kCorruption) << "offset " << off;
    EXPECT_NE(r.status().message().find(path), std::string::npos);
    // Decrypt, which does not re-hash, still catches it: the tags do.
    Collect c;
    EXPECT_EQ(v.Decrypt(put->address, &c).status().code(), Code::kCorruption)
        << "offset " << off;
  }
  // Truncated to whole chunks (the final one dropped), and swapped chunks.
  write(orig.substr(0, kVaultHeaderSize + 2 * kSealedChunk));
  EXPECT_EQ(v.Verify(put->address).status().code(), Code::kCorruption);
  Collect cut;
  EXPECT_EQ(v.Decrypt(put->address, &cut).status().code(), Code::kCorruption);
  std::string swapped = orig;
  std::swap_ranges(swapped.begin() + kVaultHeaderSize,
                   swapped.begin() + kVaultHeaderSize + kSealedChunk,
                   swapped.begin() + kVaultHeaderSize + kSealedChunk);
  write(swapped);
  EXPECT_EQ(v.Verify(put->address).status().code(), Code::kCorruption);
  Collect reordered;
  EXPECT_EQ(v.Decrypt(put->address, &reordered).status().code(),
            Code::kCorruption);
  write(orig);
  EXPECT_TRUE(v.Verify(put->address).ok());
  Collect whole;
  ASSERT_TRUE(v.Decrypt(put->address, &whole).ok());
  EXPECT_EQ(whole.out, data);
  // Another master key cannot open it.
  VaultKey other{};
  Vault w(Env::Default(), dir_, MasterKey::FromBytes(other));
  EXPECT_EQ(w.Verify(put->address).status().code(), Code::kCorruption);
}

TEST_F(VaultTest, FullDiskLeavesNothingBehind) {
  FaultInjectionEnv env(Env::Default());
  Vault v(&env, dir_, master_);
  env.SetWriteBudget(kVaultChunkSize / 2);
  StringSource src(Random(3 * kVaultChunkSize, 3));
  auto put = v.Put(&src, {HashAlgorithm::kSha1});
  EXPECT_EQ(put.status().code(), Code::kIO);
  EXPECT_NE(put.status().message().find("No space"), std::string::npos);
  EXPECT_TRUE(v.List()->empty());
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
  env.ClearFaults();
  env.SetSyncFailure(true);
  StringSource src2("x");
  EXPECT_FALSE(v.Put(&src2, {}).ok());
  EXPECT_TRUE(v.List()->empty());
}

// A large file on disk is read through its mapping, with no copy: the
// object is the same as from any stream.
TEST_F(VaultTest, MappedFilesMakeTheSameObjects) {
  Vault v(Env::Default(), dir_, master_);
  for (size_t n : {size_t{1}, kVaultChunkSize, 5 * kVaultChunkSize + 7}) {
    std::string data = Random(n, static_cast<uint32_t>(n + 9));
    std::string path = WriteInput("input" + std::to_string(n), data);
    auto file = Env::Default()->NewSequentialFile(path);
    ASSERT_TRUE(file.ok());
    EXPECT_EQ((*file)->CanMap(), n >= kVaultChunkSize);
    auto put = v.Put(file->get(), {HashAlgorithm::kMd5});
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    EXPECT_EQ(put->size, n);
    EXPECT_EQ(put->address.digest, Sha256(AsBytes(data)));
    Collect c;
    ASSERT_TRUE(v.Read(put->address, &c).ok());
    EXPECT_TRUE(c.out == data);
  }
}

// Evidence that changes while it is ingested (a file still being written,
// cut short) is refused: its hash would be of no version the file had.
TEST_F(VaultTest, AFileThatChangesWhileIngestedIsRefused) {
  Vault v(Env::Default(), dir_, master_);
  std::string path = WriteInput("input", Random(24 * kVaultChunkSize, 5));
  auto file = Env::Default()->NewSequentialFile(path);
  ASSERT_TRUE(file.ok());
  bool cut = false;
  auto put = v.Put(file->get(), {}, [&](uint64_t) {
    if (!cut) {
      ASSERT_EQ(::truncate(path.c_str(), 3 * kVaultChunkSize), 0);
    }
    cut = true;
  });
  ASSERT_TRUE(cut);
  EXPECT_EQ(put.status().code(), Code::kConflict) << put.status().ToString();
  EXPECT_NE(put.status().message().find("changed while it was read"),
            std::string::npos);
  EXPECT_TRUE(v.List()->empty());
  EXPECT_TRUE(fs::is_empty(dir_ / "tmp"));
}

TEST(ContentAddressTest, Parse) {
  std::string hex(64, 'a');
  EXPECT_TRUE(ContentAddress::Parse("sha256:" + hex).ok());
  EXPECT_FALSE(ContentAddress::Parse("sha256:" + hex.substr(1)).ok());
  EXPECT_FALSE(ContentAddress::Parse("md5:" + hex).ok());
  EXPECT_FALSE(ContentAddress::Parse("sha256:" + std::string(64, 'A')).ok());
  EXPECT_FALSE(ContentAddress::Parse("sha256:../" + hex.substr(3)).ok());
}

// E01 images made by ewfacquire, read back through libewf.
class E01Test : public testutil::TempDirTest {
 protected:
  void SetUp() override {
    if (std::system("command -v ewfacquire >/dev/null 2>&1") != 0) {
      GTEST_SKIP() << "ewfacquire (Debian package ewf-tools) is not installed";
    }
    TempDirTest::SetUp();
    // Devices are whole sectors; ewfacquire pads other sizes to 512.
    raw_ = Random(3 * 1024 * 1024 + 24 * 512, 77);
    // Half compressible so compression is exercised.
    std::fill(raw_.begin(), raw_.begin() + raw_.size() / 2, 'z');
    std::ofstream(dir_ / "disk.raw", std::ios::binary) << raw_;
  }

  // Returns the path of the .E01.
  std::string Acquire(const std::string& extra) {
    std::string cmd =
        "ewfacquire -u -q -d sha1 -c fast -C KW-1 -E EX-1 "
        "-e examiner -D disk -N notes " +
        extra + " -t " + (dir_ / "image").string() + " " +
        (dir_ / "disk.raw").string() + " >/dev/null 2>&1";
    EXPECT_EQ(std::system(cmd.c_str()), 0) << cmd;
    return (dir_ / "image.E01").string();
  }

  Result<std::string> ReadMedia(const std::string& path) {
    ASSIGN_OR_RETURN(auto r, EwfMediaReader::Open(path));
    std::string out;
    std::vector<uint8_t> buf(1 << 20);
    while (true) {
      ASSIGN_OR_RETURN(size_t n, r->Read(buf.data(), buf.size()));
      if (n == 0) break;
      out.append(reinterpret_cast<char*>(buf.data()), n);
    }
    return out;
  }

  std::string raw_;
};

TEST_F(E01Test, ReadsMediaAndStoredHashes) {
  std::string e01 = Acquire("");
  std::ifstream f(e01, std::ios::binary);
  char head[8];
  f.read(head, 8);
  EXPECT_TRUE(LooksLikeEwf(ByteView(reinterpret_cast<uint8_t*>(head), 8)));
  EXPECT_FALSE(LooksLikeEwf(AsBytes(raw_.substr(0, 8))));
  auto r = EwfMediaReader::Open(e01);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->media_size(), raw_.size());
  Hasher md5(HashAlgorithm::kMd5), sha1(HashAlgorithm::kSha1);
  md5.Update(AsBytes(raw_));
  sha1.Update(AsBytes(raw_));
  EXPECT_EQ((*r)->stored_hashes().md5_hex, HexEncode(md5.Finish()));
  EXPECT_EQ((*r)->stored_hashes().sha1_hex, HexEncode(sha1.Finish()));
  auto media = ReadMedia(e01);
  ASSERT_TRUE(media.ok()) << media.status().ToString();
  EXPECT_TRUE(*media == raw_);
}

TEST_F(E01Test, MultiSegmentImage) {
  std::string e01 = Acquire("-S 1MiB -c none");
  ASSERT_TRUE(fs::exists(dir_ / "image.E02"));
  auto r = EwfMediaReader::Open(e01);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_GE((*r)->segment_paths().size(), 3u);
  auto media = ReadMedia(e01);
  ASSERT_TRUE(media.ok()) << media.status().ToString();
  EXPECT_TRUE(*media == raw_);
}

TEST_F(E01Test, CorruptAndTruncatedImagesAreReported) {
  std::string e01 = Acquire("-c none");
  std::string orig;
  {
    std::ifstream in(e01, std::ios::binary);
    orig.assign((std::istreambuf_iterator<char>(in)), {});
  }
  // A flipped byte in the middle of the chunk data.
  std::string bad = orig;
  bad[bad.size() / 2] ^= 0x40;
  std::ofstream(e01, std::ios::binary | std::ios::trunc) << bad;
  auto media = ReadMedia(e01);
  EXPECT_EQ(media.status().code(), Code::kCorruption)
      << (media.ok() ? "read without error" : media.status().ToString());
  // Truncated.
  std::ofstream(e01, std::ios::binary | std::ios::trunc)
      << orig.substr(0, orig.size() / 3);
  EXPECT_EQ(ReadMedia(e01).status().code(), Code::kCorruption);
  EXPECT_EQ(
      EwfMediaReader::Open((dir_ / "missing.E01").string()).status().code(),
      Code::kNotFound);
  EXPECT_EQ(EwfMediaReader::Open((dir_ / "disk.raw").string()).status().code(),
            Code::kCorruption);
}

// The header values an examiner gives ewfacquire come back, the dates in
// UTC whatever the time zones of the acquiring tool and of this process.
TEST_F(E01Test, ReadsHeaderValues) {
  std::ofstream(dir_ / "small.raw", std::ios::binary) << raw_.substr(0, 4096);
  // A zone that is not this process's, nor UTC.
  const char* old_tz = std::getenv("TZ");
  std::string saved = old_tz ? old_tz : "";
  ::setenv("TZ", "Asia/Kuwait", 1);
  ::tzset();
  int64_t before = static_cast<int64_t>(std::time(nullptr));
  std::string cmd =
      "TZ=America/New_York ewfacquire -u -q -c none -C KW-2026/0042 "
      "-E 'EV 7' -e 'Lt. Fahad Al-Sabah' "
      "-D 'هاتف المشتبه به' "
      "-N 'seized at 10:00, sealed bag 12' -t " +
      (dir_ / "small").string() + " " + (dir_ / "small.raw").string() +
      " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  int64_t after = static_cast<int64_t>(std::time(nullptr));
  auto r = EwfMediaReader::Open((dir_ / "small.E01").string());
  if (old_tz) {
    ::setenv("TZ", saved.c_str(), 1);
  } else {
    ::unsetenv("TZ");
  }
  ::tzset();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const EwfHeader& h = (*r)->header();
  EXPECT_TRUE(h.refused.empty()) << h.refused.front();
  std::map<std::string, std::string> v(h.values.begin(), h.values.end());
  EXPECT_EQ(v["case_number"], "KW-2026/0042");
  EXPECT_EQ(v["evidence_number"], "EV 7");
  EXPECT_EQ(v["examiner"], "Lt. Fahad Al-Sabah");
  EXPECT_EQ(v["description"], "هاتف المشتبه به");
  EXPECT_EQ(v["notes"], "seized at 10:00, sealed bag 12");
  EXPECT_EQ(v["operating_system"], "Linux");
  EXPECT_FALSE(v["software_version"].empty());
  for (const char* date : {"acquired", "system_date"}) {
    SCOPED_TRACE(date);
    ASSERT_EQ(v[date].size(), 20u) << v[date];
    EXPECT_EQ(v[date].back(), 'Z');
    std::string micros = v[date].substr(0, 19) + ".000000Z";
    auto t = ParseTime(micros);
    ASSERT_TRUE(t.ok()) << micros;
    EXPECT_GE(*t / 1000000, before);
    EXPECT_LE(*t / 1000000, after);
  }
  // In the documented order.
  std::vector<std::string> names;
  for (const auto& [name, value] : h.values) names.push_back(name);
  EXPECT_EQ(names, (std::vector<std::string>{
                       "case_number", "evidence_number", "examiner",
                       "description", "notes", "acquired", "system_date",
                       "operating_system", "software_version"}));
}

// Values an image may carry that a record must not take: control
// characters (an escape sequence for the terminal that prints them), a
// right-to-left override, C1 controls, and more than the size limits. The
// others are still taken; what was not is named.
TEST_F(E01Test, RefusesUnsafeHeaderValues) {
  std::ofstream(dir_ / "small.raw", std::ios::binary) << raw_.substr(0, 4096);
  std::string cmd =
      "ewfacquire -u -q -c none -C \"$(printf 'KW\033[2J')\" "
      "-D \"$(printf 'abc\342\200\256fed')\" "
      "-e \"$(printf 'a\302\205b')\" "
      "-E " +
      std::string(kMaxEwfHeaderValue + 1, 'x') +
      " "
      "-N " +
      std::string(kMaxEwfHeaderText, 'n') + " -t " + (dir_ / "small").string() +
      " " + (dir_ / "small.raw").string() + " >/dev/null 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto r = EwfMediaReader::Open((dir_ / "small.E01").string());
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  const EwfHeader& h = (*r)->header();
  std::map<std::string, std::string> v(h.values.begin(), h.values.end());
  EXPECT_EQ(v.count("case_number"), 0u);
  EXPECT_EQ(v.count("description"), 0u);
  EXPECT_EQ(v.count("examiner"), 0u);
  EXPECT_EQ(v.count("evidence_number"), 0u);
  EXPECT_EQ(v["notes"], std::string(kMaxEwfHeaderText, 'n'));
  EXPECT_EQ(v.count("acquired"), 1u);
  EXPECT_EQ(h.refused, (std::vector<std::string>{
                           "case_number: a control character",
                           "evidence_number: longer than 256 bytes",
                           "examiner: a control character",
                           "description: a bidirectional control character"}));
}

}  // namespace
}  // namespace amanah
