#include "crypto/hash.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <cstdlib>

namespace amanah {

namespace {

// Fetched once; EVP_MD objects are immutable and safe to share.
const EVP_MD* FetchedMd(HashAlgorithm algorithm) {
  static const EVP_MD* sha256 = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  static const EVP_MD* sha1 = EVP_MD_fetch(nullptr, "SHA1", nullptr);
  static const EVP_MD* md5 = EVP_MD_fetch(nullptr, "MD5", nullptr);
  switch (algorithm) {
    case HashAlgorithm::kSha256:
      return sha256;
    case HashAlgorithm::kSha1:
      return sha1;
    case HashAlgorithm::kMd5:
      return md5;
  }
  std::abort();
}

}  // namespace

std::string_view HashName(HashAlgorithm algorithm) {
  switch (algorithm) {
    case HashAlgorithm::kSha256:
      return "sha256";
    case HashAlgorithm::kSha1:
      return "sha1";
    case HashAlgorithm::kMd5:
      return "md5";
  }
  return "";
}

Hasher::Hasher(HashAlgorithm algorithm) : ctx_(EVP_MD_CTX_new()) {
  if (ctx_ == nullptr ||
      EVP_DigestInit_ex(ctx_, FetchedMd(algorithm), nullptr) != 1) {
    std::abort();  // out of memory or a broken OpenSSL: nothing to recover
  }
}

Hasher::~Hasher() { EVP_MD_CTX_free(ctx_); }

void Hasher::Update(ByteView data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}

Bytes Hasher::Finish() {
  Bytes out(EVP_MAX_MD_SIZE);
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out.data(), &len);
  out.resize(len);
  return out;
}

Hash256 Sha256(std::initializer_list<ByteView> parts) {
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
  };
  thread_local std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx(EVP_MD_CTX_new());
  EVP_DigestInit_ex(ctx.get(), FetchedMd(HashAlgorithm::kSha256), nullptr);
  for (ByteView p : parts) EVP_DigestUpdate(ctx.get(), p.data(), p.size());
  Hash256 out;
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx.get(), out.data(), &len);
  return out;
}

Hash256 HmacSha256(ByteView key, std::initializer_list<ByteView> data) {
  Bytes joined;
  for (ByteView p : data) joined.insert(joined.end(), p.begin(), p.end());
  Hash256 out;
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), joined.data(),
       joined.size(), out.data(), &len);
  return out;
}

bool ConstantTimeEqual(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace amanah
