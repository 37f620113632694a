// Signed federation messages delivered and receipted between two nodes on
// loopback (issue #4: >= 2,000 messages/s).
//
//   message_bench [DIR] [MESSAGES]
//
// Two nodes in DIR pin each other; the receiver runs amanah's HTTP server.
// The sender queues MESSAGES messages (each a message.sent custody entry),
// then its courier delivers them: per message a signed POST, the
// receiver's checks, its message.received entry, a receipt with an
// inclusion proof, and the sender's verification and message.delivered
// entry. For reference, in the same run: plain POSTs of the same bodies to
// an httplib handler that does nothing, over the same kind of connection.

#include <httplib.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "app/messages.h"
#include "app/peers.h"
#include "federation/courier.h"
#include "server/server.h"

using namespace amanah;
using Clock = std::chrono::steady_clock;

namespace {

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

std::unique_ptr<Node> MakeNode(const std::string& dir,
                               const std::string& name) {
  auto info = Node::Init(Env::Default(), dir, name);
  if (!info.ok()) std::abort();
  auto node = Node::Open(Env::Default(), dir);
  if (!node.ok()) std::abort();
  return std::move(node).value();
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = argc > 1 ? argv[1] : "/tmp/amanah-message-bench";
  int total = argc > 2 ? std::atoi(argv[2]) : 2000;
  std::filesystem::remove_all(dir);
  auto kw = MakeNode(dir + "/kw", "ccd.moi.gov.kw");
  auto us = MakeNode(dir + "/us", "cyber.doj.example");

  ServerOptions o;
  o.port = 0;
  o.witness_interval = std::chrono::milliseconds(0);
  o.courier_interval = std::chrono::milliseconds(0);
  o.access_log = [](const std::string&) {};
  auto server = ApiServer::Create(us.get(), o);
  if (!server.ok()) return 1;
  std::thread serving([&] { (void)(*server)->Run(); });
  std::string url = (*server)->url();
  if (!PeerBook(kw.get())
           .Add("local:bench", "cyber.doj.example", url,
                us->info().verifier_key, "")
           .ok() ||
      !PeerBook(us.get())
           .Add("local:bench", "ccd.moi.gov.kw", "http://127.0.0.1:9",
                kw->info().verifier_key, "")
           .ok()) {
    return 1;
  }

  nlohmann::json payload = {
      {"request", "R-2026-00001"},
      {"type", "preservation"},
      {"fields", {{"summary_of_facts", {{"en", std::string(600, 'x')}}}}}};
  auto q0 = Clock::now();
  for (int i = 0; i < total; ++i) {
    // Each message about a request of its own: the courier keeps each
    // request's messages in order, and delivers different requests'
    // messages side by side.
    payload["request"] = "R-2026-" + std::to_string(10000 + i);
    if (!Mailroom(kw.get())
             .Enqueue("local:bench", "cyber.doj.example", "request", payload,
                      "")
             .ok()) {
      return 1;
    }
  }
  auto q1 = Clock::now();
  std::printf("queued: %d messages in %.2f s = %.0f /s\n", total,
              Seconds(q0, q1), total / Seconds(q0, q1));

  auto pending = Mailroom(kw.get()).Outbox(true);
  std::string sample_body = (*pending)[0].body;
  auto d0 = Clock::now();
  int delivered = 0;
  int retried = 0;
  while (delivered < total) {
    auto n = Courier(kw.get()).DeliverDue();
    if (n.ok() && *n > 0) {
      delivered += *n;
      continue;
    }
    // What failed waits out its backoff, as under `amanah serve`.
    if (!n.ok() || Seconds(d0, Clock::now()) > 120) {
      std::fprintf(stderr, "delivery stalled at %d: %s\n", delivered,
                   n.ok() ? "" : n.status().ToString().c_str());
      std::_Exit(1);
    }
    ++retried;
    if (retried == 1) {  // why the first stall happened
      auto waiting = Mailroom(kw.get()).Outbox(true);
      if (waiting.ok() && !waiting->empty()) {
        std::fprintf(stderr, "waiting out a backoff: %s\n",
                     waiting->front().last_error.c_str());
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  auto d1 = Clock::now();
  double rate = total / Seconds(d0, d1);
  std::printf(
      "delivered and receipted: %d messages in %.2f s = %.0f /s (%d rounds "
      "found only messages waiting out a backoff)\n",
      total, Seconds(d0, d1), rate, retried);
  (*server)->Stop();
  serving.join();

  // Reference: the same bodies POSTed to a handler that does nothing.
  httplib::Server sink;
  sink.set_tcp_nodelay(true);
  sink.Post("/sink", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("{}", "application/json");
  });
  int port = sink.bind_to_any_port("127.0.0.1");
  std::thread sinking([&] { sink.listen_after_bind(); });
  httplib::Client c("127.0.0.1", port);
  c.set_keep_alive(true);
  c.set_tcp_nodelay(true);
  auto r0 = Clock::now();
  for (int i = 0; i < total; ++i) {
    if (!c.Post("/sink", sample_body, "application/json")) return 1;
  }
  auto r1 = Clock::now();
  double plain = total / Seconds(r0, r1);
  std::printf("plain POSTs of the same bodies: %.0f /s; ratio %.3f\n", plain,
              rate / plain);
  sink.stop();
  sinking.join();
  std::filesystem::remove_all(dir);
  return 0;
}
