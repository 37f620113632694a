// Users, their API tokens and their sessions, in the node's database.
// Passwords are stored as Argon2id hashes, tokens, sessions and enrolment
// secrets as the SHA-256 of the secret; the secret itself is shown once and
// never stored or logged. Every change is a custody entry.
//
// Nobody sets another person's secret: an account is created with a
// one-time enrolment secret, and the person redeems it themselves for their
// own password (or, for a service account, its first API token). Tokens are
// issued to their own user only.

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
constexpr int64_t kEnrolmentSeconds = 72 * 3600;

// An account's one-time enrolment secret, to be handed to the person alone.
struct Enrolment {
  User user;
  std::string secret;  // shown once; the node keeps only its SHA-256
  int64_t expires_unix = 0;
};

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

  // Adds an account with no credential and issues its enrolment secret,
  // valid kEnrolmentSeconds (user.added and user.enrolment_issued entries).
  Result<Enrolment> Add(const std::string& actor, const std::string& name,
                        Role role);
  // The first admin of a node that has no users, with a password that the
  // caller shows once (amanah serve); kConflict once any user exists.
  Result<User> AddFirstAdmin(const std::string& actor, const std::string& name,
                             std::string_view password);
  Result<std::vector<User>> List();
  Result<std::optional<User>> Find(const std::string& name);
  // Disables the account and revokes all its tokens, sessions and any
  // enrolment secret.
  Status Disable(const std::string& actor, const std::string& name);
  // Issues a new enrolment secret for an existing account (a forgotten
  // password). Revokes its password, tokens, sessions and earlier secret,
  // and takes it out of every case it belongs to (a case.member_removed
  // entry each): whoever redeems the new secret gains no case access, and
  // the cases' leads add the person back.
  Result<Enrolment> Reissue(const std::string& actor, const std::string& name);

  // Redeems `name`'s enrolment secret, once, setting the person's own
  // password; returns a session secret as Login would. A wrong, used or
  // expired secret, an unknown or disabled user: all the same
  // kUnauthenticated, without saying which.
  Result<std::string> Enrol(const std::string& name, std::string_view secret,
                            std::string_view password);
  // Redeems it for a token-only account: no password, and the account's
  // first API token (valid `days`), which is returned.
  Result<std::string> EnrolWithToken(const std::string& name,
                                     std::string_view secret,
                                     const std::string& label, int64_t days);

  // Issues `name` an API token valid for `days`, on their own behalf (the
  // actor is user:<name>); returns the secret (shown once). Callers let a
  // user issue tokens to themself only.
  Result<std::string> IssueOwnToken(const std::string& name,
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
  Result<User> Insert(const std::string& actor, const std::string& name,
                      Role role, const std::string& password_hash);
  // Stores a fresh enrolment secret for `user` (replacing any earlier one)
  // and records user.enrolment_issued with `data`; inside a transaction.
  Result<Enrolment> IssueEnrolment(const std::string& actor, const User& user,
                                   nlohmann::json data);
  // The user whose pending enrolment `secret` is, or the one refusal.
  Result<User> CheckEnrolment(const std::string& name, std::string_view secret);
  // Checks the secret again and uses it up, inside a transaction; records
  // user.enrolled.
  Result<User> RedeemEnrolment(const std::string& name, std::string_view secret,
                               const char* credential);
  Status CheckTokenTerms(const std::string& label, int64_t days) const;
  Result<std::string> IssueToken(const User& user, const std::string& label,
                                 int64_t days);
  int64_t NowUnix() const;
  UserStore& users() { return *node_->stores().users; }

  Node* node_;
  SignInLimits* limits_;
};

}  // namespace amanah

#endif  // AMANAH_APP_USERS_H_
