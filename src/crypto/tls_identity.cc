#include "crypto/tls_identity.h"

#include <arpa/inet.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <memory>

#include "base/encoding.h"
#include "crypto/hash.h"

namespace amanah {

namespace {

template <typename T, void (*F)(T*)>
struct Freer {
  void operator()(T* p) const { F(p); }
};
using PKey = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Freer<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Freer<BIO, BIO_free_all>>;
using Ext =
    std::unique_ptr<X509_EXTENSION, Freer<X509_EXTENSION, X509_EXTENSION_free>>;

Status OpenSslError(const std::string& what) {
  return Status::IOError("making a TLS certificate: " + what + " failed");
}

// The PEM text `write` puts into a memory BIO.
template <typename F>
Result<std::string> Pem(F write) {
  Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return OpenSslError("PEM encoding");
  char* data = nullptr;
  long n = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<size_t>(n));
}

}  // namespace

// ECDSA first (a node's own certificate is P-256), then RSA for an
// operator's --tls-cert; within each, AES-128-GCM, AES-256-GCM, ChaCha20.
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kTls13Suites[] =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:"
    "TLS_CHACHA20_POLY1305_SHA256";

Status RestrictTls(SSL_CTX* ctx) {
  if (ctx == nullptr) return Status::InvalidInput("no TLS context");
  bool ok = SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) == 1 &&
            SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) == 1 &&
            SSL_CTX_set_ciphersuites(ctx, kTls13Suites) == 1;
  if (ok) return Status::OK();
  // Fail closed: no version between the minimum and this maximum.
  (void)SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION);
  (void)SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
  return Status::IOError("restricting TLS to AEAD cipher suites failed");
}

Status MakeSelfSignedCertificate(Env* env, const std::string& cert_path,
                                 const std::string& key_path,
                                 const std::string& host, int days) {
  for (const auto& p : {cert_path, key_path}) {
    if (env->FileExists(p)) return Status::Conflict(p + " exists already");
  }
  PKey key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("key generation");
  Cert cert(X509_new());
  if (!cert) return OpenSslError("X509_new");
  uint8_t serial[16];
  if (RAND_bytes(serial, sizeof(serial)) != 1) return OpenSslError("serial");
  serial[0] &= 0x7f;  // positive
  BIGNUM* bn = BN_bin2bn(serial, sizeof(serial), nullptr);
  bool ok =
      bn != nullptr && X509_set_version(cert.get(), 2) == 1 &&
      BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert.get())) != nullptr &&
      X509_gmtime_adj(X509_getm_notBefore(cert.get()), -300) != nullptr &&
      X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                      static_cast<long>(days) * 86400) != nullptr &&
      X509_set_pubkey(cert.get(), key.get()) == 1;
  BN_free(bn);
  if (!ok) return OpenSslError("filling in the certificate");
  X509_NAME* name = X509_get_subject_name(cert.get());
  if (X509_NAME_add_entry_by_txt(
          name, "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(host.c_str()), -1, -1,
          0) != 1 ||
      X509_set_issuer_name(cert.get(), name) != 1) {
    return OpenSslError("the subject name");
  }
  in6_addr a6;
  in_addr a4;
  bool ip = inet_pton(AF_INET, host.c_str(), &a4) == 1 ||
            inet_pton(AF_INET6, host.c_str(), &a6) == 1;
  std::string san = (ip ? "IP:" : "DNS:") + host;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, cert.get(), cert.get(), nullptr, nullptr, 0);
  Ext ext(
      X509V3_EXT_conf_nid(nullptr, &ctx, NID_subject_alt_name, san.c_str()));
  if (!ext || X509_add_ext(cert.get(), ext.get(), -1) != 1) {
    return OpenSslError("subjectAltName");
  }
  if (X509_sign(cert.get(), key.get(), EVP_sha256()) == 0) {
    return OpenSslError("signing");
  }
  ASSIGN_OR_RETURN(std::string key_pem, Pem([&](BIO* b) {
                     return PEM_write_bio_PrivateKey(
                         b, key.get(), nullptr, nullptr, 0, nullptr, nullptr);
                   }));
  ASSIGN_OR_RETURN(std::string cert_pem, Pem([&](BIO* b) {
                     return PEM_write_bio_X509(b, cert.get());
                   }));
  Status wrote = WriteFileAtomic(env, key_path, AsBytes(key_pem), 0600);
  OPENSSL_cleanse(key_pem.data(), key_pem.size());
  RETURN_IF_ERROR(wrote);
  return WriteFileAtomic(env, cert_path, AsBytes(cert_pem), 0644);
}

Result<std::string> CertificatePin(X509* cert) {
  unsigned char* der = nullptr;
  int len = i2d_X509(cert, &der);
  if (len <= 0) return Status::InvalidInput("cannot encode the certificate");
  Hash256 h = Sha256(ByteView(der, static_cast<size_t>(len)));
  OPENSSL_free(der);
  return HexEncode(ByteView(h.data(), h.size()));
}

Result<std::string> CertificatePin(const std::string& pem_path) {
  FILE* f = std::fopen(pem_path.c_str(), "r");
  if (f == nullptr) return Status::NotFound("cannot open " + pem_path);
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (cert == nullptr) {
    return Status::InvalidInput(pem_path + " holds no PEM certificate");
  }
  auto pin = CertificatePin(cert);
  X509_free(cert);
  return pin;
}

}  // namespace amanah
