// Users, their API tokens and their sessions, in the node's database.
// Passwords are stored as Argon2id hashes, tokens and sessions as the
// SHA-256 of the bearer secret; the secret itself is shown once and never
// stored or logged. Every change is a custody entry.

#ifndef AMANAH_APP_USERS_H_
#define AMANAH_APP_USERS_H_

#include <optional>
#include <string>
#include <vector>

#include "app/node.h"
#include "cases/access.h"

namespace amanah {

struct User {
  int64_t id = 0;
  std::string name;
  Role role = Role::kAuditor;
  bool disabled = false;
  std::string created;  // RFC 3339
};

// What a presented bearer secret stands for.
struct Principal {
  User user;
  std::string credential_kind;  // "token" or "session"
  int64_t expires_unix = 0;
};

// Names: 1 to 64 of a-z 0-9 . _ - , starting with a letter or digit.
Status ValidateUserName(std::string_view name);

constexpr int64_t kSessionSeconds = 12 * 3600;
constexpr int64_t kDefaultTokenDays = 90;
constexpr int64_t kMaxTokenDays = 366;

class UserDirectory {
 public:
  explicit UserDirectory(Node* node) : node_(node) {}

  static Status CreateTables(SqliteDb* sql);

  // Adds a user; an empty password makes a token-only account.
  Result<User> Add(const std::string& actor, const std::string& name, Role role,
                   std::string_view password);
  Result<std::vector<User>> List();
  Result<std::optional<User>> Find(const std::string& name);
  // Disables the account and revokes all its tokens and sessions.
  Status Disable(const std::string& actor, const std::string& name);
  // Issues an API token valid for `days`; returns the secret (shown once).
  Result<std::string> IssueToken(const std::string& actor,
                                 const std::string& name,
                                 const std::string& label, int64_t days);

  // Password login: a session secret valid kSessionSeconds, or
  // kPermission("wrong user name or password") without saying which.
  Result<std::string> Login(const std::string& name, std::string_view password);
  Status Logout(std::string_view secret);

  // The principal a bearer secret stands for, or kPermission.
  Result<Principal> Authenticate(std::string_view secret);

 private:
  Result<std::string> IssueCredential(const User& user, const char* kind,
                                      const std::string& label,
                                      int64_t expires_unix);
  Result<std::optional<User>> FindWithHash(const std::string& name,
                                           std::string* password_hash);
  int64_t NowUnix() const;

  Node* node_;
};

}  // namespace amanah

#endif  // AMANAH_APP_USERS_H_
