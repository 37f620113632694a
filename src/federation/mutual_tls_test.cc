// Mutual TLS between nodes: a node serving https accepts federation
// requests (messages, witnessing, pulls) only from a peer presenting the
// client certificate pinned for it.

#include <gtest/gtest.h>

#include <thread>

#include "app/cases.h"
#include "app/messages.h"
#include "app/peers.h"
#include "app/witness.h"
#include "federation/courier.h"
#include "federation/peer_client.h"
#include "federation/testutil.h"
#include "federation/witness_client.h"
#include "server/server.h"

namespace amanah {
namespace {

// The fixture's Kuwaiti node sends to a US node that serves https with the
// certificate `amanah init` made for it.
class MutualTlsTest : public testutil::ServedPeerFixture {
 protected:
  void SetUp() override {
    ServedPeerFixture::SetUp();
    StartPeer(/*tls=*/true);
    kw_pin_ = *CertificatePin(node_->tls_identity().cert);
  }

  // Queues a message to the US and delivers it at once; the outbox row.
  OutboxItem SendNow() {
    auto id = Mailroom(node_.get())
                  .Enqueue("local:poc", "cyber.doj.example", "request",
                           {{"n", ++sent_}}, "");
    EXPECT_TRUE(id.ok());
    (void)Courier(node_.get(), std::chrono::seconds(10)).DeliverDue();
    auto all = Mailroom(node_.get()).Outbox(false);
    EXPECT_TRUE(all.ok());
    std::vector<OutboxItem> items = *all;
    for (const auto& o : items) {
      if (o.id == *id) return o;
    }
    return {};
  }

  std::string kw_pin_;
  int sent_ = 0;
};

TEST_F(MutualTlsTest, OnlyThePinnedClientCertificateGetsThrough) {
  // No certificate pinned for Kuwait: refused, and nothing stored.
  UsPinsKuwait("");
  OutboxItem m = SendNow();
  EXPECT_EQ(m.state, "pending");
  EXPECT_NE(m.last_error.find("none is pinned"), std::string::npos)
      << m.last_error;
  // Another certificate pinned.
  UsPinsKuwait(std::string(64, 'a'));
  m = SendNow();
  EXPECT_NE(m.last_error.find("not the one pinned"), std::string::npos)
      << m.last_error;
  // The same pinned certificate, but the client presents none.
  UsPinsKuwait(kw_pin_);
  {
    auto peer = *PeerBook(node_.get()).Find("cyber.doj.example");
    PeerClient bare(*peer, std::chrono::seconds(10));
    auto pending = Mailroom(node_.get()).Outbox(true);
    ASSERT_TRUE(pending.ok() && !pending->empty());
    OutboxItem queued = pending->front();
    auto r = bare.http().Post(
        "/federation/v1/messages", {{"Amanah-Signature", queued.signature}},
        queued.body, "application/vnd.amanah.message+json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 403);
    EXPECT_NE(r->body.find("present your node's TLS certificate"),
              std::string::npos)
        << r->body;
    auto b =
        bare.http().Post("/federation/v1/messages/batch",
                         FormatMessageBatch({{queued.body, queued.signature}}),
                         "application/json");
    ASSERT_TRUE(b);
    EXPECT_EQ(b->status, 403) << b->body;
  }
  EXPECT_TRUE(Mailroom(us_.get()).Inbox()->empty());
  // The right one: every queued message is delivered (the two together,
  // in one batch).
  (void)Courier(node_.get(), std::chrono::seconds(10)).DeliverDue();
  env_.AdvanceClock(600);  // past the backoff of the refused attempts
  (void)Courier(node_.get(), std::chrono::seconds(10)).DeliverDue();
  EXPECT_TRUE(Mailroom(node_.get()).Outbox(true)->empty());
  EXPECT_EQ(Mailroom(us_.get()).Inbox()->size(), 2u);

  // Witnessing goes the same way: cosigned with the pinned certificate,
  // refused without it.
  auto peer = *PeerBook(node_.get()).Find("cyber.doj.example");
  EXPECT_TRUE(WitnessClient(node_.get()).Submit(*peer).ok());
  UsPinsKuwait(std::string(64, 'b'));
  ASSERT_TRUE(
      CaseBook(node_.get())
          .Open("local:poc", {"KW-1", "t", Offence::kCybercrime, "x"}, "")
          .ok());
  auto refused = WitnessClient(node_.get()).Submit(*peer);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("not the one pinned"),
            std::string::npos)
      << refused.status().ToString();
}

}  // namespace
}  // namespace amanah
