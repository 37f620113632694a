// Test support for the CLI tests: running the amanah binary as a user
// would, and `amanah serve` processes on loopback. Included only by tests.

#ifndef AMANAH_CLI_TESTUTIL_H_
#define AMANAH_CLI_TESTUTIL_H_

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "storage/testutil.h"

namespace amanah::testutil {

struct Outcome {
  int code;
  std::string out;
  std::string err;
};

// Runs `command` through the shell; stderr goes through `err_file`.
inline Outcome RunCommand(const std::string& command,
                          const std::filesystem::path& err_file) {
  std::string cmd = command + " 2>" + err_file.string();
  Outcome r;
  FILE* p = ::popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.out.append(buf, n);
  int status = ::pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_file);
  r.err.assign((std::istreambuf_iterator<char>(e)), {});
  return r;
}

// Runs `amanah --data DATA ARGS` through the shell (ARGS may redirect).
inline Outcome RunAmanah(const std::filesystem::path& data,
                         const std::string& args,
                         const std::filesystem::path& err_file) {
  return RunCommand(
      std::string(AMANAH_BINARY) + " --data " + data.string() + " " + args,
      err_file);
}

// A port that was free a moment ago.
inline int FreePort() {
  int s = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  socklen_t len = sizeof(a);
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

// Nodes in directories of their own under dir_, served by `amanah serve`
// processes on loopback that this test starts, stops (SIGTERM) and kills
// (SIGKILL) as an operator, or a power cut, would.
class ServingNodesTest : public TempDirTest {
 protected:
  struct NodeProc {
    std::string name;
    std::filesystem::path data;
    int port = 0;
    pid_t pid = 0;
    std::string key;  // verifier key
    std::string tls;  // "--tls-cert C --tls-key K", or empty
    std::string url() const {
      return std::string(tls.empty() ? "http" : "https") +
             "://127.0.0.1:" + std::to_string(port);
    }
  };

  void TearDown() override {
    for (auto& [name, n] : nodes_) Stop(n);
    TempDirTest::TearDown();
  }

  Outcome Amanah(const std::filesystem::path& data, const std::string& args) {
    return RunAmanah(data, args, dir_ / "stderr");
  }

  // `amanah init` of a node `name` in dir_/name, on a free port.
  NodeProc& Init(const std::string& name) {
    NodeProc& n = nodes_[name];
    n.name = name;
    n.data = dir_ / name;
    n.port = FreePort();
    EXPECT_EQ(Amanah(n.data, "init --name " + name).code, 0);
    std::ifstream k(n.data / "keys" / "verifier.key");
    std::getline(k, n.key);
    return n;
  }

  // Starts `amanah serve` on `n` (a child of this process, output appended
  // to dir_/NAME.log) and waits until /healthz answers. Returns the seconds
  // that took, or -1 after adding a failure if it did not serve within
  // `timeout_s`.
  double Start(NodeProc& n, double timeout_s = 10) {
    std::string log = (dir_ / (n.name + ".log")).string();
    std::vector<std::string> args = {
        AMANAH_BINARY,        "--data",
        n.data.string(),      "serve",
        "--listen",           "127.0.0.1:" + std::to_string(n.port),
        "--witness-interval", witness_interval_};
    if (!n.tls.empty()) {
      std::istringstream words(n.tls);
      for (std::string w; words >> w;) args.push_back(w);
    }
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    auto begin = std::chrono::steady_clock::now();
    pid_t parent = ::getpid();
    n.pid = ::fork();
    if (n.pid == 0) {
      // The node dies with the test, should the test be killed (a timeout)
      // before it stops the node.
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
      if (fd < 0 || ::dup2(fd, 1) < 0 || ::dup2(fd, 2) < 0) ::_exit(127);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    if (n.pid < 0) {
      n.pid = 0;
      ADD_FAILURE() << "cannot start " << AMANAH_BINARY << ": " << errno;
      return -1;
    }
    httplib::Client c(n.url());
    c.enable_server_certificate_verification(false);
    c.set_connection_timeout(1);
    while (std::chrono::steady_clock::now() - begin <
           std::chrono::duration<double>(timeout_s)) {
      if (auto r = c.Get("/healthz"); r && r->status == 200) {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() -
                                             begin)
            .count();
      }
      int status;
      if (::waitpid(n.pid, &status, WNOHANG) == n.pid) {
        n.pid = 0;
        break;  // it exited
      }
      ::usleep(5000);
    }
    std::ifstream in(log);
    ADD_FAILURE() << n.name << " did not start: "
                  << std::string((std::istreambuf_iterator<char>(in)), {});
    return -1;
  }

  // kill -9: no chance to finish anything.
  void Kill(NodeProc& n) {
    if (n.pid <= 0) return;
    ::kill(n.pid, SIGKILL);
    ::waitpid(n.pid, nullptr, 0);
    n.pid = 0;
  }

  // SIGTERM, as an operator stops a node; SIGKILL after 30 s (a failure).
  void Stop(NodeProc& n) {
    if (n.pid <= 0) return;
    ::kill(n.pid, SIGTERM);
    for (int i = 0; i < 3000; ++i) {
      if (::waitpid(n.pid, nullptr, WNOHANG) == n.pid) {
        n.pid = 0;
        return;
      }
      ::usleep(10000);
    }
    ADD_FAILURE() << n.name << " did not stop within 30 s of SIGTERM";
    Kill(n);
  }

  // A self-signed certificate for 127.0.0.1; sets n.tls and returns the
  // certificate's path.
  std::string ServeTls(NodeProc& n) {
    std::string cert = (dir_ / (n.name + ".pem")).string();
    std::string key = (dir_ / (n.name + ".key")).string();
    EXPECT_EQ(std::system(("openssl req -x509 -newkey ec -pkeyopt "
                           "ec_paramgen_curve:P-256 -nodes -days 2 -subj "
                           "/CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 "
                           "-keyout " +
                           key + " -out " + cert + " 2>/dev/null")
                              .c_str()),
              0);
    n.tls = "--tls-cert " + cert + " --tls-key " + key;
    return cert;
  }

  // `args` on `n`'s data directory, as JSON; fails the test on an error.
  nlohmann::json Json(const NodeProc& n, const std::string& args) {
    Outcome o = Amanah(n.data, "--json " + args);
    EXPECT_EQ(o.code, 0) << args << ": " << o.err;
    auto j = nlohmann::json::parse(o.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << o.out;
    return j;
  }

  // Adds a token-only user with `role` to `n` (stopped) the way a person
  // enrols: the admin adds the account, whose one-time secret the person
  // redeems for a first API token. Returns the token.
  std::string AddTokenUser(const NodeProc& n, const std::string& user,
                           const std::string& role) {
    Outcome o = Amanah(n.data, "user add " + user + " --role " + role +
                                   " 2>/dev/null | " + AMANAH_BINARY +
                                   " --data " + n.data.string() +
                                   " user enrol " + user + " --token --days 2");
    EXPECT_EQ(o.code, 0) << o.err;
    while (!o.out.empty() && o.out.back() == '\n') o.out.pop_back();
    return o.out;
  }

  // The legal fields of a request, as JSON.
  static const char* FieldsJson() {
    return R"({
    "requesting_authority": {"name": "CCD Kuwait", "time_zone": "Asia/Kuwait"},
    "requested_authority": {"name": "DOJ CCIPS", "time_zone": "America/New_York"},
    "offence": {"en": "Fraud", "ar": "احتيال"},
    "summary_of_facts": {"en": "Phishing of bank customers"},
    "data_requested": {"en": "Subscriber of an e-mail account"}})";
  }

  // Writes the legal fields of a request to fields.json; returns its path.
  std::string Fields() {
    std::ofstream(dir_ / "fields.json") << FieldsJson();
    return (dir_ / "fields.json").string();
  }

  std::map<std::string, NodeProc> nodes_;
  // `amanah serve --witness-interval`, in seconds.
  std::string witness_interval_ = "0.2";
};

}  // namespace amanah::testutil

#endif  // AMANAH_CLI_TESTUTIL_H_
