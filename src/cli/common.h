// What the CLI's command files share.

#ifndef AMANAH_CLI_COMMON_H_
#define AMANAH_CLI_COMMON_H_

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "app/node.h"

namespace amanah {

struct Globals {
  std::string data;
  std::string actor;  // LocalActor()
  bool json = false;
};

// The actor of every custody entry the CLI writes: "local:" and the login
// name of the effective uid in the passwd database, or "local:uid<N>" for a
// uid without an entry there. Never taken from the environment ($USER) or
// an option: whoever runs the CLI cannot write another actor into the log.
std::string LocalActor();

// Prints "amanah: <code>: <message>" on stderr; returns the exit code.
inline int Fail(const Status& s) {
  std::fprintf(stderr, "amanah: %s\n", s.ToString().c_str());
  return ExitCodeFor(s.code());
}

inline void PrintJson(const nlohmann::json& j) {
  std::cout << j.dump(2) << "\n";
}

inline Result<std::unique_ptr<Node>> OpenNode(const Globals& g) {
  return Node::Open(Env::Default(), g.data);
}

// The options of `amanah user ...`, owned by Main for the parse.
struct UserArgs {
  std::string name, role, label;
  bool token = false;
  int64_t days = 90;
};

struct CaseArgs {
  std::string id, title, offence, legal_basis, user, reason, lead;
};

// `amanah case ...` (cases_cmd.cc).
void AddCaseCommands(CLI::App& app, Globals& g, CaseArgs& a, int& rc);

struct RequestArgs {
  std::string case_id, type, profile, direction, reference, fields, id, to,
      reason, peer;
  std::vector<std::string> items;
  bool again = false;
};

// `amanah request ...` (requests_cmd.cc).
void AddRequestCommands(CLI::App& app, Globals& g, RequestArgs& a, int& rc);

struct ServeArgs {
  std::string listen = "127.0.0.1:8470";
  std::string tls_cert, tls_key;
  bool tls = false;  // serve with keys/tls.pem and keys/tls.key
  double witness_interval = 5;
};

// `amanah serve` (serve_cmd.cc).
void AddServeCommand(CLI::App& app, Globals& g, ServeArgs& a, int& rc);

struct PeerArgs {
  std::string name, url, key, tls_pin, tls_cert, case_id;
  bool all = false;
};

// `amanah peer ...` (peers_cmd.cc).
void AddPeerCommands(CLI::App& app, Globals& g, PeerArgs& a, int& rc);

// `amanah demo` (demo_cmd.cc).
void AddDemoCommand(CLI::App& app, int& rc);

// `amanah user ...` (users_cmd.cc).
void AddUserCommands(CLI::App& app, Globals& g, UserArgs& a, int& rc);

}  // namespace amanah

#endif  // AMANAH_CLI_COMMON_H_
