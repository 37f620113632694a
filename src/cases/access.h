// Who may do what: the role x action matrix of docs/security.md, and the
// per-case rule on top of it. Pure functions; the server and the CLI ask
// here before they change or reveal anything.

#ifndef AMANAH_CASES_ACCESS_H_
#define AMANAH_CASES_ACCESS_H_

#include <string_view>
#include <vector>

#include "base/status.h"

namespace amanah {

enum class Role {
  kAdmin,         // runs the node: users, peers; no case or evidence content
  kPoc,           // 24/7 point of contact: preservation requests, deadlines
  kInvestigator,  // ingests and examines evidence
  kProsecutor,    // MLA and disclosure requests; exports for court
  kAnalyst,       // sanctions screening
  kAuditor,       // reads every case's metadata and custody; changes nothing
};

std::string_view RoleName(Role role);
Result<Role> ParseRole(std::string_view name);
const std::vector<Role>& AllRoles();

enum class Action {
  kManageUsers,        // add, disable users; reissue their enrolment
  kViewUsers,          // list users
  kOpenCase,           // open a new case (the opener becomes its lead)
  kViewCase,           // a case's metadata, members and evidence list
  kManageMembers,      // add, remove members; hand the lead (see CaseBook)
  kUploadEvidence,     // ingest into a case
  kDownloadEvidence,   // read an object's plaintext
  kViewCustody,        // custody entries and proofs of a case's items
  kCreateRequest,      // draft a request in a case
  kTransitionRequest,  // move a request through its states
  kViewRequests,       // a case's requests and the deadline list
  kExportBundle,       // export evidence for court
  kScreen,             // sanctions screening
  kViewLog,            // the node's whole custody log (also public over /log/)
  kCloseCase,          // close a case (no more evidence or requests), reopen it
  kHandleInbox,        // see what peer nodes sent; file their requests
};

std::string_view ActionName(Action action);
const std::vector<Action>& AllActions();

// Whether `role` may do `action` at all.
bool RoleAllows(Role role, Action action);

// Whether the action is about one case (and so also needs membership, or a
// role that sees every case).
bool IsCaseAction(Action action);

// Whether `role` may do the case action `action` on a case it is not a
// member of (the auditor reads every case; no other role spans cases).
bool RoleSpansCases(Role role, Action action);

// Whether `role` reads some case it is not a member of (the auditor). Such
// an account is made and re-enrolled only at the node's console, never by
// the admin over the API: an admin who could make one, and redeem its
// enrolment secret, would read every case.
bool RoleSeesEveryCase(Role role);

// The whole rule: role, then membership for case actions.
bool Allowed(Role role, Action action, bool is_member);

}  // namespace amanah

#endif  // AMANAH_CASES_ACCESS_H_
