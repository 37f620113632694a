// Cryptographic hashes over OpenSSL's EVP interface (SHA-NI where present).

#ifndef AMANAH_CRYPTO_HASH_H_
#define AMANAH_CRYPTO_HASH_H_

#include <openssl/evp.h>

#include <array>
#include <memory>
#include <string>
#include <string_view>

#include "base/encoding.h"

namespace amanah {

using Hash256 = std::array<uint8_t, 32>;

enum class HashAlgorithm { kSha256, kSha1, kMd5 };

// "sha256", "sha1", "md5": the names used in custody entries and the CLI.
std::string_view HashName(HashAlgorithm algorithm);

// An incremental hash. Not thread-safe; one Hasher per stream.
class Hasher {
 public:
  explicit Hasher(HashAlgorithm algorithm);
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Update(ByteView data);
  // REQUIRES: called once; the Hasher is spent afterwards.
  Bytes Finish();

 private:
  EVP_MD_CTX* ctx_;
};

// SHA-256 of the concatenation of `parts`. Fast path for short inputs
// (Merkle nodes, entries): reuses a per-thread context.
Hash256 Sha256(std::initializer_list<ByteView> parts);
inline Hash256 Sha256(ByteView data) { return Sha256({data}); }

// HMAC-SHA256 (RFC 2104) of `data` under `key`.
Hash256 HmacSha256(ByteView key, std::initializer_list<ByteView> data);

// Constant-time equality for secrets and MACs.
bool ConstantTimeEqual(ByteView a, ByteView b);

}  // namespace amanah

#endif  // AMANAH_CRYPTO_HASH_H_
