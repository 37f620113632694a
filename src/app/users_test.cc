#include "app/users.h"

#include <gtest/gtest.h>

#include "app/testutil.h"
#include "crypto/password.h"
#include "ledger/custody_entry.h"
#include "storage/fault_injection_env.h"

namespace amanah {
namespace {

class UsersTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    users_ = std::make_unique<UserDirectory>(node_.get());
  }

  // The custody entry at `index`.
  CustodyEntry EntryAt(uint64_t index) {
    auto log = node_->Log();
    auto bytes = (*log)->Reader().Entry(index);
    EXPECT_TRUE(bytes.ok()) << bytes.status().ToString();
    return *ParseCustodyEntry(*bytes);
  }

  std::unique_ptr<UserDirectory> users_;
};

TEST_F(UsersTest, AddLoginAuthenticateLogout) {
  auto alice = users_->Add("local:root", "alice", Role::kInvestigator,
                           "correct horse battery");
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->role, Role::kInvestigator);

  auto session = users_->Login("alice", "correct horse battery");
  ASSERT_TRUE(session.ok()) << session.status().ToString();
  auto p = users_->Authenticate(*session);
  ASSERT_TRUE(p.ok()) << p.status().ToString();
  EXPECT_EQ(p->user.name, "alice");
  EXPECT_EQ(p->credential_kind, "session");

  ASSERT_TRUE(users_->Logout(*session).ok());
  EXPECT_EQ(users_->Authenticate(*session).status().code(),
            Code::kUnauthenticated);
}

TEST_F(UsersTest, WrongPasswordAndUnknownUserLookTheSame) {
  ASSERT_TRUE(
      users_->Add("local:root", "alice", Role::kPoc, "correct horse battery")
          .ok());
  auto wrong = users_->Login("alice", "incorrect horse battery");
  auto unknown = users_->Login("mallory", "correct horse battery");
  auto malformed = users_->Login("../etc", "correct horse battery");
  EXPECT_EQ(wrong.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
  EXPECT_EQ(wrong.status().message(), malformed.status().message());
}

TEST_F(UsersTest, TokenOnlyAccountCannotLogIn) {
  ASSERT_TRUE(users_->Add("local:root", "ci", Role::kAuditor, "").ok());
  EXPECT_FALSE(users_->Login("ci", "").ok());
  EXPECT_FALSE(users_->Login("ci", "anything at all long").ok());
  auto token = users_->IssueToken("local:root", "ci", "nightly", 30);
  ASSERT_TRUE(token.ok());
  EXPECT_EQ(token->rfind("amanah_", 0), 0u);
  auto p = users_->Authenticate(*token);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->credential_kind, "token");
  EXPECT_EQ(p->user.role, Role::kAuditor);
}

TEST_F(UsersTest, ExpiryUsesTheEnvClock) {
  ASSERT_TRUE(users_->Add("local:root", "ci", Role::kAuditor, "").ok());
  auto token = users_->IssueToken("local:root", "ci", "", 1);
  ASSERT_TRUE(
      users_->Add("local:root", "bob", Role::kPoc, "correct horse battery")
          .ok());
  auto session = users_->Login("bob", "correct horse battery");
  ASSERT_TRUE(token.ok() && session.ok());
  env_.AdvanceClock(kSessionSeconds - 60);
  EXPECT_TRUE(users_->Authenticate(*session).ok());
  env_.AdvanceClock(120);
  EXPECT_FALSE(users_->Authenticate(*session).ok());
  EXPECT_TRUE(users_->Authenticate(*token).ok());
  env_.AdvanceClock(86400);
  EXPECT_FALSE(users_->Authenticate(*token).ok());
}

