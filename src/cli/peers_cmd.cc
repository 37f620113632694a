// `amanah peer ...`: pinning peer nodes, and what witnessing between this
// node and them has seen.

#include "app/exchange.h"
#include "app/messages.h"
#include "app/peers.h"
#include "app/transfers.h"
#include "app/witness.h"
#include "cli/common.h"
#include "federation/peer_client.h"
#include "federation/witness_client.h"

namespace amanah {
namespace {

using nlohmann::json;

int RunPeerAdd(const Globals& g, const PeerArgs& a) {
  std::string pin = a.tls_pin;
  if (!a.tls_cert.empty()) {
    auto from_cert = CertificatePin(a.tls_cert);
    if (!from_cert.ok()) return Fail(from_cert.status());
    if (!pin.empty() && pin != *from_cert) {
      return Fail(
          Status::InvalidInput("--tls-pin and the pin of --tls-cert differ"));
    }
    pin = *from_cert;
  }
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto p = PeerBook(node->get()).Add(g.actor, a.name, a.url, a.key, pin);
  if (!p.ok()) return Fail(p.status());
  if (g.json) {
    PrintJson({{"name", p->name},
               {"url", p->url},
               {"key", p->log_key},
               {"tls_pin", p->tls_pin},
               {"added", p->added}});
  } else {
    std::cout << "pinned " << p->name << " at " << p->url << "\n";
  }
  return 0;
}

int RunPeerRemove(const Globals& g, const std::string& name) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  Status s = PeerBook(node->get()).Remove(g.actor, name);
  if (!s.ok()) return Fail(s);
  if (!g.json) std::cout << "unpinned " << name << "\n";
  return 0;
}

int RunPeerList(const Globals& g) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  Witness w(node->get());
  auto peers = PeerBook(node->get()).List();
  if (!peers.ok()) return Fail(peers.status());
  auto witnessed = w.Witnessed();
  if (!witnessed.ok()) return Fail(witnessed.status());
  auto submissions = w.Submissions();
  if (!submissions.ok()) return Fail(submissions.status());
  auto alarms = w.Alarms();
  if (!alarms.ok()) return Fail(alarms.status());

  json out = json::array();
  for (const Peer& p : *peers) {
    json j = {{"name", p.name},
              {"url", p.url},
              {"key", p.log_key},
              {"tls_pin", p.tls_pin},
              {"added", p.added},
              {"their_log_cosigned_size", 0},
              {"our_log_cosigned_size", 0},
              {"alarms", 0}};
    for (const auto& l : *witnessed) {
      if (l.origin == p.origin()) j["their_log_cosigned_size"] = l.size;
    }
    for (const auto& s : *submissions) {
      if (s.peer != p.name) continue;
      j["our_log_cosigned_size"] = s.cosigned_size;
      j["last_submission"] = s.last_attempt;
      if (!s.last_error.empty()) j["last_error"] = s.last_error;
    }
    int n = 0;
    for (const auto& a : *alarms) n += a.origin == p.origin();
    j["alarms"] = n;
    out.push_back(std::move(j));
  }
  json alarm_list = json::array();
  for (const auto& a : *alarms) {
    alarm_list.push_back({{"origin", a.origin},
                          {"detected", a.detected},
                          {"reason", a.reason},
                          {"cosigned_checkpoint", a.cosigned_note},
                          {"offered", a.offered}});
  }
  if (g.json) {
    PrintJson({{"peers", out}, {"alarms", alarm_list}});
    return alarms->empty() ? 0 : ExitCodeFor(Code::kCorruption);
  }
  for (const auto& j : out) {
    std::cout << j["name"].get<std::string>() << "  "
              << j["url"].get<std::string>() << "\n"
              << "  key " << j["key"].get<std::string>() << "\n"
              << "  we cosigned their log up to size "
              << j["their_log_cosigned_size"] << "; they cosigned ours up to "
              << j["our_log_cosigned_size"] << "\n";
    if (j.contains("last_error")) {
      std::cout << "  last submission failed: "
                << j["last_error"].get<std::string>() << "\n";
    }
  }
  for (const auto& a : *alarms) {
    std::cout << "ALARM " << a.detected << " " << a.origin << ": " << a.reason
              << "\n";
  }
  // A forked peer log is never a quiet success.
  return alarms->empty() ? 0 : ExitCodeFor(Code::kCorruption);
}

