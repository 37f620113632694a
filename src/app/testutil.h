// Test support for app/: a fresh node in a temporary directory, over a
// FaultInjectionEnv whose clock and faults a test can move. Included only by
// tests.

#ifndef AMANAH_APP_TESTUTIL_H_
#define AMANAH_APP_TESTUTIL_H_

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "app/cases.h"
#include "app/custody_index.h"
#include "app/node.h"
#include "app/requests.h"
#include "app/users.h"
#include "storage/fault_injection_env.h"
#include "storage/testutil.h"

namespace amanah::testutil {

class NodeFixture : public TempDirTest {
 protected:
  void SetUp() override {
    TempDirTest::SetUp();
    std::string data = (dir_ / "data").string();
    ASSERT_TRUE(Node::Init(&env_, data, "ccd.moi.gov.kw").ok());
    auto node = Node::Open(&env_, data);
    ASSERT_TRUE(node.ok()) << node.status().ToString();
    node_ = std::move(node).value();
  }
  void TearDown() override {
    node_.reset();
    TempDirTest::TearDown();
  }
  uint64_t LogSize() { return (*node_->Log())->Latest().size; }

  FaultInjectionEnv env_{Env::Default()};
  std::unique_ptr<Node> node_;
};

// Entry `index` of `node`'s log opened with the disclosures the node keeps
// for it: what a member of its case reads. The log itself holds an entry
// about a case sealed (ledger/disclosure.h).
inline Result<CustodyEntry> OpenedEntryAt(Node* node, uint64_t index) {
  ASSIGN_OR_RETURN(CustodyLog * log, node->Log());
  LogReader reader = log->Reader();
  ASSIGN_OR_RETURN(OpenedEntry opened,
                   CustodyIndex(&node->sql()).Opened(reader, index));
  return opened.entry;
}

// A user who has enrolled as the person would: with `password` (the
// session is returned), or without one as a token-only account, whose first
// API token (valid `days`) is returned. For setting up tests.
inline Result<std::string> AddEnrolledUser(Node* node, const std::string& name,
                                           Role role,
                                           std::string_view password = "",
                                           int64_t days = 1) {
  UserDirectory users(node);
  ASSIGN_OR_RETURN(Enrolment e, users.Add("local:test", name, role));
  if (password.empty()) {
    return users.EnrolWithToken(name, e.secret, "test", days);
  }
  return users.Enrol(name, e.secret, password);
}

// Opens case `case_id` on `node` and drafts an outgoing request in it, with
// the common legal fields (and `extra` ones).
inline Result<Request> DraftInNewCase(Node* node, const std::string& case_id,
                                      RequestType type, Profile profile,
                                      const std::string& data_requested,
                                      const nlohmann::json& extra = {}) {
  RETURN_IF_ERROR(
      CaseBook(node)
          .Open("local:poc", {case_id, "t", Offence::kCybercrime, "x"}, "")
          .status());
  RequestDraft d;
  d.type = type;
  d.profile = profile;
  d.fields = {
      {"requesting_authority", {{"name", "CCD"}, {"time_zone", "Asia/Kuwait"}}},
      {"requested_authority",
       {{"name", "DOJ"}, {"time_zone", "America/New_York"}}},
      {"offence", {{"en", "Fraud"}}},
      {"summary_of_facts", {{"en", "Phishing"}}},
      {"data_requested", {{"en", data_requested}}}};
  if (extra.is_object()) d.fields.update(extra);
  return RequestBook(node).Create("local:poc", case_id, d);
}

}  // namespace amanah::testutil

#endif  // AMANAH_APP_TESTUTIL_H_
