#include "storage/sqlite/user_store.h"

namespace amanah {

namespace {

constexpr char kSelectUser[] =
    "SELECT id, name, role, password_hash, disabled, created FROM users ";
constexpr char kSelectCredential[] =
    "SELECT secret_sha256, user_id, kind, label, created, expires_unix, "
    "revoked FROM credentials ";

UserRecord ReadUser(const Statement& q) {
  return UserRecord{q.Int(0),  q.Text(1),     q.Text(2),
                    q.Text(3), q.Int(4) != 0, q.Text(5)};
}

CredentialRecord ReadCredential(const Statement& q) {
  return CredentialRecord{q.Text(0), q.Int(1), q.Text(2),    q.Text(3),
                          q.Text(4), q.Int(5), q.Int(6) != 0};
}

// The one row `q` returns, or none.
template <typename Record>
Result<std::optional<Record>> OneRow(Statement& q,
                                     Record (*read)(const Statement&)) {
  RETURN_IF_ERROR(q.status());
  ASSIGN_OR_RETURN(bool found, q.NextRow());
  if (!found) return std::optional<Record>();
  return std::optional<Record>(read(q));
}

// Runs `q`, which returns a row for each row it changed; kNotFound (`what`)
// if it changed none.
Status ChangesOne(Statement& q, const std::string& what) {
  RETURN_IF_ERROR(q.status());
  ASSIGN_OR_RETURN(bool changed, q.NextRow());
  if (!changed) return Status::NotFound(what);
  return Status::OK();
}

}  // namespace

Result<int64_t> SqliteUserStore::InsertUser(const UserRecord& u) {
  int64_t id = 0;
  RETURN_IF_ERROR(db_->Write([&]() -> Status {
    Statement ins(*db_,
                  "INSERT INTO users(name, role, password_hash, disabled, "
                  "created) VALUES(?,?,?,?,?) ON CONFLICT DO NOTHING "
                  "RETURNING id");
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, u.name);
    ins.Bind(2, u.role);
    ins.Bind(3, u.password_hash);
    ins.Bind(4, u.disabled ? 1 : 0);
    ins.Bind(5, u.created);
    ASSIGN_OR_RETURN(bool inserted, ins.NextRow());
    if (!inserted) return Status::Conflict("user " + u.name + " exists");
    id = ins.Int(0);
    return Status::OK();
  }));
  return id;
}

Result<int64_t> SqliteUserStore::CountUsers() {
  Statement q(*db_, "SELECT COUNT(*) FROM users");
  RETURN_IF_ERROR(q.status());
  ASSIGN_OR_RETURN(bool row, q.NextRow());
  if (!row) return q.Error();
  return q.Int(0);
}

Result<std::vector<UserRecord>> SqliteUserStore::ListUsers() {
  Statement q(*db_, (std::string(kSelectUser) + "ORDER BY name").c_str());
  RETURN_IF_ERROR(q.status());
  std::vector<UserRecord> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.NextRow());
    if (!row) break;
    out.push_back(ReadUser(q));
  }
  return out;
}

Result<std::optional<UserRecord>> SqliteUserStore::FindUser(
    const std::string& name) {
  Statement q(*db_, (std::string(kSelectUser) + "WHERE name=?").c_str());
  q.Bind(1, name);
  return OneRow(q, ReadUser);
}

Result<std::optional<UserRecord>> SqliteUserStore::FindUserById(int64_t id) {
  Statement q(*db_, (std::string(kSelectUser) + "WHERE id=?").c_str());
  q.Bind(1, id);
  return OneRow(q, ReadUser);
}

Status SqliteUserStore::DisableUser(int64_t id) {
  return db_->Write([&]() -> Status {
    Statement up(*db_, "UPDATE users SET disabled=1 WHERE id=? RETURNING id");
    up.Bind(1, id);
    return ChangesOne(up, "no user " + std::to_string(id));
  });
}

Status SqliteUserStore::SetPasswordHash(int64_t id, const std::string& hash) {
  return db_->Write([&]() -> Status {
    Statement up(*db_,
                 "UPDATE users SET password_hash=? WHERE id=? RETURNING id");
    up.Bind(1, hash);
    up.Bind(2, id);
    return ChangesOne(up, "no user " + std::to_string(id));
  });
}

