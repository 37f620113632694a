#include "app/users.h"

#include <algorithm>
#include <thread>

#include "app/cases.h"
#include "base/encoding.h"
#include "cases/access.h"
#include "crypto/hash.h"
#include "crypto/password.h"
#include "ledger/custody_entry.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

namespace {

// An account that reads every case (RoleSeesEveryCase) is made and
// re-enrolled only by the node's operator at the console (actor
// local:<login>, who holds the node's files and keys anyway), never over
// the API, whose actors are user:<name>: an admin who made one and redeemed
// its enrolment secret would read every case.
Status CheckConsoleOnly(const std::string& actor, Role role) {
  if (!RoleSeesEveryCase(role) || actor.rfind("local:", 0) == 0) {
    return Status::OK();
  }
  return Status::Permission(
      "an " + std::string(RoleName(role)) +
      " account reads every case; it is made and re-enrolled only at the "
      "node's console (amanah user add, amanah user reenrol), not over the "
      "API");
}

// Every failed redemption of an enrolment secret, whatever the reason.
const char* const kEnrolmentRefused =
    "wrong user name or enrolment secret, or the secret has expired or been "
    "used";

constexpr const char* kUserColumns =
    "id, name, role, disabled, created, password_hash";

Result<User> ReadUser(Statement& q, std::string* password_hash = nullptr) {
  User u;
  u.id = q.Int(0);
  u.name = q.Text(1);
  auto role = ParseRole(q.Text(2));
  if (!role.ok()) {
    return Status::Corruption("user " + u.name + " has role \"" + q.Text(2) +
                              "\"");
  }
  u.role = *role;
  u.disabled = q.Int(3) != 0;
  u.created = q.Text(4);
  if (password_hash) *password_hash = q.Text(5);
  return u;
}

std::string Subject(const std::string& name) { return "user:" + name; }

}  // namespace

SignInLimits::SignInLimits(SignInThrottleOptions options,
                           SignInThrottle::Clock clock, int checks_at_once,
                           std::chrono::milliseconds slot_wait)
    : throttle(options, std::move(clock)),
      slots(std::clamp<std::ptrdiff_t>(
          checks_at_once > 0 ? checks_at_once
                             : std::thread::hardware_concurrency(),
          1, 1024)),
      slot_wait(slot_wait) {}

Status ValidateUserName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64;
  for (size_t i = 0; ok && i < name.size(); ++i) {
    char c = name[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    ok = alnum || (i > 0 && (c == '.' || c == '_' || c == '-'));
  }
  if (ok) return Status::OK();
  return Status::InvalidInput(
      "a user name is 1 to 64 of a-z, 0-9, '.', '_', '-', starting with a "
      "letter or digit");
}

int64_t UserDirectory::NowUnix() const {
  return node_->env()->NowUnixNanos() / 1000000000;
}

Result<User> UserDirectory::Insert(const std::string& actor,
                                   const std::string& name, Role role,
                                   const std::string& password_hash) {
  User user;
  user.name = name;
  user.role = role;
  user.created = FormatTime(NowUnix() * 1000000);
  Statement ins(node_->sql(),
                "INSERT INTO users(name, role, password_hash, created) "
                "VALUES(?,?,?,?)");
  ins.Bind(1, name);
  ins.Bind(2, RoleName(role));
  ins.Bind(3, password_hash);
  ins.Bind(4, user.created);
  Status r = ins.Run();
  if (r.code() == Code::kConflict) {
    return Status::Conflict("a user named " + name + " exists already");
  }
  RETURN_IF_ERROR(r);
  user.id = sqlite3_last_insert_rowid(node_->sql().handle());
  CustodyEntry e;
  e.kind = EntryKind::kUserAdded;
  e.actor = actor;
  e.subject = Subject(name);
  e.data = {{"role", RoleName(role)}};
  RETURN_IF_ERROR(node_->Record(std::move(e)).status());
  return user;
}

Result<Enrolment> UserDirectory::IssueEnrolment(const std::string& actor,
                                                const User& user,
                                                nlohmann::json data) {
  Enrolment out;
  out.user = user;
  out.secret = NewBearerToken("amanah_enrol_");
  out.expires_unix = NowUnix() + kEnrolmentSeconds;
  Statement ins(node_->sql(),
                "INSERT OR REPLACE INTO enrolments(user_id, secret_sha256, "
                "created, expires_unix) VALUES(?,?,?,?)");
  ins.Bind(1, user.id);
  ins.Bind(2, BearerTokenHash(out.secret));
  ins.Bind(3, FormatTime(NowUnix() * 1000000));
  ins.Bind(4, out.expires_unix);
  RETURN_IF_ERROR(ins.Run());
  CustodyEntry e;
  e.kind = EntryKind::kUserEnrolmentIssued;
  e.actor = actor;
  e.subject = Subject(user.name);
  e.data = std::move(data);
  e.data["expires"] = FormatTime(out.expires_unix * 1000000);
  RETURN_IF_ERROR(node_->Record(std::move(e)).status());
  return out;
}

