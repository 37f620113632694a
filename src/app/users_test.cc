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
    return *testutil::OpenedEntryAt(node_.get(), index);
  }

  std::unique_ptr<UserDirectory> users_;
};

TEST_F(UsersTest, AddLoginAuthenticateLogout) {
  auto alice = users_->Add("local:root", "alice", Role::kInvestigator);
  ASSERT_TRUE(alice.ok()) << alice.status().ToString();
  EXPECT_EQ(alice->user.role, Role::kInvestigator);
  // No credential until alice enrols.
  EXPECT_FALSE(users_->Login("alice", "correct horse battery").ok());
  auto first = users_->Enrol("alice", alice->secret, "correct horse battery");
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(users_->Authenticate(*first).ok());

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
  ASSERT_TRUE(testutil::AddEnrolledUser(node_.get(), "alice", Role::kPoc,
                                        "correct horse battery")
                  .ok());
  auto wrong = users_->Login("alice", "incorrect horse battery");
  auto unknown = users_->Login("mallory", "correct horse battery");
  auto malformed = users_->Login("../etc", "correct horse battery");
  EXPECT_EQ(wrong.status().code(), Code::kUnauthenticated);
  EXPECT_EQ(wrong.status().message(), unknown.status().message());
  EXPECT_EQ(wrong.status().message(), malformed.status().message());
}

// The enrolment secret works once, for its own user, until it expires;
// every way of failing looks the same.
TEST_F(UsersTest, EnrolmentSecretIsOneTimeAndExpires) {
  auto bob = users_->Add("local:root", "bob", Role::kPoc);
  auto carol = users_->Add("local:root", "carol", Role::kPoc);
  ASSERT_TRUE(bob.ok() && carol.ok());
  EXPECT_EQ(bob->secret.rfind("amanah_enrol_", 0), 0u);
  EXPECT_NE(bob->secret, carol->secret);
  EXPECT_NEAR(bob->expires_unix - env_.NowUnixNanos() / 1000000000,
              kEnrolmentSeconds, 2);

  std::vector<Status> refusals;
  auto refused = [&](const Result<std::string>& r) {
    ASSERT_FALSE(r.ok());
    refusals.push_back(r.status());
  };
  refused(users_->Enrol("bob", carol->secret, "bob's own password"));
  refused(users_->Enrol("bob", bob->secret + "x", "bob's own password"));
  refused(users_->Enrol("bob", "", "bob's own password"));
  refused(users_->Enrol("nobody", bob->secret, "bob's own password"));
  refused(users_->Enrol("Bob", bob->secret, "bob's own password"));
  refused(users_->EnrolWithToken("bob", carol->secret, "", 1));
  // A password too short is refused for what it is, before the secret is
  // looked at; the secret still works afterwards.
  EXPECT_EQ(users_->Enrol("bob", bob->secret, "short").status().code(),
            Code::kInvalidInput);
  EXPECT_EQ(users_->Enrol("bob", "wrong", "short").status().code(),
            Code::kInvalidInput);

  ASSERT_TRUE(users_->Enrol("bob", bob->secret, "bob's own password").ok());
  refused(users_->Enrol("bob", bob->secret, "someone else's password"));
  refused(users_->EnrolWithToken("bob", bob->secret, "", 1));
  EXPECT_TRUE(users_->Login("bob", "bob's own password").ok());
  EXPECT_FALSE(users_->Login("bob", "someone else's password").ok());

  env_.AdvanceClock(kEnrolmentSeconds + 1);
  refused(users_->Enrol("carol", carol->secret, "carol's own password"));

  ASSERT_TRUE(users_->Disable("local:root", "carol").ok());
  auto again = users_->Add("local:root", "dave", Role::kPoc);
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(users_->Disable("local:root", "dave").ok());
  refused(users_->Enrol("dave", again->secret, "dave's own password"));

  for (const Status& s : refusals) {
    EXPECT_EQ(s.code(), Code::kUnauthenticated);
    EXPECT_EQ(s.message(), refusals[0].message());
  }
  EXPECT_EQ(refusals.size(), 10u);
}

