#include "app/cases.h"

#include <sodium.h>

#include <ctime>
#include <iterator>

#include "app/users.h"
#include "ledger/disclosure.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

namespace {

constexpr const char* kCaseColumns =
    "c.id, c.title, c.offence, c.legal_basis, c.status, c.opened, "
    "c.opened_by, c.lead";

constexpr std::string_view kChangeNames[] = {"add", "remove", "lead"};

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
  c.lead = q.Text(7);
  return c;
}

std::string Subject(const std::string& id) { return "case:" + id; }

std::string UserActor(const std::string& name) { return "user:" + name; }

}  // namespace

nlohmann::json CaseToJson(const Case& c) {
  return {{"id", c.id},
          {"title", c.title},
          {"offence", OffenceName(c.offence)},
          {"legal_basis", c.legal_basis},
          {"status", CaseStatusName(c.status)},
          {"opened", c.opened},
          {"opened_by", c.opened_by},
          {"lead", c.lead}};
}

std::string_view MemberChangeName(MemberChange change) {
  return kChangeNames[static_cast<size_t>(change)];
}

Result<Bytes> CaseBook::Secret(const std::string& id) {
  Statement q(node_->sql(), "SELECT secret FROM cases WHERE id=?");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, id);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("no case " + id);
  if (rc != SQLITE_ROW) return q.Error();
  std::string hex = q.Text(0);
  if (!hex.empty()) {
    auto secret = HexDecode(hex);
    if (!secret.ok() || secret->size() != kCaseSecretSize) {
      return Status::Corruption("case " + id + " has a damaged secret");
    }
    return *secret;
  }
  Bytes secret(kCaseSecretSize);
  randombytes_buf(secret.data(), secret.size());
  Statement up(node_->sql(),
               "UPDATE cases SET secret=? WHERE id=? AND secret=''");
  up.Bind(1, HexEncode(secret));
  up.Bind(2, id);
  RETURN_IF_ERROR(up.Run());
  if (sqlite3_changes(node_->sql().handle()) == 0) return Secret(id);
  return secret;
}

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
    c.lead = opener;
    Statement ins(node_->sql(),
                  "INSERT INTO cases(id, title, offence, legal_basis, opened, "
                  "opened_by, lead, secret) VALUES(?,?,?,?,?,?,?,?)");
    ins.Bind(1, c.id);
    ins.Bind(2, c.title);
    ins.Bind(3, OffenceName(c.offence));
    ins.Bind(4, c.legal_basis);
    ins.Bind(5, c.opened);
    ins.Bind(6, c.opened_by);
    ins.Bind(7, c.lead);
    Bytes secret(kCaseSecretSize);
    randombytes_buf(secret.data(), secret.size());
    ins.Bind(8, HexEncode(secret));
    sodium_memzero(secret.data(), secret.size());
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
    if (opener.empty()) return Status::OK();
    ASSIGN_OR_RETURN(User first, CheckChange(c, MemberChange::kAdd, opener));
    return ApplyChange(actor, c, MemberChange::kAdd, first, "");
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

Result<User> CaseBook::CheckChange(const Case& c, MemberChange change,
                                   const std::string& user) {
  ASSIGN_OR_RETURN(auto u, UserDirectory(node_).Find(user));
  ASSIGN_OR_RETURN(bool member, IsMember(c.id, user));
  if (change == MemberChange::kAdd) {
    if (!u) return Status::NotFound("no user named " + user);
    if (u->disabled) return Status::Conflict(user + " is disabled");
    if (u->role == Role::kAdmin) {
      return Status::Conflict(user +
                              " is an admin: an admin account never joins a "
                              "case, whose content the admin does not see");
    }
    if (member) {
      return Status::Conflict(user + " is already a member of " + c.id);
    }
    return *u;
  }
  if (!u || !member) {
    return Status::NotFound(user + " is not a member of " + c.id);
  }
  if (change == MemberChange::kRemove) {
    if (c.lead == user) {
      return Status::Conflict(user + " leads case " + c.id +
                              ": hand the lead to another member first");
    }
    return *u;
  }
  if (c.lead == user) {
    return Status::Conflict(user + " already leads case " + c.id);
  }
  if (u->disabled) return Status::Conflict(user + " is disabled");
  if (!RoleAllows(u->role, Action::kManageMembers)) {
    return Status::Conflict("a user with role " +
                            std::string(RoleName(u->role)) +
                            " cannot lead a case: the lead must be able to "
                            "manage-members");
  }
  return *u;
}

