#include "app/users.h"

#include <algorithm>
#include <thread>

#include "crypto/password.h"
#include "ledger/custody_entry.h"

namespace amanah {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  disabled INTEGER NOT NULL DEFAULT 0,
  created TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS credentials (
  secret_sha256 TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id),
  kind TEXT NOT NULL CHECK (kind IN ('token', 'session')),
  label TEXT NOT NULL DEFAULT '',
  created TEXT NOT NULL,
  expires_unix INTEGER NOT NULL,
  revoked INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS credentials_by_user ON credentials(user_id);
)sql";

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

Status UserDirectory::CreateTables(SqliteDb* sql) { return sql->Exec(kSchema); }

int64_t UserDirectory::NowUnix() const {
  return node_->env()->NowUnixNanos() / 1000000000;
}

Result<User> UserDirectory::Add(const std::string& actor,
                                const std::string& name, Role role,
                                std::string_view password) {
  RETURN_IF_ERROR(ValidateUserName(name));
  std::string hash;
  if (!password.empty()) {
    ASSIGN_OR_RETURN(hash, HashPassword(password));
  }
  User user;
  user.name = name;
  user.role = role;
  user.created = FormatTime(NowUnix() * 1000000);
  Status s = node_->sql().Transaction([&]() -> Status {
    Statement ins(node_->sql(),
                  "INSERT INTO users(name, role, password_hash, created) "
                  "VALUES(?,?,?,?)");
    ins.Bind(1, name);
    ins.Bind(2, RoleName(role));
    ins.Bind(3, hash);
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
    return node_->Record(std::move(e)).status();
  });
  RETURN_IF_ERROR(s);
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

Result<std::string> UserDirectory::IssueToken(const std::string& actor,
                                              const std::string& name,
                                              const std::string& label,
                                              int64_t days) {
  if (days < 1 || days > kMaxTokenDays) {
    return Status::InvalidInput("a token lives 1 to " +
                                std::to_string(kMaxTokenDays) + " days");
  }
  if (label.size() > 200) {
    return Status::InvalidInput("a token label has at most 200 bytes");
  }
  std::string secret;
  Status s = node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(auto user, Find(name));
    if (!user) return Status::NotFound("no user named " + name);
    if (user->disabled) return Status::Conflict(name + " is disabled");
    int64_t expires = NowUnix() + days * 86400;
    ASSIGN_OR_RETURN(secret, IssueCredential(*user, "token", label, expires));
    CustodyEntry e;
    e.kind = EntryKind::kTokenIssued;
    e.actor = actor;
    e.subject = Subject(name);
    e.data = {{"label", label},
              {"expires", FormatTime(expires * 1000000)},
              {"token_sha256_prefix", BearerTokenHash(secret).substr(0, 8)}};
    return node_->Record(std::move(e)).status();
  });
  RETURN_IF_ERROR(s);
  return secret;
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
