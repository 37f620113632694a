#include "crypto/ed25519.h"

#include <sodium.h>

#include <cstdlib>

namespace amanah {

namespace {
void EnsureSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();
}
}  // namespace

Ed25519PrivateKey Ed25519PrivateKey::Generate() {
  EnsureSodium();
  Ed25519PrivateKey key;
  crypto_sign_keypair(key.public_key_.data(), key.secret_.data());
  return key;
}

Result<Ed25519PrivateKey> Ed25519PrivateKey::FromSeed(ByteView seed) {
  EnsureSodium();
  if (seed.size() != crypto_sign_SEEDBYTES) {
    return Status::InvalidInput("an Ed25519 seed is 32 bytes");
  }
  Ed25519PrivateKey key;
  crypto_sign_seed_keypair(key.public_key_.data(), key.secret_.data(),
                           seed.data());
  return key;
}

Ed25519PrivateKey::~Ed25519PrivateKey() {
  sodium_memzero(secret_.data(), secret_.size());
}

Ed25519PrivateKey::Ed25519PrivateKey(const Ed25519PrivateKey&) = default;
Ed25519PrivateKey& Ed25519PrivateKey::operator=(const Ed25519PrivateKey&) =
    default;

Ed25519Signature Ed25519PrivateKey::Sign(ByteView message) const {
  Ed25519Signature sig;
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(),
                       secret_.data());
  return sig;
}

bool Ed25519Verify(const Ed25519PublicKey& key, ByteView message,
                   ByteView signature) {
  EnsureSodium();
  if (signature.size() != crypto_sign_BYTES) return false;
  return crypto_sign_verify_detached(signature.data(), message.data(),
                                     message.size(), key.data()) == 0;
}

}  // namespace amanah
