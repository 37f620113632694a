#include "app/requests.h"

#include <gtest/gtest.h>

#include "app/cases.h"
#include "app/testutil.h"
#include "base/encoding.h"
#include "base/json_writer.h"
#include "crypto/hash.h"
#include "ledger/custody_entry.h"
#include "storage/fault_injection_env.h"

namespace amanah {
namespace {

using nlohmann::json;
using S = RequestState;

json Authority(const char* name) {
  return {{"name", name}, {"time_zone", "Asia/Kuwait"}};
}

json Fields(RequestType t) {
  json f = {
      {"requesting_authority", Authority("Cybercrime Dept., MOI")},
      {"requested_authority", Authority("Example Mail Inc.")},
      {"offence", {{"en", "Terrorist financing"}, {"ar", "تمويل الإرهاب"}}},
      {"summary_of_facts", {{"en", "Donations routed to a listed group"}}},
      {"data_requested", {{"en", "Subscriber and IP records"}}}};
  if (t == RequestType::kPreservation) {
    f["relation_to_offence"] = {{"en", "The account collected donations"}};
    f["provider"] = "Example Mail Inc.";
    f["account_identifiers"] = {"donate@example.com"};
    f["necessity"] = {{"en", "Logs are kept 30 days"}};
    f["mla_to_follow"] = true;
  }
  if (t == RequestType::kEmergency) {
    f["supervisor"] = "Head of the 24/7 unit";
    f["threat"] = {{"en", "An attack is planned"}};
  }
  return f;
}

class RequestsTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    CaseDraft d{"KW-7", "Financing case", Offence::kTerroristFinancing,
                "Law 106/2013"};
    ASSERT_TRUE(CaseBook(node_.get()).Open("local:test", d, "").ok());
    book_ = std::make_unique<RequestBook>(node_.get());
  }

  Request Make(RequestType t, Profile p, Direction d = Direction::kOutgoing) {
    auto r =
        book_->Create("user:poc", "KW-7", {t, p, d, "KW-REF-1", Fields(t)});
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return *r;
  }
  Request MoveOk(const std::string& id, S to, const std::string& why = "") {
    auto r = book_->Move("user:poc", id, to, why);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : Request{};
  }
  int64_t Now() { return env_.NowUnixNanos() / 1000000000; }

  std::unique_ptr<RequestBook> book_;
};

TEST_F(RequestsTest, UsPreservationRunsNinetyDaysExtendsOnceThenLapses) {
  Request r = Make(RequestType::kPreservation, Profile::kUs2703f);
  EXPECT_EQ(r.state, S::kDraft);
  EXPECT_EQ(r.id.rfind("R-", 0), 0u);
  MoveOk(r.id, S::kSent);
  MoveOk(r.id, S::kAcknowledged);
  int64_t preserved_at = Now();
  Request p = MoveOk(r.id, S::kPreserved);
  EXPECT_NEAR(p.preserved_until_unix, preserved_at + 90 * kDay, 2);
  EXPECT_EQ(*p.Deadline(), p.preserved_until_unix);

  env_.AdvanceClock(80 * kDay);
  Request e = MoveOk(r.id, S::kExtended);
  EXPECT_EQ(e.preserved_until_unix, p.preserved_until_unix + 90 * kDay);
  EXPECT_EQ(book_->Move("user:poc", r.id, S::kExtended, "").status().code(),
            Code::kConflict);  // once only

  env_.AdvanceClock(99 * kDay);  // day 179 of 180: still preserved
  EXPECT_EQ(*book_->SweepExpired(), 0);
  env_.AdvanceClock(2 * kDay);
  EXPECT_EQ(*book_->SweepExpired(), 1);
  Request gone = **book_->Get(r.id);
  EXPECT_EQ(gone.state, S::kExpired);
  auto history = *book_->History(r.id);
  ASSERT_EQ(history.size(), 5u);
  EXPECT_EQ(history.back().actor, "system:amanah");
  EXPECT_EQ(history.back().to, "expired");
  // Nobody else may expire or revive it.
  EXPECT_FALSE(book_->Move("user:poc", r.id, S::kExpired, "").ok());
  EXPECT_FALSE(book_->Move("user:poc", r.id, S::kFulfilled, "").ok());
}

TEST_F(RequestsTest, EuProfileSixtyPlusThirty) {
  Request r =
      Make(RequestType::kPreservation, Profile::kEu, Direction::kIncoming);
  EXPECT_EQ(r.state, S::kReceived);  // registered as received
  MoveOk(r.id, S::kAcknowledged);
  Request p = MoveOk(r.id, S::kPreserved);
  Request e = MoveOk(r.id, S::kExtended);
  EXPECT_EQ(e.preserved_until_unix - p.preserved_until_unix, 30 * kDay);
  EXPECT_NEAR(e.preserved_until_unix - Now(), 90 * kDay, 2);
}

