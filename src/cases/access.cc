#include "cases/access.h"

#include <array>

namespace amanah {

namespace {

constexpr std::array<std::string_view, 6> kRoleNames = {
    "admin", "poc", "investigator", "prosecutor", "analyst", "auditor"};

constexpr std::array<std::string_view, 16> kActionNames = {"manage-users",
                                                           "view-users",
                                                           "open-case",
                                                           "view-case",
                                                           "manage-members",
                                                           "upload-evidence",
                                                           "download-evidence",
                                                           "view-custody",
                                                           "create-request",
                                                           "transition-request",
                                                           "view-requests",
                                                           "export-bundle",
                                                           "screen",
                                                           "view-log",
                                                           "close-case",
                                                           "handle-inbox"};

// The matrix, one row per action; columns in Role order:
//                       admin  poc  inv  pros analyst auditor
struct Row {
  Action action;
  bool allowed[6];
};
constexpr Row kMatrix[] = {
    {Action::kManageUsers, {1, 0, 0, 0, 0, 0}},
    {Action::kViewUsers, {1, 0, 0, 0, 0, 1}},
    {Action::kOpenCase, {0, 1, 1, 1, 0, 0}},
    {Action::kViewCase, {0, 1, 1, 1, 1, 1}},
    {Action::kManageMembers, {0, 1, 1, 1, 0, 0}},
    {Action::kUploadEvidence, {0, 1, 1, 1, 0, 0}},
    {Action::kDownloadEvidence, {0, 0, 1, 1, 0, 0}},
    {Action::kViewCustody, {0, 1, 1, 1, 1, 1}},
    {Action::kCreateRequest, {0, 1, 1, 1, 0, 0}},
    {Action::kTransitionRequest, {0, 1, 0, 1, 0, 0}},
    {Action::kViewRequests, {0, 1, 1, 1, 1, 1}},
    {Action::kExportBundle, {0, 0, 0, 1, 0, 0}},
    {Action::kScreen, {0, 1, 1, 1, 1, 0}},
    {Action::kViewLog, {1, 1, 1, 1, 1, 1}},
    {Action::kCloseCase, {0, 1, 1, 1, 0, 0}},
    {Action::kHandleInbox, {0, 1, 0, 1, 0, 0}},
};

}  // namespace

std::string_view RoleName(Role role) {
  return kRoleNames[static_cast<size_t>(role)];
}

Result<Role> ParseRole(std::string_view name) {
  for (size_t i = 0; i < kRoleNames.size(); ++i) {
    if (kRoleNames[i] == name) return static_cast<Role>(i);
  }
  return Status::InvalidInput(
      "unknown role \"" + std::string(name) +
      "\"; roles are admin, poc, investigator, prosecutor, analyst, auditor");
}

const std::vector<Role>& AllRoles() {
  static const std::vector<Role> roles = {
      Role::kAdmin,      Role::kPoc,     Role::kInvestigator,
      Role::kProsecutor, Role::kAnalyst, Role::kAuditor};
  return roles;
}

std::string_view ActionName(Action action) {
  return kActionNames[static_cast<size_t>(action)];
}

const std::vector<Action>& AllActions() {
  static const std::vector<Action> actions = [] {
    std::vector<Action> v;
    for (const Row& r : kMatrix) v.push_back(r.action);
    return v;
  }();
  return actions;
}

bool RoleAllows(Role role, Action action) {
  for (const Row& r : kMatrix) {
    if (r.action == action) return r.allowed[static_cast<size_t>(role)];
  }
  return false;
}

bool IsCaseAction(Action action) {
  switch (action) {
    case Action::kViewCase:
    case Action::kManageMembers:
    case Action::kUploadEvidence:
    case Action::kDownloadEvidence:
    case Action::kViewCustody:
    case Action::kCreateRequest:
    case Action::kTransitionRequest:
    case Action::kViewRequests:
    case Action::kExportBundle:
    case Action::kCloseCase:
      return true;
    default:
      return false;
  }
}

bool RoleSpansCases(Role role, Action action) {
  if (role == Role::kAuditor) {
    return action == Action::kViewCase || action == Action::kViewCustody ||
           action == Action::kViewRequests;
  }
  return false;
}

bool RoleSeesEveryCase(Role role) {
  for (Action a : AllActions()) {
    if (IsCaseAction(a) && RoleAllows(role, a) && RoleSpansCases(role, a)) {
      return true;
    }
  }
  return false;
}

bool Allowed(Role role, Action action, bool is_member) {
  if (!RoleAllows(role, action)) return false;
  if (!IsCaseAction(action)) return true;
  return is_member || RoleSpansCases(role, action);
}

}  // namespace amanah
