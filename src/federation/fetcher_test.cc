#include "federation/fetcher.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "app/cases.h"
#include "app/custody_index.h"
#include "app/evidence.h"
#include "app/evidence_db.h"
#include "app/exchange.h"
#include "app/export.h"
#include "app/peers.h"
#include "app/requests.h"
#include "app/users.h"
#include "bundle/verify.h"
#include "federation/testutil.h"
#include "federation/witness_client.h"
#include "ledger/log_reader.h"
#include "server/server.h"
#include "storage/sqlite/sqlite.h"
#include "vault/staged.h"
#include "vault/testutil.h"

namespace amanah {
namespace {

using nlohmann::json;

// The Kuwaiti node of the fixture asks; a US node, served over HTTP on
// loopback, answers with evidence. Messages go between them by hand; the
// evidence itself is pulled over HTTP by the Fetcher.
class FetcherTest : public testutil::ServedPeerFixture {
 protected:
  void SetUp() override {
    ServedPeerFixture::SetUp();
    StartPeer(/*tls=*/false);
    UsPinsKuwait();
    LinkRequest();
  }

  // Hands every pending message of `from` to `to`, and the receipts back.
  static void Post(Node* from, Node* to) {
    auto pending = Mailroom(from).Outbox(true);
    ASSERT_TRUE(pending.ok());
    for (const OutboxItem& o : *pending) {
      auto p = Mailroom(to).Receive(o.body, o.signature);
      ASSERT_TRUE(p.ok()) << p.status().ToString();
      ASSERT_TRUE(Mailroom(from).AcceptReceipt(o.id, *p).ok());
    }
  }

  // Kuwait sends a production request; the US files and acknowledges it.
  void LinkRequest() {
    auto r =
        testutil::DraftInNewCase(node_.get(), "KW-1", RequestType::kProduction,
                                 Profile::kBudapest, "Mailbox");
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    kw_request_ = r->id;
    ASSERT_TRUE(Exchange(node_.get())
                    .Send("local:poc", r->id, "cyber.doj.example")
                    .ok());
    Post(node_.get(), us_.get());
    ASSERT_TRUE(
        CaseBook(us_.get())
            .Open("local:poc", {"US-1", "t", Offence::kCybercrime, "x"}, "")
            .ok());
    auto inbox = Mailroom(us_.get()).Inbox();
    auto filed = Exchange(us_.get()).File("local:poc", (*inbox)[0].id, "US-1");
    ASSERT_TRUE(filed.ok()) << filed.status().ToString();
    us_request_ = filed->id;
    ASSERT_TRUE(
        Exchange(us_.get())
            .Move("local:poc", us_request_, RequestState::kAcknowledged, "")
            .ok());
    Post(us_.get(), node_.get());
  }

  // Ingests `size` random bytes into the US case.
  ContentAddress UsEvidence(size_t size, uint32_t seed, bool md5) {
    std::string path = (dir_ / ("ev" + std::to_string(seed))).string();
    {
      std::mt19937 rng(seed);
      std::string s(size, '\0');
      for (auto& c : s) c = static_cast<char>(rng());
      std::ofstream(path, std::ios::binary) << s;
    }
    IngestRequest req{path, "US-1", "local:analyst", "", md5, false};
    auto out = Ingest(*us_, req);
    EXPECT_TRUE(out.ok()) << out.status().ToString();
    return out->object.address;
  }

  // The US delivers `items`; the manifest is left unposted.
  Message Deliver(const std::vector<ContentAddress>& items) {
    auto id = Transfers(us_.get()).Deliver("local:poc", us_request_, items);
    EXPECT_TRUE(id.ok()) << id.status().ToString();
    auto outbox = Mailroom(us_.get()).Outbox(true);
    EXPECT_TRUE(outbox.ok());
    std::vector<OutboxItem> queued = *outbox;
    for (const auto& o : queued) {
      if (o.id == *id) return *ParseMessage(o.body);
    }
    ADD_FAILURE() << "no manifest in the outbox";
    return {};
  }

  std::string Entry(Node* n, uint64_t index) {
    auto log = n->Log();
    return *(*log)->Reader().Entry(index);
  }

