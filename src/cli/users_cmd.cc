// amanah user add|list|disable|token

#include <iostream>
#include <string>

#include "app/users.h"
#include "cli/common.h"

namespace amanah {

namespace {

// The first line of standard input, without its newline; never echoed and
// never on the command line, where other users could see it.
Result<std::string> ReadPasswordLine() {
  std::string line;
  if (!std::getline(std::cin, line)) {
    return Status::InvalidInput("--password-stdin: no line on standard input");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

nlohmann::json UserJson(const User& u) {
  return {{"name", u.name},
          {"role", RoleName(u.role)},
          {"disabled", u.disabled},
          {"created", u.created}};
}

int RunUserAdd(const Globals& g, const std::string& name,
               const std::string& role_name, bool password_stdin) {
  auto role = ParseRole(role_name);
  if (!role.ok()) return Fail(role.status());
  std::string password;
  if (password_stdin) {
    auto p = ReadPasswordLine();
    if (!p.ok()) return Fail(p.status());
    password = std::move(p).value();
    if (password.empty()) {
      return Fail(Status::InvalidInput("--password-stdin: empty password"));
    }
  }
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  UserDirectory users(node->get());
  auto u = users.Add(g.actor, name, *role, password);
  if (!u.ok()) return Fail(u.status());
  if (g.json) {
    PrintJson(UserJson(*u));
  } else {
    std::cout << "added " << u->name << " (" << RoleName(u->role) << ")"
              << (password.empty() ? ", token only" : "") << "\n";
  }
  return 0;
}

int RunUserList(const Globals& g) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  UserDirectory users(node->get());
  auto list = users.List();
  if (!list.ok()) return Fail(list.status());
  if (g.json) {
    nlohmann::json j = nlohmann::json::array();
    for (const auto& u : *list) j.push_back(UserJson(u));
    PrintJson(j);
    return 0;
  }
  for (const auto& u : *list) {
    std::printf("%-24s %-13s %s%s\n", u.name.c_str(),
                std::string(RoleName(u.role)).c_str(), u.created.c_str(),
                u.disabled ? "  DISABLED" : "");
  }
  return 0;
}

int RunUserDisable(const Globals& g, const std::string& name) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  UserDirectory users(node->get());
  Status s = users.Disable(g.actor, name);
  if (!s.ok()) return Fail(s);
  if (g.json) {
    PrintJson({{"name", name}, {"disabled", true}});
  } else {
    std::cout << "disabled " << name << "; its tokens and sessions are "
              << "revoked\n";
  }
  return 0;
}

int RunUserToken(const Globals& g, const std::string& name,
                 const std::string& label, int64_t days) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  UserDirectory users(node->get());
  auto secret = users.IssueToken(g.actor, name, label, days);
  if (!secret.ok()) return Fail(secret.status());
  if (g.json) {
    PrintJson({{"name", name}, {"token", *secret}, {"days", days}});
  } else {
    std::cout << *secret << "\n";
    std::cerr << "API token for " << name << ", valid " << days
              << " days. It is shown only now: amanah stores only its "
                 "SHA-256.\n";
  }
  return 0;
}

}  // namespace

void AddUserCommands(CLI::App& app, Globals& g, UserArgs& a, int& rc) {
  auto* user = app.add_subcommand("user", "manage users and API tokens");
  user->require_subcommand(1);

  auto& [name, role, label, password_stdin, days] = a;

  auto* add = user->add_subcommand("add", "add a user");
  add->add_option("name", name, "user name")->required();
  add->add_option("--role", role,
                  "admin, poc, investigator, prosecutor, analyst or auditor")
      ->required();
  add->add_flag("--password-stdin", password_stdin,
                "read the password from the first line of standard input "
                "(without it the account can use API tokens only)");
  add->callback([&] { rc = RunUserAdd(g, a.name, a.role, a.password_stdin); });

  user->add_subcommand("list", "list users")->callback([&] {
    rc = RunUserList(g);
  });

  auto* disable = user->add_subcommand(
      "disable", "disable a user and revoke its tokens and sessions");
  disable->add_option("name", name, "user name")->required();
  disable->callback([&] { rc = RunUserDisable(g, a.name); });

  auto* token = user->add_subcommand("token", "issue an API token");
  token->add_option("name", name, "user name")->required();
  token->add_option("--label", label, "what the token is for");
  token->add_option("--days", days, "validity in days (default 90)");
  token->callback([&] { rc = RunUserToken(g, a.name, a.label, a.days); });
}

}  // namespace amanah
