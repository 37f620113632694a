#include "federation/courier.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "app/exchange.h"
#include "federation/peer_client.h"

namespace amanah {

namespace {

constexpr size_t kMaxReceipt = 1 << 20;
constexpr size_t kMaxBatchAnswer = 64 << 20;
constexpr char kMessageType[] = "application/vnd.amanah.message+json";
constexpr char kBatchType[] = "application/json";

Status Refused(const std::string& peer, int status, const std::string& body) {
  return Status::Conflict(peer + " refused the message: HTTP " +
                          std::to_string(status) + " " + body.substr(0, 300));
}

}  // namespace

Status Courier::DeliverWith(PeerClient* client, const OutboxItem& item) {
  Mailroom mail(node_);
  Status s;
  if (client == nullptr) {
    s = Status::NotFound("the peer " + item.peer + " is no longer pinned");
  } else {
    httplib::Headers headers = {{"Amanah-Signature", item.signature}};
    auto res = client->http().Post("/federation/v1/messages", headers,
                                   item.body, kMessageType);
    if (!res) {
      s = Status::Unavailable(client->Describe(res));
    } else if (res->status != 200) {
      s = Refused(item.peer, res->status, res->body);
    } else if (res->body.size() > kMaxReceipt) {
      s = Status::Corruption(item.peer + " answered with over 1 MiB");
    } else {
      s = mail.AcceptReceipt(item.id, res->body);
    }
  }
  if (!s.ok()) RETURN_IF_ERROR(mail.NoteFailure(item.id, s.message()));
  return s;
}

std::vector<Status> Courier::DeliverBatch(
    PeerClient* client, const std::vector<const OutboxItem*>& items,
    std::atomic<bool>* batches_refused) {
  std::vector<Status> out;
  if (client == nullptr || items.size() == 1 || *batches_refused) {
    for (const OutboxItem* item : items) {
      out.push_back(DeliverWith(client, *item));
    }
    return out;
  }
  std::vector<SignedMessage> batch;
  for (const OutboxItem* item : items) {
    batch.push_back({item->body, item->signature});
  }
  auto res = client->http().Post("/federation/v1/messages/batch",
                                 FormatMessageBatch(batch), kBatchType);
  const std::string& peer = items[0]->peer;
  Status all;  // the outcome of every message, when they share one
  std::vector<std::pair<std::string, std::string>> receipts;
  std::vector<size_t> receipt_of;  // receipts[k] answers items[receipt_of[k]]
  if (!res) {
    all = Status::Unavailable(client->Describe(res));
  } else if (res->status == 404) {
    // A peer that does not take batches yet: one message at a time.
    *batches_refused = true;
    return DeliverBatch(client, items, batches_refused);
  } else if (res->status != 200) {
    all = Refused(peer, res->status, res->body);
  } else if (res->body.size() > kMaxBatchAnswer) {
    all = Status::Corruption(peer + " answered with over 64 MiB");
  } else {
    nlohmann::json j = nlohmann::json::parse(res->body, nullptr, false);
    const nlohmann::json* results = nullptr;
    if (j.is_object() && j.contains("results") && j["results"].is_array() &&
        j["results"].size() == items.size()) {
      results = &j["results"];
    } else {
      all = Status::Corruption(peer +
                               " answered a batch with other than one result "
                               "per message");
    }
    for (size_t i = 0; results != nullptr && i < items.size(); ++i) {
      const nlohmann::json& r = (*results)[i];
      if (r.is_object() && r.contains("receipt") && r["receipt"].is_string()) {
        receipts.emplace_back(items[i]->id, r["receipt"].get<std::string>());
        receipt_of.push_back(i);
        out.push_back(Status::OK());
      } else if (r.is_object() && r.contains("problem") &&
                 r["problem"].is_object()) {
        const nlohmann::json& p = r["problem"];
        int status = p.contains("status") && p["status"].is_number_integer()
                         ? p["status"].get<int>()
                         : 0;
        out.push_back(Refused(peer, status, JsonString(p, "detail")));
      } else {
        out.push_back(Status::Corruption(
            peer + " answered with neither a receipt nor a problem"));
      }
    }
  }
  if (!all.ok()) out.assign(items.size(), all);
  std::vector<Status> accepted = Mailroom(node_).AcceptReceipts(receipts);
  for (size_t k = 0; k < accepted.size(); ++k) {
    out[receipt_of[k]] = accepted[k];
  }
  for (size_t i = 0; i < items.size(); ++i) {
    if (out[i].ok()) continue;
    Status noted = Mailroom(node_).NoteFailure(items[i]->id, out[i].message());
    if (!noted.ok()) out[i] = noted;
  }
  return out;
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
    // Up to kConnections batches in flight to each peer, each on a
    // connection of its own, so that the two sides' custody entries share
    // group commits. A batch holds the next message of several
    // conversations; a conversation whose message was delivered goes back
    // in line with its next one, and one whose message failed waits for
    // the next round.
    size_t workers = std::min<size_t>(kConnections, lanes.size());
    std::mutex mu;
    std::deque<size_t> ready;                   // guarded by mu
    std::vector<size_t> next(lanes.size(), 0);  // guarded by mu
    for (size_t i = 0; i < lanes.size(); ++i) ready.push_back(i);
    std::atomic<bool> unreachable{false};  // give up for this round
    std::atomic<bool> batches_refused{false};
    const size_t share =
        std::min(kBatchMessages, (lanes.size() + workers - 1) / workers);
    auto work = [&] {
      std::unique_ptr<PeerClient> client;
      if (peer) {
        client = std::make_unique<PeerClient>(*peer, timeout_,
                                              node_->tls_identity());
      }
      while (!unreachable) {
        std::vector<size_t> taken;
        std::vector<const OutboxItem*> items;
        {
          std::lock_guard<std::mutex> l(mu);
          // An even share of the round, so that the workers' batches
          // travel side by side; a body too large to share a batch goes
          // alone.
          size_t bytes = 0;
          while (!ready.empty() && taken.size() < share) {
            const OutboxItem* item = lanes[ready.front()][next[ready.front()]];
            if (!taken.empty() && bytes + item->body.size() > kBatchBytes) {
              break;
            }
            bytes += item->body.size();
            taken.push_back(ready.front());
            items.push_back(item);
            ready.pop_front();
          }
        }
        if (items.empty()) return;
        std::vector<Status> results =
            DeliverBatch(client.get(), items, &batches_refused);
        std::lock_guard<std::mutex> l(mu);
        for (size_t k = 0; k < taken.size(); ++k) {
          if (results[k].code() == Code::kUnavailable) unreachable = true;
          if (!results[k].ok()) continue;  // the rest of it waits
          ++delivered;
          if (++next[taken[k]] < lanes[taken[k]].size()) {
            ready.push_back(taken[k]);
          }
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
