// The conformance suite of the storage ports (storage/stores.h): every
// adapter that makes Stores runs the same tests, so that the services in
// app/ find the same semantics whichever keeps their state. Today the
// embedded SQLite database; PostgreSQL joins kBackends.

#include "storage/stores.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>
#include <optional>
#include <thread>

#include "storage/sqlite/open.h"

namespace amanah {
namespace {

struct Backend {
  const char* name;
  // The stores of a new, empty node directory.
  Result<Stores> (*open)(const std::string& dir);
};

Result<Stores> OpenSqlite(const std::string& dir) {
  return OpenSqliteStores(Env::Default(), dir);
}

const Backend kBackends[] = {{"sqlite", OpenSqlite}};

void PrintTo(const Backend& b, std::ostream* os) { *os << b.name; }

class StoresTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->name()) + "_" + GetParam().name + "_" +
                       std::to_string(::getpid());
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = std::filesystem::path(::testing::TempDir()) / ("Stores_" + name);
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    auto stores = GetParam().open(dir_.string());
    ASSERT_TRUE(stores.ok()) << stores.status().ToString();
    stores_.emplace(std::move(stores).value());
  }
  void TearDown() override {
    stores_.reset();
    std::filesystem::remove_all(dir_);
  }

  Database& db() { return *stores_->database; }
  PeerStore& peers() { return *stores_->peers; }
  UserStore& users() { return *stores_->users; }

  std::filesystem::path dir_;
  std::optional<Stores> stores_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoresTest, ::testing::ValuesIn(kBackends),
                         [](const auto& info) {
                           return std::string(info.param.name);
                         });

PeerRecord APeer(const std::string& name) {
  return PeerRecord{name, "https://" + name, "key of " + name,
                    std::string(64, 'a'), "2026-01-01T00:00:00.000000Z"};
}

TEST_P(StoresTest, PeersAreStoredFoundListedByNameAndRemoved) {
  EXPECT_TRUE(peers().List()->empty());
  EXPECT_EQ(*peers().Find("b.example"), std::nullopt);
  PeerRecord b = APeer("b.example"), a = APeer("a.example");
  a.tls_pin = "";
  ASSERT_TRUE(peers().Insert(b).ok());
  ASSERT_TRUE(peers().Insert(a).ok());
  EXPECT_EQ(*peers().Find("b.example"), b);
  EXPECT_EQ(*peers().Find("a.example"), a);
  EXPECT_EQ(*peers().List(), (std::vector<PeerRecord>{a, b}));
  ASSERT_TRUE(peers().Remove("a.example").ok());
  EXPECT_EQ(*peers().Find("a.example"), std::nullopt);
  EXPECT_EQ(*peers().List(), (std::vector<PeerRecord>{b}));
}

// Explicit semantics: an insert never replaces, a removal of nothing says
// so.
TEST_P(StoresTest, APeerInsertedTwiceIsAConflictAndRemovedTwiceNotFound) {
  PeerRecord p = APeer("a.example");
  ASSERT_TRUE(peers().Insert(p).ok());
  PeerRecord other = APeer("a.example");
  other.url = "https://elsewhere.example";
  EXPECT_EQ(peers().Insert(other).code(), Code::kConflict);
  EXPECT_EQ(*peers().Find("a.example"), p);
  ASSERT_TRUE(peers().Remove("a.example").ok());
  EXPECT_EQ(peers().Remove("a.example").code(), Code::kNotFound);
  EXPECT_EQ(peers().Remove("never.example").code(), Code::kNotFound);
}

