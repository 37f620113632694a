// Golden vectors of the vault object format (docs/formats.md, "Vault
// object"): fixed keys, nonces and plaintext, and the exact bytes of the
// object. Computed independently of this code, from the description in
// docs/formats.md, with another library's AES-256-GCM and ChaCha20-Poly1305
// (XChaCha20's HChaCha20 step written from draft-irtf-cfrg-xchacha).

#include "vault/object_format.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "storage/testutil.h"
#include "vault/vault.h"

namespace amanah {
namespace {

// The inputs of both vectors.
struct VectorInputs {
  MasterKey master;
  VaultKey object_key;
  std::array<uint8_t, 24> wrap_nonce;
  std::string plain = "amanah vault object, golden vector.....!";
  static constexpr uint32_t kChunkSize = 16;

  VectorInputs() {
    VaultKey m;
    for (size_t i = 0; i < 32; ++i) m[i] = static_cast<uint8_t>(i);
    master = MasterKey::FromBytes(m);
    for (size_t i = 0; i < 32; ++i) object_key[i] = 0x80 + i;
    for (size_t i = 0; i < 24; ++i) wrap_nonce[i] = 0x40 + i;
  }
};

// Seven bytes counting up from `first`.
std::array<uint8_t, 7> Counting(uint8_t first) {
  std::array<uint8_t, 7> p;
  for (size_t i = 0; i < 7; ++i) p[i] = first + i;
  return p;
}

// Version 2: chunk prefixes a0..a6, b0..b6, c0..c6.
constexpr const char* kVersion2 =
    "414d4e48564c54310201010000000010630dcd2966c433660000000000000000"
    "404142434445464748494a4b4c4d4e4f505152535455565754b887f35465ff91"
    "077d0d352311eb1d022b3f5787ccc50df2a867de9599bd0f66a63b6fcb337123"
    "a6eb353ccc1ef1f2a0a1a2a3a4a5a6a5f5c33fcfe2ca7a6cccb2e83c83e1cb45"
    "d557a4bf988489045c14e93b1b40d8b0b1b2b3b4b5b6934750ab218afbff169f"
    "7f5c8dfc9c223861a51d133bc080b298221457411232c0c1c2c3c4c5c61d7fe6"
    "fa7380cb41eb623b5dd711a30b522249e16f93bbca";

// Version 1: the header's nonce prefix f0..f6.
constexpr const char* kVersion1 =
    "414d4e48564c54310101010000000010630dcd2966c43366f0f1f2f3f4f5f600"
    "404142434445464748494a4b4c4d4e4f505152535455565754b887f35465ff91"
    "077d0d352311eb1d022b3f5787ccc50df2a867de9599bd0f1f0df8f1c670e4e1"
    "1c2cb35bd9605ce7fd6ea0b6d2daed1b811e82773c83570cc848ff01b3780cf3"
    "5bd0d8724753da681db34d0bd178dcd97ce3a0acdb56142045867164d44e34d3"
    "f26024cb1a7c190cd3fe2e0290a3b9a85a28992b66eb3aeeadc6a2cdaa65ed01";

// Writes an object of `version` for the inputs, with the given prefixes
// (version 2: one per chunk; version 1: the header's).
std::string WriteVector(const VectorInputs& in, uint8_t version,
                        const std::vector<std::array<uint8_t, 7>>& prefixes) {
  VaultHeader h = vault_internal::MakeVaultHeader(
      in.master, in.object_key, in.wrap_nonce, version, in.kChunkSize,
      version == 1 ? prefixes[0] : std::array<uint8_t, 7>{});
  ChunkCipher cipher(in.object_key, h);
  auto hb = h.Encode();
  std::string out(reinterpret_cast<const char*>(hb.data()), hb.size());
  ByteView plain = AsBytes(in.plain);
  const size_t chunks = (plain.size() + in.kChunkSize - 1) / in.kChunkSize;
  for (size_t i = 0; i < chunks; ++i) {
    ByteView p = plain.subspan(
        i * in.kChunkSize,
        std::min<size_t>(in.kChunkSize, plain.size() - i * in.kChunkSize));
    Bytes sealed(p.size() + cipher.overhead());
    vault_internal::SealWithPrefix(&cipher, prefixes[version == 1 ? 0 : i],
                                   static_cast<uint32_t>(i), i + 1 == chunks, p,
                                   sealed.data());
    out.append(AsString(sealed));
  }
  return out;
}

class Collect : public ChunkSink {
 public:
  Status Consume(ByteView c, uint64_t, bool) override {
    out.append(AsString(c));
    return Status::OK();
  }
  std::string out;
};

class VaultFormatTest : public testutil::TempDirTest {
 protected:
  // Stores `object` in a vault under the inputs' name and reads it back.
  Result<std::string> ReadBack(const std::string& object) {
    Vault v(Env::Default(), dir_.string(), in_.master);
    ContentAddress a;
    a.digest = Sha256(AsBytes(in_.plain));
    std::filesystem::create_directories(
        std::filesystem::path(v.PathOf(a)).parent_path());
    std::ofstream(v.PathOf(a), std::ios::binary | std::ios::trunc) << object;
    Collect c;
    ASSIGN_OR_RETURN(ObjectCheck check, v.Read(a, &c));
    if (check.size != c.out.size()) return Status::Corruption("size");
    return c.out;
  }
  VectorInputs in_;
};

TEST_F(VaultFormatTest, Version2GoldenVector) {
  ASSERT_EQ(in_.plain.size(), 40u);  // chunks of 16, 16 and 8 bytes
  const std::string golden(AsString(*HexDecode(kVersion2)));
  EXPECT_EQ(HexEncode(AsBytes(WriteVector(
                in_, 2, {Counting(0xa0), Counting(0xb0), Counting(0xc0)}))),
            kVersion2);
  auto header = VaultHeader::Decode(AsBytes(golden));
  ASSERT_TRUE(header.ok()) << header.status().ToString();
  EXPECT_EQ(header->version, 2);
  EXPECT_EQ(header->chunk_overhead(), 23u);
  auto key = UnwrapObjectKey(*header, in_.master);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(*key, in_.object_key);
  auto back = ReadBack(golden);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, in_.plain);
}

// Objects written before version 2 stay readable.
TEST_F(VaultFormatTest, Version1GoldenVector) {
  const std::string golden(AsString(*HexDecode(kVersion1)));
  EXPECT_EQ(HexEncode(AsBytes(WriteVector(in_, 1, {Counting(0xf0)}))),
            kVersion1);
  auto header = VaultHeader::Decode(AsBytes(golden));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(header->version, 1);
  EXPECT_EQ(header->chunk_overhead(), 16u);
  auto back = ReadBack(golden);
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, in_.plain);
}

