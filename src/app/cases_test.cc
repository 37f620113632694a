#include "app/cases.h"

#include <gtest/gtest.h>

#include "app/testutil.h"
#include "app/users.h"
#include "ledger/custody_entry.h"

namespace amanah {
namespace {

// A case led by lena (investigator), with omar (prosecutor) and pia (poc)
// as members; ana (analyst) and root (admin) are users but not members.
class CaseMembersTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    book_ = CaseBook(node_.get());
    for (auto [name, role] : {std::pair{"lena", Role::kInvestigator},
                              {"omar", Role::kProsecutor},
                              {"pia", Role::kPoc},
                              {"ana", Role::kAnalyst},
                              {"root", Role::kAdmin}}) {
      ASSERT_TRUE(testutil::AddEnrolledUser(node_.get(), name, role).ok());
    }
    ASSERT_TRUE(book_
                    .Open("user:lena",
                          {"KW-1", "fraud", Offence::kCybercrime, "x"}, "lena")
                    .ok());
    ASSERT_TRUE(Change("lena", MemberChange::kAdd, "omar")->applied);
    ASSERT_TRUE(Change("lena", MemberChange::kAdd, "pia")->applied);
  }

  User U(const std::string& name) {
    return **UserDirectory(node_.get()).Find(name);
  }
  Result<ChangeOutcome> Change(const std::string& by, MemberChange change,
                               const std::string& user) {
    return book_.ChangeMembers(U(by), "KW-1", change, user);
  }
  bool Member(const std::string& user) { return *book_.IsMember("KW-1", user); }
  std::string Lead() { return (*book_.Get("KW-1"))->lead; }
  // The entry as the case's members read it (opened); the log holds it
  // sealed.
  CustodyEntry EntryAt(uint64_t index) {
    auto raw = (*node_->Log())->Reader().Entry(index);
    EXPECT_TRUE(raw.ok());
    EXPECT_EQ(raw->find("KW-1"), std::string::npos) << *raw;
    return *testutil::OpenedEntryAt(node_.get(), index);
  }

  CaseBook book_{nullptr};  // over node_, from SetUp
};

TEST_F(CaseMembersTest, TheOpenerLeadsAndChangesMembershipAlone) {
  EXPECT_EQ(Lead(), "lena");
  EXPECT_TRUE(Member("lena") && Member("omar") && Member("pia"));
  uint64_t log = LogSize();
  auto out = Change("lena", MemberChange::kAdd, "ana");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_TRUE(out->applied);
  EXPECT_TRUE(Member("ana"));
  ASSERT_TRUE(Change("lena", MemberChange::kRemove, "ana")->applied);
  EXPECT_FALSE(Member("ana"));
  ASSERT_EQ(LogSize(), log + 2);
  CustodyEntry added = EntryAt(log), removed = EntryAt(log + 1);
  EXPECT_EQ(added.kind, EntryKind::kCaseMemberAdded);
  EXPECT_EQ(added.actor, "user:lena");
  EXPECT_EQ(added.case_id, "KW-1");
  EXPECT_EQ(added.data, nlohmann::json({{"user", "ana"}, {"role", "analyst"}}));
  EXPECT_EQ(removed.kind, EntryKind::kCaseMemberRemoved);
  EXPECT_EQ(removed.case_id, "KW-1");
  EXPECT_EQ(removed.data, nlohmann::json({{"user", "ana"}}));
}

// A member who does not lead the case only proposes; a second member who
// asks for the very same change makes it.
TEST_F(CaseMembersTest, AMembersChangeWaitsForASecondMember) {
  uint64_t log = LogSize();
  auto proposed = Change("omar", MemberChange::kAdd, "ana");
  ASSERT_TRUE(proposed.ok()) << proposed.status().ToString();
  EXPECT_FALSE(proposed->applied);
  EXPECT_EQ(proposed->proposal.proposed_by, "omar");
  EXPECT_FALSE(Member("ana"));
  // Not twice by the same member.
  EXPECT_EQ(Change("omar", MemberChange::kAdd, "ana").status().code(),
            Code::kConflict);
  EXPECT_FALSE(Member("ana"));
  auto waiting = book_.Proposals("KW-1");
  ASSERT_EQ(waiting->size(), 1u);
  EXPECT_EQ((*waiting)[0].user, "ana");
  EXPECT_EQ((*waiting)[0].change, MemberChange::kAdd);
  // Another change does not confirm it.
  ASSERT_FALSE(Change("pia", MemberChange::kRemove, "omar")->applied);
  EXPECT_FALSE(Member("ana"));

  auto confirmed = Change("pia", MemberChange::kAdd, "ana");
  ASSERT_TRUE(confirmed.ok()) << confirmed.status().ToString();
  EXPECT_TRUE(confirmed->applied);
  EXPECT_TRUE(Member("ana"));
  ASSERT_EQ(book_.Proposals("KW-1")->size(), 1u);  // pia's, about omar

  ASSERT_EQ(LogSize(), log + 3);
  CustodyEntry p = EntryAt(log), added = EntryAt(log + 2);
  EXPECT_EQ(p.kind, EntryKind::kCaseChangeProposed);
  EXPECT_EQ(p.actor, "user:omar");
  EXPECT_EQ(p.case_id, "KW-1");
  EXPECT_EQ(p.data["change"], "add");
  EXPECT_EQ(p.data["user"], "ana");
  EXPECT_EQ(p.data["expires"],
            FormatTime(proposed->proposal.expires_unix * 1000000));
  EXPECT_EQ(added.kind, EntryKind::kCaseMemberAdded);
  EXPECT_EQ(added.actor, "user:pia");
  EXPECT_EQ(added.data["proposed_by"], "user:omar");
}

