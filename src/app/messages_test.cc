#include "app/messages.h"

#include <gtest/gtest.h>

#include "app/cases.h"
#include "app/custody_index.h"
#include "app/exchange.h"
#include "app/peers.h"
#include "app/testutil.h"
#include "base/json_writer.h"

namespace amanah {
namespace {

using nlohmann::json;

// Two nodes in one process, each pinning the other: the Kuwaiti node of
// the fixture and a US node.
class MessagesTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    std::string data = (dir_ / "us").string();
    ASSERT_TRUE(Node::Init(&us_env_, data, "cyber.doj.example").ok());
    auto us = Node::Open(&us_env_, data);
    ASSERT_TRUE(us.ok());
    us_ = std::move(us).value();
    ASSERT_TRUE(PeerBook(node_.get())
                    .Add("local:a", "cyber.doj.example", "http://127.0.0.1:9",
                         us_->info().verifier_key, "")
                    .ok());
    ASSERT_TRUE(PeerBook(us_.get())
                    .Add("local:a", "ccd.moi.gov.kw", "http://127.0.0.1:9",
                         node_->info().verifier_key, "")
                    .ok());
  }
  void TearDown() override {
    us_.reset();
    NodeFixture::TearDown();
  }

  OutboxItem Send(const json& payload) {
    auto id =
        Mailroom(node_.get())
            .Enqueue("local:poc", "cyber.doj.example", "request", payload, "");
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    auto out = Mailroom(node_.get()).Outbox(true);
    for (const auto& o : *out) {
      if (o.id == *id) return o;
    }
    ADD_FAILURE() << "not in the outbox";
    return {};
  }

  static uint64_t Size(Node* n) { return (*n->Log())->Latest().size; }

  // Opens Kuwaiti case `case_id` and drafts an outgoing request in it.
  Result<Request> KwRequest(const std::string& case_id, RequestType type,
                            Profile profile, const json& extra = {}) {
    return testutil::DraftInNewCase(node_.get(), case_id, type, profile,
                                    "Subscriber", extra);
  }

  FaultInjectionEnv us_env_{Env::Default()};
  std::unique_ptr<Node> us_;
};

TEST_F(MessagesTest, DeliveredOnceWithAReceiptThatProvesIt) {
  uint64_t kw_before = Size(node_.get());
  OutboxItem m = Send({{"reference", "KW-24/7-118"}});
  EXPECT_EQ(m.state, "pending");
  EXPECT_EQ(Size(node_.get()), kw_before + 1);  // message.sent

  Mailroom us(us_.get());
  uint64_t us_before = Size(us_.get());
  auto package = us.Receive(m.body, m.signature);
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  EXPECT_EQ(Size(us_.get()), us_before + 1);  // message.received
  auto inbox = us.Inbox();
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ((*inbox)[0].body, m.body);

  // A replay is acknowledged with a receipt for the same entry and changes
  // nothing.
  auto again = us.Receive(m.body, m.signature);
  ASSERT_TRUE(again.ok());
  auto index_of = [](const std::string& package) {
    return json::parse(
        json::parse(package)["receipt"].get<std::string>())["entry_index"];
  };
  EXPECT_EQ(index_of(*again), us_before);
  EXPECT_EQ(index_of(*package), us_before);
  EXPECT_EQ(Size(us_.get()), us_before + 1);
  EXPECT_EQ(us.Inbox()->size(), 1u);

  Mailroom kw(node_.get());
  ASSERT_TRUE(kw.AcceptReceipt(m.id, *package).ok());
  auto all = kw.Outbox(false);
  ASSERT_EQ(all->size(), 1u);
  EXPECT_EQ((*all)[0].state, "delivered");
  EXPECT_TRUE(kw.Outbox(true)->empty());
  EXPECT_EQ(Size(node_.get()), kw_before + 2);  // message.delivered
  // Accepting it twice records nothing more.
  ASSERT_TRUE(kw.AcceptReceipt(m.id, *again).ok());
  EXPECT_EQ(Size(node_.get()), kw_before + 2);
  auto history =
      CustodyIndex(&node_->sql()).ForSubject("message:" + m.id, -1, 10);
  ASSERT_EQ(history->size(), 2u);
  EXPECT_EQ((*history)[0].kind, "message.sent");
  EXPECT_EQ((*history)[1].kind, "message.delivered");
}

