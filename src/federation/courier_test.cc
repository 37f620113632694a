// The courier against a real peer server: messages travel in batches, each
// conversation's in order, and one by one to a peer that takes no batches.

#include "federation/courier.h"

#include <gtest/gtest.h>

#include <regex>
#include <thread>

#include "app/custody_index.h"
#include "app/messages.h"
#include "app/peers.h"
#include "base/json_writer.h"
#include "federation/testutil.h"

namespace amanah {
namespace {

using nlohmann::json;

class CourierTest : public testutil::ServedPeerFixture {
 protected:
  void SetUp() override {
    ServedPeerFixture::SetUp();
    StartPeer(/*tls=*/false);
    UsPinsKuwait();
  }

  std::string Enqueue(const std::string& type, const json& payload) {
    auto id = Mailroom(node_.get())
                  .Enqueue("local:poc", "cyber.doj.example", type, payload, "");
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    return id.ok() ? *id : "";
  }

  // The index of the US node's message.received entry for message `id`.
  uint64_t ReceivedAt(const std::string& id) {
    auto found = CustodyIndex(&us_->sql()).ForSubject("message:" + id, -1, 10);
    EXPECT_TRUE(found.ok() && found->size() == 1) << id;
    return found.ok() && !found->empty() ? (*found)[0].index : 0;
  }

  // Serves `stub` on a free loopback port as the US node, for the
  // courier; the thread serving it.
  std::thread ServeInstead(httplib::Server& stub) {
    int port = stub.bind_to_any_port("127.0.0.1");
    std::thread serving([&stub] { stub.listen_after_bind(); });
    EXPECT_TRUE(
        PeerBook(node_.get()).Remove("local:a", "cyber.doj.example").ok());
    EXPECT_TRUE(PeerBook(node_.get())
                    .Add("local:a", "cyber.doj.example",
                         "http://127.0.0.1:" + std::to_string(port),
                         us_->info().verifier_key, "")
                    .ok());
    return serving;
  }