Result<Enrolment> UserDirectory::Add(const std::string& actor,
                                     const std::string& name, Role role) {
  RETURN_IF_ERROR(ValidateUserName(name));
  RETURN_IF_ERROR(CheckConsoleOnly(actor, role));
  Enrolment out;
  RETURN_IF_ERROR(node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(User user, Insert(actor, name, role, ""));
    ASSIGN_OR_RETURN(out,
                     IssueEnrolment(actor, user, nlohmann::json::object()));
    return Status::OK();
  }));
  return out;
}

Result<User> UserDirectory::AddFirstAdmin(const std::string& actor,
                                          const std::string& name,
                                          std::string_view password) {
  RETURN_IF_ERROR(ValidateUserName(name));
  ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  User user;
  RETURN_IF_ERROR(node_->sql().Transaction([&]() -> Status {
    Statement count(node_->sql(), "SELECT COUNT(*) FROM users");
    if (count.Step() != SQLITE_ROW) return count.Error();
    if (count.Int(0) != 0) {
      return Status::Conflict(
          "the node has users already; the first admin is made only on an "
          "empty node");
    }
    ASSIGN_OR_RETURN(user, Insert(actor, name, Role::kAdmin, hash));
    return Status::OK();
  }));
  return user;
}

Result<std::vector<User>> UserDirectory::List() {
  Statement q(node_->sql(), (std::string("SELECT ") + kUserColumns +
                             " FROM users ORDER BY name")
                                .c_str());
  RETURN_IF_ERROR(q.status());
  std::vector<User> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    ASSIGN_OR_RETURN(User u, ReadUser(q));
    out.push_back(std::move(u));
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<std::optional<User>> UserDirectory::Find(const std::string& name) {
  return FindWithHash(name, nullptr);
}

Result<std::optional<User>> UserDirectory::FindWithHash(
    const std::string& name, std::string* password_hash) {
  Statement q(node_->sql(), (std::string("SELECT ") + kUserColumns +
                             " FROM users WHERE name=?")
                                .c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, name);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<User>();
  if (rc != SQLITE_ROW) return q.Error();
  ASSIGN_OR_RETURN(User u, ReadUser(q, password_hash));
  return std::optional<User>(std::move(u));
}

Status UserDirectory::Disable(const std::string& actor,
                              const std::string& name) {
  return node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto user, Find(name));
    if (!user) return Status::NotFound("no user named " + name);
    if (user->disabled) return Status::Conflict(name + " is already disabled");
    Statement up(node_->sql(), "UPDATE users SET disabled=1 WHERE id=?");
    up.Bind(1, user->id);
    RETURN_IF_ERROR(up.Run());
    Statement rev(node_->sql(),
                  "UPDATE credentials SET revoked=1 WHERE user_id=? AND "
                  "revoked=0");
    rev.Bind(1, user->id);
    RETURN_IF_ERROR(rev.Run());
    int revoked = sqlite3_changes(node_->sql().handle());
    Statement unenrol(node_->sql(), "DELETE FROM enrolments WHERE user_id=?");
    unenrol.Bind(1, user->id);
    RETURN_IF_ERROR(unenrol.Run());
    CustodyEntry e;
    e.kind = EntryKind::kUserDisabled;
    e.actor = actor;
    e.subject = Subject(name);
    e.data = {{"credentials_revoked", revoked}};
    return node_->Record(std::move(e)).status();
  });
}

Result<std::string> UserDirectory::IssueCredential(const User& user,
                                                   const char* kind,
                                                   const std::string& label,
                                                   int64_t expires_unix) {
  std::string secret = NewBearerToken("amanah_");
  Statement ins(node_->sql(),
                "INSERT INTO credentials(secret_sha256, user_id, kind, label, "
                "created, expires_unix) VALUES(?,?,?,?,?,?)");
  ins.Bind(1, BearerTokenHash(secret));
  ins.Bind(2, user.id);
  ins.Bind(3, kind);
  ins.Bind(4, label);
  ins.Bind(5, FormatTime(NowUnix() * 1000000));
  ins.Bind(6, expires_unix);
  RETURN_IF_ERROR(ins.Run());
  return secret;
}

Status UserDirectory::CheckTokenTerms(const std::string& label,
                                      int64_t days) const {
  if (days < 1 || days > kMaxTokenDays) {
    return Status::InvalidInput("a token lives 1 to " +
                                std::to_string(kMaxTokenDays) + " days");
  }
  if (label.size() > 200) {
    return Status::InvalidInput("a token label has at most 200 bytes");
  }
  return Status::OK();
}

