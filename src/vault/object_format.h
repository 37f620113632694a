// The vault object format: evidence encrypted at rest.
//
//   header (104 bytes)
//     0   8  magic "AMNHVLT1"
//     8   1  format version = 2 (version 1 is read, no longer written)
//     9   1  cipher = 1: AES-256-GCM in the STREAM construction
//    10   1  key wrap = 1: XChaCha20-Poly1305 under the node's master key
//    11   1  reserved, 0
//    12   4  chunk size, big-endian (1 MiB)
//    16   8  master key id: first 8 bytes of SHA-256(master key)
//    24   7  version 1: the object's nonce prefix (random); version 2: 0
//    31   1  reserved, 0
//    32  72  wrapped object key: 24-byte nonce || 32-byte key || 16-byte tag
//             (additional data: bytes 0..31 of the header)
//   chunks: every chunk but the last holds exactly chunk-size plaintext
//     bytes, the last 0..chunk-size. Each is sealed with
//     nonce = prefix (7) || chunk counter (4, big-endian) || last flag (1)
//     additional data = the whole header, so it cannot be altered.
//     version 2: prefix (7) || ciphertext || 16-byte tag, the prefix drawn
//       at random whenever the chunk is sealed: a chunk sealed again (a
//       staging file resumed at its committed offset) never reuses a nonce.
//     version 1: ciphertext || 16-byte tag, the prefix the header's.
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
inline constexpr size_t kVaultNoncePrefixSize = 7;
// The version written; readers take 1 and 2.
inline constexpr uint8_t kVaultFormatVersion = 2;

using VaultKey = std::array<uint8_t, 32>;

// The node's master key, which wraps each object's key.
struct MasterKey {
  VaultKey key{};
  std::array<uint8_t, 8> id{};  // first 8 bytes of SHA-256(key)
  static MasterKey FromBytes(const VaultKey& key);
};

struct VaultHeader {
  uint8_t version = kVaultFormatVersion;
  uint32_t chunk_size = kVaultChunkSize;
  std::array<uint8_t, 8> master_key_id{};
  std::array<uint8_t, 7> nonce_prefix{};  // version 1 only; else zeros
  std::array<uint8_t, 72> wrapped_key{};

  // The bytes a sealed chunk holds beyond its plaintext: the tag, and from
  // version 2 the chunk's nonce prefix.
  size_t chunk_overhead() const {
    return kVaultTagSize + (version >= 2 ? kVaultNoncePrefixSize : 0);
  }

  std::array<uint8_t, kVaultHeaderSize> Encode() const;
  static Result<VaultHeader> Decode(ByteView bytes);
};

// Makes a header (of kVaultFormatVersion) with a fresh random object key,
// wrapped by `master`.
VaultHeader NewVaultHeader(const MasterKey& master, VaultKey* object_key);
// Unwraps the object key. kCorruption if the header was altered or was made
// under another master key.
Result<VaultKey> UnwrapObjectKey(const VaultHeader& header,
                                 const MasterKey& master);

class ChunkCipher;

// The deterministic cores of NewVaultHeader and ChunkCipher::Seal: what
// those draw at random is given instead. For the golden vectors of
// docs/formats.md (object_format_test.cc) and for making version 1 objects
// in tests; evidence is never written with these, since a nonce prefix
// given twice for one key and chunk reuses a nonce.
namespace vault_internal {
// A header of `version`; `v1_prefix` goes into a version 1 header.
VaultHeader MakeVaultHeader(const MasterKey& master, const VaultKey& object_key,
                            const std::array<uint8_t, 24>& wrap_nonce,
                            uint8_t version, uint32_t chunk_size,
                            const std::array<uint8_t, 7>& v1_prefix = {});
// Seal() with the nonce prefix given (for version 1, pass the header's).
void SealWithPrefix(ChunkCipher* cipher, const std::array<uint8_t, 7>& prefix,
                    uint32_t counter, bool last, ByteView plain, uint8_t* out);
}  // namespace vault_internal

// Encrypts or decrypts the chunks of one object with AES-256-GCM.
class ChunkCipher {
 public:
  ChunkCipher(const VaultKey& key, const VaultHeader& header);
  ~ChunkCipher();
  ChunkCipher(const ChunkCipher&) = delete;
  ChunkCipher& operator=(const ChunkCipher&) = delete;

  // Bytes a sealed chunk holds beyond its plaintext (see VaultHeader).
  size_t overhead() const { return overhead_; }

  // Writes plain.size() + overhead() bytes to `out`: a nonce prefix drawn
  // at random for this call, the ciphertext and the tag. Two sealings of
  // one chunk position share a nonce only if they draw the same 56 bits.
  // REQUIRES: a header of version 2. Version 1 objects are only read: their
  // nonces follow from the header and the counter alone.
  void Seal(uint32_t counter, bool last, ByteView plain, uint8_t* out);
  // Writes sealed.size() - overhead() bytes to `out`. kCorruption if the
  // chunk is shorter than overhead() or fails its tag.
  Status Open(uint32_t counter, bool last, ByteView sealed, uint8_t* out);

 private:
  friend void vault_internal::SealWithPrefix(
      ChunkCipher* cipher, const std::array<uint8_t, 7>& prefix,
      uint32_t counter, bool last, ByteView plain, uint8_t* out);
  void SealWith(const uint8_t prefix[7], uint32_t counter, bool last,
                ByteView plain, uint8_t* out);

  EVP_CIPHER_CTX* ctx_;
  VaultKey key_;
  std::array<uint8_t, kVaultHeaderSize> header_bytes_;
  std::array<uint8_t, 7> header_prefix_;  // version 1
  uint8_t version_;
  size_t overhead_;
};

}  // namespace amanah

#endif  // AMANAH_VAULT_OBJECT_FORMAT_H_