  // How many requests the US node's server answered on `route`.
  int Served(const std::string& route) {
    httplib::Client c(server_->url());
    auto r = c.Get("/metrics");
    EXPECT_TRUE(r && r->status == 200);
    if (!r) return -1;
    std::regex line("amanah_http_requests_total\\{route=\"" + route +
                    "\",status=\"200\"\\} ([0-9]+)");
    std::smatch m;
    return std::regex_search(r->body, m, line) ? std::stoi(m[1]) : 0;
  }
};

TEST_F(CourierTest, MessagesTravelInBatchesAndEachConversationInOrder) {
  // 120 conversations of one message, and one of three: a request and two
  // moves of it, which must arrive in that order.
  for (int i = 0; i < 120; ++i) {
    Enqueue("request", {{"request", "KW-R-" + std::to_string(i)}});
  }
  std::vector<std::string> talk = {
      Enqueue("request", {{"request", "KW-R-900"}}),
      Enqueue("request.update",
              {{"from_request", "KW-R-900"}, {"state", "withdrawn"}}),
      Enqueue("request.update",
              {{"from_request", "KW-R-900"}, {"state", "closed"}})};

  auto delivered = Courier(node_.get(), std::chrono::seconds(10)).DeliverDue();
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_EQ(*delivered, 123)
      << Mailroom(node_.get()).Outbox(true)->front().last_error;
  EXPECT_TRUE(Mailroom(node_.get()).Outbox(true)->empty());
  EXPECT_EQ(Mailroom(us_.get()).Inbox()->size(), 123u);
  EXPECT_LT(ReceivedAt(talk[0]), ReceivedAt(talk[1]));
  EXPECT_LT(ReceivedAt(talk[1]), ReceivedAt(talk[2]));
  // In batches: far fewer requests than messages. A batch of one goes to
  // the single message's endpoint (the conversation's later moves, here).
  int batches = Served("POST /federation/v1/messages/batch");
  int singles = Served("POST /federation/v1/messages");
  EXPECT_GE(batches, 1);
  EXPECT_LE(singles, 3);
  EXPECT_LE(batches + singles, 3 + static_cast<int>(Courier::kConnections));
  // Every receipt was checked and kept.
  auto all = Mailroom(node_.get()).Outbox(false);
  ASSERT_TRUE(all.ok());
  for (const OutboxItem& o : *all) {
    EXPECT_EQ(o.state, "delivered");
    EXPECT_FALSE(o.receipt.empty());
  }
}

TEST_F(CourierTest, APeerThatTakesNoBatchesGetsMessagesOneByOne) {
  // A peer that knows only POST /federation/v1/messages.
  httplib::Server old;
  int singles = 0;
  old.Post("/federation/v1/messages",
           [&](const httplib::Request& req, httplib::Response& res) {
             ++singles;
             auto r = Mailroom(us_.get()).Receive(
                 req.body, req.get_header_value("Amanah-Signature"));
             if (!r.ok()) {
               res.status = 400;
               return;
             }
             res.set_content(*r, "application/json");
           });
  std::thread serving = ServeInstead(old);
  for (int i = 0; i < 5; ++i) {
    Enqueue("request", {{"request", "KW-R-" + std::to_string(i)}});
  }
  auto delivered = Courier(node_.get(), std::chrono::seconds(10)).DeliverDue();
  old.stop();
  serving.join();
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_EQ(*delivered, 5);
  EXPECT_EQ(singles, 5);
  EXPECT_TRUE(Mailroom(node_.get()).Outbox(true)->empty());
  EXPECT_EQ(Mailroom(us_.get()).Inbox()->size(), 5u);
}

TEST_F(CourierTest, AMalformedBatchAnswerFailsItsMessagesAndNothingElse) {
  // A peer answering with fields of the wrong types, and a receipt that is
  // JSON but not an object: each message fails, and is retried later.
  httplib::Server odd;
  odd.Post("/federation/v1/messages/batch",
           [](const httplib::Request&, httplib::Response& res) {
             res.set_content(
                 "{\"results\":[{\"problem\":{\"status\":\"x\",\"detail\":5}},"
                 "{\"receipt\":\"{\\\"receipt\\\":\\\"[1]\\\"}\"},{\"x\":1}]}",
                 "application/json");
           });
  std::thread serving = ServeInstead(odd);
  for (int i = 0; i < 3; ++i) {
    Enqueue("request", {{"request", "KW-R-" + std::to_string(i)}});
  }
  auto delivered = Courier(node_.get(), std::chrono::seconds(10)).DeliverDue();
  odd.stop();
  serving.join();
  ASSERT_TRUE(delivered.ok()) << delivered.status().ToString();
  EXPECT_EQ(*delivered, 0);
  auto pending = Mailroom(node_.get()).Outbox(true);
  ASSERT_EQ(pending->size(), 3u);
  for (const OutboxItem& o : *pending) {
    EXPECT_EQ(o.attempts, 1);
    EXPECT_FALSE(o.last_error.empty());
  }
}

TEST_F(CourierTest, TheBatchEndpointAnswersEachMessageOrRefusesTheBatch) {
  std::string good = Enqueue("request", {{"request", "KW-R-1"}});
  Enqueue("request", {{"request", "KW-R-2"}});  // sent with good's signature
  std::vector<SignedMessage> batch;
  auto pending = Mailroom(node_.get()).Outbox(true);
  ASSERT_TRUE(pending.ok());
  for (const OutboxItem& o : *pending) {
    batch.push_back({o.body, o.signature});
  }
  ASSERT_EQ(batch.size(), 2u);
  batch[1].signature = batch[0].signature;  // not this body's
  uint64_t before = (*us_->Log())->Latest().size;
  httplib::Client c(server_->url());
  auto post = [&](const std::string& body) {
    auto r = c.Post("/federation/v1/messages/batch", body, "application/json");
    EXPECT_TRUE(r);
    return r;
  };
  auto r = post(FormatMessageBatch(batch));
  ASSERT_EQ(r->status, 200) << r->body;
  json results = json::parse(r->body)["results"];
  ASSERT_EQ(results.size(), 2u);
  EXPECT_TRUE(results[0]["receipt"].is_string());
  EXPECT_EQ(results[1]["problem"]["status"], 403);
  EXPECT_EQ((*us_->Log())->Latest().size, before + 1);
  EXPECT_TRUE(Mailroom(node_.get())
                  .AcceptReceipt(good, results[0]["receipt"].get<std::string>())
                  .ok());

  // Refused whole: not a batch, too many, or from two senders.
  for (const std::string& body :
       {std::string("[]"), std::string("{\"messages\":[]}"),
        std::string("{\"messages\":[{\"body\":\"x\"}]}")}) {
    auto refused = post(body);
    EXPECT_EQ(refused->status, 400) << body;
  }
  json other = json::parse(batch[1].body);
  other["from"] = "third.example";
  std::string other_body;
  AppendJson(&other_body, other);
  auto two = post(FormatMessageBatch({batch[0], {other_body, "x"}}));
  EXPECT_EQ(two->status, 400);
  EXPECT_NE(two->body.find("one sender"), std::string::npos) << two->body;
  EXPECT_EQ((*us_->Log())->Latest().size, before + 1);
}

}  // namespace
}  // namespace amanah