int RunWitnessSubmit(const Globals& g) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto peers = PeerBook(node->get()).List();
  if (!peers.ok()) return Fail(peers.status());
  Status first;
  json out = json::array();
  for (const Peer& p : *peers) {
    auto r = WitnessClient(node->get()).Submit(p);
    if (!r.ok() && first.ok()) first = r.status();
    out.push_back({{"peer", p.name},
                   {"cosigned_size", r.ok() ? json(*r) : json(nullptr)},
                   {"error", r.ok() ? "" : r.status().message()}});
    if (!g.json) {
      if (r.ok()) {
        std::cout << p.name << " cosigned size " << *r << "\n";
      } else {
        std::cout << p.name << ": " << r.status().message() << "\n";
      }
    }
  }
  if (g.json) PrintJson(out);
  return first.ok() ? 0 : Fail(first);
}

int RunOutbox(const Globals& g, bool all) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto items = Mailroom(node->get()).Outbox(!all);
  if (!items.ok()) return Fail(items.status());
  json out = json::array();
  for (const OutboxItem& o : *items) {
    json j = {{"id", o.id},       {"to", o.peer},
              {"type", o.type},   {"created", o.created},
              {"state", o.state}, {"attempts", o.attempts}};
    if (o.state == "pending") {
      j["next_attempt"] = FormatTime(o.next_attempt_unix * 1000000);
    }
    if (!o.last_error.empty()) j["last_error"] = o.last_error;
    out.push_back(std::move(j));
  }
  if (g.json) {
    PrintJson(out);
    return 0;
  }
  if (out.empty()) std::cout << (all ? "no messages\n" : "nothing pending\n");
  for (const auto& j : out) {
    std::cout << j["id"].get<std::string>() << "  "
              << j["type"].get<std::string>() << " to "
              << j["to"].get<std::string>() << "  "
              << j["state"].get<std::string>();
    if (j.contains("last_error")) {
      std::cout << " after " << j["attempts"]
                << " attempts: " << j["last_error"].get<std::string>();
    }
    std::cout << "\n";
  }
  return 0;
}

// Evidence pulled from peers, and evidence offered to them.
int RunTransfers(const Globals& g) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  Transfers transfers(node->get());
  auto in = transfers.List();
  if (!in.ok()) return Fail(in.status());
  auto offers = transfers.Offers();
  if (!offers.ok()) return Fail(offers.status());
  json incoming = json::array(), outgoing = json::array();
  for (const Transfer& t : *in) {
    json j = {{"address", t.address},       {"from", t.peer},
              {"message", t.message_id},    {"request", t.request_id},
              {"case", t.case_id},          {"size", t.size},
              {"received_bytes", t.offset}, {"state", t.state},
              {"attempts", t.attempts},     {"peer_entry", t.peer_entry}};
    if (t.entry_index >= 0) j["entry_index"] = t.entry_index;
    if (!t.last_error.empty()) j["last_error"] = t.last_error;
    incoming.push_back(std::move(j));
  }
  for (const Offer& o : *offers) {
    json j = {{"address", o.address},
              {"to", o.peer},
              {"message", o.message_id},
              {"request", o.request_id},
              {"entry_index", o.entry_index}};
    if (o.received_index >= 0) j["peer_received_entry"] = o.received_index;
    outgoing.push_back(std::move(j));
  }
  if (g.json) {
    PrintJson({{"incoming", incoming}, {"outgoing", outgoing}});
    return 0;
  }
  if (incoming.empty() && outgoing.empty()) std::cout << "no transfers\n";
  for (const auto& j : incoming) {
    std::cout << "from " << j["from"].get<std::string>() << "  "
              << j["address"].get<std::string>() << "  "
              << j["state"].get<std::string>() << "  " << j["received_bytes"]
              << "/" << j["size"] << " bytes";
    if (j.contains("entry_index")) std::cout << "  entry " << j["entry_index"];
    if (j.contains("last_error") && j["state"] != "done") {
      std::cout << "  last error: " << j["last_error"].get<std::string>();
    }
    std::cout << "\n";
  }
  for (const auto& j : outgoing) {
    std::cout << "to " << j["to"].get<std::string>() << "  "
              << j["address"].get<std::string>() << "  released in entry "
              << j["entry_index"];
    if (j.contains("peer_received_entry")) {
      std::cout << ", received in its entry " << j["peer_received_entry"];
    } else {
      std::cout << ", not yet confirmed";
    }
    std::cout << "\n";
  }
  return 0;
}

