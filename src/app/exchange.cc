#include "app/exchange.h"

#include <mutex>
#include <set>

#include "storage/sqlite/sqlite.h"

namespace amanah {

namespace {

using nlohmann::json;

// The outcome of an update that waits for its request to be filed.
constexpr char kWaiting[] = "waiting: applied once message ";

}  // namespace

std::recursive_mutex& ExchangeMutex() {
  static auto* mu = new std::recursive_mutex;
  return *mu;
}

Result<std::optional<RequestLink>> Exchange::Link(const std::string& id) {
  Statement q(node_->sql(),
              "SELECT peer, remote_id FROM request_links WHERE request_id=?");
  q.Bind(1, id);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<RequestLink>();
  if (rc != SQLITE_ROW) return q.Error();
  return std::optional<RequestLink>(RequestLink{id, q.Text(0), q.Text(1)});
}

Status Exchange::NoteOutcome(const std::string& message_id,
                             const std::string& text) {
  Statement up(
      node_->sql(),
      "INSERT INTO inbox_outcomes(message_id, outcome) VALUES(?,?) "
      "ON CONFLICT(message_id) DO UPDATE SET outcome=excluded.outcome");
  up.Bind(1, message_id);
  up.Bind(2, text);
  return up.Run();
}

Result<std::string> Exchange::Outcome(const std::string& message_id) {
  Statement q(node_->sql(),
              "SELECT outcome FROM inbox_outcomes WHERE message_id=?");
  q.Bind(1, message_id);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::string();
  if (rc != SQLITE_ROW) return q.Error();
  return q.Text(0);
}

Result<std::string> Exchange::Send(const std::string& actor,
                                   const std::string& id,
                                   const std::string& peer) {
  std::lock_guard<std::recursive_mutex> one_at_a_time(ExchangeMutex());
  RequestBook book(node_);
  ASSIGN_OR_RETURN(std::optional<Request> r, book.Get(id));
  if (!r) return Status::NotFound("no request " + id);
  if (r->direction != Direction::kOutgoing) {
    return Status::InvalidInput(id + " is an incoming request");
  }
  RETURN_IF_ERROR(CheckTransition(r->state, RequestState::kSent, r->type,
                                  r->profile, r->extensions, ""));
  ASSIGN_OR_RETURN(std::optional<Peer> p, PeerBook(node_).Find(peer));
  if (!p) return Status::NotFound("no peer named " + peer);
  json payload = {{"request", r->id},
                  {"type", RequestTypeName(r->type)},
                  {"profile", ProfileName(r->profile)},
                  {"reference", r->reference},
                  {"fields", r->fields}};
  Statement link(node_->sql(),
                 "INSERT OR REPLACE INTO request_links(request_id, peer, "
                 "remote_id) VALUES(?,?,'')");
  link.Bind(1, id);
  link.Bind(2, peer);
  RETURN_IF_ERROR(link.Run());
  ASSIGN_OR_RETURN(
      std::string message,
      Mailroom(node_).Enqueue(actor, peer, "request", payload, r->case_id));
  auto moved = book.Move(actor, id, RequestState::kSent,
                         "sent to " + peer + " as message " + message);
  if (!moved.ok()) {
    return moved.status().Annotate("message " + message +
                                   " is queued, but the request did not move "
                                   "to sent");
  }
  return message;
}

Result<Request> Exchange::File(const std::string& actor,
                               const std::string& message_id,
                               const std::string& case_id) {
  std::lock_guard<std::recursive_mutex> one_at_a_time(ExchangeMutex());
  Mailroom mail(node_);
  ASSIGN_OR_RETURN(std::vector<InboxItem> inbox, mail.Inbox());
  const InboxItem* item = nullptr;
  for (const auto& i : inbox) {
    if (i.id == message_id) item = &i;
  }
  if (item == nullptr) return Status::NotFound("no message " + message_id);
  if (item->type != "request") {
    return Status::InvalidInput("message " + message_id + " is a " +
                                item->type + ", not a request");
  }
  ASSIGN_OR_RETURN(std::string done, Outcome(message_id));
  if (!done.empty()) {
    return Status::Conflict("message " + message_id + " was " + done);
  }
  ASSIGN_OR_RETURN(Message m, ParseMessage(item->body));
  RequestDraft d;
  d.direction = Direction::kIncoming;
  ASSIGN_OR_RETURN(d.type, ParseRequestType(JsonString(m.payload, "type")));
  ASSIGN_OR_RETURN(d.profile, ParseProfile(JsonString(m.payload, "profile")));
  std::string remote = JsonString(m.payload, "request");
  d.reference = remote;
  d.fields = m.payload.value("fields", json::object());
  // The clock runs from when the message arrived, not from filing.
  ASSIGN_OR_RETURN(int64_t received_micros, ParseTime(item->received));
  d.received_unix = received_micros / 1000000;
  // One change: the request, its link, the message filed as it and the
  // update that tells the sender, committed together or not at all (a kill
  // in between left the message filed and the sender never told).
  Request r;
  RETURN_IF_ERROR(node_->sql().Transaction([&]() -> Status {
    ASSIGN_OR_RETURN(r, RequestBook(node_).Create(actor, case_id, d));
    Statement link(node_->sql(),
                   "INSERT OR REPLACE INTO request_links(request_id, peer, "
                   "remote_id) VALUES(?,?,?)");
    link.Bind(1, r.id);
    link.Bind(2, m.from);
    link.Bind(3, remote);
    RETURN_IF_ERROR(link.Run());
    RETURN_IF_ERROR(NoteOutcome(message_id, "filed as " + r.id));
    json update = {{"request", remote},
                   {"from_request", r.id},
                   {"state", RequestStateName(RequestState::kReceived)},
                   {"reason", ""}};
    return mail.Enqueue(actor, m.from, "request.update", update, case_id)
        .status();
  }));
  // Moves the sender made before we filed (a withdrawal, say), in order.
  RETURN_IF_ERROR(ApplyWaiting());
  ASSIGN_OR_RETURN(std::optional<Request> now, RequestBook(node_).Get(r.id));
  return now ? *now : r;
}

Status Exchange::ApplyWaiting() {
  std::lock_guard<std::recursive_mutex> one_at_a_time(ExchangeMutex());
  Statement q(node_->sql(),
              "SELECT message_id FROM inbox_outcomes WHERE outcome LIKE "
              "'waiting:%'");
  std::set<std::string> waiting;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) waiting.insert(q.Text(0));
  if (rc != SQLITE_DONE) return q.Error();
  if (waiting.empty()) return Status::OK();
  ASSIGN_OR_RETURN(std::vector<InboxItem> inbox, Mailroom(node_).Inbox());
  for (const auto& i : inbox) {  // in the order they arrived
    if (!waiting.count(i.id)) continue;
    ASSIGN_OR_RETURN(Message u, ParseMessage(i.body));
    (void)Apply(u);  // applied now, or still waiting; the outcome says
  }
  return Status::OK();
}

