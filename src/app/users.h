// Users, their API tokens and their sessions, in the node's database.
// Passwords are stored as Argon2id hashes, tokens and sessions as the
// SHA-256 of the bearer secret; the secret itself is shown once and never
// stored or logged. Every change is a custody entry.

#ifndef AMANAH_APP_USERS_H_
#define AMANAH_APP_USERS_H_

#include <chrono>
#include <optional>
#include <semaphore>
#include <string>
#include <vector>

#include "app/node.h"
#include "app/sign_in_throttle.h"
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

// What every sign-in through one server shares: the throttle, and the
// slots for password checks. A check takes 64 MiB for Argon2id, so only
// `checks_at_once` run at a time (zero: one per CPU); a sign-in that gets no
// slot within `slot_wait` is refused rather than queued without bound.
struct SignInLimits {
  explicit SignInLimits(
      SignInThrottleOptions options = {},
      SignInThrottle::Clock clock = SignInThrottle::SteadyClock,
      int checks_at_once = 0,
      std::chrono::milliseconds slot_wait = std::chrono::seconds(3));

  SignInThrottle throttle;
  std::counting_semaphore<1024> slots;
  const std::chrono::milliseconds slot_wait;
};

class UserDirectory {
 public:
  // Sign-ins are throttled and their password checks bounded by `limits`
  // (shared, outliving this) if given: the server gives them; the node's own
  // tools and tests need none.
  explicit UserDirectory(Node* node, SignInLimits* limits = nullptr)
      : node_(node), limits_(limits) {}

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

  // Password sign-in from `address` (the client's IP address): a session
  // secret valid kSessionSeconds, or
  //  - kUnauthenticated("wrong user name or password"), without saying which;
  //  - kTooManyRequests while earlier failures for this name or from this
  //    address hold the attempt back (see SignInThrottle), the same whether
  //    the user exists or not;
  //  - kUnavailable if no password check could start within the limits'
  //    slot_wait.
  // For the last two, *retry_after (if given) says how long to wait.
  Result<std::string> Login(const std::string& name, std::string_view password,
                            std::string_view address = {},
                            std::chrono::seconds* retry_after = nullptr);
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
  SignInLimits* limits_;
};

}  // namespace amanah

#endif  // AMANAH_APP_USERS_H_
