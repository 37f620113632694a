// An HTTP(S) client for talking to a pinned peer. Over https with a TLS pin,
// the handshake succeeds only if the peer's certificate (DER) has exactly
// that SHA-256, whoever issued it; without a pin the system's CAs and the
// host name are checked as usual. The node's own certificate goes the other
// way, so that the peer can check it against its pin of this node.

#ifndef AMANAH_FEDERATION_PEER_CLIENT_H_
#define AMANAH_FEDERATION_PEER_CLIENT_H_

#include <httplib.h>

#include <chrono>
#include <memory>
#include <string>

#include "app/node.h"
#include "app/peers.h"
#include "crypto/tls_identity.h"

namespace amanah {

class PeerClient {
 public:
  // Over https, presents `identity` (this node's certificate, which the
  // peer pins) as the client certificate: mutual TLS.
  PeerClient(const Peer& peer, std::chrono::milliseconds timeout,
             const TlsIdentity& identity = {});
  ~PeerClient();

  httplib::Client& http() { return *client_; }
  // Describes a failed request, naming a TLS pin mismatch as such.
  std::string Describe(const httplib::Result& r) const;

 private:
  Peer peer_;
  std::string expected_pin_;  // read by the verify callback; empty: no pin
  bool pin_mismatch_ = false;
  std::unique_ptr<httplib::Client> client_;

  // OpenSSL's verify callback: accepts the chain if and only if the leaf
  // certificate matches the pin of the PeerClient in the context's app data.
  static int VerifyCallback(int preverify_ok, X509_STORE_CTX* store);
};

}  // namespace amanah

#endif  // AMANAH_FEDERATION_PEER_CLIENT_H_