// Killed after the message.received entry became durable and before the
// database committed: the log holds an entry the database does not know.
// When the node opens again it voids that entry (entry.voided), and the
// sender, never answered, delivers again: the message is stored and
// recorded anew, and the receipt names the new entry.
TEST_F(MessagesTest, AMessageLoggedBeforeACrashIsVoidedThenStoredAgain) {
  OutboxItem m = Send({{"reference", "KW-24/7-119"}});
  uint64_t before = Size(us_.get());
  ASSERT_TRUE(Mailroom(us_.get()).Receive(m.body, m.signature).ok());
  ASSERT_EQ(Mailroom(us_.get()).Inbox()->size(), 1u);
  // What the commit would have written is gone; the log keeps its entry.
  for (const char* sql : {"DELETE FROM inbox",
                          "DELETE FROM custody_index "
                          "WHERE entry_index=?"}) {
    Statement st(us_->sql(), sql);
    if (std::string(sql).find('?') != std::string::npos) st.Bind(1, before);
    ASSERT_TRUE(st.Run().ok());
  }
  std::string data = (dir_ / "us").string();
  us_.reset();
  us_ = std::move(Node::Open(&us_env_, data)).value();
  ASSERT_EQ(Size(us_.get()), before + 2);  // the entry and its voiding
  auto voided = testutil::OpenedEntryAt(us_.get(), before + 1);
  ASSERT_TRUE(voided.ok());
  EXPECT_EQ(voided->kind, EntryKind::kEntryVoided);
  EXPECT_EQ(voided->subject, "entry:" + std::to_string(before));
  EXPECT_EQ(voided->data["kind"], "message.received");
  // Opening again voids nothing more.
  us_.reset();
  us_ = std::move(Node::Open(&us_env_, data)).value();
  ASSERT_EQ(Size(us_.get()), before + 2);

  Mailroom us(us_.get());
  ASSERT_TRUE(us.Inbox()->empty());
  auto package = us.Receive(m.body, m.signature);
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  EXPECT_EQ(Size(us_.get()), before + 3);
  auto inbox = us.Inbox();
  ASSERT_EQ(inbox->size(), 1u);
  EXPECT_EQ((*inbox)[0].body, m.body);
  // The message's history shows the new entry only.
  auto history =
      CustodyIndex(&us_->sql()).ForSubject("message:" + m.id, -1, 10);
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ((*history)[0].index, before + 2);
  auto receipt =
      json::parse(json::parse(*package)["receipt"].get<std::string>());
  EXPECT_EQ(receipt["entry_index"], before + 2);
  ASSERT_TRUE(Mailroom(node_.get()).AcceptReceipt(m.id, *package).ok());
}

