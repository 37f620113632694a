// amanah case open|list|show|close|reopen|add-member|remove-member|lead
//
// The console acts for the node operator, who holds the node's files and
// keys: its membership changes are not subject to the lead rule the API
// applies (CaseBook::ChangeMembers), and each is a custody entry under the
// operator's --actor.

#include <iostream>

#include "app/cases.h"
#include "cli/common.h"

namespace amanah {

namespace {

int RunCaseOpen(const Globals& g, const CaseArgs& a) {
  auto offence = ParseOffence(a.offence);
  if (!offence.ok()) return Fail(offence.status());
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  CaseDraft d{a.id, a.title, *offence, a.legal_basis};
  auto c = CaseBook(node->get()).Open(g.actor, d, a.lead);
  if (!c.ok()) return Fail(c.status());
  if (g.json) {
    PrintJson(CaseToJson(*c));
  } else {
    std::cout << "opened case " << c->id << "\n";
  }
  return 0;
}

int RunCaseList(const Globals& g) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  CaseBook book(node->get());
  nlohmann::json items = nlohmann::json::array();
  std::string after;
  for (;;) {
    auto page = book.List("", after, 500);
    if (!page.ok()) return Fail(page.status());
    for (const auto& c : *page) {
      if (g.json) {
        items.push_back(CaseToJson(c));
      } else {
        std::printf("%-20s %-7s %-20s %s\n", c.id.c_str(),
                    std::string(CaseStatusName(c.status)).c_str(),
                    std::string(OffenceName(c.offence)).c_str(),
                    c.title.c_str());
      }
    }
    if (page->size() < 500) break;
    after = page->back().id;
  }
  if (g.json) PrintJson(items);
  return 0;
}

int RunCaseShow(const Globals& g, const std::string& id) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  CaseBook book(node->get());
  auto c = book.Get(id);
  if (!c.ok()) return Fail(c.status());
  if (!*c) return Fail(Status::NotFound("no case " + id));
  auto members = book.Members(id);
  auto items = book.Items(id);
  auto proposals = book.Proposals(id);
  if (!members.ok()) return Fail(members.status());
  if (!items.ok()) return Fail(items.status());
  if (!proposals.ok()) return Fail(proposals.status());
  nlohmann::json j = CaseToJson(**c);
  j["members"] = nlohmann::json::array();
  for (const auto& m : *members) {
    j["members"].push_back(
        {{"user", m.user}, {"role", RoleName(m.role)}, {"added", m.added}});
  }
  j["proposals"] = nlohmann::json::array();
  for (const auto& p : *proposals) {
    j["proposals"].push_back(
        {{"change", MemberChangeName(p.change)},
         {"user", p.user},
         {"proposed_by", p.proposed_by},
         {"proposed", p.proposed},
         {"expires", FormatTime(p.expires_unix * 1000000)}});
  }
  j["evidence"] = nlohmann::json::array();
  for (const auto& it : *items) {
    nlohmann::json custody = nlohmann::json::array();
    for (const auto& e : it.custody) {
      custody.push_back({{"index", e.index},
                         {"kind", e.kind},
                         {"time", e.time},
                         {"actor", e.actor},
                         {"case", e.case_id}});
    }
    j["evidence"].push_back({{"address", it.address},
                             {"size", it.size},
                             {"md5", it.md5},
                             {"sha1", it.sha1},
                             {"custody", custody}});
  }
  if (g.json) {
    PrintJson(j);
    return 0;
  }
  std::cout << "case " << (*c)->id << " (" << CaseStatusName((*c)->status)
            << ")\n  title:       " << (*c)->title
            << "\n  offence:     " << OffenceName((*c)->offence)
            << "\n  legal basis: " << (*c)->legal_basis
            << "\n  opened:      " << (*c)->opened << " by " << (*c)->opened_by
            << "\n  lead:        "
            << ((*c)->lead.empty() ? "none (two members must agree)"
                                   : (*c)->lead)
            << "\nmembers:\n";
  for (const auto& m : *members) {
    std::cout << "  " << m.user << " (" << RoleName(m.role) << ")\n";
  }
  if (!proposals->empty()) std::cout << "proposed, awaiting a second member:\n";
  for (const auto& p : *proposals) {
    std::cout << "  " << MemberChangeName(p.change) << " " << p.user << ", by "
              << p.proposed_by << ", until "
              << FormatTime(p.expires_unix * 1000000) << "\n";
  }
  std::cout << "evidence:\n";
  for (const auto& it : *items) {
    std::cout << "  " << it.address << "  " << it.size << " bytes\n";
    for (const auto& e : it.custody) {
      std::cout << "    #" << e.index << " " << e.time << " " << e.kind << " "
                << e.actor << "\n";
    }
  }
  return 0;
}

