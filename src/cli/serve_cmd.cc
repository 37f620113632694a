// amanah serve

#include <pthread.h>
#include <signal.h>

#include <iostream>
#include <thread>

#include "app/users.h"
#include "cli/common.h"
#include "crypto/password.h"
#include "server/server.h"

namespace amanah {

namespace {

Result<std::pair<std::string, int>> ParseListen(const std::string& listen) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return Status::InvalidInput(
        "--listen takes HOST:PORT, e.g. 127.0.0.1:8470");
  }
  std::string port = listen.substr(colon + 1);
  if (port.empty() || port.size() > 5 ||
      port.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(port) > 65535) {
    return Status::InvalidInput("--listen: port must be 0 to 65535");
  }
  return std::make_pair(listen.substr(0, colon), std::stoi(port));
}

// On a node without users, makes the first admin and returns its password
// (printed once, never stored in clear).
Result<std::optional<std::string>> FirstAdmin(Node* node,
                                              const std::string& actor) {
  UserDirectory users(node);
  ASSIGN_OR_RETURN(auto list, users.List());
  if (!list.empty()) return std::optional<std::string>();
  std::string password = NewBearerToken("").substr(0, 24);
  RETURN_IF_ERROR(users.AddFirstAdmin(actor, "admin", password).status());
  return std::optional<std::string>(password);
}

int RunServe(const Globals& g, const ServeArgs& a) {
  const std::string& listen = a.listen;
  auto addr = ParseListen(listen);
  if (!addr.ok()) return Fail(addr.status());
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto admin = FirstAdmin(node->get(), g.actor);
  if (!admin.ok()) return Fail(admin.status());

  // SIGINT and SIGTERM stop the server cleanly: blocked here, before any
  // server thread exists, and waited for on a thread of their own.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  ServerOptions o;
  o.host = addr->first;
  o.port = addr->second;
  o.tls_cert = a.tls_cert;
  o.tls_key = a.tls_key;
  if (a.tls) {
    if (!a.tls_cert.empty() || !a.tls_key.empty()) {
      return Fail(Status::InvalidInput(
          "--tls serves the node's own certificate; --tls-cert and --tls-key "
          "name another"));
    }
    const TlsIdentity& own = (*node)->tls_identity();
    if (own.empty()) {
      return Fail(Status::NotFound(
          "this node has no keys/tls.pem and keys/tls.key (it was made "
          "before nodes had them): give --tls-cert and --tls-key"));
    }
    o.tls_cert = own.cert;
    o.tls_key = own.key;
  }
  if (a.witness_interval < 0 || a.witness_interval > 86400) {
    return Fail(
        Status::InvalidInput("--witness-interval is 0 (off) to 86400 seconds"));
  }
  o.witness_interval = std::chrono::milliseconds(
      static_cast<int64_t>(a.witness_interval * 1000));
  auto server = ApiServer::Create(node->get(), o);
  if (!server.ok()) return Fail(server.status());
  std::cout << "amanah serving node " << (*node)->info().name << " at "
            << (*server)->url() << "\n";
  if (admin->has_value()) {
    std::cout << "first admin: user \"admin\", password \"" << **admin
              << "\"\n(shown only now; sign in with POST /api/v1/sessions "
                 "and add users)\n";
  }
  std::cout.flush();
  std::thread waiter([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    (*server)->Stop();
  });
  Status s = (*server)->Run();
  pthread_kill(waiter.native_handle(), SIGTERM);
  waiter.join();
  if (!s.ok()) return Fail(s);
  return 0;
}

}  // namespace

void AddServeCommand(CLI::App& app, Globals& g, ServeArgs& a, int& rc) {
  auto* serve = app.add_subcommand(
      "serve", "serve the HTTP API and the custody log (tlog-tiles)");
  serve->add_option("--listen", a.listen, "HOST:PORT (default 127.0.0.1:8470)");
  serve->add_option("--tls-cert", a.tls_cert, "PEM certificate chain");
  serve->add_option("--tls-key", a.tls_key, "PEM private key");
  serve->add_flag("--tls", a.tls,
                  "serve https with the node's own certificate "
                  "(keys/tls.pem), the one its peers pin");
  serve->add_option("--witness-interval", a.witness_interval,
                    "seconds between submissions of the latest checkpoint to "
                    "peers for cosigning (default 5; 0: never)");
  serve->callback([&] { rc = RunServe(g, a); });
}

}  // namespace amanah