TEST_F(UsersTest, TokenOnlyAccountCannotLogIn) {
  auto ci = users_->Add("local:root", "ci", Role::kAuditor);
  ASSERT_TRUE(ci.ok());
  auto token = users_->EnrolWithToken("ci", ci->secret, "nightly", 30);
  ASSERT_TRUE(token.ok()) << token.status().ToString();
  EXPECT_EQ(token->rfind("amanah_", 0), 0u);
  EXPECT_FALSE(users_->Login("ci", "").ok());
  EXPECT_FALSE(users_->Login("ci", "anything at all long").ok());
  auto p = users_->Authenticate(*token);
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->credential_kind, "token");
  EXPECT_EQ(p->user.role, Role::kAuditor);
  EXPECT_NEAR(p->expires_unix - env_.NowUnixNanos() / 1000000000, 30 * 86400,
              2);
  // Its own further tokens.
  auto more = users_->IssueOwnToken("ci", "weekly", 7);
  ASSERT_TRUE(more.ok());
  EXPECT_TRUE(users_->Authenticate(*more).ok());
}

TEST_F(UsersTest, ExpiryUsesTheEnvClock) {
  auto token = testutil::AddEnrolledUser(node_.get(), "ci", Role::kAuditor);
  ASSERT_TRUE(testutil::AddEnrolledUser(node_.get(), "bob", Role::kPoc,
                                        "correct horse battery")
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
  auto s1 = testutil::AddEnrolledUser(node_.get(), "bob", Role::kPoc,
                                      "correct horse battery");
  auto t1 = users_->IssueOwnToken("bob", "a", 10);
  auto t2 = users_->IssueOwnToken("bob", "b", 10);
  auto s = users_->Login("bob", "correct horse battery");
  ASSERT_TRUE(s1.ok() && t1.ok() && t2.ok() && s.ok());
  ASSERT_TRUE(users_->Disable("local:root", "bob").ok());
  for (const auto& secret : {*s1, *t1, *t2, *s}) {
    EXPECT_EQ(users_->Authenticate(secret).status().code(),
              Code::kUnauthenticated);
  }
  EXPECT_FALSE(users_->Login("bob", "correct horse battery").ok());
  EXPECT_EQ(users_->Disable("local:root", "bob").code(), Code::kConflict);
  EXPECT_EQ(users_->Disable("local:root", "nobody").code(), Code::kNotFound);
  EXPECT_FALSE(users_->IssueOwnToken("bob", "", 10).ok());
  EXPECT_EQ(users_->Reissue("local:root", "bob").status().code(),
            Code::kConflict);
}

// A forgotten password: the old credentials stop working, the new secret
// sets a new password, and nothing of the old account's access remains.
TEST_F(UsersTest, ReissueRevokesCredentialsAndCases) {
  auto old_session = testutil::AddEnrolledUser(
      node_.get(), "bob", Role::kInvestigator, "bob's first password");
  ASSERT_TRUE(old_session.ok());
  auto token = users_->IssueOwnToken("bob", "laptop", 10);
  ASSERT_TRUE(token.ok());
  CaseBook book(node_.get());
  ASSERT_TRUE(
      book.Open("local:root", {"KW-1", "t", Offence::kOther, "x"}, "bob").ok());
  ASSERT_TRUE(
      book.Open("local:root", {"KW-2", "t", Offence::kOther, "x"}, "").ok());
  ASSERT_TRUE(book.AddMember("local:root", "KW-2", "bob").ok());
  ASSERT_TRUE(
      book.Open("local:root", {"KW-3", "t", Offence::kOther, "x"}, "").ok());

  auto e = users_->Reissue("local:admin", "bob");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  for (const auto& secret : {*old_session, *token}) {
    EXPECT_FALSE(users_->Authenticate(secret).ok());
  }
  EXPECT_FALSE(users_->Login("bob", "bob's first password").ok());
  EXPECT_FALSE(*book.IsMember("KW-1", "bob"));
  EXPECT_FALSE(*book.IsMember("KW-2", "bob"));
  EXPECT_EQ((*book.Get("KW-1"))->lead, "");
  ASSERT_TRUE(users_->Enrol("bob", e->secret, "bob's second password").ok());
  EXPECT_TRUE(users_->Login("bob", "bob's second password").ok());
  EXPECT_EQ(users_->Reissue("local:admin", "nobody").status().code(),
            Code::kNotFound);
}

TEST_F(UsersTest, FirstAdminOnlyOnAnEmptyNode) {
  auto admin =
      users_->AddFirstAdmin("local:serve", "admin", "the first password");
  ASSERT_TRUE(admin.ok()) << admin.status().ToString();
  EXPECT_EQ(admin->role, Role::kAdmin);
  EXPECT_TRUE(users_->Login("admin", "the first password").ok());
  EXPECT_EQ(users_->AddFirstAdmin("local:serve", "admin2", "another password")
                .status()
                .code(),
            Code::kConflict);
  EXPECT_EQ(users_->List()->size(), 1u);
}

TEST_F(UsersTest, BadInputChangesNothing) {
  EXPECT_EQ(users_->Add("local:root", "Alice", Role::kPoc).status().code(),
            Code::kInvalidInput);
  ASSERT_TRUE(users_->Add("local:root", "alice", Role::kPoc).ok());
  EXPECT_EQ(users_->Add("local:root", "alice", Role::kAdmin).status().code(),
            Code::kConflict);
  EXPECT_EQ(users_->IssueOwnToken("alice", "", 0).status().code(),
            Code::kInvalidInput);
  EXPECT_EQ(users_->IssueOwnToken("alice", "", 10000).status().code(),
            Code::kInvalidInput);
  EXPECT_EQ(
      users_->IssueOwnToken("alice", std::string(201, 'x'), 1).status().code(),
      Code::kInvalidInput);
  EXPECT_FALSE(users_->Authenticate("").ok());
  EXPECT_FALSE(users_->Authenticate(std::string(10000, 'a')).ok());
  auto list = users_->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].role, Role::kPoc);
  // Only the one successful change reached the custody log: user.added and
  // user.enrolment_issued.
  EXPECT_EQ((*node_->Log())->Latest().size, 2u);
}

