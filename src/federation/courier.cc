#include "federation/courier.h"

#include "federation/peer_client.h"

namespace amanah {

namespace {
constexpr size_t kMaxReceipt = 1 << 20;
}  // namespace

Status Courier::Deliver(const OutboxItem& item) {
  Mailroom mail(node_);
  ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node_).Find(item.peer));
  Status s;
  if (!peer) {
    s = Status::NotFound("the peer " + item.peer + " is no longer pinned");
  } else {
    PeerClient client(*peer, timeout_);
    httplib::Headers headers = {{"Amanah-Signature", item.signature}};
    auto res = client.http().Post("/federation/v1/messages", headers, item.body,
                                  "application/json");
    if (!res) {
      s = Status::Unavailable(client.Describe(res));
    } else if (res->status != 200) {
      s = Status::Unavailable(item.peer + " refused the message: HTTP " +
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
  int delivered = 0;
  for (const OutboxItem& item : due) delivered += Deliver(item).ok();
  return delivered;
}

}  // namespace amanah
