// Test support for federation/: a second node, "cyber.doj.example", served
// by a real ApiServer on a free loopback port (its background jobs off, so
// that tests drive them), pinned by the fixture's Kuwaiti node. Included
// only by tests.

#ifndef AMANAH_FEDERATION_TESTUTIL_H_
#define AMANAH_FEDERATION_TESTUTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "app/peers.h"
#include "app/testutil.h"
#include "crypto/tls_identity.h"
#include "server/server.h"

namespace amanah::testutil {

class ServedPeerFixture : public NodeFixture {
 protected:
  // Starts the US node, over https with its own certificate if `tls`, and
  // pins it on the fixture's node (by its certificate too, over https).
  void StartPeer(bool tls) {
    std::string data = (dir_ / "us").string();
    ASSERT_TRUE(Node::Init(Env::Default(), data, "cyber.doj.example").ok());
    us_ = std::move(Node::Open(Env::Default(), data)).value();
    ServerOptions o;
    o.port = 0;
    if (tls) {
      o.tls_cert = us_->tls_identity().cert;
      o.tls_key = us_->tls_identity().key;
    }
    o.witness_interval = o.courier_interval = o.fetch_interval =
        std::chrono::milliseconds(0);
    o.access_log = [](const std::string&) {};
    server_ = std::move(ApiServer::Create(us_.get(), o)).value();
    thread_ = std::thread([this] { (void)server_->Run(); });
    std::string pin;
    if (tls) pin = *CertificatePin(us_->tls_identity().cert);
    ASSERT_TRUE(PeerBook(node_.get())
                    .Add("local:a", "cyber.doj.example", server_->url(),
                         us_->info().verifier_key, pin)
                    .ok());
  }
  // Pins the fixture's node on the US node, by its certificate too if
  // `tls_pin` is given, in place of any earlier pin.
  void UsPinsKuwait(const std::string& tls_pin = "") {
    (void)PeerBook(us_.get()).Remove("local:a", "ccd.moi.gov.kw");
    ASSERT_TRUE(PeerBook(us_.get())
                    .Add("local:a", "ccd.moi.gov.kw", "http://127.0.0.1:9",
                         node_->info().verifier_key, tls_pin)
                    .ok());
  }

  void TearDown() override {
    if (server_) server_->Stop();
    if (thread_.joinable()) thread_.join();
    server_.reset();
    us_.reset();
    NodeFixture::TearDown();
  }

  std::unique_ptr<Node> us_;
  std::unique_ptr<ApiServer> server_;
  std::thread thread_;
};

}  // namespace amanah::testutil

#endif  // AMANAH_FEDERATION_TESTUTIL_H_
