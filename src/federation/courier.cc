#include "federation/courier.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <thread>
#include <vector>

#include "app/exchange.h"
#include "federation/peer_client.h"

namespace amanah {

namespace {
constexpr size_t kMaxReceipt = 1 << 20;
}  // namespace

Status Courier::DeliverWith(PeerClient* client, const OutboxItem& item) {
  Mailroom mail(node_);
  Status s;
  if (client == nullptr) {
    s = Status::NotFound("the peer " + item.peer + " is no longer pinned");
  } else {
    httplib::Headers headers = {{"Amanah-Signature", item.signature}};
    auto res =
        client->http().Post("/federation/v1/messages", headers, item.body,
                            "application/vnd.amanah.message+json");
    if (!res) {
      s = Status::Unavailable(client->Describe(res));
    } else if (res->status != 200) {
      s = Status::Conflict(item.peer + " refused the message: HTTP " +
                           std::to_string(res->status) + " " +
                           res->body.substr(0, 300));
    } else if (res->body.size() > kMaxReceipt) {
      s = Status::Corruption(item.peer + " answered with over 1 MiB");
    } else {
      s = mail.AcceptReceipt(item.id, res->body);
    }
  }
  if (!s.ok()) RETURN_IF_ERROR(mail.NoteFailure(item.id, s.message()));
  return s;
}

Result<int> Courier::DeliverDue() {
  RETURN_IF_ERROR(Exchange(node_).ApplyWaiting());
  ASSIGN_OR_RETURN(std::vector<OutboxItem> due, Mailroom(node_).Due());
  // Per peer, its conversations in the order of their first message; each
  // conversation's messages in order.
  std::map<std::string, std::vector<std::vector<const OutboxItem*>>> by_peer;
  std::map<std::string, size_t> lane_of;
  for (const OutboxItem& item : due) {
    auto& lanes = by_peer[item.peer];
    auto [it, fresh] = lane_of.emplace(item.conversation, lanes.size());
    if (fresh) lanes.emplace_back();
    lanes[it->second].push_back(&item);
  }
  std::atomic<int> delivered{0};
  for (const auto& [name, lanes] : by_peer) {
    ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node_).Find(name));
    // Up to kConnections conversations in flight to each peer, each on a
    // connection of its own: the two sides' custody entries for their
    // messages then share group commits instead of waiting for one another.
    size_t workers = std::min<size_t>(kConnections, lanes.size());
    std::atomic<size_t> next{0};
    std::atomic<bool> unreachable{false};  // give up for this round
    auto work = [&] {
      std::unique_ptr<PeerClient> client;
      if (peer) {
        client = std::make_unique<PeerClient>(*peer, timeout_,
                                              node_->tls_identity());
      }
      for (size_t i = next++; i < lanes.size() && !unreachable; i = next++) {
        for (const OutboxItem* item : lanes[i]) {
          Status s = DeliverWith(client.get(), *item);
          if (s.code() == Code::kUnavailable) unreachable = true;
          if (!s.ok()) break;  // the rest of the conversation waits
          ++delivered;
        }
      }
    };
    std::vector<std::thread> threads;
    for (size_t w = 1; w < workers; ++w) threads.emplace_back(work);
    work();
    for (auto& t : threads) t.join();
  }
  return delivered.load();
}

}  // namespace amanah