Status SqliteUserStore::InsertCredential(const CredentialRecord& c) {
  return db_->Write([&]() -> Status {
    Statement ins(*db_,
                  "INSERT INTO credentials(secret_sha256, user_id, kind, "
                  "label, created, expires_unix, revoked) "
                  "VALUES(?,?,?,?,?,?,?) ON CONFLICT DO NOTHING "
                  "RETURNING user_id");
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, c.secret_sha256);
    ins.Bind(2, c.user_id);
    ins.Bind(3, c.kind);
    ins.Bind(4, c.label);
    ins.Bind(5, c.created);
    ins.Bind(6, c.expires_unix);
    ins.Bind(7, c.revoked ? 1 : 0);
    ASSIGN_OR_RETURN(bool inserted, ins.NextRow());
    if (!inserted) return Status::Conflict("the credential exists");
    return Status::OK();
  });
}

Result<std::optional<CredentialRecord>> SqliteUserStore::FindCredential(
    const std::string& secret_sha256) {
  Statement q(
      *db_, (std::string(kSelectCredential) + "WHERE secret_sha256=?").c_str());
  q.Bind(1, secret_sha256);
  return OneRow(q, ReadCredential);
}

Status SqliteUserStore::RevokeCredential(const std::string& secret_sha256) {
  return db_->Write([&]() -> Status {
    Statement up(*db_,
                 "UPDATE credentials SET revoked=1 WHERE secret_sha256=? "
                 "RETURNING user_id");
    up.Bind(1, secret_sha256);
    return ChangesOne(up, "no such credential");
  });
}

Result<int64_t> SqliteUserStore::RevokeCredentialsOf(int64_t user_id) {
  int64_t revoked = 0;
  RETURN_IF_ERROR(db_->Write([&]() -> Status {
    Statement up(*db_,
                 "UPDATE credentials SET revoked=1 WHERE user_id=? AND "
                 "revoked=0 RETURNING 1");
    RETURN_IF_ERROR(up.status());
    up.Bind(1, user_id);
    while (true) {
      ASSIGN_OR_RETURN(bool row, up.NextRow());
      if (!row) return Status::OK();
      ++revoked;
    }
  }));
  return revoked;
}

Status SqliteUserStore::InsertEnrolment(const EnrolmentRecord& e) {
  return db_->Write([&]() -> Status {
    Statement ins(*db_,
                  "INSERT INTO enrolments(user_id, secret_sha256, created, "
                  "expires_unix) VALUES(?,?,?,?) ON CONFLICT DO NOTHING "
                  "RETURNING user_id");
    RETURN_IF_ERROR(ins.status());
    ins.Bind(1, e.user_id);
    ins.Bind(2, e.secret_sha256);
    ins.Bind(3, e.created);
    ins.Bind(4, e.expires_unix);
    ASSIGN_OR_RETURN(bool inserted, ins.NextRow());
    if (!inserted) {
      return Status::Conflict("user " + std::to_string(e.user_id) +
                              " has an enrolment already");
    }
    return Status::OK();
  });
}

Result<std::optional<EnrolmentRecord>> SqliteUserStore::FindEnrolment(
    int64_t user_id) {
  Statement q(*db_,
              "SELECT user_id, secret_sha256, created, expires_unix FROM "
              "enrolments WHERE user_id=?");
  q.Bind(1, user_id);
  return OneRow(
      q, +[](const Statement& r) {
        return EnrolmentRecord{r.Int(0), r.Text(1), r.Text(2), r.Int(3)};
      });
}

Status SqliteUserStore::DeleteEnrolment(int64_t user_id) {
  return db_->Write([&]() -> Status {
    Statement del(*db_,
                  "DELETE FROM enrolments WHERE user_id=? RETURNING user_id");
    del.Bind(1, user_id);
    return ChangesOne(del,
                      "user " + std::to_string(user_id) + " has no enrolment");
  });
}

}  // namespace amanah
