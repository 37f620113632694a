// TLS between nodes, and with people and tools: version 1.2 or 1.3 and, in
// 1.2, only ECDHE with AES-GCM or ChaCha20-Poly1305. A client that offers
// only a CBC suite with a SHA-1 MAC is refused by `amanah serve --tls`, and
// a node's client will not talk to a server that offers nothing better.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <memory>
#include <thread>

#include "federation/peer_client.h"
#include "federation/testutil.h"

namespace amanah {
namespace {

// Whether a TLS handshake with 127.0.0.1:`port` completes for a client that
// offers only `ciphers` (OpenSSL names) in TLS 1.2, or, with
// `max_version` 1.3, TLS 1.3 as OpenSSL has it.
bool Handshake(int port, const char* ciphers, int max_version = TLS1_2_VERSION,
               int min_version = TLS1_2_VERSION) {
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx(
      SSL_CTX_new(TLS_client_method()), SSL_CTX_free);
  if (!ctx) return false;
  SSL_CTX_set_min_proto_version(ctx.get(), min_version);
  SSL_CTX_set_max_proto_version(ctx.get(), max_version);
  // Security level 0, so that this client itself refuses nothing.
  std::string list = std::string(ciphers) + ":@SECLEVEL=0";
  EXPECT_EQ(SSL_CTX_set_cipher_list(ctx.get(), list.c_str()), 1) << ciphers;
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    ADD_FAILURE() << "cannot connect to port " << port;
    return false;
  }
  SSL* ssl = SSL_new(ctx.get());
  SSL_set_fd(ssl, fd);
  bool ok = SSL_connect(ssl) == 1;
  if (ok) SSL_shutdown(ssl);
  SSL_free(ssl);
  ::close(fd);
  return ok;
}

class TlsPolicyTest : public testutil::ServedPeerFixture {};

TEST_F(TlsPolicyTest, ServerRefusesCbcAndShaOneSuites) {
  StartPeer(/*tls=*/true);
  int port = server_->port();
  // The node's certificate is ECDSA (P-256): the ECDSA forms of each suite.
  for (const char* weak :
       {"ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA",
        "ECDHE-ECDSA-AES128-SHA256", "ECDHE-ECDSA-AES256-SHA384"}) {
    EXPECT_FALSE(Handshake(port, weak)) << weak;
  }
  // Older versions, whatever the suite.
  EXPECT_FALSE(
      Handshake(port, "ECDHE-ECDSA-AES128-SHA", TLS1_1_VERSION, TLS1_VERSION));
  for (const char* aead :
       {"ECDHE-ECDSA-AES128-GCM-SHA256", "ECDHE-ECDSA-AES256-GCM-SHA384",
        "ECDHE-ECDSA-CHACHA20-POLY1305"}) {
    EXPECT_TRUE(Handshake(port, aead)) << aead;
  }
  EXPECT_TRUE(Handshake(port, "DEFAULT", TLS1_3_VERSION));
}

// A bare https server with the US node's certificate, offering only
// `ciphers` in TLS 1.2.
class BareTlsServer {
 public:
  BareTlsServer(const TlsIdentity& id, const char* ciphers)
      : server_(id.cert.c_str(), id.key.c_str()) {
    SSL_CTX* ctx = server_.ssl_context();
    SSL_CTX_set_max_proto_version(ctx, TLS1_2_VERSION);
    std::string list = std::string(ciphers) + ":@SECLEVEL=0";
    EXPECT_EQ(SSL_CTX_set_cipher_list(ctx, list.c_str()), 1);
    server_.Get("/healthz", [](const httplib::Request&, httplib::Response& r) {
      r.set_content("{}", "application/json");
    });
    port_ = server_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread([this] { server_.listen_after_bind(); });
    while (!server_.is_running()) std::this_thread::yield();
  }
  ~BareTlsServer() {
    server_.stop();
    thread_.join();
  }
  std::string url() const {
    return "https://127.0.0.1:" + std::to_string(port_);
  }

 private:
  httplib::SSLServer server_;
  int port_ = 0;
  std::thread thread_;
};

TEST_F(TlsPolicyTest, NodeClientRefusesAServerOfferingOnlyCbc) {
  StartPeer(/*tls=*/false);  // only for the US node's certificate
  const TlsIdentity& id = us_->tls_identity();
  auto get = [&](const char* ciphers) {
    BareTlsServer bare(id, ciphers);
    Peer peer;
    peer.name = "cyber.doj.example";
    peer.url = bare.url();
    peer.tls_pin = *CertificatePin(id.cert);
    PeerClient client(peer, std::chrono::seconds(10), node_->tls_identity());
    auto r = client.http().Get("/healthz");
    return r && r->status == 200;
  };
  EXPECT_FALSE(get("ECDHE-ECDSA-AES128-SHA"));
  EXPECT_FALSE(get("ECDHE-ECDSA-AES128-SHA256"));
  EXPECT_TRUE(get("ECDHE-ECDSA-AES128-GCM-SHA256"));  // the same server, AEAD
  EXPECT_TRUE(get("ECDHE-ECDSA-CHACHA20-POLY1305"));
}

}  // namespace
}  // namespace amanah