Status CaseBook::ApplyChange(const std::string& actor, const Case& c,
                             MemberChange change, const User& user,
                             const std::string& proposed_by,
                             const std::string& reason) {
  CustodyEntry e;
  e.actor = actor;
  e.case_id = c.id;
  e.subject = Subject(c.id);
  if (change == MemberChange::kAdd) {
    Statement ins(node_->sql(),
                  "INSERT INTO case_members(case_id, user_id, added) "
                  "VALUES(?,?,?)");
    ins.Bind(1, c.id);
    ins.Bind(2, user.id);
    ins.Bind(3, FormatTime(NowUnix() * 1000000));
    RETURN_IF_ERROR(ins.Run());
    e.kind = EntryKind::kCaseMemberAdded;
    e.data = {{"user", user.name}, {"role", RoleName(user.role)}};
  } else if (change == MemberChange::kRemove) {
    Statement del(node_->sql(),
                  "DELETE FROM case_members WHERE case_id=? AND user_id=?");
    del.Bind(1, c.id);
    del.Bind(2, user.id);
    RETURN_IF_ERROR(del.Run());
    // What the former member proposed here lapses with their membership.
    Statement lapse(node_->sql(),
                    "DELETE FROM case_proposals WHERE case_id=? AND "
                    "proposed_by=?");
    lapse.Bind(1, c.id);
    lapse.Bind(2, user.name);
    RETURN_IF_ERROR(lapse.Run());
    e.kind = EntryKind::kCaseMemberRemoved;
    e.data = {{"user", user.name}};
  } else {
    Statement up(node_->sql(), "UPDATE cases SET lead=? WHERE id=?");
    up.Bind(1, user.name);
    up.Bind(2, c.id);
    RETURN_IF_ERROR(up.Run());
    e.kind = EntryKind::kCaseLeadChanged;
    e.data = {{"from", c.lead}, {"to", user.name}};
  }
  if (!proposed_by.empty()) e.data["proposed_by"] = UserActor(proposed_by);
  if (!reason.empty()) e.data["reason"] = reason;
  Statement done(node_->sql(),
                 "DELETE FROM case_proposals WHERE case_id=? AND change=? AND "
                 "user_name=?");
  done.Bind(1, c.id);
  done.Bind(2, MemberChangeName(change));
  done.Bind(3, user.name);
  RETURN_IF_ERROR(done.Run());
  return node_->Record(std::move(e)).status();
}

Result<bool> CaseBook::MayManage(const std::string& case_id,
                                 const std::string& name) {
  ASSIGN_OR_RETURN(auto u, UserDirectory(node_).Find(name));
  if (!u || u->disabled || !RoleAllows(u->role, Action::kManageMembers)) {
    return false;
  }
  return IsMember(case_id, name);
}

Result<ChangeOutcome> CaseBook::ChangeMembers(const User& by,
                                              const std::string& case_id,
                                              MemberChange change,
                                              const std::string& user) {
  ChangeOutcome out;
  const std::string actor = UserActor(by.name);
  Status s = node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(Case c, MustGet(case_id));
    ASSIGN_OR_RETURN(bool may, MayManage(case_id, by.name));
    if (!may) {
      return Status::Permission(
          "only members of case " + case_id +
          " whose role may manage-members change its membership");
    }
    ASSIGN_OR_RETURN(User target, CheckChange(c, change, user));
    if (c.lead == by.name) {
      out.applied = true;
      return ApplyChange(actor, c, change, target, "");
    }
    int64_t now = NowUnix();
    std::string proposer;
    int64_t expires = 0;
    {
      Statement q(node_->sql(),
                  "SELECT proposed_by, expires_unix FROM case_proposals "
                  "WHERE case_id=? AND change=? AND user_name=?");
      q.Bind(1, case_id);
      q.Bind(2, MemberChangeName(change));
      q.Bind(3, user);
      int rc = q.Step();
      if (rc == SQLITE_ROW) {
        proposer = q.Text(0);
        expires = q.Int(1);
      } else if (rc != SQLITE_DONE) {
        return q.Error();
      }
    }
    if (!proposer.empty() && expires > now) {
      if (proposer == by.name) {
        return Status::Conflict(
            "you proposed this change already: another member must confirm "
            "it by asking for the same change before " +
            FormatTime(expires * 1000000));
      }
      ASSIGN_OR_RETURN(bool still, MayManage(case_id, proposer));
      if (still) {
        out.applied = true;
        return ApplyChange(actor, c, change, target, proposer);
      }
    }
    // A new proposal, in place of one that lapsed or whose proposer may no
    // longer take part.
    out.proposal = {change, user, by.name, FormatTime(now * 1000000),
                    now + kProposalSeconds};
    Statement ins(node_->sql(),
                  "INSERT OR REPLACE INTO case_proposals(case_id, change, "
                  "user_name, proposed_by, proposed, expires_unix) "
                  "VALUES(?,?,?,?,?,?)");
    ins.Bind(1, case_id);
    ins.Bind(2, MemberChangeName(change));
    ins.Bind(3, user);
    ins.Bind(4, by.name);
    ins.Bind(5, out.proposal.proposed);
    ins.Bind(6, out.proposal.expires_unix);
    RETURN_IF_ERROR(ins.Run());
    CustodyEntry e;
    e.kind = EntryKind::kCaseChangeProposed;
    e.actor = actor;
    e.case_id = case_id;
    e.subject = Subject(case_id);
    e.data = {{"change", MemberChangeName(change)},
              {"user", user},
              {"expires", FormatTime(out.proposal.expires_unix * 1000000)}};
    return node_->Record(std::move(e)).status();
  });
  RETURN_IF_ERROR(s);
  return out;
}