Result<std::string> UserDirectory::IssueToken(const User& user,
                                              const std::string& label,
                                              int64_t days) {
  int64_t expires = NowUnix() + days * 86400;
  ASSIGN_OR_RETURN(std::string secret,
                   IssueCredential(user, "token", label, expires));
  CustodyEntry e;
  e.kind = EntryKind::kTokenIssued;
  e.actor = Subject(user.name);
  e.subject = Subject(user.name);
  e.data = {{"label", label},
            {"expires", FormatTime(expires * 1000000)},
            {"token_sha256_prefix", BearerTokenHash(secret).substr(0, 8)}};
  RETURN_IF_ERROR(node_->Record(std::move(e)).status());
  return secret;
}

Result<std::string> UserDirectory::IssueOwnToken(const std::string& name,
                                                 const std::string& label,
                                                 int64_t days) {
  RETURN_IF_ERROR(CheckTokenTerms(label, days));
  std::string secret;
  Status s = node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto user, Find(name));
    if (!user) return Status::NotFound("no user named " + name);
    if (user->disabled) return Status::Conflict(name + " is disabled");
    ASSIGN_OR_RETURN(secret, IssueToken(*user, label, days));
    return Status::OK();
  });
  RETURN_IF_ERROR(s);
  return secret;
}

Result<Enrolment> UserDirectory::Reissue(const std::string& actor,
                                         const std::string& name) {
  Enrolment out;
  RETURN_IF_ERROR(node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto user, Find(name));
    if (!user) return Status::NotFound("no user named " + name);
    if (user->disabled) return Status::Conflict(name + " is disabled");
    RETURN_IF_ERROR(CheckConsoleOnly(actor, user->role));
    Statement rev(node_->sql(),
                  "UPDATE credentials SET revoked=1 WHERE user_id=? AND "
                  "revoked=0");
    rev.Bind(1, user->id);
    RETURN_IF_ERROR(rev.Run());
    int revoked = sqlite3_changes(node_->sql().handle());
    Statement forget(node_->sql(),
                     "UPDATE users SET password_hash='' WHERE id=?");
    forget.Bind(1, user->id);
    RETURN_IF_ERROR(forget.Run());
    ASSIGN_OR_RETURN(
        int cases, CaseBook(node_).LeaveAll(actor, name, "enrolment reissued"));
    ASSIGN_OR_RETURN(out, IssueEnrolment(actor, *user,
                                         {{"credentials_revoked", revoked},
                                          {"cases_left", cases}}));
    return Status::OK();
  }));
  return out;
}

Result<User> UserDirectory::CheckEnrolment(const std::string& name,
                                           std::string_view secret) {
  const Status refused = Status::Unauthenticated(kEnrolmentRefused);
  if (!ValidateUserName(name).ok() || secret.size() > 200) return refused;
  Statement q(node_->sql(),
              "SELECT u.id, u.name, u.role, u.disabled, u.created, "
              "u.password_hash, e.secret_sha256, e.expires_unix FROM users u "
              "LEFT JOIN enrolments e ON e.user_id = u.id WHERE u.name=?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, name);
  int rc = q.Step();
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return q.Error();
  // The same comparison whether or not there is a secret to compare with.
  std::string stored(64, '0');
  int64_t expires = 0;
  if (rc == SQLITE_ROW && !q.IsNull(6)) {
    stored = q.Text(6);
    expires = q.Int(7);
  }
  bool match =
      ConstantTimeEqual(AsBytes(stored), AsBytes(BearerTokenHash(secret)));
  if (rc != SQLITE_ROW || q.IsNull(6) || !match || expires <= NowUnix()) {
    return refused;
  }
  ASSIGN_OR_RETURN(User u, ReadUser(q));
  if (u.disabled) return refused;
  return u;
}

Result<User> UserDirectory::RedeemEnrolment(const std::string& name,
                                            std::string_view secret,
                                            const char* credential) {
  // Checked again inside the transaction: of two redemptions at once, one
  // finds the secret used up.
  ASSIGN_OR_RETURN(User user, CheckEnrolment(name, secret));
  Statement del(node_->sql(), "DELETE FROM enrolments WHERE user_id=?");
  del.Bind(1, user.id);
  RETURN_IF_ERROR(del.Run());
  CustodyEntry e;
  e.kind = EntryKind::kUserEnrolled;
  e.actor = Subject(name);
  e.subject = Subject(name);
  e.data = {{"credential", credential}};
  RETURN_IF_ERROR(node_->Record(std::move(e)).status());
  return user;
}

Result<std::string> UserDirectory::Enrol(const std::string& name,
                                         std::string_view secret,
                                         std::string_view password) {
  // The password's length is checked before the secret, so that the answer
  // about it says nothing about the secret; the slow hash is made only for
  // a secret that is right.
  if (password.size() < kMinPasswordSize ||
      password.size() > kMaxPasswordSize) {
    return HashPassword(password).status();
  }
  RETURN_IF_ERROR(CheckEnrolment(name, secret).status());
  ASSIGN_OR_RETURN(std::string hash, HashPassword(password));
  std::string session;
  RETURN_IF_ERROR(node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(User user, RedeemEnrolment(name, secret, "password"));
    Statement up(node_->sql(), "UPDATE users SET password_hash=? WHERE id=?");
    up.Bind(1, hash);
    up.Bind(2, user.id);
    RETURN_IF_ERROR(up.Run());
    ASSIGN_OR_RETURN(session, IssueCredential(user, "session", "",
                                              NowUnix() + kSessionSeconds));
    return Status::OK();
  }));
  return session;
}

