// Secrets people and programs present: passwords (Argon2id through
// libsodium's crypto_pwhash_str) and bearer tokens (256 random bits, stored
// only as their SHA-256).

#ifndef AMANAH_CRYPTO_PASSWORD_H_
#define AMANAH_CRYPTO_PASSWORD_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace amanah {

// Passwords are 12 to 1024 bytes.
constexpr size_t kMinPasswordSize = 12;
constexpr size_t kMaxPasswordSize = 1024;

// An Argon2id hash string ("$argon2id$v=19$m=...") with libsodium's
// interactive limits (64 MiB, 2 passes) and a random salt.
Result<std::string> HashPassword(std::string_view password);
// True if `password` matches `hash`; the comparison is libsodium's, constant
// in time. Also spends the same effort on a malformed or empty hash, so a
// caller can check a password for a user who does not exist without telling
// the timing apart.
bool CheckPassword(std::string_view hash, std::string_view password);

// A fresh bearer secret: `prefix` + 43 characters of base64url (256 bits).
std::string NewBearerToken(std::string_view prefix);
// How a bearer token is stored: lowercase hex of its SHA-256.
std::string BearerTokenHash(std::string_view token);

}  // namespace amanah

#endif  // AMANAH_CRYPTO_PASSWORD_H_