TEST_F(MessagesTest, RefusesWhatIsNotAFreshSignedMessageFromAPeer) {
  OutboxItem m = Send({{"n", 1}});
  Mailroom us(us_.get());
  uint64_t before = Size(us_.get());
  // A body altered in transit.
  std::string altered = m.body;
  altered[altered.find("\"n\":1") + 4] = '2';
  EXPECT_EQ(us.Receive(altered, m.signature).status().code(),
            Code::kPermission);
  // A signature by a key that is not the pinned one.
  auto other = Ed25519PrivateKey::Generate();
  EXPECT_EQ(us.Receive(m.body, SignMessageBody(m.body, other)).status().code(),
            Code::kPermission);
  EXPECT_EQ(us.Receive(m.body, "not base64!").status().code(),
            Code::kPermission);
  // A message for someone else, and one from a node that is not a peer.
  {
    json j = json::parse(m.body);
    j["to"] = "third.example";
    std::string b;
    AppendJson(&b, j);
    EXPECT_EQ(us.Receive(b, m.signature).status().code(), Code::kInvalidInput);
  }
  ASSERT_TRUE(PeerBook(us_.get()).Remove("local:a", "ccd.moi.gov.kw").ok());
  ++before;  // peer.removed
  EXPECT_EQ(us.Receive(m.body, m.signature).status().code(), Code::kPermission);
  ASSERT_TRUE(PeerBook(us_.get())
                  .Add("local:a", "ccd.moi.gov.kw", "http://127.0.0.1:9",
                       node_->info().verifier_key, "")
                  .ok());
  ++before;  // peer.added
  // Not canonical, unknown type, malformed.
  EXPECT_EQ(us.Receive(" " + m.body, m.signature).status().code(),
            Code::kInvalidInput);
  for (std::string bad : {"", "[]", "{\"v\":1}", "not json"}) {
    EXPECT_EQ(us.Receive(bad, m.signature).status().code(), Code::kInvalidInput)
        << bad;
  }
  // Stale (the receiver's clock 31 days ahead), or from the future (an
  // hour behind).
  us_env_.AdvanceClock(31 * 86400);
  EXPECT_EQ(us.Receive(m.body, m.signature).status().code(),
            Code::kInvalidInput);
  us_env_.AdvanceClock(-31 * 86400 - 3600);
  EXPECT_EQ(us.Receive(m.body, m.signature).status().code(),
            Code::kInvalidInput);
  us_env_.AdvanceClock(3600);
  EXPECT_EQ(Size(us_.get()), before);
  EXPECT_TRUE(us.Inbox()->empty());
  // Untouched, it is received, even days after it was queued (its peer
  // may have been unreachable).
  us_env_.AdvanceClock(3 * 86400);
  EXPECT_TRUE(us.Receive(m.body, m.signature).ok());
}

TEST_F(MessagesTest, AForgedReceiptDoesNotMarkDelivery) {
  OutboxItem m = Send({{"n", 1}});
  auto package = Mailroom(us_.get()).Receive(m.body, m.signature);
  ASSERT_TRUE(package.ok());
  Mailroom kw(node_.get());
  json p = json::parse(*package);
  auto refused = [&](const json& forged) {
    std::string text;
    AppendJson(&text, forged);
    return kw.AcceptReceipt(m.id, text);
  };
  {
    json f = p;  // another index in the signed receipt
    std::string r = f["receipt"];
    r.replace(r.find("\"entry_index\":"), 15, "\"entry_index\":9");
    f["receipt"] = r;
    EXPECT_FALSE(refused(f).ok());
  }
  {
    json f = p;  // a proof that does not lead to the root
    if (!f["proof"].empty()) {
      f["proof"][0] = std::string(43, 'A') + "=";
    } else {
      f["proof"].push_back(std::string(43, 'A') + "=");
    }
    EXPECT_EQ(refused(f).code(), Code::kCorruption);
  }
  {
    json f = p;  // an entry that is not the one proved
    std::string e = f["entry"];
    e.replace(e.find("\"actor\":\"peer:"), 14, "\"actor\":\"peeR:");
    f["entry"] = e;
    EXPECT_EQ(refused(f).code(), Code::kCorruption);
  }
  {
    json f = p;  // a checkpoint not signed by the peer
    std::string c = f["checkpoint"];
    c[c.size() - 5] = c[c.size() - 5] == 'A' ? 'B' : 'A';
    f["checkpoint"] = c;
    EXPECT_FALSE(refused(f).ok());
  }
  EXPECT_FALSE(kw.AcceptReceipt(m.id, "{}").ok());
  EXPECT_EQ(kw.Outbox(true)->size(), 1u);
  EXPECT_TRUE(kw.AcceptReceipt(m.id, *package).ok());
  EXPECT_TRUE(kw.Outbox(true)->empty());
}

