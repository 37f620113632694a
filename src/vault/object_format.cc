#include "vault/object_format.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>

#include "crypto/hash.h"

namespace amanah {

namespace {

constexpr uint8_t kMagic[8] = {'A', 'M', 'N', 'H', 'V', 'L', 'T', '1'};

void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}

const EVP_CIPHER* Aes256Gcm() {
  static const EVP_CIPHER* c =
      EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr);
  return c;
}

}  // namespace

MasterKey MasterKey::FromBytes(const VaultKey& key) {
  MasterKey m;
  m.key = key;
  Hash256 h = Sha256(key);
  std::memcpy(m.id.data(), h.data(), 8);
  return m;
}

std::array<uint8_t, kVaultHeaderSize> VaultHeader::Encode() const {
  std::array<uint8_t, kVaultHeaderSize> b{};
  std::memcpy(b.data(), kMagic, 8);
  b[8] = version;
  b[9] = 1;
  b[10] = 1;
  b[12] = static_cast<uint8_t>(chunk_size >> 24);
  b[13] = static_cast<uint8_t>(chunk_size >> 16);
  b[14] = static_cast<uint8_t>(chunk_size >> 8);
  b[15] = static_cast<uint8_t>(chunk_size);
  std::memcpy(b.data() + 16, master_key_id.data(), 8);
  std::memcpy(b.data() + 24, nonce_prefix.data(), 7);
  std::memcpy(b.data() + 32, wrapped_key.data(), 72);
  return b;
}

Result<VaultHeader> VaultHeader::Decode(ByteView b) {
  if (b.size() < kVaultHeaderSize || std::memcmp(b.data(), kMagic, 8) != 0) {
    return Status::Corruption("not a vault object (bad magic)");
  }
  if ((b[8] != 1 && b[8] != 2) || b[9] != 1 || b[10] != 1 || b[11] != 0 ||
      b[31] != 0) {
    return Status::Corruption("unknown vault object version or cipher");
  }
  VaultHeader h;
  h.version = b[8];
  h.chunk_size = uint32_t{b[12]} << 24 | uint32_t{b[13]} << 16 |
                 uint32_t{b[14]} << 8 | b[15];
  if (h.chunk_size == 0 || h.chunk_size > (64u << 20)) {
    return Status::Corruption("vault object chunk size out of range");
  }
  std::memcpy(h.master_key_id.data(), b.data() + 16, 8);
  std::memcpy(h.nonce_prefix.data(), b.data() + 24, 7);
  std::memcpy(h.wrapped_key.data(), b.data() + 32, 72);
  if (h.version >= 2 && h.nonce_prefix != std::array<uint8_t, 7>{}) {
    return Status::Corruption("vault object header: reserved bytes not zero");
  }
  return h;
}

namespace vault_internal {

VaultHeader MakeVaultHeader(const MasterKey& master, const VaultKey& object_key,
                            const std::array<uint8_t, 24>& wrap_nonce,
                            uint8_t version, uint32_t chunk_size,
                            const std::array<uint8_t, 7>& v1_prefix) {
  EnsureSodium();
  VaultHeader h;
  h.version = version;
  h.chunk_size = chunk_size;
  h.master_key_id = master.id;
  if (version == 1) h.nonce_prefix = v1_prefix;
  std::memcpy(h.wrapped_key.data(), wrap_nonce.data(), 24);
  auto ad = h.Encode();  // bytes 0..31 do not depend on the wrapped key
  unsigned long long clen = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      h.wrapped_key.data() + 24, &clen, object_key.data(), object_key.size(),
      ad.data(), 32, nullptr, wrap_nonce.data(), master.key.data());
  return h;
}

void SealWithPrefix(ChunkCipher* cipher, const std::array<uint8_t, 7>& prefix,
                    uint32_t counter, bool last, ByteView plain, uint8_t* out) {
  cipher->SealWith(prefix.data(), counter, last, plain, out);
}

}  // namespace vault_internal

VaultHeader NewVaultHeader(const MasterKey& master, VaultKey* object_key) {
  EnsureSodium();
  std::array<uint8_t, 24> wrap_nonce;
  randombytes_buf(object_key->data(), object_key->size());
  randombytes_buf(wrap_nonce.data(), wrap_nonce.size());
  return vault_internal::MakeVaultHeader(master, *object_key, wrap_nonce,
                                         kVaultFormatVersion, kVaultChunkSize);
}