Result<std::optional<std::string>> Exchange::UnfiledRequest(
    const std::string& peer, const std::string& remote_id) {
  ASSIGN_OR_RETURN(std::vector<InboxItem> inbox, Mailroom(node_).Inbox());
  for (const auto& i : inbox) {
    if (i.type != "request" || i.peer != peer) continue;
    auto m = ParseMessage(i.body);
    if (!m.ok() || JsonString(m->payload, "request") != remote_id) continue;
    ASSIGN_OR_RETURN(std::string outcome, Outcome(i.id));
    if (outcome.empty()) return std::optional<std::string>(i.id);
  }
  return std::optional<std::string>();
}

Result<Request> Exchange::Move(const std::string& actor, const std::string& id,
                               RequestState to, const std::string& reason) {
  ASSIGN_OR_RETURN(Request r, RequestBook(node_).Move(actor, id, to, reason));
  ASSIGN_OR_RETURN(std::optional<RequestLink> link, Link(id));
  if (link) {
    json update = {{"request", link->remote_id},
                   {"from_request", id},
                   {"state", RequestStateName(to)},
                   {"reason", reason}};
    // The date the data is preserved until, as this side set it: the other
    // side keeps the same date rather than one counted from the update's
    // arrival.
    if ((to == RequestState::kPreserved || to == RequestState::kExtended) &&
        r.preserved_until_unix != 0) {
      update["preserved_until"] = FormatTime(r.preserved_until_unix * 1000000);
    }
    auto queued = Mailroom(node_).Enqueue(actor, link->peer, "request.update",
                                          update, r.case_id);
    if (!queued.ok()) {
      return queued.status().Annotate(id + " moved, but telling " + link->peer +
                                      " failed");
    }
  }
  return r;
}