TEST_F(MessagesTest, ABatchIsStoredTogetherAndAnsweredMessageByMessage) {
  OutboxItem m1 = Send({{"n", 1}});
  OutboxItem m2 = Send({{"n", 2}});
  OutboxItem m3 = Send({{"n", 3}});
  Mailroom us(us_.get());
  auto first = us.Receive(m1.body, m1.signature);
  ASSERT_TRUE(first.ok());
  uint64_t before = Size(us_.get());
  // Another body under m2's id, signed by the sender all the same.
  json other = json::parse(m2.body);
  other["payload"]["n"] = 22;
  std::string other_body;
  AppendJson(&other_body, other);
  std::string altered = m3.body;
  altered[altered.find("\"n\":3") + 4] = '4';

  std::vector<SignedMessage> batch = {
      {m2.body, m2.signature},
      {altered, m3.signature},  // altered in transit
      {m1.body, m1.signature},  // received before: a replay
      {m2.body, m2.signature},  // twice in the batch
      {m3.body, m3.signature},
      {other_body,
       node_->SignStatement("amanah-message/v1", other_body)},  // id taken
  };
  auto results = us.ReceiveBatch(batch);
  ASSERT_EQ(results.size(), batch.size());
  auto index_of = [](const Result<std::string>& package) -> uint64_t {
    return json::parse(
        json::parse(*package)["receipt"].get<std::string>())["entry_index"];
  };
  ASSERT_TRUE(results[0].ok()) << results[0].status().ToString();
  EXPECT_EQ(results[1].status().code(), Code::kPermission);
  ASSERT_TRUE(results[2].ok());
  EXPECT_EQ(index_of(results[2]), index_of(first));
  ASSERT_TRUE(results[3].ok());
  EXPECT_EQ(index_of(results[3]), index_of(results[0]));
  ASSERT_TRUE(results[4].ok());
  EXPECT_EQ(results[5].status().code(), Code::kConflict);
  // Two new messages, two consecutive entries, in the batch's order.
  EXPECT_EQ(Size(us_.get()), before + 2);
  EXPECT_EQ(index_of(results[0]), before);
  EXPECT_EQ(index_of(results[4]), before + 1);
  EXPECT_EQ(us.Inbox()->size(), 3u);

  // The sender takes the receipts together; a forged one (m3's receipt
  // offered for m2) fails alone.
  Mailroom kw(node_.get());
  uint64_t kw_before = Size(node_.get());
  std::vector<Status> accepted = kw.AcceptReceipts({{m2.id, *results[4]},
                                                    {m3.id, *results[4]},
                                                    {m1.id, *results[2]},
                                                    {m2.id, *results[0]}});
  ASSERT_EQ(accepted.size(), 4u);
  EXPECT_EQ(accepted[0].code(), Code::kCorruption);
  EXPECT_TRUE(accepted[1].ok()) << accepted[1].ToString();
  EXPECT_TRUE(accepted[2].ok()) << accepted[2].ToString();
  EXPECT_TRUE(accepted[3].ok()) << accepted[3].ToString();
  EXPECT_TRUE(kw.Outbox(true)->empty());
  EXPECT_EQ(Size(node_.get()), kw_before + 3);  // message.delivered, each
  // Again: nothing more is recorded.
  accepted = kw.AcceptReceipts({{m1.id, *results[2]}, {m3.id, *results[4]}});
  EXPECT_TRUE(accepted[0].ok() && accepted[1].ok());
  EXPECT_EQ(Size(node_.get()), kw_before + 3);
}

// A body is parsed before its signature can be checked (the sender's key
// is found by its "from"), so anyone who reaches the node can send one. A
// payload nested 500,000 levels deep fits in the 1 MiB a message may have;
// copied recursively, it overflowed the stack of the thread that served it
// and so ended the node. Refused before it is parsed.
TEST(ParseMessageTest, RefusesDeepNestingBeforeParsing) {
  auto message = [](size_t depth) {
    return "{\"from\":\"cyber.doj.example\",\"id\":\"" + std::string(32, '0') +
           "\",\"payload\":{\"x\":" + std::string(depth, '[') +
           std::string(depth, ']') +
           "},\"time\":\"2026-11-23T16:00:00.000000Z\",\"to\":\"ccd.moi.gov."
           "kw\",\"type\":\"request\",\"v\":1}";
  };
  std::string deep = message(500000);
  ASSERT_LE(deep.size(), kMaxMessageBytes);
  auto m = ParseMessage(deep);
  EXPECT_EQ(m.status().code(), Code::kInvalidInput);
  EXPECT_NE(m.status().message().find("nested"), std::string::npos)
      << m.status().message();
  // The message object, its payload, and the value's levels.
  EXPECT_TRUE(ParseMessage(message(kMaxJsonDepth - 2)).ok());
  EXPECT_FALSE(ParseMessage(message(kMaxJsonDepth - 1)).ok());
}