TEST_F(RequestsTest, MostUrgentFirst) {
  Request pres = Make(RequestType::kPreservation, Profile::kBudapest);
  Request prod = Make(RequestType::kProduction, Profile::kEu,
                      Direction::kIncoming);  // 10 days
  Request emerg = Make(RequestType::kEmergency, Profile::kEu,
                       Direction::kIncoming);  // 8 hours
  Request draft = Make(RequestType::kSubscriber, Profile::kBudapest);
  MoveOk(pres.id, S::kSent);
  MoveOk(pres.id, S::kAcknowledged);
  MoveOk(pres.id, S::kPreserved);  // 60 days
  auto open = *book_->Open("", 100);
  ASSERT_EQ(open.size(), 4u);
  EXPECT_EQ(open[0].id, emerg.id);
  EXPECT_EQ(open[1].id, prod.id);
  EXPECT_EQ(open[2].id, pres.id);
  EXPECT_EQ(open[3].id, draft.id);  // no deadline: last
  EXPECT_NEAR(*open[0].Deadline() - Now(), 8 * 3600, 2);
  MoveOk(emerg.id, S::kRefused, "no imminent threat shown");
  EXPECT_EQ(book_->Open("", 100)->size(), 3u);
}

TEST_F(RequestsTest, EveryStepIsACustodyEntryNamingTheFields) {
  Request r = Make(RequestType::kEmergency, Profile::kEu);
  MoveOk(r.id, S::kSent);
  auto log = node_->Log();
  uint64_t size = (*log)->Latest().size;
  auto created = testutil::OpenedEntryAt(node_.get(), size - 2);
  auto moved = testutil::OpenedEntryAt(node_.get(), size - 1);
  ASSERT_TRUE(created.ok() && moved.ok());
  EXPECT_EQ(created->kind, EntryKind::kRequestCreated);
  EXPECT_EQ(created->subject, "request:" + r.id);
  EXPECT_EQ(created->case_id, "KW-7");
  std::string fields;
  AppendJson(&fields, Fields(RequestType::kEmergency));
  EXPECT_EQ(created->data["fields_sha256"], HexEncode(Sha256(AsBytes(fields))));
  EXPECT_EQ(moved->kind, EntryKind::kRequestMoved);
  EXPECT_EQ(moved->data["from"], "draft");
  EXPECT_EQ(moved->data["to"], "sent");
  EXPECT_TRUE(moved->data.contains("deadline"));
}

TEST_F(RequestsTest, BadInputChangesNothing) {
  uint64_t size = (*node_->Log())->Latest().size;
  json f = Fields(RequestType::kPreservation);
  f.erase("necessity");
  EXPECT_EQ(book_
                ->Create("user:poc", "KW-7",
                         {RequestType::kPreservation, Profile::kEu,
                          Direction::kOutgoing, "", f})
                .status()
                .code(),
            Code::kInvalidInput);
  EXPECT_EQ(
      book_
          ->Create("user:poc", "NOPE",
                   {RequestType::kProduction, Profile::kEu,
                    Direction::kOutgoing, "", Fields(RequestType::kProduction)})
          .status()
          .code(),
      Code::kNotFound);
  Request r = Make(RequestType::kProduction, Profile::kEu);
  size = (*node_->Log())->Latest().size;
  EXPECT_EQ(book_->Move("user:poc", r.id, S::kFulfilled, "").status().code(),
            Code::kConflict);
  EXPECT_EQ(book_->Move("user:poc", "R-0", S::kSent, "").status().code(),
            Code::kNotFound);
  EXPECT_EQ((*node_->Log())->Latest().size, size);
  EXPECT_EQ((**book_->Get(r.id)).state, S::kDraft);
}

TEST_F(RequestsTest, PrintableBilingualHtml) {
  Request r = Make(RequestType::kPreservation, Profile::kUs2703f);
  Case c = **CaseBook(node_.get()).Get("KW-7");
  std::string html = RenderRequestHtml(r, c, "ccd.moi.gov.kw");
  EXPECT_NE(html.find("<html lang=\"en\">"), std::string::npos);
  EXPECT_NE(html.find("dir=\"rtl\""), std::string::npos);
  EXPECT_NE(html.find("تمويل الإرهاب"), std::string::npos);
  EXPECT_NE(html.find("Terrorist financing"), std::string::npos);
  EXPECT_NE(html.find("طلب الحفظ العاجل"), std::string::npos);
  EXPECT_NE(html.find(r.id), std::string::npos);
  // Text is escaped.
  json f = Fields(RequestType::kSubscriber);
  f["summary_of_facts"] = {{"en", "<script>alert(1)</script>"}};
  auto x = book_->Create(
      "user:poc", "KW-7",
      {RequestType::kSubscriber, Profile::kEu, Direction::kOutgoing, "", f});
  ASSERT_TRUE(x.ok());
  std::string h2 = RenderRequestHtml(*x, c, "ccd.moi.gov.kw");
  EXPECT_EQ(h2.find("<script>"), std::string::npos);
  EXPECT_NE(h2.find("&lt;script&gt;"), std::string::npos);
}

}  // namespace
}  // namespace amanah
