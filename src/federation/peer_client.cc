#include "federation/peer_client.h"

#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <cstdio>

#include "base/encoding.h"
#include "crypto/hash.h"
#include "crypto/tls_identity.h"

namespace amanah {

int PeerClient::VerifyCallback(int /*preverify_ok*/, X509_STORE_CTX* store) {
  if (X509_STORE_CTX_get_error_depth(store) != 0) return 1;
  SSL* ssl = static_cast<SSL*>(
      X509_STORE_CTX_get_ex_data(store, SSL_get_ex_data_X509_STORE_CTX_idx()));
  if (ssl == nullptr) return 0;
  auto* self =
      static_cast<PeerClient*>(SSL_CTX_get_app_data(SSL_get_SSL_CTX(ssl)));
  if (self == nullptr || self->expected_pin_.empty()) return 0;
  auto pin = CertificatePin(X509_STORE_CTX_get_current_cert(store));
  bool ok = pin.ok() &&
            ConstantTimeEqual(AsBytes(self->expected_pin_), AsBytes(*pin));
  if (!ok) self->pin_mismatch_ = true;
  return ok ? 1 : 0;
}

PeerClient::PeerClient(const Peer& peer, std::chrono::milliseconds timeout,
                       const TlsIdentity& identity)
    : peer_(peer),
      client_(identity.empty() || peer.url.rfind("https://", 0) != 0
                  ? std::make_unique<httplib::Client>(peer.url)
                  : std::make_unique<httplib::Client>(peer.url, identity.cert,
                                                      identity.key)) {
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(timeout);
  auto usecs =
      std::chrono::duration_cast<std::chrono::microseconds>(timeout - secs);
  client_->set_connection_timeout(secs.count(), usecs.count());
  client_->set_read_timeout(secs.count(), usecs.count());
  client_->set_write_timeout(secs.count(), usecs.count());
  client_->set_keep_alive(true);
  client_->set_tcp_nodelay(true);  // else small requests wait out Nagle
  // Over https (the context exists only then), AEAD suites only; should
  // that fail, the context completes no handshake.
  if (SSL_CTX* ctx = client_->ssl_context(); ctx != nullptr) {
    (void)RestrictTls(ctx);
  }
  if (peer.url.rfind("https://", 0) == 0 && !peer.tls_pin.empty()) {
    // httplib's own check would replace the context's verify callback;
    // with it off, the pin callback set on the context decides.
    expected_pin_ = peer.tls_pin;
    client_->enable_server_certificate_verification(false);
    SSL_CTX* ctx = client_->ssl_context();
    if (ctx != nullptr) {
      SSL_CTX_set_app_data(ctx, this);
      SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, VerifyCallback);
    }
  }
}

PeerClient::~PeerClient() = default;

std::string PeerClient::Describe(const httplib::Result& r) const {
  if (pin_mismatch_) {
    return "the TLS certificate of " + peer_.name + " at " + peer_.url +
           " does not match the pinned SHA-256 " + peer_.tls_pin;
  }
  return "cannot reach " + peer_.name + " at " + peer_.url + ": " +
         httplib::to_string(r.error());
}

}  // namespace amanah
