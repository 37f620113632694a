// Cases in the node's database: opening, membership, the evidence held for
// each and its custody history. Every change is a custody entry.
//
// Membership is the case's own business: whoever opens a case leads it, and
// only the lead alone, or two members whose role allows manage-members (one
// proposes, another confirms the very same change), add or remove members
// or hand the lead to another member. The admin has no part in it.

#ifndef AMANAH_APP_CASES_H_
#define AMANAH_APP_CASES_H_

#include <optional>
#include <string>
#include <vector>

#include "app/custody_index.h"
#include "app/node.h"
#include "app/users.h"
#include "cases/access.h"
#include "cases/case.h"

namespace amanah {

struct CaseDraft {
  std::string id;  // empty: the node assigns <YEAR>-<NNNN>
  std::string title;
  Offence offence = Offence::kOther;
  std::string legal_basis;
};

struct CaseMember {
  std::string user;
  Role role = Role::kAuditor;
  std::string added;
};

// A change to a case's membership.
enum class MemberChange {
  kAdd,     // give a user access
  kRemove,  // withdraw a member's access
  kLead,    // hand the lead to another member
};
std::string_view MemberChangeName(MemberChange change);  // "add", ...

constexpr int64_t kProposalSeconds = 7 * 86400;

// A membership change one member asked for, waiting for a second.
struct Proposal {
  MemberChange change = MemberChange::kAdd;
  std::string user;         // who is added, removed or made lead
  std::string proposed_by;  // user name
  std::string proposed;     // RFC 3339
  int64_t expires_unix = 0;
};

// What a membership change asked for through ChangeMembers came to.
struct ChangeOutcome {
  bool applied = false;
  Proposal proposal;  // when not applied: the change now waiting
};

struct CaseItem {
  std::string address;  // sha256:<hex>
  uint64_t size = 0;
  std::string md5, sha1;
  std::vector<IndexedEntry> custody;  // every entry about this object
};

// Checks a draft's id (if given), title and legal basis: kInvalidInput
// naming the field. CaseBook::Open checks this first.
Status ValidateCaseDraft(const CaseDraft& draft);

// A case as the API and the CLI show it.
nlohmann::json CaseToJson(const Case& c);

class CaseBook {
 public:
  explicit CaseBook(Node* node) : node_(node) {}

  // Opens a case; `opener` (a user name, or empty from the CLI) becomes
  // its first member and its lead.
  Result<Case> Open(const std::string& actor, const CaseDraft& draft,
                    const std::string& opener);
  Result<std::optional<Case>> Get(const std::string& id);
  // kNotFound if there is no such case, kConflict if it is closed: the
  // check before anything is added to a case.
  Status MustBeOpen(const std::string& id);
  // Cases in id order after `after` (exclusive), at most `limit`; only
  // those `member` belongs to unless it is empty.
  Result<std::vector<Case>> List(const std::string& member,
                                 const std::string& after, size_t limit);

  Result<bool> IsMember(const std::string& case_id, const std::string& user);
  Result<std::vector<CaseMember>> Members(const std::string& case_id);

  // A membership change asked for by the user `by`, who must be a member
  // of the case whose role allows manage-members (kPermission otherwise).
  // Made at once if `by` leads the case, or if another such member proposed
  // the very same change less than kProposalSeconds ago; otherwise recorded
  // as a proposal (case.change_proposed) for a second member to confirm
  // (kConflict if `by` proposed it already). Adding needs an enabled user
  // who is not an admin and not yet a member; removing, a member who does
  // not lead the case; a new lead, an enabled member whose role allows
  // manage-members. Checked before anything is proposed.
  Result<ChangeOutcome> ChangeMembers(const User& by,
                                      const std::string& case_id,
                                      MemberChange change,
                                      const std::string& user);
  // The proposals of a case that are still waiting, oldest first.
  Result<std::vector<Proposal>> Proposals(const std::string& case_id);

  // The node operator's changes from the console (`actor` local:<login>),
  // which has the node's files and keys and is outside the lead rule; the
  // same checks as ChangeMembers otherwise, and a custody entry each.
  Status AddMember(const std::string& actor, const std::string& case_id,
                   const std::string& user);
  Status RemoveMember(const std::string& actor, const std::string& case_id,
                      const std::string& user);
  Status SetLead(const std::string& actor, const std::string& case_id,
                 const std::string& user);

  // Takes `user` out of every case it is a member of, and from the lead of
  // those it leads (a case.member_removed, and case.lead_changed, entry
  // each, with `reason`); returns how many. Inside the caller's
  // transaction.
  Result<int> LeaveAll(const std::string& actor, const std::string& user,
                       const std::string& reason);

  // Closes or reopens a case (kConflict if it already has that status).
  Result<Case> SetStatus(const std::string& actor, const std::string& id,
                         CaseStatus status, const std::string& reason);

  // The secret the case's custody entries are sealed with (made for a case
  // of an earlier version that has none). Never shown.
  Result<Bytes> Secret(const std::string& id);

  // The objects ingested into the case, each with its custody history.
  Result<std::vector<CaseItem>> Items(const std::string& case_id);

 private:
  Result<Case> MustGet(const std::string& id);
  // The user `change` is about, if the change can be made to `c`.
  Result<User> CheckChange(const Case& c, MemberChange change,
                           const std::string& user);
  // Makes a checked change and records it; `proposed_by` names the member
  // whose proposal it confirms, if any.
  Status ApplyChange(const std::string& actor, const Case& c,
                     MemberChange change, const User& user,
                     const std::string& proposed_by,
                     const std::string& reason = "");
  Status DirectChange(const std::string& actor, const std::string& case_id,
                      MemberChange change, const std::string& user);
  // Whether `name` may take part in changing the case's membership now.
  Result<bool> MayManage(const std::string& case_id, const std::string& name);
  int64_t NowUnix() const;
  Node* node_;
};

}  // namespace amanah

#endif  // AMANAH_APP_CASES_H_