// Every byte of the version 2 vector counts: the version byte (a version 2
// object presented as version 1 fails the key's authentication), the
// reserved bytes, each chunk's nonce prefix, ciphertext and tag.
TEST_F(VaultFormatTest, EveryByteOfAVersion2ObjectIsAuthenticated) {
  const std::string golden(AsString(*HexDecode(kVersion2)));
  for (size_t at = 0; at < golden.size(); ++at) {
    std::string t = golden;
    t[at] ^= 0x01;
    EXPECT_FALSE(ReadBack(t).ok()) << "byte " << at;
  }
  // A version 1 reader's view of a version 2 object fails as a whole.
  std::string as_v1 = golden;
  as_v1[8] = 1;
  auto header = VaultHeader::Decode(AsBytes(as_v1));
  ASSERT_TRUE(header.ok());
  EXPECT_EQ(UnwrapObjectKey(*header, in_.master).status().code(),
            Code::kCorruption);
  // Reserved bytes of a version 2 header must be zero.
  std::string reserved = golden;
  reserved[24] = 1;
  EXPECT_EQ(VaultHeader::Decode(AsBytes(reserved)).status().code(),
            Code::kCorruption);
}

// Sealing one chunk twice (as a resumed staging file does) draws two nonce
// prefixes: two ciphertexts, each opening only at its own position.
TEST(ChunkCipherTest, SealingAChunkAgainDrawsAnotherNonce) {
  VaultKey master_key{};
  master_key[3] = 9;
  MasterKey master = MasterKey::FromBytes(master_key);
  VaultKey key;
  VaultHeader h = NewVaultHeader(master, &key);
  EXPECT_EQ(h.version, kVaultFormatVersion);
  EXPECT_EQ(h.nonce_prefix, (std::array<uint8_t, 7>{}));
  ChunkCipher cipher(key, h);
  ASSERT_EQ(cipher.overhead(), kVaultNoncePrefixSize + kVaultTagSize);
  const std::string plain(4096, 'e');
  Bytes a(plain.size() + cipher.overhead()), b(a.size());
  cipher.Seal(5, false, AsBytes(plain), a.data());
  cipher.Seal(5, false, AsBytes(plain), b.data());
  EXPECT_NE(Bytes(a.begin(), a.begin() + 7), Bytes(b.begin(), b.begin() + 7));
  EXPECT_NE(Bytes(a.begin() + 7, a.end()), Bytes(b.begin() + 7, b.end()));
  Bytes out(plain.size());
  for (const Bytes* s : {&a, &b}) {
    ASSERT_TRUE(cipher.Open(5, false, *s, out.data()).ok());
    EXPECT_EQ(AsString(out), plain);
    EXPECT_FALSE(cipher.Open(6, false, *s, out.data()).ok());
    EXPECT_FALSE(cipher.Open(5, true, *s, out.data()).ok());
  }
  EXPECT_FALSE(cipher.Open(5, false, ByteView(a.data(), 22), out.data()).ok());
}

// Version 1 is read only: its nonces follow from the header and the
// position alone, so nothing may seal under it.
TEST(ChunkCipherDeathTest, AVersion1HeaderCannotSeal) {
  VectorInputs in;
  VaultHeader h = vault_internal::MakeVaultHeader(
      in.master, in.object_key, in.wrap_nonce, 1, kVaultChunkSize, Counting(1));
  ChunkCipher cipher(in.object_key, h);
  Bytes out(16 + cipher.overhead());
  EXPECT_DEATH(cipher.Seal(0, true, ByteView(out.data(), 16), out.data()), "");
}

}  // namespace
}  // namespace amanah