Result<std::vector<Proposal>> CaseBook::Proposals(const std::string& case_id) {
  RETURN_IF_ERROR(MustGet(case_id).status());
  Statement q(node_->sql(),
              "SELECT change, user_name, proposed_by, proposed, expires_unix "
              "FROM case_proposals WHERE case_id=? AND expires_unix > ? "
              "ORDER BY proposed, change, user_name");
  RETURN_IF_ERROR(q.status());
  q.Bind(1, case_id);
  q.Bind(2, NowUnix());
  std::vector<Proposal> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    Proposal p;
    std::string change = q.Text(0);
    for (size_t i = 0; i < std::size(kChangeNames); ++i) {
      if (kChangeNames[i] == change) p.change = static_cast<MemberChange>(i);
    }
    p.user = q.Text(1);
    p.proposed_by = q.Text(2);
    p.proposed = q.Text(3);
    p.expires_unix = q.Int(4);
    out.push_back(std::move(p));
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Status CaseBook::DirectChange(const std::string& actor,
                              const std::string& case_id, MemberChange change,
                              const std::string& user) {
  return node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(Case c, MustGet(case_id));
    ASSIGN_OR_RETURN(User target, CheckChange(c, change, user));
    return ApplyChange(actor, c, change, target, "");
  });
}

Status CaseBook::AddMember(const std::string& actor, const std::string& case_id,
                           const std::string& user) {
  return DirectChange(actor, case_id, MemberChange::kAdd, user);
}

Status CaseBook::RemoveMember(const std::string& actor,
                              const std::string& case_id,
                              const std::string& user) {
  return DirectChange(actor, case_id, MemberChange::kRemove, user);
}

Status CaseBook::SetLead(const std::string& actor, const std::string& case_id,
                         const std::string& user) {
  return DirectChange(actor, case_id, MemberChange::kLead, user);
}

Result<int> CaseBook::LeaveAll(const std::string& actor,
                               const std::string& user,
                               const std::string& reason) {
  ASSIGN_OR_RETURN(auto u, UserDirectory(node_).Find(user));
  if (!u) return Status::NotFound("no user named " + user);
  std::vector<std::string> ids;
  {
    Statement q(node_->sql(),
                "SELECT case_id FROM case_members WHERE user_id=? ORDER BY "
                "case_id");
    q.Bind(1, u->id);
    int rc;
    while ((rc = q.Step()) == SQLITE_ROW) ids.push_back(q.Text(0));
    if (rc != SQLITE_DONE) return q.Error();
  }
  for (const std::string& id : ids) {
    ASSIGN_OR_RETURN(Case c, MustGet(id));
    if (c.lead == user) {
      Statement up(node_->sql(), "UPDATE cases SET lead='' WHERE id=?");
      up.Bind(1, id);
      RETURN_IF_ERROR(up.Run());
      CustodyEntry e;
      e.kind = EntryKind::kCaseLeadChanged;
      e.actor = actor;
      e.case_id = id;
      e.subject = Subject(id);
      e.data = {{"from", user}, {"to", ""}, {"reason", reason}};
      RETURN_IF_ERROR(node_->Record(std::move(e)).status());
      c.lead.clear();
    }
    RETURN_IF_ERROR(
        ApplyChange(actor, c, MemberChange::kRemove, *u, "", reason));
  }
  Statement lapse(node_->sql(),
                  "DELETE FROM case_proposals WHERE proposed_by=?");
  lapse.Bind(1, user);
  RETURN_IF_ERROR(lapse.Run());
  return static_cast<int>(ids.size());
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
  // The hashes this case's ingests computed, not another case's.
  Statement q(node_->sql(),
              "SELECT i.address, e.size, MAX(i.md5), MAX(i.sha1) FROM ingest i "
              "JOIN evidence e ON e.address = i.address WHERE i.case_id=? "
              "GROUP BY i.address ORDER BY i.address");
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
    ASSIGN_OR_RETURN(item.custody,
                     index.ForCaseSubject(case_id, item.address, -1, 100000));
  }
  return out;
}

}  // namespace amanah
