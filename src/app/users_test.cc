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

// Sign-ins through limits: after three free failures of a name from an
// address the next attempt waits, with the same answers whether the name
// exists or not; the right password does not jump the wait.
TEST_F(UsersTest, SignInIsThrottledAlikeForKnownAndUnknownNames) {
  std::chrono::milliseconds now(5000);
  SignInLimits limits({}, [&] { return now; });
  UserDirectory users(node_.get(), &limits);
  ASSERT_TRUE(
      users.Add("local:root", "alice", Role::kPoc, "correct horse battery")
          .ok());
  auto run = [&](const std::string& name, const std::string& address) {
    std::vector<std::string> seen;
    for (int i = 0; i < 5; ++i) {
      std::chrono::seconds retry(0);
      auto r = users.Login(name, "incorrect horse battery", address, &retry);
      EXPECT_FALSE(r.ok());
      seen.push_back(r.status().ToString() + " / " +
                     std::to_string(retry.count()));
    }
    return seen;
  };
  auto known = run("alice", "192.0.2.1");
  auto unknown = run("mallory", "192.0.2.2");
  EXPECT_EQ(known, unknown);
  ASSERT_EQ(known.size(), 5u);
  EXPECT_EQ(known[3], "unauthenticated: wrong user name or password / 0");
  EXPECT_EQ(known[4],
            "too many requests: too many failed sign-ins for this name or "
            "from this address; try again in 1 s / 1");

  std::chrono::seconds retry(0);
  auto early =
      users.Login("alice", "correct horse battery", "192.0.2.1", &retry);
  EXPECT_EQ(early.status().code(), Code::kTooManyRequests);
  EXPECT_EQ(retry.count(), 1);
  // Elsewhere, and here once the second has passed.
  EXPECT_TRUE(users.Login("alice", "correct horse battery", "192.0.2.3").ok());
  now += std::chrono::seconds(1);
  EXPECT_TRUE(users.Login("alice", "correct horse battery", "192.0.2.1").ok());
}

// Failures on a name from other addresses make a new address wait, but
// not one that signed in as that name before: an attacker cannot keep its
// owner out.
TEST_F(UsersTest, FailuresFromElsewhereDoNotKeepTheOwnerOut) {
  std::chrono::milliseconds now(5000);
  SignInThrottleOptions o;
  o.per_name.free_failures = 2;
  SignInLimits limits(o, [&] { return now; });
  UserDirectory users(node_.get(), &limits);
  ASSERT_TRUE(
      users.Add("local:root", "alice", Role::kPoc, "correct horse battery")
          .ok());
  ASSERT_TRUE(users.Login("alice", "correct horse battery", "10.0.0.7").ok());
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(users
                  .Login("alice", "guess number " + std::to_string(i),
                         "198.51.100." + std::to_string(i))
                  .status()
                  .code(),
              Code::kUnauthenticated);
  }
  EXPECT_EQ(users.Login("alice", "correct horse battery", "203.0.113.1")
                .status()
                .code(),
            Code::kTooManyRequests);
  EXPECT_TRUE(users.Login("alice", "correct horse battery", "10.0.0.7").ok());
}

// Password checks take a slot (64 MiB each); a sign-in that gets none in
// time is refused with a time to retry, and does not count as a failure.
TEST_F(UsersTest, PasswordChecksWaitForASlotThenGiveUp) {
  SignInLimits limits({}, SignInThrottle::SteadyClock, 1,
                      std::chrono::milliseconds(50));
  UserDirectory users(node_.get(), &limits);
  ASSERT_TRUE(
      users.Add("local:root", "alice", Role::kPoc, "correct horse battery")
          .ok());
  ASSERT_TRUE(limits.slots.try_acquire());  // a check in progress
  for (int i = 0; i < 6; ++i) {
    std::chrono::seconds retry(0);
    auto r =
        users.Login("alice", "incorrect horse battery", "192.0.2.1", &retry);
    EXPECT_EQ(r.status().code(), Code::kUnavailable);
    EXPECT_EQ(retry.count(), 2);
  }
  limits.slots.release();
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(users.Login("alice", "incorrect horse battery", "192.0.2.1")
                  .status()
                  .code(),
              Code::kUnauthenticated);
  }
  EXPECT_TRUE(users.Login("alice", "correct horse battery", "192.0.2.1").ok());
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
