// The vault object format: evidence encrypted at rest.
//
//   header (104 bytes)
//     0   8  magic "AMNHVLT1"
//     8   1  format version = 1
//     9   1  cipher = 1: AES-256-GCM in the STREAM construction
//    10   1  key wrap = 1: XChaCha20-Poly1305 under the node's master key
//    11   1  reserved, 0
//    12   4  chunk size, big-endian (1 MiB)
//    16   8  master key id: first 8 bytes of SHA-256(master key)
//    24   7  nonce prefix (random)
//    31   1  reserved, 0
//    32  72  wrapped object key: 24-byte nonce || 32-byte key || 16-byte tag
//             (additional data: bytes 0..31 of the header)
//   chunks: ciphertext || 16-byte tag each; every chunk but the last holds
//     exactly chunk-size plaintext bytes, the last 0..chunk-size.
//     nonce = prefix (7) || chunk counter (4, big-endian) || last flag (1)
//     additional data = the whole header, so it cannot be altered.
//
// The object's name is the SHA-256 of its plaintext; readers re-hash.

#ifndef AMANAH_VAULT_OBJECT_FORMAT_H_
#define AMANAH_VAULT_OBJECT_FORMAT_H_

#include <openssl/evp.h>

#include <array>
#include <cstdint>

#include "base/encoding.h"
#include "base/status.h"

namespace amanah {

inline constexpr size_t kVaultHeaderSize = 104;
inline constexpr size_t kVaultChunkSize = 1 << 20;
inline constexpr size_t kVaultTagSize = 16;

using VaultKey = std::array<uint8_t, 32>;

// The node's master key, which wraps each object's key.
struct MasterKey {
  VaultKey key{};
  std::array<uint8_t, 8> id{};  // first 8 bytes of SHA-256(key)
  static MasterKey FromBytes(const VaultKey& key);
};

struct VaultHeader {
  uint32_t chunk_size = kVaultChunkSize;
  std::array<uint8_t, 8> master_key_id{};
  std::array<uint8_t, 7> nonce_prefix{};
  std::array<uint8_t, 72> wrapped_key{};

  std::array<uint8_t, kVaultHeaderSize> Encode() const;
  static Result<VaultHeader> Decode(ByteView bytes);
};

// Makes a header with a fresh random object key, wrapped by `master`.
VaultHeader NewVaultHeader(const MasterKey& master, VaultKey* object_key);
// Unwraps the object key. kCorruption if the header was altered or was made
// under another master key.
Result<VaultKey> UnwrapObjectKey(const VaultHeader& header,
                                 const MasterKey& master);

// Encrypts or decrypts the chunks of one object with AES-256-GCM.
class ChunkCipher {
 public:
  ChunkCipher(const VaultKey& key, const VaultHeader& header);
  ~ChunkCipher();
  ChunkCipher(const ChunkCipher&) = delete;
  ChunkCipher& operator=(const ChunkCipher&) = delete;

  // Writes plain.size() + 16 bytes to `out`.
  void Seal(uint32_t counter, bool last, ByteView plain, uint8_t* out);
  // Writes sealed.size() - 16 bytes to `out`. kCorruption if the tag fails.
  Status Open(uint32_t counter, bool last, ByteView sealed, uint8_t* out);

 private:
  void Nonce(uint32_t counter, bool last, uint8_t out[12]) const;
  EVP_CIPHER_CTX* ctx_;
  VaultKey key_;
  std::array<uint8_t, kVaultHeaderSize> header_bytes_;
  std::array<uint8_t, 7> prefix_;
};

}  // namespace amanah

#endif  // AMANAH_VAULT_OBJECT_FORMAT_H_
