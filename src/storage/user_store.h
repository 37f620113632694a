// The UserStore port: accounts, their credentials (API tokens and
// sessions) and their enrolment secrets, as stored. What they mean (roles,
// password hashing, expiry, who may do what, the custody entries that
// record each change) is app/users.h's; this only keeps the records.
// Secrets are never stored, only their SHA-256.

#ifndef AMANAH_STORAGE_USER_STORE_H_
#define AMANAH_STORAGE_USER_STORE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace amanah {

struct UserRecord {
  int64_t id = 0;             // given by the store when inserted
  std::string name;           // one account per name
  std::string role;           // as cases/access.h names it
  std::string password_hash;  // Argon2id (crypto/password.h), or empty
  bool disabled = false;
  std::string created;  // RFC 3339

  bool operator==(const UserRecord&) const = default;
};

struct CredentialRecord {
  std::string secret_sha256;  // hex; one credential per secret
  int64_t user_id = 0;
  std::string kind;  // "token" or "session"
  std::string label;
  std::string created;  // RFC 3339
  int64_t expires_unix = 0;
  bool revoked = false;

  bool operator==(const CredentialRecord&) const = default;
};

struct EnrolmentRecord {
  int64_t user_id = 0;        // at most one per user
  std::string secret_sha256;  // hex
  std::string created;        // RFC 3339
  int64_t expires_unix = 0;

  bool operator==(const EnrolmentRecord&) const = default;
};

// Each call is atomic; inside a transaction of the Database the store was
// made with (storage/database.h), it is part of that transaction. A
// credential or an enrolment names an existing user (kInvalidInput
// otherwise).
class UserStore {
 public:
  virtual ~UserStore() = default;

  // Stores `user` (its id is ignored) and returns the id it gets;
  // kConflict if the name is taken.
  virtual Result<int64_t> InsertUser(const UserRecord& user) = 0;
  virtual Result<int64_t> CountUsers() = 0;
  // Every user, by name.
  virtual Result<std::vector<UserRecord>> ListUsers() = 0;
  virtual Result<std::optional<UserRecord>> FindUser(
      const std::string& name) = 0;
  virtual Result<std::optional<UserRecord>> FindUserById(int64_t id) = 0;
  // kNotFound if there is no user `id`.
  virtual Status DisableUser(int64_t id) = 0;
  virtual Status SetPasswordHash(int64_t id, const std::string& hash) = 0;

  // kConflict if a credential of that secret is stored already.
  virtual Status InsertCredential(const CredentialRecord& credential) = 0;
  virtual Result<std::optional<CredentialRecord>> FindCredential(
      const std::string& secret_sha256) = 0;
  // kNotFound if no credential has that secret. Revoking a revoked one
  // changes nothing.
  virtual Status RevokeCredential(const std::string& secret_sha256) = 0;
  // Revokes every credential of the user not revoked yet; returns how many.
  virtual Result<int64_t> RevokeCredentialsOf(int64_t user_id) = 0;

  // kConflict if the user has an enrolment already.
  virtual Status InsertEnrolment(const EnrolmentRecord& enrolment) = 0;
  virtual Result<std::optional<EnrolmentRecord>> FindEnrolment(
      int64_t user_id) = 0;
  // kNotFound if the user has none.
  virtual Status DeleteEnrolment(int64_t user_id) = 0;
};

}  // namespace amanah

#endif  // AMANAH_STORAGE_USER_STORE_H_
