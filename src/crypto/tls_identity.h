// A node's own TLS identity: a self-signed certificate and its key, which
// peers pin by SHA-256 (amanah peer add --tls-cert), so that nodes need no
// certificate authority between them.

#ifndef AMANAH_CRYPTO_TLS_IDENTITY_H_
#define AMANAH_CRYPTO_TLS_IDENTITY_H_

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <string>

#include "base/status.h"
#include "storage/env.h"

namespace amanah {

// Writes a new P-256 key (mode 0600) and a self-signed certificate for
// `host` (an IP address or a DNS name, put in subjectAltName), valid for
// `days` from now, as PEM files. kConflict if either file exists.
Status MakeSelfSignedCertificate(Env* env, const std::string& cert_path,
                                 const std::string& key_path,
                                 const std::string& host, int days);

// Restricts `ctx`, a server's or a client's, to TLS 1.2 and 1.3 and, in
// TLS 1.2, to ECDHE key exchange with AES-GCM or ChaCha20-Poly1305: no CBC
// suite, no SHA-1 MAC, no static RSA key exchange. TLS 1.3 gets its three
// AEAD suites, whatever the system's OpenSSL configuration says. Every TLS
// context amanah makes goes through this. If it fails, `ctx` is left able
// to complete no handshake at all.
Status RestrictTls(SSL_CTX* ctx);

// The pin of a certificate: the hex SHA-256 of its DER encoding, as
// `amanah peer add --tls-pin` takes it.
Result<std::string> CertificatePin(X509* cert);
// The pin of the first certificate in a PEM file.
Result<std::string> CertificatePin(const std::string& pem_path);

}  // namespace amanah

#endif  // AMANAH_CRYPTO_TLS_IDENTITY_H_
