#include "crypto/password.h"

#include <sodium.h>

#include "base/encoding.h"
#include "crypto/hash.h"

namespace amanah {

namespace {

// Hash of a random password, made once: checked against when the real hash
// is missing, so that the work is the same.
const std::string& DecoyHash() {
  static const std::string decoy = [] {
    unsigned char junk[32];
    randombytes_buf(junk, sizeof(junk));
    char out[crypto_pwhash_STRBYTES];
    if (crypto_pwhash_str(out, reinterpret_cast<const char*>(junk),
                          sizeof(junk), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                          crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
      out[0] = '\0';
    }
    return std::string(out);
  }();
  return decoy;
}

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (password.size() < kMinPasswordSize) {
    return Status::InvalidInput("a password needs at least " +
                                std::to_string(kMinPasswordSize) +
                                " characters");
  }
  if (password.size() > kMaxPasswordSize) {
    return Status::InvalidInput("a password has at most " +
                                std::to_string(kMaxPasswordSize) + " bytes");
  }
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return Status::Unavailable("not enough memory to hash a password");
  }
  return std::string(out);
}

bool CheckPassword(std::string_view hash, std::string_view password) {
  if (password.size() > kMaxPasswordSize) password = password.substr(0, 0);
  std::string h(hash);
  bool usable = !h.empty() && h.size() < crypto_pwhash_STRBYTES;
  if (!usable) h = DecoyHash();
  bool ok = crypto_pwhash_str_verify(h.c_str(), password.data(),
                                     password.size()) == 0;
  return usable && ok;
}

std::string NewBearerToken(std::string_view prefix) {
  unsigned char raw[32];
  randombytes_buf(raw, sizeof(raw));
  char b64[sodium_base64_ENCODED_LEN(32,
                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(b64, sizeof(b64), raw, sizeof(raw),
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(raw, sizeof(raw));
  return std::string(prefix) + b64;
}

std::string BearerTokenHash(std::string_view token) {
  return HexEncode(Sha256(AsBytes(token)));
}

}  // namespace amanah
