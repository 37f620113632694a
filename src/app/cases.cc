#include "app/cases.h"

#include <ctime>

#include "app/users.h"

namespace amanah {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS cases (
  id TEXT PRIMARY KEY,
  title TEXT NOT NULL,
  offence TEXT NOT NULL,
  legal_basis TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open',
  opened TEXT NOT NULL,
  opened_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS case_members (
  case_id TEXT NOT NULL REFERENCES cases(id),
  user_id INTEGER NOT NULL REFERENCES users(id),
  added TEXT NOT NULL,
  PRIMARY KEY (case_id, user_id)
);
)sql";

constexpr const char* kCaseColumns =
    "c.id, c.title, c.offence, c.legal_basis, c.status, c.opened, "
    "c.opened_by";

Result<Case> ReadCase(Statement& q) {
  Case c;
  c.id = q.Text(0);
  c.title = q.Text(1);
  auto offence = ParseOffence(q.Text(2));
  auto status = ParseCaseStatus(q.Text(4));
  if (!offence.ok() || !status.ok()) {
    return Status::Corruption("case " + c.id +
                              " has an unknown offence or "
                              "status in the database");
  }
  c.offence = *offence;
  c.legal_basis = q.Text(3);
  c.status = *status;
  c.opened = q.Text(5);
  c.opened_by = q.Text(6);
  return c;
}

std::string Subject(const std::string& id) { return "case:" + id; }

}  // namespace

nlohmann::json CaseToJson(const Case& c) {
  return {{"id", c.id},
          {"title", c.title},
          {"offence", OffenceName(c.offence)},
          {"legal_basis", c.legal_basis},
          {"status", CaseStatusName(c.status)},
          {"opened", c.opened},
          {"opened_by", c.opened_by}};
}

Status CaseBook::CreateTables(SqliteDb* sql) { return sql->Exec(kSchema); }

int64_t CaseBook::NowUnix() const {
  return node_->env()->NowUnixNanos() / 1000000000;
}

Status ValidateCaseDraft(const CaseDraft& d) {
  if (!d.id.empty()) RETURN_IF_ERROR(ValidateCaseId(d.id));
  RETURN_IF_ERROR(ValidateText(d.title, 500, "title", true));
  return ValidateText(d.legal_basis, 2000, "legal_basis", true);
}

Result<Case> CaseBook::Open(const std::string& actor, const CaseDraft& d,
                            const std::string& opener) {
  RETURN_IF_ERROR(ValidateCaseDraft(d));
  Case c;
  c.title = d.title;
  c.offence = d.offence;
  c.legal_basis = d.legal_basis;
  c.opened = FormatTime(NowUnix() * 1000000);
  c.opened_by = actor;
  Status s = node_->sql().Transaction([&]() -> Status {
    c.id = d.id;
    if (c.id.empty()) {
      // <YEAR>-<NNNN>, the next number of the year.
      std::string year = c.opened.substr(0, 4);
      Statement q(node_->sql(),
                  "SELECT COUNT(*) FROM cases WHERE id LIKE ? || '-%'");
      q.Bind(1, year);
      if (q.Step() != SQLITE_ROW) return q.Error();
      for (int64_t n = q.Int(0) + 1;; ++n) {
        char buf[32];
        std::snprintf(buf, sizeof(buf), "%s-%04lld", year.c_str(),
                      static_cast<long long>(n));
        ASSIGN_OR_RETURN(auto existing, Get(buf));
        if (!existing) {
          c.id = buf;
          break;
        }
      }
    }
    Statement ins(node_->sql(),
                  "INSERT INTO cases(id, title, offence, legal_basis, opened, "
                  "opened_by) VALUES(?,?,?,?,?,?)");
    ins.Bind(1, c.id);
    ins.Bind(2, c.title);
    ins.Bind(3, OffenceName(c.offence));
    ins.Bind(4, c.legal_basis);
    ins.Bind(5, c.opened);
    ins.Bind(6, c.opened_by);
    Status r = ins.Run();
    if (r.code() == Code::kConflict) {
      return Status::Conflict("a case " + c.id + " exists already");
    }
    RETURN_IF_ERROR(r);
    CustodyEntry e;
    e.kind = EntryKind::kCaseOpened;
    e.actor = actor;
    e.case_id = c.id;
    e.subject = Subject(c.id);
    e.data = {{"title", c.title},
              {"offence", OffenceName(c.offence)},
              {"legal_basis", c.legal_basis}};
    RETURN_IF_ERROR(node_->Record(std::move(e)).status());
    if (!opener.empty()) RETURN_IF_ERROR(AddMember(actor, c.id, opener));
    return Status::OK();
  });
  RETURN_IF_ERROR(s);
  return c;
}