Result<VaultKey> UnwrapObjectKey(const VaultHeader& header,
                                 const MasterKey& master) {
  EnsureSodium();
  if (!ConstantTimeEqual(header.master_key_id, master.id)) {
    return Status::Corruption(
        "vault object was sealed under another master key (key id " +
        HexEncode(header.master_key_id) + ")");
  }
  auto ad = header.Encode();
  VaultKey key;
  unsigned long long mlen = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          key.data(), &mlen, nullptr, header.wrapped_key.data() + 24, 48,
          ad.data(), 32, header.wrapped_key.data(), master.key.data()) != 0) {
    return Status::Corruption("vault object key fails authentication");
  }
  return key;
}

ChunkCipher::ChunkCipher(const VaultKey& key, const VaultHeader& header)
    : ctx_(EVP_CIPHER_CTX_new()),
      key_(key),
      header_bytes_(header.Encode()),
      header_prefix_(header.nonce_prefix),
      version_(header.version),
      overhead_(header.chunk_overhead()) {
  if (ctx_ == nullptr) std::abort();
}

ChunkCipher::~ChunkCipher() {
  EVP_CIPHER_CTX_free(ctx_);
  sodium_memzero(key_.data(), key_.size());
}

namespace {

void MakeNonce(const uint8_t prefix[7], uint32_t counter, bool last,
               uint8_t out[12]) {
  std::memcpy(out, prefix, 7);
  out[7] = static_cast<uint8_t>(counter >> 24);
  out[8] = static_cast<uint8_t>(counter >> 16);
  out[9] = static_cast<uint8_t>(counter >> 8);
  out[10] = static_cast<uint8_t>(counter);
  out[11] = last ? 1 : 0;
}

}  // namespace

void ChunkCipher::Seal(uint32_t counter, bool last, ByteView plain,
                       uint8_t* out) {
  if (version_ < 2) std::abort();  // see the header: never written
  uint8_t prefix[kVaultNoncePrefixSize];
  randombytes_buf(prefix, sizeof(prefix));
  SealWith(prefix, counter, last, plain, out);
}

void ChunkCipher::SealWith(const uint8_t prefix[7], uint32_t counter, bool last,
                           ByteView plain, uint8_t* out) {
  uint8_t nonce[12];
  MakeNonce(prefix, counter, last, nonce);
  if (version_ >= 2) {
    std::memcpy(out, prefix, kVaultNoncePrefixSize);
    out += kVaultNoncePrefixSize;
  }
  int len = 0;
  if (EVP_EncryptInit_ex2(ctx_, Aes256Gcm(), key_.data(), nonce, nullptr) !=
          1 ||
      EVP_EncryptUpdate(ctx_, nullptr, &len, header_bytes_.data(),
                        header_bytes_.size()) != 1 ||
      EVP_EncryptUpdate(ctx_, out, &len, plain.data(),
                        static_cast<int>(plain.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx_, out + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_GET_TAG, kVaultTagSize,
                          out + plain.size()) != 1) {
    std::abort();  // cannot fail with valid arguments
  }
}

Status ChunkCipher::Open(uint32_t counter, bool last, ByteView sealed,
                         uint8_t* out) {
  if (sealed.size() < overhead_) {
    return Status::Corruption("chunk " + std::to_string(counter) +
                              " shorter than its nonce prefix and tag");
  }
  const uint8_t* prefix = header_prefix_.data();
  if (version_ >= 2) {
    prefix = sealed.data();
    sealed = sealed.subspan(kVaultNoncePrefixSize);
  }
  size_t n = sealed.size() - kVaultTagSize;
  uint8_t nonce[12];
  MakeNonce(prefix, counter, last, nonce);
  int len = 0;
  uint8_t tag[kVaultTagSize];
  std::memcpy(tag, sealed.data() + n, kVaultTagSize);
  if (EVP_DecryptInit_ex2(ctx_, Aes256Gcm(), key_.data(), nonce, nullptr) !=
          1 ||
      EVP_DecryptUpdate(ctx_, nullptr, &len, header_bytes_.data(),
                        header_bytes_.size()) != 1 ||
      EVP_DecryptUpdate(ctx_, out, &len, sealed.data(), static_cast<int>(n)) !=
          1 ||
      EVP_CIPHER_CTX_ctrl(ctx_, EVP_CTRL_GCM_SET_TAG, kVaultTagSize, tag) !=
          1 ||
      EVP_DecryptFinal_ex(ctx_, out + len, &len) != 1) {
    return Status::Corruption("chunk " + std::to_string(counter) +
                              " fails authentication");
  }
  return Status::OK();
}

}  // namespace amanah