int RunMember(const Globals& g, const std::string& id, const std::string& user,
              MemberChange change) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  CaseBook book(node->get());
  Status s = change == MemberChange::kAdd ? book.AddMember(g.actor, id, user)
             : change == MemberChange::kRemove
                 ? book.RemoveMember(g.actor, id, user)
                 : book.SetLead(g.actor, id, user);
  if (!s.ok()) return Fail(s);
  if (g.json) {
    nlohmann::json j = {{"case", id}, {"user", user}};
    if (change == MemberChange::kLead) {
      j["lead"] = true;
    } else {
      j["member"] = change == MemberChange::kAdd;
    }
    PrintJson(j);
  } else if (change == MemberChange::kLead) {
    std::cout << user << " leads " << id << "\n";
  } else {
    bool add = change == MemberChange::kAdd;
    std::cout << (add ? "added " : "removed ") << user
              << (add ? " to " : " from ") << id << "\n";
  }
  return 0;
}

int RunStatus(const Globals& g, const std::string& id, CaseStatus status,
              const std::string& reason) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto c = CaseBook(node->get()).SetStatus(g.actor, id, status, reason);
  if (!c.ok()) return Fail(c.status());
  if (g.json) {
    PrintJson(CaseToJson(*c));
  } else {
    std::cout << "case " << id << " is " << CaseStatusName(status) << "\n";
  }
  return 0;
}

}  // namespace

void AddCaseCommands(CLI::App& app, Globals& g, CaseArgs& a, int& rc) {
  auto* kase = app.add_subcommand("case", "open and manage cases");
  kase->require_subcommand(1);

  auto* open = kase->add_subcommand("open", "open a case");
  open->add_option("id", a.id,
                   "case id, e.g. KW-2026-0042 (default: the next "
                   "<YEAR>-<NNNN>)");
  open->add_option("--title", a.title, "what the case is about")->required();
  open->add_option("--offence", a.offence,
                   "cybercrime, terrorism, terrorist-financing or other")
      ->required();
  open->add_option("--legal-basis", a.legal_basis,
                   "e.g. \"Budapest Convention art. 29\"")
      ->required();
  open->add_option("--lead", a.lead,
                   "the user who leads the case: its first member, who adds "
                   "the others");
  open->callback([&] { rc = RunCaseOpen(g, a); });

  kase->add_subcommand("list", "list cases")->callback([&] {
    rc = RunCaseList(g);
  });
  auto* show = kase->add_subcommand("show", "a case, its members and evidence");
  show->add_option("id", a.id, "case id")->required();
  show->callback([&] { rc = RunCaseShow(g, a.id); });

  auto* close = kase->add_subcommand(
      "close", "close a case: no more evidence, uploads or requests");
  close->add_option("id", a.id, "case id")->required();
  close->add_option("--reason", a.reason, "why")->required();
  close->callback(
      [&] { rc = RunStatus(g, a.id, CaseStatus::kClosed, a.reason); });
  auto* reopen = kase->add_subcommand("reopen", "reopen a closed case");
  reopen->add_option("id", a.id, "case id")->required();
  reopen->add_option("--reason", a.reason, "why")->required();
  reopen->callback(
      [&] { rc = RunStatus(g, a.id, CaseStatus::kOpen, a.reason); });

  auto* add = kase->add_subcommand("add-member", "give a user access");
  add->add_option("id", a.id, "case id")->required();
  add->add_option("user", a.user, "user name")->required();
  add->callback([&] { rc = RunMember(g, a.id, a.user, MemberChange::kAdd); });
  auto* remove =
      kase->add_subcommand("remove-member", "withdraw a user's access");
  remove->add_option("id", a.id, "case id")->required();
  remove->add_option("user", a.user, "user name")->required();
  remove->callback(
      [&] { rc = RunMember(g, a.id, a.user, MemberChange::kRemove); });
  auto* lead =
      kase->add_subcommand("lead", "hand the case's lead to another member");
  lead->add_option("id", a.id, "case id")->required();
  lead->add_option("user", a.user, "user name")->required();
  lead->callback([&] { rc = RunMember(g, a.id, a.user, MemberChange::kLead); });
}

}  // namespace amanah