int RunInbox(const Globals& g) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto items = Mailroom(node->get()).Inbox();
  if (!items.ok()) return Fail(items.status());
  json out = json::array();
  for (const InboxItem& i : *items) {
    auto outcome = Exchange(node->get()).Outcome(i.id);
    if (!outcome.ok()) return Fail(outcome.status());
    out.push_back({{"id", i.id},
                   {"from", i.peer},
                   {"type", i.type},
                   {"received", i.received},
                   {"outcome", *outcome},
                   {"message", json::parse(i.body, nullptr, false)}});
  }
  if (g.json) {
    PrintJson(out);
    return 0;
  }
  if (out.empty()) std::cout << "no messages\n";
  for (const auto& j : out) {
    std::cout << j["received"].get<std::string>() << "  "
              << j["type"].get<std::string>() << " from "
              << j["from"].get<std::string>() << "  "
              << j["id"].get<std::string>() << "  "
              << j["outcome"].get<std::string>() << "\n";
  }
  return 0;
}

int RunInboxFile(const Globals& g, const PeerArgs& a) {
  auto node = OpenNode(g);
  if (!node.ok()) return Fail(node.status());
  auto r = Exchange(node->get()).File(g.actor, a.name, a.case_id);
  if (!r.ok()) return Fail(r.status());
  if (g.json) {
    PrintJson(RequestToJson(*r, (*node)->env()->NowUnixNanos() / 1000000000));
  } else {
    std::cout << "filed as " << r->id << " in " << r->case_id
              << "; the sender is told it was received\n";
  }
  return 0;
}

}  // namespace

void AddPeerCommands(CLI::App& app, Globals& g, PeerArgs& a, int& rc) {
  auto* peer = app.add_subcommand(
      "peer", "pin peer nodes and see how they witness this node's log");
  peer->require_subcommand(1);

  auto* add = peer->add_subcommand("add", "pin a peer node");
  add->add_option("name", a.name, "the peer's node name")->required();
  add->add_option("--url", a.url, "its amanah serve URL, http(s)://host:port")
      ->required();
  add->add_option("--key", a.key,
                  "its verifier key, as its `amanah init` printed it")
      ->required();
  add->add_option("--tls-pin", a.tls_pin,
                  "SHA-256 of its TLS certificate (DER), 64 hex digits");
  add->add_option("--tls-cert", a.tls_cert,
                  "its TLS certificate (PEM), to pin instead of --tls-pin");
  add->callback([&] { rc = RunPeerAdd(g, a); });

  auto* remove = peer->add_subcommand("remove", "unpin a peer node");
  remove->add_option("name", a.name, "the peer's node name")->required();
  remove->callback([&] { rc = RunPeerRemove(g, a.name); });

  peer->add_subcommand("list",
                       "peers, the sizes each side cosigned, and alarms "
                       "(exit 5 if any peer showed a forked log)")
      ->callback([&] { rc = RunPeerList(g); });

  auto* outbox = app.add_subcommand(
      "outbox", "messages to peers waiting for delivery, and why");
  outbox->add_flag("--all", a.all, "delivered ones too");
  outbox->callback([&] { rc = RunOutbox(g, a.all); });
  app.add_subcommand("transfers",
                     "evidence pulled from peers, and offered to them")
      ->callback([&] { rc = RunTransfers(g); });
  auto* inbox = app.add_subcommand("inbox", "messages received from peers");
  inbox->callback([&, inbox] {
    if (inbox->get_subcommands().empty()) rc = RunInbox(g);
  });
  auto* file = inbox->add_subcommand(
      "file", "register a received request in a case, and tell the sender");
  file->add_option("message", a.name, "the message id")->required();
  file->add_option("--case", a.case_id, "the case")->required();
  file->callback([&] { rc = RunInboxFile(g, a); });

  peer->add_subcommand("witness",
                       "submit this node's latest checkpoint to every peer "
                       "for cosigning now (amanah serve does it on its own)")
      ->callback([&] { rc = RunWitnessSubmit(g); });
}

}  // namespace amanah
