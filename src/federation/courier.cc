#include "federation/courier.h"

#include <map>
#include <memory>
#include <set>

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
  ASSIGN_OR_RETURN(std::vector<OutboxItem> due, Mailroom(node_).Due());
  std::map<std::string, std::unique_ptr<PeerClient>> clients;
  std::set<std::string> unreachable;  // give up on a peer for this round
  int delivered = 0;
  for (const OutboxItem& item : due) {
    if (unreachable.count(item.peer)) continue;
    auto& client = clients[item.peer];
    if (!client) {
      ASSIGN_OR_RETURN(std::optional<Peer> peer,
                       PeerBook(node_).Find(item.peer));
      if (peer)
        client = std::make_unique<PeerClient>(*peer, timeout_,
                                              node_->tls_identity());
    }
    Status s = DeliverWith(client.get(), item);
    if (s.ok()) {
      ++delivered;
    } else if (s.code() == Code::kUnavailable) {
      unreachable.insert(item.peer);
    }
  }
  return delivered;
}

}  // namespace amanah
