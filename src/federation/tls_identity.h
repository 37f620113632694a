// A node's own TLS identity: a self-signed certificate and its key, which
// peers pin by SHA-256 (amanah peer add --tls-cert), so that nodes need no
// certificate authority between them.

#ifndef AMANAH_FEDERATION_TLS_IDENTITY_H_
#define AMANAH_FEDERATION_TLS_IDENTITY_H_

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

}  // namespace amanah

#endif  // AMANAH_FEDERATION_TLS_IDENTITY_H_