  std::string kw_request_, us_request_;
};

TEST_F(FetcherTest, EvidenceArrivesIntactAndBothLogsNameEachOther) {
  ContentAddress big = UsEvidence(3 * kVaultChunkSize + 5, 1, true);
  ContentAddress small = UsEvidence(10, 2, false);
  ASSERT_TRUE(VerifyEvidence(*us_, "US-1", small, "local:analyst")
                  .ok());  // more history
  auto offered = Deliver({big, small});
  Post(us_.get(), node_.get());
  EXPECT_EQ(*Exchange(node_.get()).Outcome(offered.id), "accepted: 2 to pull");

  Fetcher fetcher(node_.get(), std::chrono::seconds(10));
  auto arrived = fetcher.FetchDue();
  ASSERT_TRUE(arrived.ok()) << arrived.status().ToString();
  EXPECT_EQ(*arrived, 2);
  for (const auto& a : {big, small}) {
    EXPECT_TRUE(node_->vault().Verify(a).ok()) << a.ToString();
  }
  auto items = CaseBook(node_.get()).Items("KW-1");
  ASSERT_EQ(items->size(), 2u);

  // Kuwait's evidence.received names the US evidence.transferred, which
  // names the manifest; the US hears back which entry that was.
  auto transfers = *Transfers(node_.get()).List();
  ASSERT_EQ(transfers.size(), 2u);
  Post(node_.get(), us_.get());
  auto offers = *Transfers(us_.get()).Offers();
  ASSERT_EQ(offers.size(), 2u);
  for (const Transfer& t : transfers) {
    EXPECT_EQ(t.state, "done");
    auto received = *testutil::OpenedEntryAt(node_.get(), t.entry_index);
    EXPECT_EQ(received.kind, EntryKind::kEvidenceReceived);
    EXPECT_EQ(received.case_id, "KW-1");
    EXPECT_EQ(received.data["from"], "cyber.doj.example");
    const Offer* offer = nullptr;
    for (const auto& o : offers) {
      if (o.address == t.address) offer = &o;
    }
    ASSERT_NE(offer, nullptr);
    EXPECT_EQ(received.data["peer_entry"], offer->entry_index);
    EXPECT_EQ(offer->received_index, t.entry_index);
    auto transferred = *testutil::OpenedEntryAt(us_.get(), offer->entry_index);
    EXPECT_EQ(transferred.kind, EntryKind::kEvidenceTransferred);
    EXPECT_EQ(transferred.data["to"], "ccd.moi.gov.kw");
    EXPECT_EQ(transferred.data["message"], offered.id);
  }
  // The MD5 the US recorded came along and was checked.
  auto ev = *node_->db().FindEvidence(big.ToString());
  EXPECT_EQ(ev->md5.size(), 32u);
  // Nothing more to pull; every pull was a custody entry on the US side.
  EXPECT_EQ(*fetcher.FetchDue(), 0);
  auto pulls = CustodyIndex(&us_->sql()).ForSubject(big.ToString(), -1, 100);
  int accessed = 0;
  for (const auto& e : *pulls) accessed += e.kind == "evidence.accessed";
  EXPECT_EQ(accessed, 1);
}

TEST_F(FetcherTest, AnInterruptedPullResumesWithARangeRequest) {
  ContentAddress a = UsEvidence(6 * kVaultChunkSize + 3, 3, false);
  Deliver({a});
  Post(us_.get(), node_.get());
  // Stop the first pull once two chunks are committed.
  std::atomic<bool> stop{false};
  Fetcher first(node_.get(), std::chrono::seconds(10), &stop);
  first.set_commit_every(kVaultChunkSize);
  std::thread watcher([&] {
    for (int i = 0; i < 2000 && !stop; ++i) {
      auto list = Transfers(node_.get()).List();
      if (list.ok() && !list->empty() &&
          (*list)[0].offset >= 2 * kVaultChunkSize) {
        stop = true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
  });
  auto r = first.FetchDue();
  watcher.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto t = (*Transfers(node_.get()).List())[0];
  if (t.state == "done") GTEST_SKIP() << "the pull finished before the stop";
  ASSERT_GE(t.offset, 2 * kVaultChunkSize);
  EXPECT_EQ(t.offset % kVaultChunkSize, 0u);

  // The next round (at once: stopping is no failure) continues where the
  // committed bytes end.
  Fetcher second(node_.get(), std::chrono::seconds(10));
  ASSERT_EQ(*second.FetchDue(), 1);
  EXPECT_TRUE(node_->vault().Verify(a).ok());
  auto pulls = CustodyIndex(&us_->sql()).ForSubject(a.ToString(), -1, 100);
  std::vector<std::string> ranges;
  for (const auto& e : *pulls) {
    if (e.kind != "evidence.accessed") continue;
    ranges.push_back(testutil::OpenedEntryAt(us_.get(), e.index)
                         ->data["range"]
                         .get<std::string>());
  }
  ASSERT_EQ(ranges.size(), 2u);
  EXPECT_EQ(ranges[0], "all");
  EXPECT_EQ(ranges[1], "bytes=" + std::to_string(t.offset) + "-");
}

// Killed after chunks 0 to 2 were sealed and written to the staging file,
// and before the transfer's offset moved past chunk 0 (which the fetcher
// commits every 16 MiB; any crash between two commits leaves such a file).
// The next round resumes with a range request from chunk 0's end and seals
// chunks 1 and 2 again, from the same bytes: under the same nonces they
// would come out as the same ciphertext. Each sealing draws its own.
TEST_F(FetcherTest, AResumedPullSealsUnderFreshNonces) {
  const size_t c = kVaultChunkSize;
  ContentAddress a = UsEvidence(4 * c + 5, 31, false);
  const std::string plain = testutil::ReadWholeFile((dir_ / "ev31").string());
  ASSERT_EQ(plain.size(), 4 * c + 5);
  Deliver({a});
  Post(us_.get(), node_.get());
  Transfers transfers(node_.get());
  const Transfer t = (*transfers.List()).at(0);
  const std::string path = transfers.StagingPath(t);
  {
    auto staged =
        StagedObject::Create(node_->env(), node_->vault().master(), path, {});
    ASSERT_TRUE(staged.ok()) << staged.status().ToString();
    ASSERT_TRUE((*staged)->Append(AsBytes(plain).subspan(0, 3 * c)).ok());
    ASSERT_TRUE((*staged)->Sync().ok());
  }
  ASSERT_TRUE(transfers.NoteProgress(t, c).ok());
  const std::string first = testutil::ReadWholeFile(path);

  Fetcher fetcher(node_.get(), std::chrono::seconds(10));
  ASSERT_EQ(*fetcher.FetchDue(), 1);
  ASSERT_TRUE(node_->vault().Verify(a).ok());
  const std::string second = testutil::ReadWholeFile(node_->vault().PathOf(a));
  // Resumed, not started over: the same header (so the same key), chunk 0
  // as it was, and the rest pulled with a range request.
  const size_t stride = (first.size() - kVaultHeaderSize) / 3;
  ASSERT_GT(stride, c);
  EXPECT_EQ(first.substr(0, kVaultHeaderSize + stride),
            second.substr(0, kVaultHeaderSize + stride));
  auto pulls = CustodyIndex(&us_->sql()).ForSubject(a.ToString(), -1, 100);
  ASSERT_TRUE(pulls.ok());
  std::vector<std::string> ranges;
  for (const auto& e : *pulls) {
    if (e.kind != "evidence.accessed") continue;
    ranges.push_back(testutil::OpenedEntryAt(us_.get(), e.index)
                         ->data["range"]
                         .get<std::string>());
  }
  EXPECT_EQ(ranges,
            std::vector<std::string>{"bytes=" + std::to_string(c) + "-"});
  const std::string resealed = plain.substr(c, 2 * c);
  EXPECT_FALSE(testutil::KeystreamReused(first, second,
                                         kVaultHeaderSize + stride, stride, 2,
                                         c, resealed, resealed));
}

// Killed after the evidence.received entry became durable and before the
// database committed: the object is in the vault and the entry in the log,
// but the transfer is still pending. When the node opens again it voids the
// entries whose change never committed; the next round pulls again and
// records the receipt once, and that is the entry the peer hears of.
TEST_F(FetcherTest, AReceiptLoggedBeforeACrashIsVoidedAndRecordedOnce) {
  ContentAddress a = UsEvidence(2 * kVaultChunkSize + 7, 11, true);
  Message m = Deliver({a});
  Post(us_.get(), node_.get());
  ASSERT_EQ(*Fetcher(node_.get(), std::chrono::seconds(10)).FetchDue(), 1);
  Transfer before = (*Transfers(node_.get()).List())[0];
  ASSERT_EQ(before.state, "done");
  const uint64_t lost = static_cast<uint64_t>(before.entry_index);
  const uint64_t size = (*node_->Log())->Latest().size;
  // What the commits would have written is gone, from the receipt on; the
  // log keeps the entries.
  ASSERT_TRUE(
      node_->sql()
          .Transaction([&] {
            for (const char* sql :
                 {"UPDATE evidence_transfers SET state='pending', "
                  "entry_index=-1, confirmed=0, offset=0",
                  "DELETE FROM ingest WHERE entry_index>=?",
                  "DELETE FROM outbox WHERE type='evidence.received'",
                  "DELETE FROM custody_disclosures WHERE entry_index>=?",
                  "DELETE FROM custody_index WHERE entry_index>=?"}) {
              Statement st(node_->sql(), sql);
              if (std::string(sql).find('?') != std::string::npos) {
                st.Bind(1, lost);
              }
              RETURN_IF_ERROR(st.Run());
            }
            return Status::OK();
          })
          .ok());
  std::string data = (dir_ / "data").string();
  node_.reset();
  node_ = std::move(Node::Open(&env_, data)).value();
  // One entry.voided for each entry whose change never committed.
  const uint64_t voids = size - lost;
  ASSERT_EQ((*node_->Log())->Latest().size, size + voids);
  for (uint64_t k = 0; k < voids; ++k) {
    auto v = testutil::OpenedEntryAt(node_.get(), size + k);
    ASSERT_TRUE(v.ok());
    EXPECT_EQ(v->kind, EntryKind::kEntryVoided);
    EXPECT_EQ(v->subject, "entry:" + std::to_string(lost + k));
  }
  ASSERT_EQ((*Transfers(node_.get()).List())[0].state, "pending");

  ASSERT_EQ(*Fetcher(node_.get(), std::chrono::seconds(10)).FetchDue(), 1);
  Transfer after = (*Transfers(node_.get()).List())[0];
  EXPECT_EQ(after.state, "done");
  EXPECT_GE(after.entry_index, static_cast<int64_t>(size + voids));
  auto about = CustodyIndex(&node_->sql()).ForSubject(a.ToString(), -1, 100);
  int received = 0;
  for (const auto& e : *about) received += e.kind == "evidence.received";
  EXPECT_EQ(received, 1);
  auto ingests = node_->db().IngestsOf(a.ToString());
  ASSERT_EQ(ingests->size(), 1u);
  EXPECT_EQ((*ingests)[0].entry_index,
            static_cast<uint64_t>(after.entry_index));
  EXPECT_EQ((*ingests)[0].md5.size(), 32u);
  // The US hears of the one entry that counts.
  Post(node_.get(), us_.get());
  auto offers = *Transfers(us_.get()).Offers();
  ASSERT_EQ(offers.size(), 1u);
  EXPECT_EQ(offers[0].received_index, after.entry_index);
  EXPECT_EQ(offers[0].message_id, m.id);
}

// Objects released but their manifest never queued (the node died in
// between): the next round queues it, under the id the entries name.
TEST_F(FetcherTest, AManifestLostToACrashIsQueuedAgain) {
  ContentAddress a = UsEvidence(1000, 9, false);
  Message m = Deliver({a});
  Statement drop(us_->sql(), "DELETE FROM outbox WHERE id=?");
  drop.Bind(1, m.id);
  ASSERT_TRUE(drop.Run().ok());
  ASSERT_TRUE(Transfers(us_.get()).QueueOwedManifests().ok());
  auto outbox = Mailroom(us_.get()).Outbox(true);
  ASSERT_EQ(outbox->size(), 1u);
  EXPECT_EQ((*outbox)[0].id, m.id);
  Post(us_.get(), node_.get());
  EXPECT_EQ(*Exchange(node_.get()).Outcome(m.id), "accepted: 1 to pull");
  // Nothing more is owed.
  ASSERT_TRUE(Transfers(us_.get()).QueueOwedManifests().ok());
  EXPECT_TRUE(Mailroom(us_.get()).Outbox(true)->empty());
}

// The confirmation proves the receiving entry; one whose entry or proof
// does not check out is refused and records nothing.
TEST_F(FetcherTest, AConfirmationMustProveItsEntry) {
  ContentAddress a = UsEvidence(5000, 10, false);
  Deliver({a});
  Post(us_.get(), node_.get());
  ASSERT_EQ(*Fetcher(node_.get(), std::chrono::seconds(10)).FetchDue(), 1);
  auto pending = Mailroom(node_.get()).Outbox(true);
  ASSERT_TRUE(pending.ok());
  std::vector<OutboxItem> queued = *pending;
  ASSERT_EQ(queued.size(), 1u);
  Message c = *ParseMessage(queued[0].body);
  ASSERT_EQ(c.type, "evidence.received");
  Message forged = c;
  forged.id = std::string(32, 'f');
  std::string& entry =
      forged.payload["items"][0]["entry"].get_ref<std::string&>();
  entry.replace(entry.find("\"actor\":\"sd:"), 12, "\"actor\":\"sd:0");
  ASSERT_TRUE(Transfers(us_.get()).AcceptConfirmation(forged).ok());
  EXPECT_NE(Exchange(us_.get()).Outcome(forged.id)->find("inclusion proof"),
            std::string::npos)
      << *Exchange(us_.get()).Outcome(forged.id);
  EXPECT_EQ((*Transfers(us_.get()).Offers())[0].received_index, -1);
  // The real one is accepted.
  Post(node_.get(), us_.get());
  EXPECT_EQ(*Exchange(us_.get()).Outcome(c.id), "applied");
  EXPECT_GE((*Transfers(us_.get()).Offers())[0].received_index, 0);
}

TEST_F(FetcherTest, ATamperedManifestIsRefusedAndNothingIsPulled) {
  ContentAddress a = UsEvidence(1000, 4, false);
  Message m = Deliver({a});
  Transfers kw(node_.get());
  auto refused = [&](Message x, const std::string& why) {
    static int n = 0;
    x.id = std::string(31, 'a') + static_cast<char>('0' + n++);
    ASSERT_TRUE(kw.AcceptManifest(x).ok());
    auto outcome = *Exchange(node_.get()).Outcome(x.id);
    EXPECT_EQ(outcome.rfind("refused: ", 0), 0u) << outcome;
    EXPECT_NE(outcome.find(why), std::string::npos) << outcome;
  };
  json& item = m.payload["items"][0];
  {
    Message x = m;  // an entry's bytes changed
    std::string& e =
        x.payload["items"][0]["entries"][0]["entry"].get_ref<std::string&>();
    size_t at = e.find("\"actor\":\"sd:") + 12;
    e[at] = e[at] == '0' ? '1' : '0';
    refused(x, "inclusion proof");
  }
  {
    Message x = m;  // a disclosure that does not match its entry
    json& ds = x.payload["items"][0]["entries"][0]["disclosures"];
    for (auto& d : ds) {
      std::string& text = d.get_ref<std::string&>();
      size_t at = text.find("\"size\",");
      if (at != std::string::npos) text.replace(at + 7, 4, "9999");
    }
    refused(x, "matches no digest");
  }
  {
    Message x = m;  // the subject not disclosed: about what?
    json kept = json::array();
    for (const auto& d : x.payload["items"][0]["entries"][0]["disclosures"]) {
      if (d.get<std::string>().find("\"subject\"") == std::string::npos) {
        kept.push_back(d);
      }
    }
    x.payload["items"][0]["entries"][0]["disclosures"] = kept;
    refused(x, "is not about this object");
  }
  {
    // Nothing of the case's id or its notes goes to the peer.
    std::string all = m.payload.dump();
    EXPECT_EQ(all.find("\"case\","), std::string::npos);
    EXPECT_EQ(all.find("US-1"), std::string::npos);
  }
  {
    Message x = m;  // another size than the entries record
    x.payload["items"][0]["size"] = uint64_t{1001};
    refused(x, "another size");
  }
  {
    Message x = m;  // a checkpoint not signed by the peer
    std::string& cp = x.payload["checkpoint"].get_ref<std::string&>();
    cp[cp.size() - 5] = cp[cp.size() - 5] == 'A' ? 'B' : 'A';
    refused(x, "checkpoint");
  }
  {
    Message x = m;  // released to someone else (its id no longer matches)
    refused(x, "evidence.transferred");
  }
  {
    Message x = m;  // a request that is not linked to the sender
    x.id = m.id;
    x.payload["request"] = "R-2026-99999";
    ASSERT_TRUE(kw.AcceptManifest(x).ok());
    EXPECT_NE(Exchange(node_.get()).Outcome(x.id)->find("not linked"),
              std::string::npos);
  }
  (void)item;
  EXPECT_TRUE(kw.List()->empty());
}

TEST_F(FetcherTest, OnlyTheOfferedPeerCanPullAndOnlyWhatWasOffered) {
  ContentAddress offered = UsEvidence(100, 5, false);
  ContentAddress kept = UsEvidence(100, 6, false);
  Deliver({offered});
  httplib::Client c("127.0.0.1", server_->port());
  auto get = [&](const ContentAddress& a, const std::string& auth) {
    return c.Get("/federation/v1/objects/" + a.ToString(),
                 {{"Amanah-Pull", auth}});
  };
  auto ok = get(offered, PullAuthorization(*node_, "cyber.doj.example",
                                           offered.ToString()));
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(ok->body.size(), 100u);
  // Not offered.
  auto no = get(
      kept, PullAuthorization(*node_, "cyber.doj.example", kept.ToString()));
  EXPECT_EQ(no->status, 404);
  // A signature made for another object, or no header at all.
  auto other = get(
      kept, PullAuthorization(*node_, "cyber.doj.example", offered.ToString()));
  EXPECT_EQ(other->status, 403);
  EXPECT_EQ(get(offered, "x 1 y")->status, 403);
  EXPECT_EQ(get(offered, "")->status, 400);
  // A range beyond the object.
  auto past = c.Get(
      "/federation/v1/objects/" + offered.ToString(),
      {{"Amanah-Pull",
        PullAuthorization(*node_, "cyber.doj.example", offered.ToString())},
       {"Range", "bytes=500-"}});
  EXPECT_EQ(past->status, 416);
  auto part = c.Get(
      "/federation/v1/objects/" + offered.ToString(),
      {{"Amanah-Pull",
        PullAuthorization(*node_, "cyber.doj.example", offered.ToString())},
       {"Range", "bytes=90-"}});
  EXPECT_EQ(part->status, 206);
  EXPECT_EQ(part->body, ok->body.substr(90));
  auto get_range = [&](const ContentAddress& a, const std::string& range) {
    return c.Get("/federation/v1/objects/" + a.ToString(),
                 {{"Amanah-Pull", PullAuthorization(*node_, "cyber.doj.example",
                                                    a.ToString())},
                  {"Range", range}});
  };
  // An end beyond the object is clamped; several ranges are refused; an
  // error keeps its status whatever the Range.
  auto clamped = get_range(offered, "bytes=95-100000");
  EXPECT_EQ(clamped->status, 206);
  EXPECT_EQ(clamped->body, ok->body.substr(95));
  EXPECT_EQ(get_range(offered, "bytes=0-1,5-6")->status, 416);
  EXPECT_EQ(get_range(kept, "bytes=5-")->status, 404);
  // An empty object comes back empty, at once.
  ContentAddress empty = UsEvidence(0, 8, false);
  Deliver({empty});
  c.set_read_timeout(5, 0);
  auto none = c.Get(
      "/federation/v1/objects/" + empty.ToString(),
      {{"Amanah-Pull",
        PullAuthorization(*node_, "cyber.doj.example", empty.ToString())}});
  ASSERT_TRUE(none);
  EXPECT_EQ(none->status, 200);
  EXPECT_TRUE(none->body.empty());
}

// While the US node serves, its people work through the API: the inbox, filing
// a peer's request, moving it, delivering evidence for it.
TEST_F(FetcherTest, TheApiFilesAndDeliversWhileTheNodeServes) {
  // Kuwait sends a second request.
  RequestDraft d;
  d.type = RequestType::kProduction;
  d.fields = (*RequestBook(node_.get()).Get(kw_request_))->fields;
  auto r = RequestBook(node_.get()).Create("local:poc", "KW-1", d);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(
      Exchange(node_.get()).Send("local:poc", r->id, "cyber.doj.example").ok());
  Post(node_.get(), us_.get());

  // A prosecutor of the US case signs in.
  UserDirectory users(us_.get());
  ASSERT_TRUE(testutil::AddEnrolledUser(us_.get(), "dana", Role::kProsecutor,
                                        "a long passphrase for dana")
                  .ok());
  ASSERT_TRUE(CaseBook(us_.get()).AddMember("local:a", "US-1", "dana").ok());
  auto token = users.Login("dana", "a long passphrase for dana");
  ASSERT_TRUE(token.ok());
  httplib::Client c("127.0.0.1", server_->port());
  httplib::Headers auth = {{"Authorization", "Bearer " + *token}};
  auto post = [&](const std::string& path, const json& body) {
    auto res = c.Post(path, auth, body.dump(), "application/json");
    EXPECT_TRUE(res);
    return res;
  };

  auto inbox = c.Get("/api/v1/inbox", auth);
  ASSERT_EQ(inbox->status, 200) << inbox->body;
  std::string message;
  json listed = json::parse(inbox->body);
  for (const auto& m : listed["items"]) {
    if (m["type"] == "request" && m["outcome"] == "") message = m["id"];
  }
  ASSERT_FALSE(message.empty()) << inbox->body;
  auto filed = post("/api/v1/inbox/" + message + "/file", {{"case", "US-1"}});
  ASSERT_EQ(filed->status, 201) << filed->body;
  std::string theirs = json::parse(filed->body)["id"];
  EXPECT_EQ(
      post("/api/v1/inbox/" + message + "/file", {{"case", "US-1"}})->status,
      409);  // filed already
  ASSERT_EQ(
      post("/api/v1/requests/" + theirs + "/moves", {{"to", "acknowledged"}})
          ->status,
      200);
  ContentAddress a = UsEvidence(2 * kVaultChunkSize + 1, 7, false);
  auto bad = post("/api/v1/requests/" + theirs + "/deliveries",
                  {{"items", {"sha256:" + std::string(64, '0')}}});
  EXPECT_EQ(bad->status, 404) << bad->body;  // not evidence of the case
  auto delivered = post("/api/v1/requests/" + theirs + "/deliveries",
                        {{"items", {a.ToString()}}});
  ASSERT_EQ(delivered->status, 201) << delivered->body;

  // Kuwait's copy follows, and the evidence arrives.
  Post(us_.get(), node_.get());
  EXPECT_EQ((*RequestBook(node_.get()).Get(r->id))->state,
            RequestState::kAcknowledged);
  ASSERT_EQ(*Fetcher(node_.get(), std::chrono::seconds(10)).FetchDue(), 1);
  EXPECT_TRUE(node_->vault().Verify(a).ok());

  // Someone whose role may not handle the inbox is refused.
  ASSERT_TRUE(testutil::AddEnrolledUser(us_.get(), "ana", Role::kAnalyst,
                                        "a long passphrase for ana")
                  .ok());
  auto ana = users.Login("ana", "a long passphrase for ana");
  auto refused = c.Get("/api/v1/inbox", {{"Authorization", "Bearer " + *ana}});
  EXPECT_EQ(refused->status, 403);
}

// A delivery repeated before the peer confirmed the first (a double click, a
// retried API call) is refused and releases nothing; once the peer has the
// object, or when asked to release it again, it goes.
TEST_F(FetcherTest, ARepeatedDeliveryIsRefusedUntilTheFirstArrives) {
  ContentAddress a = UsEvidence(100, 21, false);
  Deliver({a});
  Transfers us(us_.get());
  uint64_t size = (*us_->Log())->Latest().size;
  auto twice = us.Deliver("local:poc", us_request_, {a});
  EXPECT_EQ(twice.status().code(), Code::kConflict);
  EXPECT_NE(twice.status().message().find("not confirmed"), std::string::npos);
  EXPECT_EQ((*us_->Log())->Latest().size, size);
  EXPECT_EQ(us.Offers()->size(), 1u);

  auto again = us.Deliver("local:poc", us_request_, {a}, /*again=*/true);
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(us.Offers()->size(), 2u);

  // The peer pulls and confirms; a later delivery needs no flag.
  Post(us_.get(), node_.get());
  ASSERT_GE(*Fetcher(node_.get(), std::chrono::seconds(10)).FetchDue(), 1);
  Post(node_.get(), us_.get());
  // Each release is confirmed on its own (the same object twice to one
  // peer: each confirmation names its manifest).
  std::vector<Offer> offers = *us.Offers();
  for (const auto& o : offers) EXPECT_GE(o.received_index, 0) << o.message_id;
  auto later = us.Deliver("local:poc", us_request_, {a});
  EXPECT_TRUE(later.ok()) << later.status().ToString();
}

// Evidence received from the US, exported by Kuwait for its court: the
// bundle carries both nodes' histories of it, each proved against its own
// node's signed checkpoint, and checks out with the public keys alone.
TEST_F(FetcherTest, ABundleOfReceivedEvidenceCarriesBothHistories) {
  ContentAddress a = UsEvidence(kVaultChunkSize + 3, 11, true);
  ASSERT_TRUE(VerifyEvidence(*us_, "US-1", a, "local:analyst").ok());
  Deliver({a});
  Post(us_.get(), node_.get());
  ASSERT_EQ(*Fetcher(node_.get(), std::chrono::seconds(10)).FetchDue(), 1);
  std::string local = WriteInput("local.txt", "seized phone notes");
  auto mine = Ingest(*node_, {local, "KW-1", "local:analyst", "", false, true});
  ASSERT_TRUE(mine.ok());

  std::filesystem::path tar = dir_ / "KW-1.tar";
  Node* kw = node_.get();
  auto r = ExportToFile(
      kw, {"KW-1", {}, "local:prosecutor", "KW-1.tar"}, tar.string(),
      [kw] { WitnessClient(kw, std::chrono::seconds(10)).SubmitToAll(); });
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->items, 2u);
  EXPECT_GE(r->peer_entries, 3u);  // ingested, verified, transferred
  EXPECT_EQ(r->cosigned_by, std::vector<std::string>{"cyber.doj.example"});

  // In a directory of its own, with the keys and nothing else.
  std::filesystem::path court = dir_ / "court";
  std::filesystem::create_directories(court);
  std::filesystem::copy_file(tar, court / "KW-1.tar");
  VerifyPolicy policy;
  policy.key = node_->info().verifier_key;
  policy.witnesses = {us_->CosignerKey()};
  policy.peer_keys = {us_->info().verifier_key};
  auto check = [&](const std::filesystem::path& bundle, VerifyPolicy p) {
    auto source = OpenBundle(Env::Default(), bundle.string());
    EXPECT_TRUE(source.ok());
    return *VerifyBundle(source->get(), p);
  };
  BundleReport report = check(court / "KW-1.tar", policy);
  EXPECT_TRUE(report.ok) << report.ToText();
  EXPECT_EQ(report.peer_entries, r->peer_entries);
  EXPECT_NE(report.ToText().find("peers/cyber.doj.example/entries"),
            std::string::npos);

  // The US history is the US's: another key for it fails, and so does an
  // altered US entry.
  VerifyPolicy wrong = policy;
  wrong.peer_keys = {node_->info().verifier_key};  // no history of Kuwait's
  report = check(court / "KW-1.tar", wrong);
  EXPECT_FALSE(report.ok);  // a key the court gave must be used
  EXPECT_NE(report.FirstFailure().find("peer key ccd.moi.gov.kw/custody"),
            std::string::npos)
      << report.FirstFailure();
  std::string impostor = (dir_ / "impostor").string();
  ASSERT_TRUE(Node::Init(Env::Default(), impostor, "cyber.doj.example").ok());
  auto fake = std::move(Node::Open(Env::Default(), impostor)).value();
  wrong.peer_keys = {fake->info().verifier_key};
  report = check(court / "KW-1.tar", wrong);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.FirstFailure().find("peers/cyber.doj.example"),
            std::string::npos)
      << report.FirstFailure();

  std::filesystem::path x = court / "x";
  std::filesystem::create_directories(x);
  ASSERT_EQ(
      std::system(("tar -xf " + tar.string() + " -C " + x.string()).c_str()),
      0);
  std::filesystem::path peer_entries =
      x / "peers" / "cyber.doj.example" / "entries";
  std::filesystem::path first =
      *std::filesystem::directory_iterator(peer_entries);
  std::string bytes;
  {
    std::ifstream in(first, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(in), {});
  }
  size_t at = bytes.find("\"actor\":\"sd:") + 12;
  ASSERT_LT(at, bytes.size()) << bytes;
  bytes[at] = bytes[at] == '0' ? '1' : '0';
  std::ofstream(first, std::ios::binary | std::ios::trunc) << bytes;
  report = check(x, policy);
  EXPECT_FALSE(report.ok);
  EXPECT_NE(report.FirstFailure().find("peers/cyber.doj.example/entries/"),
            std::string::npos)
      << report.FirstFailure();
}

// The sender's and the receiver's case.jsonld, merged as an analyst merges
// the bundles of two countries, name each shared action and the delivered
// exhibit once: ids depend on what a thing is, never on who exported it.
TEST_F(FetcherTest, BothSidesCaseJsonLdMergeWithoutDuplicates) {
  ContentAddress a = UsEvidence(1000, 31, true);
  ASSERT_TRUE(VerifyEvidence(*us_, "US-1", a, "local:analyst").ok());
  Deliver({a});
  Post(us_.get(), node_.get());
  ASSERT_EQ(*Fetcher(node_.get(), std::chrono::seconds(10)).FetchDue(), 1);
  Post(node_.get(), us_.get());

  auto case_jsonld = [&](Node* n, const std::string& case_id) {
    std::filesystem::path tar = dir_ / (case_id + ".tar");
    auto r = ExportToFile(n, {case_id, {}, "local:prosecutor", case_id},
                          tar.string(), nullptr);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    std::filesystem::path x = dir_ / (case_id + ".x");
    std::filesystem::create_directories(x);
    EXPECT_EQ(std::system(("tar -xf " + tar.string() + " -C " + x.string() +
                           " case.jsonld")
                              .c_str()),
              0);
    std::ifstream in(x / "case.jsonld", std::ios::binary);
    json doc = json::parse(in, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(doc.is_discarded());
    return doc;
  };
  const json docs[] = {case_jsonld(us_.get(), "US-1"),
                       case_jsonld(node_.get(), "KW-1")};
  ASSERT_EQ(docs[0]["@context"]["kb"], docs[1]["@context"]["kb"]);

  // Over the union of both graphs: (log origin, index) -> action ids, and
  // sha256 -> File ids; and what each side holds.
  std::map<std::string, std::set<std::string>> actions, files;
  std::set<std::string> side_actions[2], side_files[2];
  for (int side = 0; side < 2; ++side) {
    for (const auto& node : docs[side]["@graph"]) {
      const std::string type = node.value("@type", "");
      const std::string id = node.value("@id", "");
      if (type == "case-investigation:InvestigativeAction") {
        const json& ref = node["uco-core:externalReference"][0];
        std::string key = ref["uco-core:definingContext"].get<std::string>() +
                          " " +
                          ref["uco-core:externalIdentifier"].get<std::string>();
        actions[key].insert(id);
        side_actions[side].insert(key);
      } else if (type == "uco-observable:File") {
        for (const auto& facet : node["uco-core:hasFacet"]) {
          for (const auto& h :
               facet.value("uco-observable:hash", json::array())) {
            if (h["uco-types:hashMethod"] != "SHA256") continue;
            std::string sha = h["uco-types:hashValue"]["@value"];
            files[sha].insert(id);
            side_files[side].insert(sha);
          }
        }
      }
    }
  }
  size_t shared = 0;
  for (const auto& [key, ids] : actions) {
    EXPECT_EQ(ids.size(), 1u) << key;
    if (side_actions[0].count(key) && side_actions[1].count(key)) ++shared;
  }
  // The US ingest, verification and release are in both.
  EXPECT_GE(shared, 3u);
  const std::string sha = a.ToString().substr(7);
  ASSERT_TRUE(side_files[0].count(sha));
  ASSERT_TRUE(side_files[1].count(sha));
  EXPECT_EQ(files[sha].size(), 1u);
}

// What the US disclosed of its entries came with the evidence: the Kuwaiti
// court sees who acquired it and its hashes, but neither the US case's id
// nor its investigators' notes, which never left the US node.
TEST_F(FetcherTest, APeersHistoryDisclosesNeitherItsCaseNorItsNotes) {
  std::string path = (dir_ / "noted").string();
  std::ofstream(path, std::ios::binary) << "noted evidence";
  IngestRequest req{path,  "US-1", "local:analyst", "informant: J. Doe",
                    false, false};
  auto in = Ingest(*us_, req);
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  Deliver({in->object.address});
  Post(us_.get(), node_.get());
  ASSERT_EQ(*Fetcher(node_.get(), std::chrono::seconds(10)).FetchDue(), 1);
  std::filesystem::path tar = dir_ / "noted.tar";
  auto r = ExportToFile(node_.get(), {"KW-1", {}, "local:prosecutor", "n.tar"},
                        tar.string(), nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  std::string all;
  {
    std::ifstream f(tar, std::ios::binary);
    all.assign(std::istreambuf_iterator<char>(f), {});
  }
  EXPECT_EQ(all.find("J. Doe"), std::string::npos);
  EXPECT_EQ(all.find("US-1"), std::string::npos);
  EXPECT_NE(all.find("local:analyst"), std::string::npos);  // disclosed
}

// Every kind of entry that a case's work writes, on both nodes of a
// delivery: the files of each custody log, which the node's peers and
// witnesses and every signed-in user may read, hold nothing of the cases —
// no id, title, legal basis, member, file name, note, hash, reason,
// reference, request text or bundle name.
TEST_F(FetcherTest, TheLogsCarryNoCaseText) {
  const std::string mark = "qz81";
  // Kuwait: a case of its own, with members, a lead, a proposal, a status,
  // a request moved with a reason.
  for (auto [name, role] : {std::pair{"leadqz", Role::kInvestigator},
                            {"memqz", Role::kProsecutor},
                            {"pocqz", Role::kPoc}}) {
    ASSERT_TRUE(testutil::AddEnrolledUser(node_.get(), name, role).ok());
  }
  auto user = [&](const std::string& name) {
    return **UserDirectory(node_.get()).Find(name);
  };
  CaseBook kw(node_.get());
  ASSERT_TRUE(kw.Open("user:leadqz",
                      {"KWQZ-5", "Title " + mark, Offence::kCybercrime,
                       "Basis " + mark},
                      "leadqz")
                  .ok());
  for (const char* m : {"memqz", "pocqz"}) {
    ASSERT_TRUE(
        kw.ChangeMembers(user("leadqz"), "KWQZ-5", MemberChange::kAdd, m).ok());
  }
  ASSERT_TRUE(
      kw.ChangeMembers(user("memqz"), "KWQZ-5", MemberChange::kRemove, "pocqz")
          .ok());  // a proposal
  ASSERT_TRUE(
      kw.ChangeMembers(user("leadqz"), "KWQZ-5", MemberChange::kRemove, "pocqz")
          .ok());
  ASSERT_TRUE(
      kw.ChangeMembers(user("leadqz"), "KWQZ-5", MemberChange::kLead, "memqz")
          .ok());
  auto r =
      testutil::DraftInNewCase(node_.get(), "KWQZ-6", RequestType::kProduction,
                               Profile::kBudapest, "Facts " + mark);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_TRUE(
      Exchange(node_.get())
          .Move("local:poc", r->id, RequestState::kWithdrawn, "Reason " + mark)
          .ok());
  ASSERT_TRUE(
      kw.SetStatus("local:poc", "KWQZ-5", CaseStatus::kClosed, "Why " + mark)
          .ok());
  ASSERT_TRUE(
      kw.SetStatus("local:poc", "KWQZ-5", CaseStatus::kOpen, "Again " + mark)
          .ok());
  // The US: evidence with a telling name and note, read, re-hashed,
  // delivered; Kuwait pulls it, confirms it, re-hashes and exports it.
  std::string path = (dir_ / ("file-" + mark + ".bin")).string();
  const std::string content = "contents " + mark;
  std::ofstream(path, std::ios::binary) << content;
  auto in = Ingest(
      *us_, {path, "US-1", "local:analyst", "Note " + mark, true, false});
  ASSERT_TRUE(in.ok()) << in.status().ToString();
  const ContentAddress a = in->object.address;
  struct Null : ChunkSink {
    Status Consume(ByteView, uint64_t, bool) override { return Status::OK(); }
  } null;
  ASSERT_TRUE(ReadEvidence(*us_, "US-1", a, "local:analyst", &null).ok());
  ASSERT_TRUE(VerifyEvidence(*us_, "US-1", a, "local:analyst").ok());
  Deliver({a});
  Post(us_.get(), node_.get());
  ASSERT_EQ(*Fetcher(node_.get(), std::chrono::seconds(10)).FetchDue(), 1);
  Post(node_.get(), us_.get());
  ASSERT_TRUE(VerifyEvidence(*node_, "KW-1", a, "local:analyst").ok());
  ASSERT_TRUE(
      ExportToFile(node_.get(),
                   {"KW-1", {}, "local:prosecutor", "bundle-" + mark + ".tar"},
                   (dir_ / "b.tar").string(), nullptr)
          .ok());

  Hasher md5(HashAlgorithm::kMd5);
  md5.Update(AsBytes(content));
  const std::vector<std::string> secrets = {mark,
                                            "KWQZ",
                                            "US-1",
                                            "KW-1",
                                            "Mailbox",
                                            HexEncode(a.digest),
                                            HexEncode(md5.Finish()),
                                            r->id};
  std::set<std::string> kinds;
  for (Node* n : {node_.get(), us_.get()}) {
    ASSERT_TRUE((*n->Log())->FlushFiles().ok());
    for (const auto& f : std::filesystem::recursive_directory_iterator(
             std::filesystem::path(n->dir()) / "log")) {
      if (!f.is_regular_file()) continue;
      std::string bytes = testutil::ReadWholeFile(f.path().string());
      for (const auto& secret : secrets) {
        EXPECT_EQ(bytes.find(secret), std::string::npos)
            << secret << " in " << f.path();
      }
    }
    LogReader reader = (*n->Log())->Reader();
    for (uint64_t i = 0; i < reader.size(); ++i) {
      auto raw = reader.Entry(i);
      ASSERT_TRUE(raw.ok());
      auto e = ParseCustodyEntry(*raw);
      ASSERT_TRUE(e.ok());
      const std::string kind(EntryKindName(e->kind));
      kinds.insert(kind);
      // Accounts are the node's, named in its user.* and token.* entries;
      // membership of a case is the case's, and named nowhere else.
      if (kind.rfind("user.", 0) != 0 && kind.rfind("token.", 0) != 0) {
        const std::string& text = *raw;
        for (const char* member : {"leadqz", "memqz", "pocqz"}) {
          EXPECT_EQ(text.find(member), std::string::npos)
              << member << " in entry " << i << " (" << kind << ")";
        }
      }
      // A case's entry is sealed throughout; its members read it opened.
      auto opened = testutil::OpenedEntryAt(n, i);
      ASSERT_TRUE(opened.ok()) << opened.status().ToString();
      if (!opened->case_id.empty()) {
        EXPECT_TRUE(IsSealed(*e));
        EXPECT_EQ(e->case_id.rfind("sd:", 0), 0u);
      }
    }
  }
  // Every kind that concerns a case was written, and checked above.
  for (const char* kind :
       {"case.opened", "case.member_added", "case.member_removed",
        "case.change_proposed", "case.lead_changed", "case.closed",
        "case.reopened", "request.created", "request.moved", "message.sent",
        "evidence.ingested", "evidence.accessed", "evidence.verified",
        "evidence.transferred", "evidence.received", "evidence.exported",
        "message.received", "message.delivered"}) {
    EXPECT_TRUE(kinds.count(kind)) << kind;
  }
}

// A prosecutor exports over the API: the tar streams back with the
// manifest's hash and the node's key in headers, and verifies.
TEST_F(FetcherTest, TheApiExportsABundle) {
  ContentAddress a = UsEvidence(kVaultChunkSize * 2 + 9, 12, false);
  UserDirectory users(us_.get());
  ASSERT_TRUE(testutil::AddEnrolledUser(us_.get(), "dana", Role::kProsecutor,
                                        "a long passphrase for dana")
                  .ok());
  ASSERT_TRUE(testutil::AddEnrolledUser(us_.get(), "ana", Role::kAnalyst,
                                        "a long passphrase for ana")
                  .ok());
  ASSERT_TRUE(CaseBook(us_.get()).AddMember("local:a", "US-1", "dana").ok());
  ASSERT_TRUE(CaseBook(us_.get()).AddMember("local:a", "US-1", "ana").ok());
  auto token = users.Login("dana", "a long passphrase for dana");
  httplib::Client c("127.0.0.1", server_->port());
  c.set_read_timeout(60);
  httplib::Headers auth = {{"Authorization", "Bearer " + *token}};
  auto res =
      c.Post("/api/v1/cases/US-1/exports", auth, "{}", "application/json");
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/x-tar");
  EXPECT_EQ(res->get_header_value("Amanah-Verifier-Key"),
            us_->info().verifier_key);
  std::filesystem::path tar = dir_ / "api.tar";
  std::ofstream(tar, std::ios::binary) << res->body;
  VerifyPolicy policy;
  policy.key = us_->info().verifier_key;
  auto source = OpenBundle(Env::Default(), tar.string());
  ASSERT_TRUE(source.ok());
  BundleReport report = *VerifyBundle(source->get(), policy);
  EXPECT_TRUE(report.ok) << report.ToText();
  EXPECT_EQ(report.manifest_sha256,
            res->get_header_value("Amanah-Manifest-SHA256"));
  EXPECT_EQ(report.bytes, kVaultChunkSize * 2 + 9);
  EXPECT_EQ(report.items, 1u);
  EXPECT_NE(report.ToText().find(a.ToString().substr(7)), std::string::npos);

  // Items not of the case, bad bodies and roles that may not export.
  res = c.Post("/api/v1/cases/US-1/exports", auth,
               json({{"items", {"sha256:" + std::string(64, '1')}}}).dump(),
               "application/json");
  EXPECT_EQ(res->status, 404) << res->body;
  res = c.Post("/api/v1/cases/US-1/exports", auth, "{\"items\":[1]}",
               "application/json");
  EXPECT_EQ(res->status, 400) << res->body;
  res = c.Post("/api/v1/cases/NOPE/exports", auth, "{}", "application/json");
  EXPECT_EQ(res->status, 404) << res->body;
  auto ana = users.Login("ana", "a long passphrase for ana");
  res = c.Post("/api/v1/cases/US-1/exports",
               {{"Authorization", "Bearer " + *ana}}, "{}", "application/json");
  EXPECT_EQ(res->status, 403) << res->body;
}

}  // namespace
}  // namespace amanah