TEST_F(CaseMembersTest, AProposalLapsesWithTimeOrWithItsProposer) {
  ASSERT_FALSE(Change("omar", MemberChange::kAdd, "ana")->applied);
  env_.AdvanceClock(kProposalSeconds + 1);
  EXPECT_TRUE(book_.Proposals("KW-1")->empty());
  // Too late: pia's asking is a proposal of her own.
  auto late = Change("pia", MemberChange::kAdd, "ana");
  ASSERT_TRUE(late.ok());
  EXPECT_FALSE(late->applied);
  EXPECT_EQ(late->proposal.proposed_by, "pia");
  EXPECT_FALSE(Member("ana"));

  // pia leaves the case: what she proposed lapses.
  ASSERT_TRUE(Change("lena", MemberChange::kRemove, "pia")->applied);
  EXPECT_TRUE(book_.Proposals("KW-1")->empty());
  auto after = Change("omar", MemberChange::kAdd, "ana");
  ASSERT_TRUE(after.ok());
  EXPECT_FALSE(after->applied);
  EXPECT_FALSE(Member("ana"));
}

// The lead can be handed over, by the lead or by two members; a disabled
// lead locks nobody out.
TEST_F(CaseMembersTest, TheLeadIsHandedOverAndADisabledLeadLocksNobodyOut) {
  uint64_t log = LogSize();
  ASSERT_TRUE(Change("lena", MemberChange::kLead, "omar")->applied);
  EXPECT_EQ(Lead(), "omar");
  CustodyEntry handed = EntryAt(log);
  EXPECT_EQ(handed.kind, EntryKind::kCaseLeadChanged);
  EXPECT_EQ(handed.case_id, "KW-1");
  EXPECT_EQ(handed.data, nlohmann::json({{"from", "lena"}, {"to", "omar"}}));
  // lena no longer acts alone.
  ASSERT_FALSE(Change("lena", MemberChange::kAdd, "ana")->applied);
  EXPECT_FALSE(Member("ana"));

  ASSERT_TRUE(UserDirectory(node_.get()).Disable("local:root", "omar").ok());
  ASSERT_TRUE(Change("pia", MemberChange::kAdd, "ana")->applied);
  EXPECT_TRUE(Member("ana"));
  // Two members hand the lead on: pia proposes lena, lena confirms.
  ASSERT_FALSE(Change("pia", MemberChange::kLead, "lena")->applied);
  EXPECT_EQ(Lead(), "omar");
  auto confirmed = Change("lena", MemberChange::kLead, "lena");
  ASSERT_TRUE(confirmed.ok()) << confirmed.status().ToString();
  EXPECT_TRUE(confirmed->applied);
  EXPECT_EQ(Lead(), "lena");
  CustodyEntry last = EntryAt(LogSize() - 1);
  EXPECT_EQ(last.kind, EntryKind::kCaseLeadChanged);
  EXPECT_EQ(last.data["from"], "omar");
  EXPECT_EQ(last.data["proposed_by"], "user:pia");
}

TEST_F(CaseMembersTest, RefusalsChangeNothing) {
  uint64_t log = LogSize();
  auto code = [&](const std::string& by, MemberChange c, const std::string& u) {
    return Change(by, c, u).status().code();
  };
  // Not a member; a member whose role may not manage-members; the admin.
  EXPECT_EQ(code("ana", MemberChange::kAdd, "ana"), Code::kPermission);
  ASSERT_TRUE(book_.AddMember("local:op", "KW-1", "ana").ok());
  log = LogSize();
  EXPECT_EQ(code("ana", MemberChange::kRemove, "pia"), Code::kPermission);
  EXPECT_EQ(code("root", MemberChange::kAdd, "root"), Code::kPermission);
  // The admin never joins a case, whoever asks.
  EXPECT_EQ(code("lena", MemberChange::kAdd, "root"), Code::kConflict);
  EXPECT_EQ(code("omar", MemberChange::kAdd, "root"), Code::kConflict);
  EXPECT_EQ(book_.AddMember("local:op", "KW-1", "root").code(),
            Code::kConflict);
  EXPECT_EQ(code("lena", MemberChange::kAdd, "omar"), Code::kConflict);
  EXPECT_EQ(code("lena", MemberChange::kAdd, "nobody"), Code::kNotFound);
  EXPECT_EQ(code("omar", MemberChange::kAdd, "nobody"), Code::kNotFound);
  EXPECT_EQ(code("lena", MemberChange::kRemove, "root"), Code::kNotFound);
  // The lead is handed over before it leaves.
  EXPECT_EQ(code("lena", MemberChange::kRemove, "lena"), Code::kConflict);
  EXPECT_EQ(code("omar", MemberChange::kRemove, "lena"), Code::kConflict);
  EXPECT_EQ(code("lena", MemberChange::kLead, "ana"), Code::kConflict);
  EXPECT_EQ(code("lena", MemberChange::kLead, "lena"), Code::kConflict);
  EXPECT_EQ(code("lena", MemberChange::kLead, "root"), Code::kNotFound);
  EXPECT_EQ(book_.ChangeMembers(U("lena"), "NO-SUCH", MemberChange::kAdd, "ana")
                .status()
                .code(),
            Code::kNotFound);
  EXPECT_EQ(LogSize(), log);
  EXPECT_TRUE(book_.Proposals("KW-1")->empty());
}

}  // namespace
}  // namespace amanah