Status Exchange::Apply(const Message& m) {
  if (m.type != "request.update") return Status::OK();
  std::lock_guard<std::recursive_mutex> one_at_a_time(ExchangeMutex());
  ASSIGN_OR_RETURN(std::string done, Outcome(m.id));
  // Applied before (a replay), unless it was waiting for its request.
  if (!done.empty() && done.rfind(kWaiting, 0) != 0) return Status::OK();
  std::string id = JsonString(m.payload, "request");
  std::string from_request = JsonString(m.payload, "from_request");
  auto state = ParseRequestState(JsonString(m.payload, "state"));
  Status s;
  std::optional<RequestLink> link;
  if (id.empty() && state.ok()) {
    // The sender moved its request before hearing our id for it: find the
    // copy we filed, or wait until it is filed.
    Statement q(node_->sql(),
                "SELECT request_id FROM request_links WHERE peer=? AND "
                "remote_id=?");
    q.Bind(1, m.from);
    q.Bind(2, from_request);
    int rc = q.Step();
    if (rc == SQLITE_ROW) {
      id = q.Text(0);
    } else if (rc != SQLITE_DONE) {
      return q.Error();
    } else {
      ASSIGN_OR_RETURN(std::optional<std::string> unfiled,
                       UnfiledRequest(m.from, from_request));
      if (unfiled) {
        return NoteOutcome(m.id,
                           std::string(kWaiting) + *unfiled + " is filed");
      }
    }
  }
  if (!state.ok()) {
    s = state.status();
  } else {
    auto l = Link(id);
    if (!l.ok()) return l.status();
    link = *l;
    if (!link || link->peer != m.from) {
      s = Status::Permission(m.from + " may not move request " + id +
                             ": it is not linked to that peer");
    } else if (!link->remote_id.empty() && link->remote_id != from_request) {
      s = Status::Permission(m.from + " names its request " + from_request +
                             ", but " + id + " is linked to " +
                             link->remote_id);
    }
  }
  if (s.ok() && link->remote_id.empty()) {
    Statement up(node_->sql(),
                 "UPDATE request_links SET remote_id=? WHERE request_id=?");
    up.Bind(1, from_request);
    up.Bind(2, id);
    RETURN_IF_ERROR(up.Run());
  }
  int64_t preserved_until = 0;
  std::string until = JsonString(m.payload, "preserved_until");
  if (s.ok() && !until.empty()) {
    auto t = ParseTime(until);
    if (t.ok()) {
      preserved_until = *t / 1000000;
    } else {
      s = t.status().Annotate("preserved_until");
    }
  }
  if (s.ok()) {
    s = RequestBook(node_)
            .Move("peer:" + m.from, id, *state, JsonString(m.payload, "reason"),
                  preserved_until)
            .status();
  }
  RETURN_IF_ERROR(NoteOutcome(m.id, s.ok() ? "applied" : s.message()));
  return s;
}

}  // namespace amanah