Result<std::optional<Case>> CaseBook::Get(const std::string& id) {
  Statement q(node_->sql(), (std::string("SELECT ") + kCaseColumns +
                             " FROM cases c WHERE c.id=?")
                                .c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, id);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<Case>();
  if (rc != SQLITE_ROW) return q.Error();
  ASSIGN_OR_RETURN(Case c, ReadCase(q));
  return std::optional<Case>(std::move(c));
}

Status CaseBook::MustBeOpen(const std::string& id) {
  ASSIGN_OR_RETURN(auto c, Get(id));
  if (!c) {
    return Status::NotFound("no case " + id +
                            " (open it first: amanah case open)");
  }
  if (c->status != CaseStatus::kOpen) {
    return Status::Conflict("case " + id + " is closed");
  }
  return Status::OK();
}

Result<Case> CaseBook::MustGet(const std::string& id) {
  ASSIGN_OR_RETURN(auto c, Get(id));
  if (!c) return Status::NotFound("no case " + id);
  return *c;
}

Result<std::vector<Case>> CaseBook::List(const std::string& member,
                                         const std::string& after,
                                         size_t limit) {
  std::string sql = std::string("SELECT ") + kCaseColumns + " FROM cases c";
  if (!member.empty()) {
    sql +=
        " JOIN case_members m ON m.case_id = c.id JOIN users u ON u.id = "
        "m.user_id AND u.name = ?2";
  }
  sql += " WHERE c.id > ?1 ORDER BY c.id LIMIT ?3";
  Statement q(node_->sql(), sql.c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, after);
  if (!member.empty()) q.Bind(2, member);
  q.Bind(3, static_cast<int64_t>(limit));
  std::vector<Case> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    ASSIGN_OR_RETURN(Case c, ReadCase(q));
    out.push_back(std::move(c));
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<bool> CaseBook::IsMember(const std::string& case_id,
                                const std::string& user) {
  Statement q(node_->sql(),
              "SELECT 1 FROM case_members m JOIN users u ON u.id = m.user_id "
              "WHERE m.case_id=? AND u.name=?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, case_id);
  q.Bind(2, user);
  int rc = q.Step();
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return q.Error();
}

Result<std::vector<CaseMember>> CaseBook::Members(const std::string& case_id) {
  Statement q(node_->sql(),
              "SELECT u.name, u.role, m.added FROM case_members m JOIN users "
              "u ON u.id = m.user_id WHERE m.case_id=? ORDER BY u.name");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, case_id);
  std::vector<CaseMember> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    auto role = ParseRole(q.Text(1));
    if (!role.ok()) return Status::Corruption("user with unknown role");
    out.push_back({q.Text(0), *role, q.Text(2)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Status CaseBook::AddMember(const std::string& actor, const std::string& case_id,
                           const std::string& user) {
  return node_->sql().Transaction([&]() -> Status {
    RETURN_IF_ERROR(MustGet(case_id).status());
    ASSIGN_OR_RETURN(auto u, UserDirectory(node_).Find(user));
    if (!u) return Status::NotFound("no user named " + user);
    if (u->disabled) return Status::Conflict(user + " is disabled");
    Statement ins(node_->sql(),
                  "INSERT INTO case_members(case_id, user_id, added) "
                  "VALUES(?,?,?)");
    ins.Bind(1, case_id);
    ins.Bind(2, u->id);
    ins.Bind(3, FormatTime(NowUnix() * 1000000));
    Status r = ins.Run();
    if (r.code() == Code::kConflict) {
      return Status::Conflict(user + " is already a member of " + case_id);
    }
    RETURN_IF_ERROR(r);
    CustodyEntry e;
    e.kind = EntryKind::kCaseMemberAdded;
    e.actor = actor;
    e.case_id = case_id;
    e.subject = Subject(case_id);
    e.data = {{"user", user}, {"role", RoleName(u->role)}};
    return node_->Record(std::move(e)).status();
  });
}

Status CaseBook::RemoveMember(const std::string& actor,
                              const std::string& case_id,
                              const std::string& user) {
  return node_->sql().Transaction([&]() -> Status {
    RETURN_IF_ERROR(MustGet(case_id).status());
    Statement del(node_->sql(),
                  "DELETE FROM case_members WHERE case_id=? AND user_id = "
                  "(SELECT id FROM users WHERE name=?)");
    del.Bind(1, case_id);
    del.Bind(2, user);
    RETURN_IF_ERROR(del.Run());
    if (sqlite3_changes(node_->sql().handle()) == 0) {
      return Status::NotFound(user + " is not a member of " + case_id);
    }
    CustodyEntry e;
    e.kind = EntryKind::kCaseMemberRemoved;
    e.actor = actor;
    e.case_id = case_id;
    e.subject = Subject(case_id);
    e.data = {{"user", user}};
    return node_->Record(std::move(e)).status();
  });
}

Result<Case> CaseBook::SetStatus(const std::string& actor,
                                 const std::string& id, CaseStatus status,
                                 const std::string& reason) {
  RETURN_IF_ERROR(ValidateText(reason, 2000, "reason", true));
  Case c;
  auto applied = node_->Apply([&]() -> Result<std::vector<CustodyEntry>> {
    ASSIGN_OR_RETURN(c, MustGet(id));
    if (c.status == status) {
      return Status::Conflict("case " + id + " is already " +
                              std::string(CaseStatusName(status)));
    }
    Statement up(node_->sql(), "UPDATE cases SET status=? WHERE id=?");
    up.Bind(1, CaseStatusName(status));
    up.Bind(2, id);
    RETURN_IF_ERROR(up.Run());
    c.status = status;
    CustodyEntry e;
    e.kind = status == CaseStatus::kClosed ? EntryKind::kCaseClosed
                                           : EntryKind::kCaseReopened;
    e.actor = actor;
    e.case_id = id;
    e.subject = Subject(id);
    e.data = {{"reason", reason}};
    return std::vector<CustodyEntry>{std::move(e)};
  });
  RETURN_IF_ERROR(applied.status());
  return c;
}

Result<std::vector<CaseItem>> CaseBook::Items(const std::string& case_id) {
  RETURN_IF_ERROR(MustGet(case_id).status());
  Statement q(node_->sql(),
              "SELECT DISTINCT e.address, e.size, e.md5, e.sha1 FROM ingest i "
              "JOIN evidence e ON e.address = i.address WHERE i.case_id=? "
              "ORDER BY e.address");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, case_id);
  std::vector<CaseItem> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    CaseItem item;
    item.address = q.Text(0);
    item.size = q.Uint(1);
    item.md5 = q.Text(2);
    item.sha1 = q.Text(3);
    out.push_back(std::move(item));
  }
  if (rc != SQLITE_DONE) return q.Error();
  CustodyIndex index(&node_->sql());
  for (auto& item : out) {
    ASSIGN_OR_RETURN(item.custody, index.ForSubject(item.address, -1, 100000));
  }
  return out;
}

}  // namespace amanah
