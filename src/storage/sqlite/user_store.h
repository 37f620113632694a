// UserStore on the node's SQLite database (tables users, credentials,
// enrolments).

#ifndef AMANAH_STORAGE_SQLITE_USER_STORE_H_
#define AMANAH_STORAGE_SQLITE_USER_STORE_H_

#include "storage/sqlite/sqlite.h"
#include "storage/user_store.h"

namespace amanah {

class SqliteUserStore : public UserStore {
 public:
  // `db`, its schema migrated (storage/sqlite/schema.h), outlives this.
  explicit SqliteUserStore(SqliteDb* db) : db_(db) {}

  Result<int64_t> InsertUser(const UserRecord& user) override;
  Result<int64_t> CountUsers() override;
  Result<std::vector<UserRecord>> ListUsers() override;
  Result<std::optional<UserRecord>> FindUser(const std::string& name) override;
  Result<std::optional<UserRecord>> FindUserById(int64_t id) override;
  Status DisableUser(int64_t id) override;
  Status SetPasswordHash(int64_t id, const std::string& hash) override;

  Status InsertCredential(const CredentialRecord& credential) override;
  Result<std::optional<CredentialRecord>> FindCredential(
      const std::string& secret_sha256) override;
  Status RevokeCredential(const std::string& secret_sha256) override;
  Result<int64_t> RevokeCredentialsOf(int64_t user_id) override;

  Status InsertEnrolment(const EnrolmentRecord& enrolment) override;
  Result<std::optional<EnrolmentRecord>> FindEnrolment(
      int64_t user_id) override;
  Status DeleteEnrolment(int64_t user_id) override;

 private:
  SqliteDb* db_;
};

}  // namespace amanah

#endif  // AMANAH_STORAGE_SQLITE_USER_STORE_H_
