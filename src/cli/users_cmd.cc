// amanah user add|list|disable|reenrol|enrol

#include <iostream>
#include <string>

#include "app/users.h"
#include "cli/common.h"

namespace amanah {

namespace {

// The next line of standard input, without its newline; never echoed and
// never on the command line, where other users could see it.
Result<std::string> ReadSecretLine(const char* what) {
  std::string line;
  if (!std::getline(std::cin, line)) {
    return Status::InvalidInput(std::string("no ") + what +
                                " on standard input");
  }
  if (!line.empty() && line.back() == '\r') line.pop_back();
  if (line.empty()) {
    return Status::InvalidInput(std::string("an empty ") + what);
  }
  return line;
}

nlohmann::json UserJson(const User& u) {
  return {{"name", u.name},
          {"role", RoleName(u.role)},
          {"disabled", u.disabled},
          {"created", u.created}};
}

// The secret alone on standard output (for scripts), what to do with it on
// standard error.
void PrintEnrolment(const Globals& g, const Enrolment& e, const char* done) {
  std::string expires = FormatTime(e.expires_unix * 1000000);
  if (g.json) {
    nlohmann::json j = UserJson(e.user);
    j["enrolment_secret"] = e.secret;
    j["enrolment_expires"] = expires;
    PrintJson(j);
    return;
  }
  std::cout << e.secret << "\n";
  std::cerr << done << " " << e.user.name << " (" << RoleName(e.user.role)
            << "). Above is the enrolment secret, valid until " << expires
            << " and shown only now: hand it to " << e.user.name
            << " alone, who sets their own password with it (amanah user "
               "enrol, or POST /api/v1/enrolments).\n";
}

int RunUserAdd(const Globals& g, const std::string& name,
               const std::string& role_name) {
  auto role = ParseRole(role_name);
  if (!role.ok()) return Fail(role.status());
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto e = UserDirectory(node->get()).Add(g.actor, name, *role);
  if (!e.ok()) return Fail(e.status());
  PrintEnrolment(g, *e, "added");
  return 0;
}

int RunUserReenrol(const Globals& g, const std::string& name) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto e = UserDirectory(node->get()).Reissue(g.actor, name);
  if (!e.ok()) return Fail(e.status());
  PrintEnrolment(g, *e,
                 "revoked the password, tokens and sessions of, and took out "
                 "of every case,");
  return 0;
}

// The person enrols: the secret on the first line of standard input, then
// the new password on the second (or, with --token, none: the account is
// token-only and its first API token is printed).
int RunUserEnrol(const Globals& g, const UserArgs& a) {
  auto secret = ReadSecretLine("enrolment secret");
  if (!secret.ok()) return Fail(secret.status());
  std::string password;
  if (!a.token) {
    auto p = ReadSecretLine("password (on the line after the secret)");
    if (!p.ok()) return Fail(p.status());
    password = std::move(p).value();
  }
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  UserDirectory users(node->get());
  if (a.token) {
    auto token = users.EnrolWithToken(a.name, *secret, a.label, a.days);
    if (!token.ok()) return Fail(token.status());
    if (g.json) {
      PrintJson({{"name", a.name}, {"token", *token}, {"days", a.days}});
    } else {
      std::cout << *token << "\n";
      std::cerr << "enrolled " << a.name << " as a token-only account. Above "
                << "is its API token, valid " << a.days
                << " days and shown only now: amanah stores only its "
                   "SHA-256.\n";
    }
    return 0;
  }
  auto session = users.Enrol(a.name, *secret, password);
  if (!session.ok()) return Fail(session.status());
  // The console needs no session: the password is what was wanted.
  Status s = users.Logout(*session);
  if (!s.ok()) return Fail(s);
  if (g.json) {
    PrintJson({{"name", a.name}, {"enrolled", true}});
  } else {
    std::cout << "enrolled " << a.name
              << "; sign in with your password (POST /api/v1/sessions)\n";
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

}  // namespace

void AddUserCommands(CLI::App& app, Globals& g, UserArgs& a, int& rc) {
  auto* user = app.add_subcommand("user", "manage users; enrol");
  user->require_subcommand(1);

  auto* add = user->add_subcommand(
      "add", "add a user; prints the one-time enrolment secret to hand over");
  add->add_option("name", a.name, "user name")->required();
  add->add_option("--role", a.role,
                  "admin, poc, investigator, prosecutor, analyst or auditor")
      ->required();
  add->callback([&] { rc = RunUserAdd(g, a.name, a.role); });

  user->add_subcommand("list", "list users")->callback([&] {
    rc = RunUserList(g);
  });

  auto* disable = user->add_subcommand(
      "disable", "disable a user and revoke its tokens and sessions");
  disable->add_option("name", a.name, "user name")->required();
  disable->callback([&] { rc = RunUserDisable(g, a.name); });

  auto* reenrol = user->add_subcommand(
      "reenrol",
      "a new enrolment secret for a forgotten password: revokes the "
      "account's credentials and takes it out of every case");
  reenrol->add_option("name", a.name, "user name")->required();
  reenrol->callback([&] { rc = RunUserReenrol(g, a.name); });

  auto* enrol = user->add_subcommand(
      "enrol",
      "redeem your enrolment secret: the secret on the first line of "
      "standard input, your new password on the second");
  enrol->add_option("name", a.name, "your user name")->required();
  enrol->add_flag("--token", a.token,
                  "a token-only account: no password line; prints the "
                  "account's first API token");
  enrol->add_option("--label", a.label, "with --token: what the token is for");
  enrol->add_option("--days", a.days,
                    "with --token: validity in days (default 90)");
  enrol->callback([&] { rc = RunUserEnrol(g, a); });
}

}  // namespace amanah
