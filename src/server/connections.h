// The HTTP server's connections: how many one address may have served at
// once, and how long a request may take to arrive.
//
// cpp-httplib gives each connection a thread of its pool from accept to
// close and only bounds each read, so a client that opens many connections
// and sends its headers a byte at a time holds every thread. Here a
// connection is served only while its address has fewer than per_address
// connections served; the others wait unread (holding no thread), and
// beyond waiting_per_address they are refused. Each served connection is
// read with deadlines: its request line and headers within header_timeout,
// a body other than an upload's within body_timeout, and every read and
// write within idle_timeout, so an upload streams for as long as its data
// keeps coming.

#ifndef AMANAH_SERVER_CONNECTIONS_H_
#define AMANAH_SERVER_CONNECTIONS_H_

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace httplib {
class Server;
}

namespace amanah {

struct ConnectionLimits {
  // Threads serving connections, over all addresses.
  size_t threads = 256;
  // Connections served at once per address (an IPv6 /64 counts as one):
  // an eighth of the threads, so that one address cannot hold them all,
  // and enough for a busy client (a peer's courier, an agency's users
  // behind one address).
  size_t per_address = 32;
  // Connections that wait, unread, for one of their address's to end;
  // beyond these they are refused with a 503. A connection that waits
  // longer than header_timeout is closed unread.
  size_t waiting_per_address = 64;
  size_t waiting_total = 4096;
  // A request's line and headers must arrive within this of its first
  // byte (of the connection being accepted, for the first request).
  std::chrono::milliseconds header_timeout = std::chrono::seconds(10);
  // A body other than an upload's must arrive within this of its headers.
  std::chrono::milliseconds body_timeout = std::chrono::seconds(30);
  // No read or write waits longer than this.
  std::chrono::milliseconds idle_timeout = std::chrono::seconds(30);
  // How long a kept-alive connection waits for its next request; idle for
  // a tenth of a second, it gives way to a connection of its address that
  // waits.
  std::chrono::milliseconds keep_alive = std::chrono::seconds(5);
};

// What happened to connections, for /metrics.
struct ConnectionCounters {
  std::atomic<uint64_t> refused{0};    // over waiting_per_address or _total
  std::atomic<uint64_t> timed_out{0};  // a deadline passed mid-request
};

// Which connections are served, which wait and which are refused, per
// address block (see AddressBlock). No I/O: the caller serves, parks and
// closes the sockets. Thread-safe.
class ConnectionGate {
 public:
  using Clock = std::chrono::steady_clock;
  struct Waiting {
    int socket;
    Clock::time_point since;
  };
  enum class Admission { kServe, kWait, kRefuse };

  explicit ConnectionGate(const ConnectionLimits& limits) : limits_(limits) {}

  // A connection from `block` arrived at `since`: kServe counts it served;
  // kWait keeps it until Leave hands it over; kRefuse leaves it to the
  // caller to refuse.
  Admission Arrive(const std::string& block, int socket,
                   Clock::time_point since);
  // A served connection from `block` ended: the longest waiting one of the
  // same block, now counted served in its place, if any.
  std::optional<Waiting> Leave(const std::string& block);
  // Whether a connection of `block` waits for a turn.
  bool HasWaiting(const std::string& block) const;
  // All the waiting connections, taken out (the server is stopping).
  std::vector<int> TakeAllWaiting();

  size_t served(const std::string& block) const;
  size_t waiting() const;

 private:
  struct Block {
    size_t served = 0;
    std::deque<Waiting> waiting;
  };
  const ConnectionLimits limits_;
  mutable std::mutex mu_;
  std::map<std::string, Block> blocks_;
  size_t waiting_ = 0;
};

// cpp-httplib's server, over TLS with this certificate and key if they are
// given (check is_valid()), serving its connections within `limits`.
// `counters` may be null, else must outlive the server.
std::unique_ptr<httplib::Server> NewGuardedServer(
    const ConnectionLimits& limits, ConnectionCounters* counters,
    const std::string& tls_cert = "", const std::string& tls_key = "");

// Called on a request's thread once its headers are read (the pre-routing
// handler): the body must now arrive within body_timeout or, if
// `streamed`, only each read within idle_timeout.
void RequestHeadersRead(bool streamed);
// Whether the request this thread serves failed because a deadline passed
// (its headers or body did not arrive in time).
bool RequestTimedOut();

}  // namespace amanah

#endif  // AMANAH_SERVER_CONNECTIONS_H_
