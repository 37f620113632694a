// amanah serve: the node's HTTP API (JSON under /api/v1, RFC 9457 problem
// documents for every error), its custody log as C2SP tlog-tiles under
// /log/, /healthz and /metrics. A thin edge over app/: handlers check who
// is asking and what their role and case allow, then call the use cases.

#ifndef AMANAH_SERVER_SERVER_H_
#define AMANAH_SERVER_SERVER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "app/node.h"
#include "app/sign_in_throttle.h"
#include "server/connections.h"

namespace amanah {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8470;       // 0: any free port (see ApiServer::port())
  std::string tls_cert;  // PEM files; both or neither
  std::string tls_key;
  size_t max_json_body = 1 << 20;
  // Threads, connections per address, and the header, body and idle
  // timeouts (see ConnectionLimits).
  ConnectionLimits connections;
  // How often the latest checkpoint is submitted to peers for cosigning;
  // zero: never.
  std::chrono::milliseconds witness_interval = std::chrono::seconds(5);
  // How often the outbox is looked at for messages due; zero: never.
  std::chrono::milliseconds courier_interval = std::chrono::seconds(1);
  // How often evidence delivered by peers is looked at for pulls due;
  // zero: never.
  std::chrono::milliseconds fetch_interval = std::chrono::seconds(1);
  // How sign-ins are throttled (per name and address, per address, per
  // name); password checks run at most one per CPU at once.
  SignInThrottleOptions sign_in;
  // Receives one JSON line per request; null writes to stderr.
  std::function<void(const std::string&)> access_log;
};

class ApiServer {
 public:
  // Binds the port; the node must outlive the server.
  static Result<std::unique_ptr<ApiServer>> Create(Node* node,
                                                   ServerOptions options);
  ~ApiServer();

  int port() const;
  std::string url() const;
  // Serves until Stop(); returns once stopped.
  Status Run();
  void Stop();

 private:
  struct Impl;
  explicit ApiServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace amanah

#endif  // AMANAH_SERVER_SERVER_H_
