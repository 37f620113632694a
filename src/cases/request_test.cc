#include "cases/request.h"

#include <gtest/gtest.h>

namespace amanah {
namespace {

using nlohmann::json;
using S = RequestState;

json Authority(const char* name) {
  return {{"name", name},
          {"contact_person", "duty officer"},
          {"phone", "+965 0000 0000"},
          {"email", "poc@example.org"},
          {"office_hours", "24/7"},
          {"time_zone", "Asia/Kuwait"},
          {"preferred_channel", "amanah"}};
}

json PreservationFields() {
  return {
      {"requesting_authority", Authority("Cybercrime Department, MOI")},
      {"requested_authority", Authority("DOJ CCIPS")},
      {"offence", {{"en", "Ransomware extortion"}, {"ar", "ابتزاز"}}},
      {"summary_of_facts", {{"en", "A ministry's servers were encrypted."}}},
      {"data_requested", {{"en", "Account records and IP logs"}}},
      {"relation_to_offence", {{"en", "The ransom note names the account"}}},
      {"provider", "Example Mail Inc."},
      {"account_identifiers", {"attacker@example.com"}},
      {"date_range", {{"from", "2026-10-01"}, {"to", "2026-11-20"}}},
      {"necessity", {{"en", "The provider deletes logs after 30 days"}}},
      {"mla_to_follow", true}};
}

TEST(RequestTest, NamesRoundTrip) {
  for (auto t : {RequestType::kPreservation, RequestType::kDisclosure,
                 RequestType::kProduction, RequestType::kEmergency,
                 RequestType::kSubscriber}) {
    EXPECT_EQ(*ParseRequestType(RequestTypeName(t)), t);
  }
  for (int s = 0; s <= static_cast<int>(S::kExpired); ++s) {
    EXPECT_EQ(*ParseRequestState(RequestStateName(static_cast<S>(s))),
              static_cast<S>(s));
  }
  EXPECT_FALSE(ParseProfile("uk").ok());
}

TEST(RequestTest, PreservationWalksItsStates) {
  auto t = RequestType::kPreservation;
  auto p = Profile::kUs2703f;
  S path[] = {S::kDraft,     S::kSent,     S::kAcknowledged,
              S::kPreserved, S::kExtended, S::kFulfilled};
  int ext = 0;
  for (size_t i = 0; i + 1 < std::size(path); ++i) {
    EXPECT_TRUE(CheckTransition(path[i], path[i + 1], t, p, ext, "").ok())
        << RequestStateName(path[i]) << " -> " << RequestStateName(path[i + 1]);
    if (path[i + 1] == S::kExtended) ++ext;
  }
  // Extended once: no second extension under 2703(f).
  EXPECT_EQ(CheckTransition(S::kExtended, S::kExtended, t, p, 1, "").code(),
            Code::kConflict);
  // Preservation is never "executed"; production is never "preserved".
  EXPECT_FALSE(
      CheckTransition(S::kAcknowledged, S::kExecuted, t, p, 0, "").ok());
  EXPECT_FALSE(CheckTransition(S::kAcknowledged, S::kPreserved,
                               RequestType::kProduction, p, 0, "")
                   .ok());
}

TEST(RequestTest, ForbiddenTransitions) {
  auto t = RequestType::kProduction;
  auto p = Profile::kEu;
  // Terminal states go nowhere.
  for (S s : {S::kFulfilled, S::kRefused, S::kWithdrawn, S::kExpired}) {
    for (int to = 0; to <= static_cast<int>(S::kExpired); ++to) {
      EXPECT_FALSE(CheckTransition(s, static_cast<S>(to), t, p, 0, "x").ok());
    }
  }
  // Nobody moves a request to expired by hand, nor back to draft.
  for (int from = 0; from <= static_cast<int>(S::kExpired); ++from) {
    EXPECT_FALSE(
        CheckTransition(static_cast<S>(from), S::kExpired, t, p, 0, "").ok());
    EXPECT_FALSE(
        CheckTransition(static_cast<S>(from), S::kDraft, t, p, 0, "").ok());
  }
  // A draft cannot be fulfilled; a refusal needs a reason.
  Status s = CheckTransition(S::kDraft, S::kFulfilled, t, p, 0, "");
  EXPECT_EQ(s.code(), Code::kConflict);
  EXPECT_NE(s.message().find("it can become sent, withdrawn"),
            std::string::npos)
      << s.message();
  EXPECT_EQ(CheckTransition(S::kReceived, S::kRefused, t, p, 0, "").code(),
            Code::kInvalidInput);
  EXPECT_TRUE(
      CheckTransition(S::kReceived, S::kRefused, t, p, 0, "dual criminality")
          .ok());
}

TEST(RequestTest, WhoMayMove) {
  EXPECT_TRUE(MayMove(Role::kPoc, RequestType::kPreservation, S::kSent));
  EXPECT_TRUE(MayMove(Role::kPoc, RequestType::kEmergency, S::kSent));
  EXPECT_FALSE(MayMove(Role::kPoc, RequestType::kProduction, S::kSent));
  EXPECT_TRUE(MayMove(Role::kPoc, RequestType::kProduction, S::kWithdrawn));
  EXPECT_TRUE(MayMove(Role::kProsecutor, RequestType::kProduction, S::kSent));
  for (Role r :
       {Role::kAdmin, Role::kInvestigator, Role::kAnalyst, Role::kAuditor}) {
    EXPECT_FALSE(MayMove(r, RequestType::kPreservation, S::kSent));
  }
}

TEST(RequestTest, DeadlinesByProfile) {
  const int64_t t0 = 1795820400;
  EXPECT_EQ(PreservationSeconds(Profile::kBudapest), 60 * kDay);
  EXPECT_EQ(PreservationSeconds(Profile::kUs2703f), 90 * kDay);
  EXPECT_EQ(ExtensionSeconds(Profile::kUs2703f), 90 * kDay);
  EXPECT_EQ(PreservationSeconds(Profile::kEu), 60 * kDay);
  EXPECT_EQ(ExtensionSeconds(Profile::kEu), 30 * kDay);
  // Emergency: 8 hours whatever the profile.
  for (auto p : {Profile::kBudapest, Profile::kUs2703f, Profile::kEu}) {
    RequestClock c{S::kReceived, t0, 0};
    EXPECT_EQ(*NextDeadline(c, RequestType::kEmergency, p), t0 + 8 * 3600);
  }
  // EU production: 10 days from receipt; no statutory deadline elsewhere.
  RequestClock c{S::kAcknowledged, t0, 0};
  EXPECT_EQ(*NextDeadline(c, RequestType::kProduction, Profile::kEu),
            t0 + 10 * kDay);
  EXPECT_FALSE(NextDeadline(c, RequestType::kProduction, Profile::kBudapest)
                   .has_value());
  // Preserved: the preservation's end.
  RequestClock pres{S::kPreserved, t0, t0 + 90 * kDay};
  EXPECT_EQ(*NextDeadline(pres, RequestType::kPreservation, Profile::kUs2703f),
            t0 + 90 * kDay);
  // Drafts and closed requests have none.
  EXPECT_FALSE(
      NextDeadline({S::kDraft, 0, 0}, RequestType::kEmergency, Profile::kEu)
          .has_value());
  EXPECT_FALSE(NextDeadline({S::kFulfilled, t0, 0}, RequestType::kEmergency,
                            Profile::kEu)
                   .has_value());
}

TEST(RequestTest, PreservationNeedsTheSixElementsOfArticle29) {
  EXPECT_TRUE(
      ValidateRequestFields(RequestType::kPreservation, PreservationFields())
          .ok());
  for (const char* key :
       {"requesting_authority", "offence", "summary_of_facts", "data_requested",
        "relation_to_offence", "provider", "necessity", "mla_to_follow"}) {
    json f = PreservationFields();
    f.erase(key);
    Status s = ValidateRequestFields(RequestType::kPreservation, f);
    EXPECT_EQ(s.code(), Code::kInvalidInput) << key;
    EXPECT_NE(s.message().find(key), std::string::npos) << s.message();
  }
  json f = PreservationFields();
  f["mla_to_follow"] = false;
  EXPECT_FALSE(ValidateRequestFields(RequestType::kPreservation, f).ok());
}

TEST(RequestTest, FieldShapesAreChecked) {
  auto bad = [](const char* key, json value) {
    json f = PreservationFields();
    f[key] = value;
    return ValidateRequestFields(RequestType::kPreservation, f);
  };
  EXPECT_FALSE(bad("offence", "plain string").ok());
  EXPECT_FALSE(bad("offence", {{"fr", "x"}}).ok());
  EXPECT_FALSE(bad("offence", {{"en", ""}, {"ar", ""}}).ok());
  EXPECT_FALSE(bad("offence", {{"en", "bad \x01 control"}}).ok());
  EXPECT_FALSE(bad("offence", {{"en", std::string("\xff")}}).ok());
  EXPECT_FALSE(
      bad("date_range", {{"from", "2026-11-20"}, {"to", "2026-10-01"}}).ok());
  EXPECT_FALSE(
      bad("date_range", {{"from", "yesterday"}, {"to", "today"}}).ok());
  EXPECT_FALSE(bad("account_identifiers", {1, 2}).ok());
  EXPECT_FALSE(bad("unknown_field", "x").ok());
  EXPECT_FALSE(bad("supervisor", "x").ok());  // only for emergencies
  json auth = Authority("x");
  auth.erase("time_zone");
  EXPECT_FALSE(bad("requested_authority", auth).ok());
  // Arabic only is fine.
  EXPECT_TRUE(bad("offence", {{"ar", "تمويل الإرهاب"}}).ok());
}

TEST(RequestTest, EmergencyNeedsANamedSupervisor) {
  json f = {{"requesting_authority", Authority("MOI")},
            {"requested_authority", Authority("Provider LE portal")},
            {"offence", {{"en", "Kidnapping"}}},
            {"summary_of_facts", {{"en", "A child is missing"}}},
            {"data_requested", {{"en", "Last login IP"}}},
            {"threat", {{"en", "Imminent risk to life"}}}};
  EXPECT_EQ(ValidateRequestFields(RequestType::kEmergency, f).code(),
            Code::kInvalidInput);
  f["supervisor"] = "Col. A. Example, head of the 24/7 unit";
  EXPECT_TRUE(ValidateRequestFields(RequestType::kEmergency, f).ok());
}

}  // namespace
}  // namespace amanah