// Sign-ins through limits: after three free failures of a name from an
// address the next attempt waits, with the same answers whether the name
// exists or not; the right password does not jump the wait.
TEST_F(UsersTest, SignInIsThrottledAlikeForKnownAndUnknownNames) {
  std::chrono::milliseconds now(5000);
  SignInLimits limits({}, [&] { return now; });
  UserDirectory users(node_.get(), &limits);
  ASSERT_TRUE(testutil::AddEnrolledUser(node_.get(), "alice", Role::kPoc,
                                        "correct horse battery")
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
  ASSERT_TRUE(testutil::AddEnrolledUser(node_.get(), "alice", Role::kPoc,
                                        "correct horse battery")
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
  ASSERT_TRUE(testutil::AddEnrolledUser(node_.get(), "alice", Role::kPoc,
                                        "correct horse battery")
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
  auto added = users_->Add("local:root", "alice", Role::kProsecutor);
  ASSERT_TRUE(added.ok());
  auto session = users_->Enrol("alice", added->secret, "correct horse battery");
  ASSERT_TRUE(session.ok());
  auto token = users_->IssueOwnToken("alice", "court prep", 5);
  ASSERT_TRUE(token.ok());
  auto again = users_->Reissue("local:root", "alice");
  ASSERT_TRUE(again.ok());
  ASSERT_TRUE(users_->Disable("local:root", "alice").ok());

  std::vector<CustodyEntry> e;
  for (uint64_t i = 0; i < LogSize(); ++i) e.push_back(EntryAt(i));
  ASSERT_EQ(e.size(), 6u);
  EXPECT_EQ(e[0].kind, EntryKind::kUserAdded);
  EXPECT_EQ(e[0].subject, "user:alice");
  EXPECT_EQ(e[0].actor, "local:root");
  EXPECT_EQ(e[0].data["role"], "prosecutor");
  EXPECT_EQ(e[1].kind, EntryKind::kUserEnrolmentIssued);
  EXPECT_EQ(e[1].actor, "local:root");
  EXPECT_EQ(e[1].data["expires"], FormatTime(added->expires_unix * 1000000));
  EXPECT_EQ(e[2].kind, EntryKind::kUserEnrolled);
  EXPECT_EQ(e[2].actor, "user:alice");
  EXPECT_EQ(e[2].data["credential"], "password");
  EXPECT_EQ(e[3].kind, EntryKind::kTokenIssued);
  EXPECT_EQ(e[3].actor, "user:alice");
  EXPECT_EQ(e[3].data["label"], "court prep");
  EXPECT_EQ(e[3].data["token_sha256_prefix"],
            BearerTokenHash(*token).substr(0, 8));
  EXPECT_EQ(e[4].kind, EntryKind::kUserEnrolmentIssued);
  EXPECT_EQ(e[4].data["credentials_revoked"], 2);  // session and token
  EXPECT_EQ(e[4].data["cases_left"], 0);
  EXPECT_EQ(e[5].kind, EntryKind::kUserDisabled);
  EXPECT_EQ(e[5].data["credentials_revoked"], 0);
  for (const CustodyEntry& entry : e) {
    std::string bytes = FormatCustodyEntry(entry);
    for (const std::string& secret :
         {added->secret, again->secret, *session, *token}) {
      EXPECT_EQ(bytes.find(secret), std::string::npos);
      EXPECT_EQ(bytes.find(secret.substr(7)), std::string::npos);
    }
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
