#include "app/users.h"

#include <algorithm>
#include <thread>

#include "app/cases.h"
#include "base/encoding.h"
#include "cases/access.h"
#include "crypto/hash.h"
#include "crypto/password.h"
#include "ledger/custody_entry.h"
#include "storage/user_store.h"

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

// A stored user as app/ sees it; kCorruption for a role it does not know.
Result<User> FromRecord(const UserRecord& r) {
  auto role = ParseRole(r.role);
  if (!role.ok()) {
    return Status::Corruption("user " + r.name + " has role \"" + r.role +
                              "\"");
  }
  User u;
  u.id = r.id;
  u.name = r.name;
  u.role = *role;
  u.disabled = r.disabled;
  u.created = r.created;
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
  UserRecord record;
  record.name = name;
  record.role = std::string(RoleName(role));
  record.password_hash = password_hash;
  record.created = user.created;
  auto id = users().InsertUser(record);
  if (id.status().code() == Code::kConflict) {
    return Status::Conflict("a user named " + name + " exists already");
  }
  RETURN_IF_ERROR(id.status());
  user.id = *id;
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
  // Replaces any earlier secret of the user's.
  Status gone = users().DeleteEnrolment(user.id);
  if (gone.code() != Code::kNotFound) RETURN_IF_ERROR(gone);
  RETURN_IF_ERROR(users().InsertEnrolment(
      EnrolmentRecord{user.id, BearerTokenHash(out.secret),
                      FormatTime(NowUnix() * 1000000), out.expires_unix}));
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
  RETURN_IF_ERROR(node_->database().Transaction([&]() -> Status {
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
  RETURN_IF_ERROR(node_->database().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(int64_t count, users().CountUsers());
    if (count != 0) {
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
  ASSIGN_OR_RETURN(std::vector<UserRecord> records, users().ListUsers());
  std::vector<User> out;
  out.reserve(records.size());
  for (const UserRecord& r : records) {
    ASSIGN_OR_RETURN(User u, FromRecord(r));
    out.push_back(std::move(u));
  }
  return out;
}

Result<std::optional<User>> UserDirectory::Find(const std::string& name) {
  return FindWithHash(name, nullptr);
}

Result<std::optional<User>> UserDirectory::FindWithHash(
    const std::string& name, std::string* password_hash) {
  ASSIGN_OR_RETURN(std::optional<UserRecord> r, users().FindUser(name));
  if (!r) return std::optional<User>();
  ASSIGN_OR_RETURN(User u, FromRecord(*r));
  if (password_hash) *password_hash = r->password_hash;
  return std::optional<User>(std::move(u));
}

Status UserDirectory::Disable(const std::string& actor,
                              const std::string& name) {
  return node_->database().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto user, Find(name));
    if (!user) return Status::NotFound("no user named " + name);
    if (user->disabled) return Status::Conflict(name + " is already disabled");
    RETURN_IF_ERROR(users().DisableUser(user->id));
    ASSIGN_OR_RETURN(int64_t revoked, users().RevokeCredentialsOf(user->id));
    Status unenrolled = users().DeleteEnrolment(user->id);
    if (unenrolled.code() != Code::kNotFound) RETURN_IF_ERROR(unenrolled);
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
  CredentialRecord c;
  c.secret_sha256 = BearerTokenHash(secret);
  c.user_id = user.id;
  c.kind = kind;
  c.label = label;
  c.created = FormatTime(NowUnix() * 1000000);
  c.expires_unix = expires_unix;
  RETURN_IF_ERROR(users().InsertCredential(c));
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
  Status s = node_->database().Transaction([&]() -> Status {
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
  RETURN_IF_ERROR(node_->database().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto user, Find(name));
    if (!user) return Status::NotFound("no user named " + name);
    if (user->disabled) return Status::Conflict(name + " is disabled");
    RETURN_IF_ERROR(CheckConsoleOnly(actor, user->role));
    ASSIGN_OR_RETURN(int64_t revoked, users().RevokeCredentialsOf(user->id));
    RETURN_IF_ERROR(users().SetPasswordHash(user->id, ""));
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
  ASSIGN_OR_RETURN(std::optional<UserRecord> user, users().FindUser(name));
  // Looked up whether or not there is such a user (id 0 is none), and the
  // same comparison whether or not there is a secret to compare with.
  ASSIGN_OR_RETURN(std::optional<EnrolmentRecord> enrolment,
                   users().FindEnrolment(user ? user->id : 0));
  std::string stored(64, '0');
  int64_t expires = 0;
  if (enrolment) {
    stored = enrolment->secret_sha256;
    expires = enrolment->expires_unix;
  }
  bool match =
      ConstantTimeEqual(AsBytes(stored), AsBytes(BearerTokenHash(secret)));
  if (!user || !enrolment || !match || expires <= NowUnix()) return refused;
  ASSIGN_OR_RETURN(User u, FromRecord(*user));
  if (u.disabled) return refused;
  return u;
}

Result<User> UserDirectory::RedeemEnrolment(const std::string& name,
                                            std::string_view secret,
                                            const char* credential) {
  // Checked again inside the transaction: of two redemptions at once, one
  // finds the secret used up.
  ASSIGN_OR_RETURN(User user, CheckEnrolment(name, secret));
  RETURN_IF_ERROR(users().DeleteEnrolment(user.id));
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
  RETURN_IF_ERROR(node_->database().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(User user, RedeemEnrolment(name, secret, "password"));
    RETURN_IF_ERROR(users().SetPasswordHash(user.id, hash));
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
  RETURN_IF_ERROR(node_->database().Transaction([&]() -> Status {
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
  RETURN_IF_ERROR(node_->database().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(secret, IssueCredential(*user, "session", "",
                                             NowUnix() + kSessionSeconds));
    return Status::OK();
  }));
  return secret;
}

Status UserDirectory::Logout(std::string_view secret) {
  // An unknown secret ends nothing, and says nothing about itself.
  Status s = users().RevokeCredential(BearerTokenHash(secret));
  return s.code() == Code::kNotFound ? Status::OK() : s;
}

Result<Principal> UserDirectory::Authenticate(std::string_view secret) {
  const Status refused =
      Status::Unauthenticated("the token is unknown, expired or revoked");
  if (secret.size() > 200) return refused;
  // Looked up by the SHA-256 of a 256-bit secret: the index lookup reveals
  // nothing an attacker could use, and no secret is compared byte by byte.
  ASSIGN_OR_RETURN(std::optional<CredentialRecord> c,
                   users().FindCredential(BearerTokenHash(secret)));
  if (!c) return refused;
  ASSIGN_OR_RETURN(std::optional<UserRecord> r,
                   users().FindUserById(c->user_id));
  if (!r) {
    return Status::Corruption("a credential names user " +
                              std::to_string(c->user_id) +
                              ", who is not there");
  }
  ASSIGN_OR_RETURN(User u, FromRecord(*r));
  if (c->revoked || u.disabled || c->expires_unix <= NowUnix()) return refused;
  Principal p;
  p.user = std::move(u);
  p.credential_kind = c->kind;
  p.expires_unix = c->expires_unix;
  return p;
}

}  // namespace amanah