// A store call inside a transaction is part of it; a failed inner
// transaction (a savepoint) undoes only its own.
TEST_P(StoresTest, StoreWritesBelongToTheCallersTransaction) {
  Status s = db().Transaction([&]() -> Status {
    RETURN_IF_ERROR(peers().Insert(APeer("a.example")));
    return Status::Unavailable("the change fails after the write");
  });
  EXPECT_EQ(s.code(), Code::kUnavailable);
  EXPECT_EQ(*peers().Find("a.example"), std::nullopt);

  s = db().Transaction([&]() -> Status {
    RETURN_IF_ERROR(peers().Insert(APeer("a.example")));
    Status inner = db().Transaction([&]() -> Status {
      RETURN_IF_ERROR(peers().Insert(APeer("b.example")));
      return peers().Insert(APeer("a.example"));  // kConflict
    });
    EXPECT_EQ(inner.code(), Code::kConflict);
    return Status::OK();
  });
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_TRUE(peers().Find("a.example")->has_value());
  EXPECT_EQ(*peers().Find("b.example"), std::nullopt);
}

// A write made outside any transaction is a change of its own, even while
// another thread's transaction is open: it is neither part of that
// transaction nor undone with it.
TEST_P(StoresTest, AWriteOutsideATransactionIsNotTakenIntoAnothers) {
  std::thread other;
  std::promise<void> started;
  Status s = db().Transaction([&]() -> Status {
    RETURN_IF_ERROR(peers().Insert(APeer("a.example")));
    other = std::thread([&] {
      started.set_value();
      Status o = peers().Insert(APeer("b.example"));
      EXPECT_TRUE(o.ok()) << o.ToString();
    });
    started.get_future().wait();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    return Status::Unavailable("rolled back");
  });
  EXPECT_EQ(s.code(), Code::kUnavailable);
  other.join();
  EXPECT_EQ(*peers().Find("a.example"), std::nullopt);
  EXPECT_TRUE(peers().Find("b.example")->has_value());
}

UserRecord AUser(const std::string& name) {
  UserRecord u;
  u.name = name;
  u.role = "investigator";
  u.password_hash = "$argon2id$" + name;
  u.created = "2026-01-01T00:00:00.000000Z";
  return u;
}

CredentialRecord ACredential(const std::string& secret_sha256,
                             int64_t user_id) {
  return CredentialRecord{
      secret_sha256, user_id, "token", "ci", "2026-01-01T00:00:00.000000Z",
      1900000000,    false};
}

TEST_P(StoresTest, UsersGetIdsAndAreFoundByNameAndIdAndListedByName) {
  EXPECT_EQ(*users().CountUsers(), 0);
  EXPECT_TRUE(users().ListUsers()->empty());
  UserRecord omar = AUser("omar"), lena = AUser("lena");
  omar.id = 99;  // ignored: the store gives the id
  auto omar_id = users().InsertUser(omar);
  auto lena_id = users().InsertUser(lena);
  ASSERT_TRUE(omar_id.ok() && lena_id.ok());
  EXPECT_NE(*omar_id, *lena_id);
  omar.id = *omar_id;
  lena.id = *lena_id;
  EXPECT_EQ(*users().CountUsers(), 2);
  EXPECT_EQ(*users().FindUser("omar"), omar);
  EXPECT_EQ(*users().FindUserById(*lena_id), lena);
  EXPECT_EQ(*users().FindUser("nobody"), std::nullopt);
  EXPECT_EQ(*users().FindUserById(*omar_id + *lena_id), std::nullopt);
  EXPECT_EQ(*users().ListUsers(), (std::vector<UserRecord>{lena, omar}));
}

TEST_P(StoresTest, AUserNameTakenIsAConflictAndUpdatesOfNobodyNotFound) {
  UserRecord lena = AUser("lena");
  lena.id = *users().InsertUser(lena);
  UserRecord again = AUser("lena");
  again.role = "admin";
  EXPECT_EQ(users().InsertUser(again).status().code(), Code::kConflict);
  EXPECT_EQ(*users().FindUser("lena"), lena);
  EXPECT_EQ(*users().CountUsers(), 1);

  int64_t nobody = lena.id + 1;
  EXPECT_EQ(users().DisableUser(nobody).code(), Code::kNotFound);
  EXPECT_EQ(users().SetPasswordHash(nobody, "h").code(), Code::kNotFound);
  ASSERT_TRUE(users().SetPasswordHash(lena.id, "").ok());
  ASSERT_TRUE(users().DisableUser(lena.id).ok());
  lena.password_hash = "";
  lena.disabled = true;
  EXPECT_EQ(*users().FindUser("lena"), lena);
}