TEST(MessageBatchTest, RoundTripsAndRefusesOtherShapes) {
  std::vector<SignedMessage> batch = {{"{\"a\":\"\\\"\"}", "sig1"},
                                      {"\xd8\xa3\xd9\x85", "sig2"}};
  std::string text = FormatMessageBatch(batch);
  auto back = ParseMessageBatch(json::parse(text));
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].body, batch[0].body);
  EXPECT_EQ((*back)[1].body, batch[1].body);
  EXPECT_EQ((*back)[1].signature, "sig2");
  json too_many = {{"messages", json::array()}};
  for (size_t i = 0; i <= kMaxBatchMessages; ++i) {
    too_many["messages"].push_back({{"body", "b"}, {"signature", "s"}});
  }
  for (const json& bad :
       {json::array(), json{{"messages", json::array()}}, too_many,
        json{{"messages", {{{"body", "b"}}}}},
        json{{"messages", {{{"body", 1}, {"signature", "s"}}}}},
        json{{"messages", {{{"body", "b"}, {"signature", "s"}, {"x", 1}}}}},
        json{{"messages", json::array({1})}},
        json{{"messages", json::array()}, {"more", 1}}}) {
    EXPECT_EQ(ParseMessageBatch(bad).status().code(), Code::kInvalidInput)
        << bad.dump();
  }
}

TEST_F(MessagesTest, FailedDeliveriesBackOff) {
  OutboxItem m = Send({{"n", 1}});
  Mailroom kw(node_.get());
  EXPECT_EQ(kw.Due()->size(), 1u);
  ASSERT_TRUE(kw.NoteFailure(m.id, "cannot reach").ok());
  EXPECT_TRUE(kw.Due()->empty());
  env_.AdvanceClock(3);
  EXPECT_EQ(kw.Due()->size(), 1u);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(kw.NoteFailure(m.id, "x").ok());
  auto o = (*kw.Outbox(true))[0];
  EXPECT_EQ(o.attempts, 13);
  EXPECT_EQ(o.last_error, "x");
  EXPECT_LE(o.next_attempt_unix - env_.NowUnixNanos() / 1000000000, 300);
  EXPECT_EQ(
      Mailroom(node_.get())
          .Enqueue("local:poc", "nobody.example", "request", json::object(), "")
          .status()
          .code(),
      Code::kNotFound);
  EXPECT_EQ(Mailroom(node_.get())
                .Enqueue("local:poc", "cyber.doj.example", "gossip",
                         json::object(), "")
                .status()
                .code(),
            Code::kInvalidInput);
}

}  // namespace
}  // namespace amanah