Result<std::string> UserDirectory::EnrolWithToken(const std::string& name,
                                                  std::string_view secret,
                                                  const std::string& label,
                                                  int64_t days) {
  RETURN_IF_ERROR(CheckTokenTerms(label, days));
  std::string token;
  RETURN_IF_ERROR(node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(User user, RedeemEnrolment(name, secret, "token"));
    ASSIGN_OR_RETURN(token, IssueToken(user, label, days));
    return Status::OK();
  }));
  return token;
}

Result<std::string> UserDirectory::Login(const std::string& name,
                                         std::string_view password,
                                         std::string_view address,
                                         std::chrono::seconds* retry_after) {
  const Status refused = Status::Unauthenticated("wrong user name or password");
  if (limits_ != nullptr) {
    std::chrono::seconds wait = limits_->throttle.Begin(name, address);
    if (wait.count() > 0) {
      if (retry_after) *retry_after = wait;
      return Status::TooManyRequests(
          "too many failed sign-ins for this name or from this address; try "
          "again in " +
          std::to_string(wait.count()) + " s");
    }
  }
  // From here on the attempt counts as a failure unless it is cancelled
  // (never decided) or succeeds.
  auto cancel = [&](Status s, std::chrono::seconds wait) {
    if (limits_ != nullptr) limits_->throttle.Cancelled(name, address);
    if (retry_after && wait.count() > 0) *retry_after = wait;
    return s;
  };
  std::string hash;
  std::optional<User> user;
  if (ValidateUserName(name).ok()) {
    auto found = FindWithHash(name, &hash);
    if (!found.ok()) return cancel(found.status(), {});
    user = std::move(found).value();
  }
  if (limits_ != nullptr &&
      !limits_->slots.try_acquire_for(limits_->slot_wait)) {
    return cancel(Status::Unavailable("too many sign-ins at once; try again "
                                      "in a moment"),
                  std::chrono::seconds(2));
  }
  // The same work whether or not there is a user (an empty hash is checked
  // against a decoy).
  bool match = CheckPassword(hash, password);
  if (limits_ != nullptr) limits_->slots.release();
  if (!user || !match || user->disabled) return refused;
  if (limits_ != nullptr) limits_->throttle.Succeeded(name, address);
  std::string secret;
  RETURN_IF_ERROR(node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(secret, IssueCredential(*user, "session", "",
                                             NowUnix() + kSessionSeconds));
    return Status::OK();
  }));
  return secret;
}

Status UserDirectory::Logout(std::string_view secret) {
  Statement up(node_->sql(),
               "UPDATE credentials SET revoked=1 WHERE secret_sha256=?");
  up.Bind(1, BearerTokenHash(secret));
  return node_->sql().Transaction([&] { return up.Run(); });
}

Result<Principal> UserDirectory::Authenticate(std::string_view secret) {
  const Status refused =
      Status::Unauthenticated("the token is unknown, expired or revoked");
  if (secret.size() > 200) return refused;
  // Looked up by the SHA-256 of a 256-bit secret: the index lookup reveals
  // nothing an attacker could use, and no secret is compared byte by byte.
  Statement q(node_->sql(),
              "SELECT u.id, u.name, u.role, u.disabled, u.created, "
              "u.password_hash, c.kind, c.expires_unix, c.revoked "
              "FROM credentials c JOIN users u ON u.id = c.user_id "
              "WHERE c.secret_sha256=?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, BearerTokenHash(secret));
  int rc = q.Step();
  if (rc == SQLITE_DONE) return refused;
  if (rc != SQLITE_ROW) return q.Error();
  ASSIGN_OR_RETURN(User u, ReadUser(q));
  Principal p;
  p.credential_kind = q.Text(6);
  p.expires_unix = q.Int(7);
  bool revoked = q.Int(8) != 0;
  if (revoked || u.disabled || p.expires_unix <= NowUnix()) return refused;
  p.user = std::move(u);
  return p;
}

}  // namespace amanah
