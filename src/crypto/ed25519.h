// Ed25519 signatures (libsodium).

#ifndef AMANAH_CRYPTO_ED25519_H_
#define AMANAH_CRYPTO_ED25519_H_

#include <array>

#include "base/encoding.h"
#include "base/status.h"

namespace amanah {

using Ed25519PublicKey = std::array<uint8_t, 32>;
using Ed25519Signature = std::array<uint8_t, 64>;

// A private signing key. Holds the 32-byte seed and libsodium's expanded key;
// wiped on destruction.
class Ed25519PrivateKey {
 public:
  static Ed25519PrivateKey Generate();
  static Result<Ed25519PrivateKey> FromSeed(ByteView seed);
  ~Ed25519PrivateKey();
  Ed25519PrivateKey(const Ed25519PrivateKey&);
  Ed25519PrivateKey& operator=(const Ed25519PrivateKey&);

  Ed25519Signature Sign(ByteView message) const;
  const Ed25519PublicKey& public_key() const { return public_key_; }
  ByteView seed() const { return ByteView(secret_.data(), 32); }

 private:
  Ed25519PrivateKey() = default;
  std::array<uint8_t, 64> secret_{};  // libsodium layout: seed || public key
  Ed25519PublicKey public_key_{};
};

bool Ed25519Verify(const Ed25519PublicKey& key, ByteView message,
                   ByteView signature);

}  // namespace amanah

#endif  // AMANAH_CRYPTO_ED25519_H_