namespace amanah {
namespace {

// A request sent from Kuwait, filed in the US, and moved there: the updates
// move the Kuwaiti copy; one from a peer the request is not linked to, or
// one the state machine refuses, is kept with its reason and changes
// nothing.
TEST_F(MessagesTest, RequestUpdatesMoveOnlyTheLinkedCopy) {
  auto r = KwRequest("KW-1", RequestType::kSubscriber, Profile::kEu);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto sent =
      Exchange(node_.get()).Send("local:poc", r->id, "cyber.doj.example");
  ASSERT_TRUE(sent.ok()) << sent.status().ToString();

  // The US side receives and files it.
  OutboxItem m = (*Mailroom(node_.get()).Outbox(true))[0];
  ASSERT_TRUE(Mailroom(us_.get()).Receive(m.body, m.signature).ok());
  ASSERT_TRUE(
      CaseBook(us_.get())
          .Open("local:poc", {"US-1", "t", Offence::kCybercrime, "x"}, "")
          .ok());
  auto filed = Exchange(us_.get()).File("local:poc", m.id, "US-1");
  ASSERT_TRUE(filed.ok()) << filed.status().ToString();
  EXPECT_EQ(filed->state, RequestState::kReceived);
  EXPECT_EQ(filed->reference, r->id);

  // Deliver the US outbox (the "received" update) to Kuwait by hand.
  auto deliver_us = [&] {
    auto pending = Mailroom(us_.get()).Outbox(true);
    ASSERT_TRUE(pending.ok());
    std::vector<OutboxItem> items = *pending;
    for (const OutboxItem& o : items) {
      auto p = Mailroom(node_.get()).Receive(o.body, o.signature);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      ASSERT_TRUE(Mailroom(us_.get()).AcceptReceipt(o.id, *p).ok());
    }
  };
  deliver_us();
  EXPECT_EQ((*RequestBook(node_.get()).Get(r->id))->state,
            RequestState::kReceived);
  ASSERT_TRUE(Exchange(us_.get())
                  .Move("local:poc", filed->id, RequestState::kAcknowledged, "")
                  .ok());
  deliver_us();
  EXPECT_EQ((*RequestBook(node_.get()).Get(r->id))->state,
            RequestState::kAcknowledged);

  // An update the state machine refuses (acknowledged cannot become
  // preserved for a subscriber request) is kept, not applied.
  Message bad;
  bad.id = std::string(32, 'a');
  bad.type = "request.update";
  bad.from = "cyber.doj.example";
  bad.payload = {{"request", r->id},
                 {"from_request", filed->id},
                 {"state", "preserved"},
                 {"reason", ""}};
  EXPECT_FALSE(Exchange(node_.get()).Apply(bad).ok());
  EXPECT_NE(Exchange(node_.get()).Outcome(bad.id)->find("cannot become"),
            std::string::npos);
  // One naming another request of the peer's.
  bad.id = std::string(32, 'b');
  bad.payload["from_request"] = "R-2026-99999";
  bad.payload["state"] = "executed";
  EXPECT_EQ(Exchange(node_.get()).Apply(bad).code(), Code::kPermission);
  // One from a node the request was not sent to.
  bad.id = std::string(32, 'c');
  bad.from = "other.example";
  bad.payload["from_request"] = filed->id;
  EXPECT_EQ(Exchange(node_.get()).Apply(bad).code(), Code::kPermission);
  EXPECT_EQ((*RequestBook(node_.get()).Get(r->id))->state,
            RequestState::kAcknowledged);
}

// The peer gets one request's messages in the order they were made: while
// one waits to be retried, the later ones of its conversation wait too;
// other conversations go on.
TEST_F(MessagesTest, AConversationWaitsBehindItsFirstUndeliveredMessage) {
  Mailroom kw(node_.get());
  auto send = [&](const std::string& type, const json& payload) {
    auto id = kw.Enqueue("local:poc", "cyber.doj.example", type, payload, "");
    EXPECT_TRUE(id.ok());
    return *id;
  };
  std::string first = send("request", {{"request", "R-2026-00001"}});
  std::string update = send("request.update", {{"request", "R-2026-00077"},
                                               {"from_request", "R-2026-00001"},
                                               {"state", "withdrawn"},
                                               {"reason", "mistaken"}});
  std::string other = send("request", {{"request", "R-2026-00002"}});
  auto ids = [&] {
    std::vector<std::string> out;
    auto due = kw.Due();
    EXPECT_TRUE(due.ok());
    std::vector<OutboxItem> items = *due;
    for (const auto& o : items) out.push_back(o.id);
    return out;
  };
  EXPECT_EQ(ids(), (std::vector<std::string>{first, update, other}));
  ASSERT_TRUE(kw.NoteFailure(first, "cannot reach").ok());
  EXPECT_EQ(ids(), std::vector<std::string>{other});
  env_.AdvanceClock(3);  // the first one's backoff is over
  EXPECT_EQ(ids(), (std::vector<std::string>{first, update, other}));
  auto due = *kw.Due();
  EXPECT_EQ(due[0].conversation, due[1].conversation);
  EXPECT_NE(due[0].conversation, due[2].conversation);
}

// A request withdrawn before the peer filed it: the withdrawal waits in the
// peer's inbox and is applied as soon as the request is filed, so the peer
// never works on a request its sender withdrew.
TEST_F(MessagesTest, AWithdrawalBeforeFilingIsAppliedOnFiling) {
  auto r = KwRequest("KW-3", RequestType::kSubscriber, Profile::kEu);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  Exchange kw(node_.get());
  ASSERT_TRUE(kw.Send("local:poc", r->id, "cyber.doj.example").ok());
  ASSERT_TRUE(kw.Move("local:poc", r->id, RequestState::kWithdrawn,
                      "sent to the wrong country")
                  .ok());
  auto pending = Mailroom(node_.get()).Outbox(true);
  ASSERT_EQ(pending->size(), 2u);
  std::vector<OutboxItem> items = *pending;
  for (const auto& o : items) {
    ASSERT_TRUE(Mailroom(us_.get()).Receive(o.body, o.signature).ok());
  }
  Exchange us(us_.get());
  EXPECT_EQ(us.Outcome(items[1].id)->rfind("waiting: ", 0), 0u)
      << *us.Outcome(items[1].id);
  ASSERT_TRUE(
      CaseBook(us_.get())
          .Open("local:poc", {"US-3", "t", Offence::kCybercrime, "x"}, "")
          .ok());
  auto filed = us.File("local:poc", items[0].id, "US-3");
  ASSERT_TRUE(filed.ok()) << filed.status().ToString();
  EXPECT_EQ(filed->state, RequestState::kWithdrawn);
  EXPECT_EQ(*us.Outcome(items[1].id), "applied");
  auto history = *RequestBook(us_.get()).History(filed->id);
  ASSERT_EQ(history.size(), 1u);
  EXPECT_EQ(history[0].to, "withdrawn");
  EXPECT_EQ(history[0].reason, "sent to the wrong country");
  EXPECT_EQ(history[0].actor, "peer:ccd.moi.gov.kw");
}

// Filing is one change: the request, its link to the sender's, the
// message marked filed and the update that tells the sender, or none of
// them. Here the update cannot be queued (the sender is no longer a pinned
// peer); in the crash test, the node was killed before it was: the message
// stayed filed and the sender was never told.
TEST_F(MessagesTest, FilingIsWholeOrNothing) {
  auto r = KwRequest("KW-4", RequestType::kSubscriber, Profile::kEu);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(
      Exchange(node_.get()).Send("local:poc", r->id, "cyber.doj.example").ok());
  OutboxItem m = (*Mailroom(node_.get()).Outbox(true))[0];
  ASSERT_TRUE(Mailroom(us_.get()).Receive(m.body, m.signature).ok());
  ASSERT_TRUE(
      CaseBook(us_.get())
          .Open("local:poc", {"US-4", "t", Offence::kCybercrime, "x"}, "")
          .ok());
  PeerBook peers(us_.get());
  ASSERT_TRUE(peers.Remove("local:a", "ccd.moi.gov.kw").ok());
  Exchange us(us_.get());
  EXPECT_FALSE(us.File("local:poc", m.id, "US-4").ok());
  EXPECT_TRUE(RequestBook(us_.get()).ForCase("US-4")->empty());
  EXPECT_EQ(*us.Outcome(m.id), "");
  EXPECT_TRUE(Mailroom(us_.get()).Outbox(false)->empty());

  ASSERT_TRUE(peers
                  .Add("local:a", "ccd.moi.gov.kw", "http://127.0.0.1:9",
                       node_->info().verifier_key, "")
                  .ok());
  auto filed = us.File("local:poc", m.id, "US-4");
  ASSERT_TRUE(filed.ok()) << filed.status().ToString();
  EXPECT_EQ(RequestBook(us_.get()).ForCase("US-4")->size(), 1u);
  EXPECT_EQ(*us.Outcome(m.id), "filed as " + filed->id);
  auto outbox = Mailroom(us_.get()).Outbox(true);
  ASSERT_TRUE(outbox.ok());
  int updates = 0;
  for (const auto& o : *outbox) updates += o.type == "request.update";
  EXPECT_EQ(updates, 1);
}

// Nodes talk https with mutual TLS; plain http only to loopback.
TEST_F(MessagesTest, PeersOffLoopbackAreReachedOverHttpsOnly) {
  PeerBook book(node_.get());
  const std::string key = us_->info().verifier_key;
  (void)book.Remove("local:a", "cyber.doj.example");
  for (const char* url :
       {"http://doj.example:8470", "http://10.0.0.7:8470", "http://[::2]:1"}) {
    auto r = book.Add("local:a", "cyber.doj.example", url, key, "");
    EXPECT_EQ(r.status().code(), Code::kInvalidInput) << url;
    EXPECT_NE(r.status().message().find("over https"), std::string::npos);
  }
  for (const char* url : {"https://doj.example:8470", "http://127.0.0.1:1",
                          "http://localhost:8470", "http://[::1]:8470"}) {
    auto r = book.Add("local:a", "cyber.doj.example", url, key, "");
    EXPECT_TRUE(r.ok()) << url << ": " << r.status().ToString();
    ASSERT_TRUE(book.Remove("local:a", "cyber.doj.example").ok());
  }
}

// The custodian's date is the date: the requesting side keeps the date the
// data is preserved until as the answering side set it, even when its own
// clock (or the update's delay) would give another.
TEST_F(MessagesTest, BothSidesKeepTheCustodiansPreservationDate) {
  auto r = KwRequest("KW-2", RequestType::kPreservation, Profile::kUs2703f,
                     {{"relation_to_offence", {{"en", "Used to phish"}}},
                      {"provider", "Mail Inc."},
                      {"account_identifiers", {"victim@example.com"}},
                      {"necessity", {{"en", "Deleted in 30 days"}}},
                      {"mla_to_follow", true}});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(
      Exchange(node_.get()).Send("local:poc", r->id, "cyber.doj.example").ok());
  OutboxItem m = (*Mailroom(node_.get()).Outbox(true))[0];
  ASSERT_TRUE(Mailroom(us_.get()).Receive(m.body, m.signature).ok());
  ASSERT_TRUE(
      CaseBook(us_.get())
          .Open("local:poc", {"US-2", "t", Offence::kCybercrime, "x"}, "")
          .ok());
  auto filed = Exchange(us_.get()).File("local:poc", m.id, "US-2");
  ASSERT_TRUE(filed.ok()) << filed.status().ToString();
  auto deliver_us = [&] {
    auto pending = Mailroom(us_.get()).Outbox(true);
    std::vector<OutboxItem> items = *pending;
    for (const OutboxItem& o : items) {
      auto p = Mailroom(node_.get()).Receive(o.body, o.signature);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      ASSERT_TRUE(Mailroom(us_.get()).AcceptReceipt(o.id, *p).ok());
    }
  };
  for (RequestState s : {RequestState::kAcknowledged, RequestState::kPreserved,
                         RequestState::kExtended}) {
    auto moved = Exchange(us_.get()).Move("local:poc", filed->id, s, "");
    ASSERT_TRUE(moved.ok()) << moved.status().ToString();
    // The update arrives an hour later by Kuwait's clock.
    env_.AdvanceClock(3600);
    deliver_us();
    auto kw = *RequestBook(node_.get()).Get(r->id);
    EXPECT_EQ(kw->state, s);
    EXPECT_EQ(kw->preserved_until_unix, moved->preserved_until_unix);
  }
  auto us = *RequestBook(us_.get()).Get(filed->id);
  EXPECT_EQ(us->preserved_until_unix,
            us->started_unix + 0 * 86400 + (90 + 90) * 86400 -
                (us->started_unix - us->preserved_until_unix + 180 * 86400));
}

}  // namespace
}  // namespace amanah