TEST_P(StoresTest, CredentialsAreKeptByTheirSecretsHashAndRevoked) {
  int64_t lena = *users().InsertUser(AUser("lena"));
  int64_t omar = *users().InsertUser(AUser("omar"));
  CredentialRecord a = ACredential("aa", lena), b = ACredential("bb", lena),
                   c = ACredential("cc", lena), d = ACredential("dd", omar);
  b.kind = "session";
  b.label = "";
  c.revoked = true;
  for (const auto& cred : {a, b, c, d}) {
    ASSERT_TRUE(users().InsertCredential(cred).ok());
  }
  EXPECT_EQ(*users().FindCredential("bb"), b);
  EXPECT_EQ(*users().FindCredential("ee"), std::nullopt);
  CredentialRecord same = ACredential("aa", omar);
  EXPECT_EQ(users().InsertCredential(same).code(), Code::kConflict);
  EXPECT_EQ(*users().FindCredential("aa"), a);

  // Of lena's three, two were live; omar's stays live.
  EXPECT_EQ(*users().RevokeCredentialsOf(lena), 2);
  EXPECT_EQ(*users().RevokeCredentialsOf(lena), 0);
  EXPECT_TRUE(users().FindCredential("aa")->value().revoked);
  EXPECT_FALSE(users().FindCredential("dd")->value().revoked);
  ASSERT_TRUE(users().RevokeCredential("dd").ok());
  EXPECT_TRUE(users().FindCredential("dd")->value().revoked);
  EXPECT_TRUE(users().RevokeCredential("dd").ok());  // again: no change
  EXPECT_EQ(users().RevokeCredential("ee").code(), Code::kNotFound);
}

// A credential or an enrolment of nobody is refused as the caller's error.
TEST_P(StoresTest, CredentialsAndEnrolmentsNameAUser) {
  int64_t nobody = *users().InsertUser(AUser("lena")) + 1;
  EXPECT_EQ(users().InsertCredential(ACredential("aa", nobody)).code(),
            Code::kInvalidInput);
  EXPECT_EQ(
      users().InsertEnrolment(EnrolmentRecord{nobody, "ee", "t", 1}).code(),
      Code::kInvalidInput);
  EXPECT_EQ(*users().FindCredential("aa"), std::nullopt);
  EXPECT_EQ(*users().FindEnrolment(nobody), std::nullopt);
}

TEST_P(StoresTest, AUserHasAtMostOneEnrolment) {
  int64_t lena = *users().InsertUser(AUser("lena"));
  EXPECT_EQ(*users().FindEnrolment(lena), std::nullopt);
  EnrolmentRecord e{lena, "e1", "2026-01-01T00:00:00.000000Z", 1900000000};
  ASSERT_TRUE(users().InsertEnrolment(e).ok());
  EXPECT_EQ(*users().FindEnrolment(lena), e);
  EnrolmentRecord next{lena, "e2", "2026-01-02T00:00:00.000000Z", 1900000001};
  EXPECT_EQ(users().InsertEnrolment(next).code(), Code::kConflict);
  EXPECT_EQ(*users().FindEnrolment(lena), e);
  ASSERT_TRUE(users().DeleteEnrolment(lena).ok());
  EXPECT_EQ(*users().FindEnrolment(lena), std::nullopt);
  EXPECT_EQ(users().DeleteEnrolment(lena).code(), Code::kNotFound);
  ASSERT_TRUE(users().InsertEnrolment(next).ok());
  EXPECT_EQ(*users().FindEnrolment(lena), next);
}

}  // namespace
}  // namespace amanah
