// A node's own TLS identity: a self-signed certificate and its key, which
// peers pin by SHA-256 (amanah peer add --tls-cert), so that nodes need no
// certificate authority between them.

#ifndef AMANAH_CRYPTO_TLS_IDENTITY_H_
#define AMANAH_CRYPTO_TLS_IDENTITY_H_

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

// The pin of a certificate: the hex SHA-256 of its DER encoding, as
// `amanah peer add --tls-pin` takes it.
Result<std::string> CertificatePin(X509* cert);
// The pin of the first certificate in a PEM file.
Result<std::string> CertificatePin(const std::string& pem_path);

}  // namespace amanah

#endif  // AMANAH_CRYPTO_TLS_IDENTITY_H_
