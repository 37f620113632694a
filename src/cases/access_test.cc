#include "cases/access.h"

#include <gtest/gtest.h>

namespace amanah {
namespace {

TEST(AccessTest, RoleNamesRoundTrip) {
  for (Role r : AllRoles()) EXPECT_EQ(*ParseRole(RoleName(r)), r);
  EXPECT_FALSE(ParseRole("root").ok());
  EXPECT_FALSE(ParseRole("Admin").ok());
}

TEST(AccessTest, SeparationOfDuties) {
  // The admin runs the node but never reads evidence or moves requests.
  EXPECT_FALSE(Allowed(Role::kAdmin, Action::kDownloadEvidence, true));
  EXPECT_FALSE(Allowed(Role::kAdmin, Action::kTransitionRequest, true));
  // The auditor reads every case and changes nothing.
  for (Action a : AllActions()) {
    bool reads = a == Action::kViewCase || a == Action::kViewCustody ||
                 a == Action::kViewRequests || a == Action::kViewLog ||
                 a == Action::kViewUsers;
    EXPECT_EQ(Allowed(Role::kAuditor, a, false), reads) << ActionName(a);
  }
  // Only users may be managed by the admin.
  for (Role r : AllRoles()) {
    EXPECT_EQ(Allowed(r, Action::kManageUsers, false), r == Role::kAdmin);
  }
}

// The admin manages accounts but has no part in any case: not its title,
// not its membership, member or not (issue 18).
TEST(AccessTest, AdminHasNoCaseAction) {
  for (Action a : AllActions()) {
    if (!IsCaseAction(a)) continue;
    EXPECT_FALSE(RoleSpansCases(Role::kAdmin, a)) << ActionName(a);
    EXPECT_FALSE(Allowed(Role::kAdmin, a, false)) << ActionName(a);
    EXPECT_FALSE(Allowed(Role::kAdmin, a, true)) << ActionName(a);
  }
  EXPECT_FALSE(RoleAllows(Role::kAdmin, Action::kManageMembers));
  EXPECT_FALSE(RoleAllows(Role::kAdmin, Action::kViewCase));
}

// Only the auditor reads cases it is not a member of; such accounts are made
// at the console alone (UserDirectory).
TEST(AccessTest, OnlyTheAuditorSeesEveryCase) {
  for (Role r : AllRoles()) {
    EXPECT_EQ(RoleSeesEveryCase(r), r == Role::kAuditor) << RoleName(r);
  }
}

TEST(AccessTest, CaseActionsNeedMembership) {
  for (Role r :
       {Role::kPoc, Role::kInvestigator, Role::kProsecutor, Role::kAnalyst}) {
    for (Action a : AllActions()) {
      if (!IsCaseAction(a)) continue;
      EXPECT_FALSE(Allowed(r, a, false)) << RoleName(r) << " " << ActionName(a);
      EXPECT_EQ(Allowed(r, a, true), RoleAllows(r, a));
    }
  }
  EXPECT_TRUE(Allowed(Role::kInvestigator, Action::kDownloadEvidence, true));
  EXPECT_TRUE(Allowed(Role::kProsecutor, Action::kExportBundle, true));
  EXPECT_FALSE(Allowed(Role::kInvestigator, Action::kExportBundle, true));
}

}  // namespace
}  // namespace amanah
