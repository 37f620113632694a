#include "server/connections.h"

#include <fcntl.h>
#include <httplib.h>
#include <netdb.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <type_traits>

#include "app/sign_in_throttle.h"
#include "base/messages.h"

namespace amanah {

ConnectionGate::Admission ConnectionGate::Arrive(const std::string& block,
                                                 int socket,
                                                 Clock::time_point since) {
  std::lock_guard<std::mutex> l(mu_);
  Block& b = blocks_[block];
  if (b.served < limits_.per_address) {
    ++b.served;
    return Admission::kServe;
  }
  if (b.waiting.size() < limits_.waiting_per_address &&
      waiting_ < limits_.waiting_total) {
    b.waiting.push_back({socket, since});
    ++waiting_;
    return Admission::kWait;
  }
  return Admission::kRefuse;
}

std::optional<ConnectionGate::Waiting> ConnectionGate::Leave(
    const std::string& block) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = blocks_.find(block);
  if (it == blocks_.end()) return std::nullopt;
  Block& b = it->second;
  if (!b.waiting.empty()) {
    Waiting next = b.waiting.front();
    b.waiting.pop_front();
    --waiting_;
    return next;  // served in the place of the one that left
  }
  if (b.served > 0) --b.served;
  if (b.served == 0) blocks_.erase(it);
  return std::nullopt;
}

bool ConnectionGate::HasWaiting(const std::string& block) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = blocks_.find(block);
  return it != blocks_.end() && !it->second.waiting.empty();
}

std::vector<int> ConnectionGate::TakeAllWaiting() {
  std::lock_guard<std::mutex> l(mu_);
  std::vector<int> out;
  for (auto& [block, b] : blocks_) {
    for (const Waiting& w : b.waiting) out.push_back(w.socket);
    b.waiting.clear();
  }
  waiting_ = 0;
  return out;
}

size_t ConnectionGate::served(const std::string& block) const {
  std::lock_guard<std::mutex> l(mu_);
  auto it = blocks_.find(block);
  return it == blocks_.end() ? 0 : it->second.served;
}

size_t ConnectionGate::waiting() const {
  std::lock_guard<std::mutex> l(mu_);
  return waiting_;
}

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

std::string NumericAddress(const sockaddr_storage& addr, socklen_t len,
                           int* port) {
  char host[NI_MAXHOST] = "";
  char serv[NI_MAXSERV] = "";
  if (getnameinfo(reinterpret_cast<const sockaddr*>(&addr), len, host,
                  sizeof(host), serv, sizeof(serv),
                  NI_NUMERICHOST | NI_NUMERICSERV) != 0) {
    return "";
  }
  if (port) *port = std::atoi(serv);
  return host;
}