TEST_F(UsersTest, DisableRevokesEverything) {
  ASSERT_TRUE(
      users_->Add("local:root", "bob", Role::kPoc, "correct horse battery")
          .ok());
  auto t1 = users_->IssueToken("local:root", "bob", "a", 10);
  auto t2 = users_->IssueToken("local:root", "bob", "b", 10);
  auto s = users_->Login("bob", "correct horse battery");
  ASSERT_TRUE(t1.ok() && t2.ok() && s.ok());
  ASSERT_TRUE(users_->Disable("local:root", "bob").ok());
  for (const auto& secret : {*t1, *t2, *s}) {
    EXPECT_EQ(users_->Authenticate(secret).status().code(),
              Code::kUnauthenticated);
  }
  EXPECT_FALSE(users_->Login("bob", "correct horse battery").ok());
  EXPECT_EQ(users_->Disable("local:root", "bob").code(), Code::kConflict);
  EXPECT_EQ(users_->Disable("local:root", "nobody").code(), Code::kNotFound);
  EXPECT_FALSE(users_->IssueToken("local:root", "bob", "", 10).ok());
}

TEST_F(UsersTest, BadInputChangesNothing) {
  EXPECT_EQ(users_->Add("local:root", "Alice", Role::kPoc, "").status().code(),
            Code::kInvalidInput);
  EXPECT_EQ(
      users_->Add("local:root", "alice", Role::kPoc, "short").status().code(),
      Code::kInvalidInput);
  ASSERT_TRUE(users_->Add("local:root", "alice", Role::kPoc, "").ok());
  EXPECT_EQ(
      users_->Add("local:root", "alice", Role::kAdmin, "").status().code(),
      Code::kConflict);
  EXPECT_EQ(users_->IssueToken("local:root", "alice", "", 0).status().code(),
            Code::kInvalidInput);
  EXPECT_EQ(
      users_->IssueToken("local:root", "alice", "", 10000).status().code(),
      Code::kInvalidInput);
  EXPECT_FALSE(users_->Authenticate("").ok());
  EXPECT_FALSE(users_->Authenticate(std::string(10000, 'a')).ok());
  auto list = users_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].role, Role::kPoc);
  // Only the one successful change reached the custody log.
  EXPECT_EQ((*node_->Log())->Latest().size, 1u);
}

TEST_F(UsersTest, EveryChangeIsACustodyEntryWithoutSecrets) {
  ASSERT_TRUE(users_
                  ->Add("local:root", "alice", Role::kProsecutor,
                        "correct horse battery")
                  .ok());
  auto token = users_->IssueToken("local:root", "alice", "court prep", 5);
  ASSERT_TRUE(token.ok());
  ASSERT_TRUE(users_->Disable("local:root", "alice").ok());

  CustodyEntry added = EntryAt(0), issued = EntryAt(1), disabled = EntryAt(2);
  EXPECT_EQ(added.kind, EntryKind::kUserAdded);
  EXPECT_EQ(added.subject, "user:alice");
  EXPECT_EQ(added.actor, "local:root");
  EXPECT_EQ(added.data["role"], "prosecutor");
  EXPECT_EQ(issued.kind, EntryKind::kTokenIssued);
  EXPECT_EQ(issued.data["label"], "court prep");
  EXPECT_EQ(issued.data["token_sha256_prefix"],
            BearerTokenHash(*token).substr(0, 8));
  EXPECT_EQ(disabled.kind, EntryKind::kUserDisabled);
  EXPECT_EQ(disabled.data["credentials_revoked"], 1);
  for (uint64_t i = 0; i < 3; ++i) {
    std::string bytes = FormatCustodyEntry(EntryAt(i));
    EXPECT_EQ(bytes.find(*token), std::string::npos);
    EXPECT_EQ(bytes.find(token->substr(7)), std::string::npos);
    EXPECT_EQ(bytes.find("$argon2"), std::string::npos);
    EXPECT_EQ(bytes.find("horse"), std::string::npos);
  }
}

TEST(PasswordTest, HashAndCheck) {
  auto h = HashPassword("correct horse battery");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(h->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(CheckPassword(*h, "correct horse battery"));
  EXPECT_FALSE(CheckPassword(*h, "correct horse batterz"));
  EXPECT_FALSE(CheckPassword("", ""));
  EXPECT_FALSE(CheckPassword("garbage", "correct horse battery"));
  EXPECT_FALSE(HashPassword(std::string(2000, 'x')).ok());
  EXPECT_NE(NewBearerToken("t_"), NewBearerToken("t_"));
  EXPECT_EQ(NewBearerToken("t_").size(), 2u + 43u);
}

}  // namespace
}  // namespace amanah