std::string PeerAddress(int sock, int* port = nullptr) {
  sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  if (getpeername(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "";
  }
  return NumericAddress(addr, len, port);
}

std::string LocalAddress(int sock, int* port) {
  sockaddr_storage addr;
  socklen_t len = sizeof(addr);
  if (getsockname(sock, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "";
  }
  return NumericAddress(addr, len, port);
}

void CloseSocket(int sock) {
  ::shutdown(sock, SHUT_RDWR);
  ::close(sock);
}

// A connection's socket (non-blocking), and TLS over it if given a
// context, read and written with deadlines; what httplib's request
// processing reads from and writes to.
class DeadlineStream : public httplib::Stream {
 public:
  DeadlineStream(int sock, const ConnectionLimits& limits)
      : sock_(sock), limits_(limits) {
    int flags = fcntl(sock_, F_GETFL, 0);
    if (flags >= 0) fcntl(sock_, F_SETFL, flags | O_NONBLOCK);
  }
  ~DeadlineStream() override {
    if (ssl_ != nullptr) {
      if (clean_) SSL_shutdown(ssl_);  // one try: the socket never blocks
      SSL_free(ssl_);
    }
  }
  DeadlineStream(const DeadlineStream&) = delete;
  DeadlineStream& operator=(const DeadlineStream&) = delete;

  // Reads must be done by `deadline`; none: only each within idle_timeout.
  void set_deadline(std::optional<Clock::time_point> deadline) {
    deadline_ = deadline;
  }
  bool timed_out() const { return timed_out_; }
  SSL* ssl() const { return ssl_; }
  void set_clean(bool clean) { clean_ = clean; }

  // The TLS handshake, within the deadline.
  bool Handshake(SSL_CTX* ctx) {
    ssl_ = SSL_new(ctx);
    if (ssl_ == nullptr || SSL_set_fd(ssl_, sock_) != 1) return false;
    SSL_set_mode(ssl_, SSL_MODE_ENABLE_PARTIAL_WRITE |
                           SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    for (;;) {
      int r = SSL_accept(ssl_);
      if (r == 1) return true;
      int err = SSL_get_error(ssl_, r);
      if (err == SSL_ERROR_WANT_READ) {
        if (!Wait(POLLIN, true)) return false;
      } else if (err == SSL_ERROR_WANT_WRITE) {
        if (!Wait(POLLOUT, true)) return false;
      } else {
        return false;
      }
    }
  }

  // Whether a byte of a next request is here (or arrives within `wait`).
  bool HasInput(milliseconds wait) {
    if (pos_ < end_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0)) {
      return true;
    }
    pollfd p{sock_, POLLIN, 0};
    int n = ::poll(&p, 1, static_cast<int>(wait.count()));
    return n > 0;
  }

  bool is_readable() const override {
    return pos_ < end_ || (ssl_ != nullptr && SSL_pending(ssl_) > 0) ||
           Wait(POLLIN, true);
  }
  bool is_writable() const override { return Wait(POLLOUT, false); }

  ssize_t read(char* ptr, size_t size) override {
    if (pos_ == end_) {
      if (size >= sizeof(buf_)) return Receive(ptr, size);
      ssize_t n = Receive(buf_, sizeof(buf_));
      if (n <= 0) return n;
      pos_ = 0;
      end_ = static_cast<size_t>(n);
    }
    size_t n = std::min(size, end_ - pos_);
    std::memcpy(ptr, buf_ + pos_, n);
    pos_ += n;
    return static_cast<ssize_t>(n);
  }

  ssize_t write(const char* ptr, size_t size) override {
    size = std::min<size_t>(size, INT_MAX);
    for (;;) {
      if (ssl_ != nullptr) {
        int n = SSL_write(ssl_, ptr, static_cast<int>(size));
        if (n > 0) return n;
        int err = SSL_get_error(ssl_, n);
        short events = err == SSL_ERROR_WANT_WRITE  ? POLLOUT
                       : err == SSL_ERROR_WANT_READ ? POLLIN
                                                    : 0;
        if (events == 0 || !Wait(events, false)) return -1;
      } else {
        ssize_t n = ::send(sock_, ptr, size, MSG_NOSIGNAL);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        if (!Wait(POLLOUT, false)) return -1;
      }
    }
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override {
    ip = PeerAddress(sock_, &port);
  }
  void get_local_ip_and_port(std::string& ip, int& port) const override {
    ip = LocalAddress(sock_, &port);
  }
  socket_t socket() const override { return sock_; }

 private:
  // Waits until the socket is ready for `events`: at most idle_timeout,
  // and for reads (`reading`) not past the deadline.
  bool Wait(short events, bool reading) const {
    for (;;) {
      milliseconds timeout = limits_.idle_timeout;
      if (reading && deadline_) {
        auto left = std::chrono::ceil<milliseconds>(*deadline_ - Clock::now());
        if (left.count() <= 0) {
          timed_out_ = true;
          return false;
        }
        timeout = std::min(timeout, left);
      }
      pollfd p{sock_, events, 0};
      int n = ::poll(&p, 1, static_cast<int>(timeout.count()));
      if (n > 0) return true;
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) timed_out_ = true;
      return false;
    }
  }

  // Reads what is there (after waiting for it): bytes, 0 at the end, -1 on
  // an error or a deadline.
  ssize_t Receive(char* ptr, size_t size) {
    size = std::min<size_t>(size, INT_MAX);
    for (;;) {
      if (ssl_ != nullptr) {
        int n = SSL_read(ssl_, ptr, static_cast<int>(size));
        if (n > 0) return n;
        int err = SSL_get_error(ssl_, n);
        if (err == SSL_ERROR_ZERO_RETURN) return 0;
        short events = err == SSL_ERROR_WANT_READ    ? POLLIN
                       : err == SSL_ERROR_WANT_WRITE ? POLLOUT
                                                     : 0;
        if (events == 0 || !Wait(events, true)) return -1;
      } else {
        ssize_t n = ::recv(sock_, ptr, size, 0);
        if (n >= 0) return n;
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) return -1;
        if (!Wait(POLLIN, true)) return -1;
      }
    }
  }

  const int sock_;
  const ConnectionLimits& limits_;
  SSL* ssl_ = nullptr;
  bool clean_ = false;
  std::optional<Clock::time_point> deadline_;
  mutable bool timed_out_ = false;
  char buf_[16384];
  size_t pos_ = 0;
  size_t end_ = 0;
};

// The stream of the request this thread is serving, for
// RequestHeadersRead.
thread_local DeadlineStream* t_stream = nullptr;
thread_local const ConnectionLimits* t_limits = nullptr;

// httplib's Server or SSLServer, serving each accepted connection itself:
// admitted by the gate, read through a DeadlineStream, its requests handled
// by httplib's process_request.
template <typename Base>
class GuardedServer : public Base {
 public:
  template <typename... Args>
  GuardedServer(const ConnectionLimits& limits, ConnectionCounters* counters,
                Args&&... args)
      : Base(std::forward<Args>(args)...),
        limits_(limits),
        counters_(counters),
        gate_(limits) {}
  ~GuardedServer() override {
    for (int sock : gate_.TakeAllWaiting()) CloseSocket(sock);
  }

 private:
  static constexpr bool kTls = std::is_same_v<Base, httplib::SSLServer>;

  bool Stopping() const { return this->svr_sock_ == INVALID_SOCKET; }

  bool process_and_close_socket(socket_t sock) override {
    auto now = Clock::now();
    std::string block = AddressBlock(PeerAddress(sock));
    switch (gate_.Arrive(block, sock, now)) {
      case ConnectionGate::Admission::kWait:
        return true;  // the gate holds it until a turn comes
      case ConnectionGate::Admission::kRefuse:
        Refuse(sock);
        return false;
      case ConnectionGate::Admission::kServe:
        break;
    }
    std::optional<ConnectionGate::Waiting> next =
        ConnectionGate::Waiting{sock, now};
    while (next) {
      // One that waited past its header deadline is closed unread.
      if (Stopping() || Clock::now() - next->since >= limits_.header_timeout) {
        CloseSocket(next->socket);
      } else {
        Serve(next->socket, next->since, block);
      }
      next = gate_.Leave(block);
    }
    return true;
  }

  // Over the limits: a 503 with Retry-After, best effort, without reading
  // the request (over TLS, just a close: no handshake for a refusal).
  void Refuse(int sock) {
    if (counters_) ++counters_->refused;
    if (!kTls) {
      std::string body =
          R"({"type":"urn:amanah:problem:unavailable","title":")" +
          std::string(CodeTitle(Code::kUnavailable, Lang::kEnglish)) +
          R"(","status":503,"detail":"too many connections from this )"
          R"(address; try again in a moment"})"
          "\n";
      std::string head =
          "HTTP/1.1 503 Service Unavailable\r\n"
          "Content-Type: application/problem+json\r\n"
          "Content-Language: en\r\n"
          "Retry-After: 1\r\n"
          "Connection: close\r\n"
          "Content-Length: " +
          std::to_string(body.size()) + "\r\n\r\n";
      std::string all = head + body;
      (void)::send(sock, all.data(), all.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
      // Closing with the request unread would reset the connection, and
      // the client might lose the answer: take what has arrived.
      ::shutdown(sock, SHUT_WR);
      char sink[4096];
      for (int i = 0;
           i < 16 && ::recv(sock, sink, sizeof(sink), MSG_DONTWAIT) > 0; ++i) {
      }
    }
    CloseSocket(sock);
  }

  void Serve(int sock, Clock::time_point since, const std::string& block) {
    ServeRequests(sock, since, block);
    CloseSocket(sock);
  }

  void ServeRequests(int sock, Clock::time_point since,
                     const std::string& block) {
    DeadlineStream strm(sock, limits_);
    strm.set_deadline(since + limits_.header_timeout);
    bool ok = true;
    if constexpr (kTls) {
      ok = strm.Handshake(this->ssl_context());
    }
    size_t max = std::max<size_t>(this->keep_alive_max_count_, 1);
    for (size_t count = max; ok && count > 0; --count) {
      if (count != max) {
        if (!AwaitNextRequest(strm, block)) break;
        strm.set_deadline(Clock::now() + limits_.header_timeout);
      }
      bool closed = false;
      t_stream = &strm;
      t_limits = &limits_;
      ok = this->process_request(strm, count == 1, closed,
                                 [&](httplib::Request& req) {
                                   if constexpr (kTls) req.ssl = strm.ssl();
                                 });
      t_stream = nullptr;
      t_limits = nullptr;
      if (strm.timed_out()) {
        if (counters_) ++counters_->timed_out;
        break;  // what it sent so far is not worth waiting for
      }
      if (!ok || closed) break;
    }
    strm.set_clean(ok && !strm.timed_out());
  }

  // Waits for a kept-alive connection's next request: false when it does
  // not come in time, the server stops, or, after a tenth of a second
  // idle, a connection of the same address waits for a turn. (A client
  // that keeps its connections busy sends its next request sooner.)
  bool AwaitNextRequest(DeadlineStream& strm, const std::string& block) {
    auto end = Clock::now() + limits_.keep_alive;
    for (;;) {
      if (Stopping()) return false;
      auto left = std::chrono::ceil<milliseconds>(end - Clock::now());
      if (left.count() <= 0) return false;
      if (strm.HasInput(std::min(left, milliseconds(100)))) return true;
      if (gate_.HasWaiting(block)) return false;
    }
  }

  const ConnectionLimits limits_;
  ConnectionCounters* const counters_;
  ConnectionGate gate_;
};

}  // namespace

std::unique_ptr<httplib::Server> NewGuardedServer(
    const ConnectionLimits& limits, ConnectionCounters* counters,
    const std::string& tls_cert, const std::string& tls_key) {
  if (tls_cert.empty()) {
    return std::make_unique<GuardedServer<httplib::Server>>(limits, counters);
  }
  return std::make_unique<GuardedServer<httplib::SSLServer>>(
      limits, counters, tls_cert.c_str(), tls_key.c_str());
}

void RequestHeadersRead(bool streamed) {
  if (t_stream == nullptr) return;
  if (streamed) {
    t_stream->set_deadline(std::nullopt);
  } else {
    t_stream->set_deadline(Clock::now() + t_limits->body_timeout);
  }
}

bool RequestTimedOut() { return t_stream != nullptr && t_stream->timed_out(); }

}  // namespace amanah
