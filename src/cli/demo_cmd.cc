// amanah demo: two nodes on loopback, the Kuwaiti 24/7 point of contact and
// its US counterpart, walk a case from preservation request to verified
// evidence. Both nodes run in this process, each with its own directory,
// keys, vault, custody log and HTTPS server (a self-signed certificate the
// other pins); everything between them goes over loopback exactly as it
// would between countries: signed messages and receipts, the evidence pull,
// and witnessing.

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <thread>

#include "app/cases.h"
#include "app/evidence.h"
#include "app/exchange.h"
#include "app/peers.h"
#include "app/requests.h"
#include "app/transfers.h"
#include "app/witness.h"
#include "cli/common.h"
#include "federation/peer_client.h"
#include "ledger/note.h"
#include "server/server.h"

namespace amanah {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr auto kPatience = std::chrono::seconds(60);

struct DemoNode {
  std::string name;
  std::unique_ptr<Node> node;
  std::unique_ptr<ApiServer> server;
  std::thread thread;
  std::string cert;

  ~DemoNode() {
    if (server) server->Stop();
    if (thread.joinable()) thread.join();
  }
};

void Step(int n, const std::string& title) {
  std::cout << "\n" << n << ". " << title << "\n";
}
void Say(const std::string& line) { std::cout << "   " << line << "\n"; }

// Waits until `done` holds (or fails), at most kPatience.
Status WaitFor(const std::string& what,
               const std::function<Result<bool>()>& done) {
  auto until = std::chrono::steady_clock::now() + kPatience;
  while (std::chrono::steady_clock::now() < until) {
    ASSIGN_OR_RETURN(bool ok, done());
    if (ok) return Status::OK();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return Status::Unavailable("the demo waited " +
                             std::to_string(kPatience.count()) + " s for " +
                             what + "; it did not happen");
}

Result<std::unique_ptr<DemoNode>> StartNode(const fs::path& dir,
                                            const std::string& name) {
  auto d = std::make_unique<DemoNode>();
  d->name = name;
  std::string data = (dir / name).string();
  RETURN_IF_ERROR(Node::Init(Env::Default(), data, name).status());
  ASSIGN_OR_RETURN(d->node, Node::Open(Env::Default(), data));
  // The node's own certificate, made by Init: its peers pin it, and it
  // authenticates the node both as a server and as a client (mutual TLS).
  d->cert = d->node->tls_identity().cert;
  ServerOptions o;
  o.port = 0;
  o.tls_cert = d->cert;
  o.tls_key = d->node->tls_identity().key;
  o.witness_interval = std::chrono::milliseconds(500);
  o.courier_interval = std::chrono::milliseconds(200);
  o.fetch_interval = std::chrono::milliseconds(200);
  o.access_log = [](const std::string&) {};
  ASSIGN_OR_RETURN(d->server, ApiServer::Create(d->node.get(), o));
  DemoNode* raw = d.get();
  d->thread = std::thread([raw] { (void)raw->server->Run(); });
  return d;
}

json Fields(bool preservation) {
  json f = {{"requesting_authority",
             {{"name", "Cybercrime Combating Department, Kuwait"},
              {"contact_person", "24/7 duty officer"},
              {"time_zone", "Asia/Kuwait"}}},
            {"requested_authority",
             {{"name", "CCIPS, U.S. Department of Justice"},
              {"time_zone", "America/New_York"}}},
            {"offence",
             {{"en", "Fraud by phishing of bank customers"},
              {"ar", "احتيال عن طريق التصيد الاحتيالي لعملاء البنوك"}}},
            {"summary_of_facts",
             {{"en",
               "Customers of a Kuwaiti bank received e-mails linking "
               "to a forged login page."}}},
            {"data_requested",
             {{"en", "Content and subscriber data of the sending account"}}}};
  if (preservation) {
    f["relation_to_offence"] = {{"en", "The account sent the phishing mail"}};
    f["provider"] = "Example Mail, Inc.";
    f["account_identifiers"] = {"phisher@mail.example"};
    f["necessity"] = {{"en", "The provider deletes mail after 30 days"}};
    f["mla_to_follow"] = true;
  }
  return f;
}

std::string Day(int64_t unix) {
  return FormatTime(unix * 1000000).substr(0, 10);
}

// The receipt of outbox message `id` on `n`, once delivered.
Result<json> Delivered(Node* n, const std::string& id) {
  json receipt;
  RETURN_IF_ERROR(
      WaitFor("message " + id + " to be receipted", [&]() -> Result<bool> {
        ASSIGN_OR_RETURN(auto all, Mailroom(n).Outbox(false));
        for (const auto& o : all) {
          if (o.id == id && o.state == "delivered") {
            receipt = json::parse(o.receipt);
            return true;
          }
        }
        return false;
      }));
  return receipt;
}

Status ShowReceipt(Node* n, const std::string& id, const std::string& peer) {
  ASSIGN_OR_RETURN(json package, Delivered(n, id));
  json receipt = json::parse(package["receipt"].get<std::string>());
  ASSIGN_OR_RETURN(Note note,
                   ParseNote(package["checkpoint"].get<std::string>()));
  ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpointBody(note.text));
  Say("signed receipt from " + peer + ": its message.received entry #" +
      std::to_string(receipt["entry_index"].get<uint64_t>()) +
      ", proved in its log of " + std::to_string(cp.size) +
      " entries (checked here before it was kept)");
  return Status::OK();
}

Result<Request> WaitState(Node* n, const std::string& id, RequestState s) {
  Request r;
  RETURN_IF_ERROR(WaitFor(
      "request " + id + " to become " + std::string(RequestStateName(s)),
      [&]() -> Result<bool> {
        ASSIGN_OR_RETURN(auto got, RequestBook(n).Get(id));
        if (got) r = *got;
        return got && got->state == s;
      }));
  return r;
}

// The id of the newest inbox message of `type`.
Result<std::string> WaitInbox(Node* n, const std::string& type,
                              const std::string& after) {
  std::string id;
  RETURN_IF_ERROR(WaitFor("a " + type + " message", [&]() -> Result<bool> {
    ASSIGN_OR_RETURN(auto inbox, Mailroom(n).Inbox());
    for (const auto& m : inbox) {
      if (m.type == type && m.id != after) id = m.id;
    }
    return !id.empty();
  }));
  return id;
}

// Whether `n`'s cosigned checkpoint covers `size` entries with a valid
// cosignature by `witness`.
Result<bool> CosignedBy(Node* n, const DemoNode& witness, uint64_t size) {
  auto text = Witness(n).CosignedCheckpoint();
  if (!text.ok()) return false;
  ASSIGN_OR_RETURN(Note note, ParseNote(*text));
  ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpointBody(note.text));
  ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(n).Find(witness.name));
  if (!peer) return Status::NotFound(witness.name + " is not a peer");
  VerifierKey key = peer->CosignerKey();
  return cp.size >= size && VerifyCosignature(note, key).ok();
}

Status Run(const fs::path& dir, const std::string& evidence_path) {
  const std::string actor = LocalActor();
  Step(1,
       "Two nodes start on loopback, each with its own keys, vault, custody "
       "log and HTTPS certificate");
  ASSIGN_OR_RETURN(auto kw, StartNode(dir, "ccd.moi.gov.kw"));
  ASSIGN_OR_RETURN(auto us, StartNode(dir, "cyber.doj.example"));
  for (DemoNode* d : {kw.get(), us.get()}) {
    Say(d->name + " at " + d->server->url() + ", log key " +
        d->node->info().verifier_key);
  }

  Step(2,
       "They pin each other: log key and TLS certificate (mutual TLS from "
       "now on)");
  for (auto [a, b] :
       {std::pair{kw.get(), us.get()}, std::pair{us.get(), kw.get()}}) {
    ASSIGN_OR_RETURN(std::string pin, CertificatePin(b->cert));
    RETURN_IF_ERROR(PeerBook(a->node.get())
                        .Add(actor, b->name, b->server->url(),
                             b->node->info().verifier_key, pin)
                        .status());
    Say(a->name + " pins " + b->name + " (certificate SHA-256 " +
        pin.substr(0, 16) + "…)");
  }

  Step(3, "Kuwait's 24/7 point of contact sends a preservation request");
  Node* k = kw->node.get();
  Node* u = us->node.get();
  RETURN_IF_ERROR(CaseBook(k)
                      .Open(actor,
                            {"KW-2026-0042", "Phishing of bank customers",
                             Offence::kCybercrime, "Law 63/2015 on cybercrime"},
                            "")
                      .status());
  RequestDraft pres;
  pres.type = RequestType::kPreservation;
  pres.profile = Profile::kUs2703f;
  pres.reference = "KW-24/7-0042";
  pres.fields = Fields(true);
  ASSIGN_OR_RETURN(Request kw_pres,
                   RequestBook(k).Create(actor, "KW-2026-0042", pres));
  ASSIGN_OR_RETURN(std::string sent,
                   Exchange(k).Send(actor, kw_pres.id, us->name));
  Say(kw_pres.id + " sent to " + us->name + " as signed message " + sent);
  RETURN_IF_ERROR(ShowReceipt(k, sent, us->name));

  Step(4, "The US files it, acknowledges it and confirms preservation");
  RETURN_IF_ERROR(CaseBook(u)
                      .Open(actor,
                            {"US-2026-0107", "Kuwait: phishing",
                             Offence::kCybercrime, "18 U.S.C. 2703(f)"},
                            "")
                      .status());
  // The US files the next request that arrives, and acknowledges it.
  std::string last_filed;
  auto file_next = [&]() -> Result<Request> {
    ASSIGN_OR_RETURN(last_filed, WaitInbox(u, "request", last_filed));
    ASSIGN_OR_RETURN(Request r,
                     Exchange(u).File(actor, last_filed, "US-2026-0107"));
    return Exchange(u).Move(actor, r.id, RequestState::kAcknowledged, "");
  };
  ASSIGN_OR_RETURN(Request us_pres, file_next());
  ASSIGN_OR_RETURN(us_pres,
                   Exchange(u).Move(actor, us_pres.id, RequestState::kPreserved,
                                    "Preserved at Example Mail, Inc."));
  ASSIGN_OR_RETURN(kw_pres, WaitState(k, kw_pres.id, RequestState::kPreserved));
  Say(us->name + " registered it as " + us_pres.id + " and preserved the data");
  Say("preserved until " + Day(us_pres.preserved_until_unix) +
      " on both sides (" + kw_pres.id + " in Kuwait shows " +
      Day(kw_pres.preserved_until_unix) + ")");

  Step(5, "Kuwait follows up with the mutual legal assistance request");
  RequestDraft mla;
  mla.type = RequestType::kProduction;
  mla.profile = Profile::kBudapest;
  mla.reference = "KW-MLA-2026-017";
  mla.fields = Fields(false);
  mla.fields["related_tickets"] = {kw_pres.id};
  ASSIGN_OR_RETURN(Request kw_mla,
                   RequestBook(k).Create(actor, "KW-2026-0042", mla));
  ASSIGN_OR_RETURN(std::string sent_mla,
                   Exchange(k).Send(actor, kw_mla.id, us->name));
  RETURN_IF_ERROR(ShowReceipt(k, sent_mla, us->name));
  ASSIGN_OR_RETURN(Request us_mla, file_next());
  RETURN_IF_ERROR(
      WaitState(k, kw_mla.id, RequestState::kAcknowledged).status());
  Say(kw_mla.id + " registered in the US as " + us_mla.id +
      ", acknowledged on both sides");

  Step(6, "The US acquires the mailbox and delivers it");
  std::string path = evidence_path;
  if (path.empty()) {
    path = (dir / "phisher-mailbox.mbox").string();
    std::ofstream out(path, std::ios::binary);
    std::mt19937 rng(2026);
    for (int i = 0; i < 40000; ++i) {
      out << "From phisher@mail.example Mon Nov 23 03:" << (i % 60)
          << ":00 2026\nSubject: Your account needs verification #" << i
          << "\nX-Token: " << rng() << rng() << "\n\nPlease sign in at the "
          << "link below to keep your account.\n\n";
    }
  }
  IngestRequest in{
      path, "US-2026-0107", actor, "Production for " + us_mla.id, true, true};
  ASSIGN_OR_RETURN(IngestOutcome acquired, Ingest(*u, in));
  std::string address = acquired.object.address.ToString();
  Say("acquired " + std::to_string(acquired.object.size) + " bytes as " +
      address + " (evidence.ingested #" + std::to_string(acquired.entry_index) +
      ")");
  RETURN_IF_ERROR(
      Exchange(u).Move(actor, us_mla.id, RequestState::kExecuted, "").status());
  ASSIGN_OR_RETURN(
      std::string manifest,
      Transfers(u).Deliver(actor, us_mla.id, {acquired.object.address}));
  Say("released it (evidence.transferred) in signed manifest " + manifest);
  Transfer got;
  RETURN_IF_ERROR(
      WaitFor("the evidence to arrive in Kuwait", [&]() -> Result<bool> {
        ASSIGN_OR_RETURN(auto list, Transfers(k).List());
        for (const auto& t : list) {
          if (t.address == address && t.state == "done") {
            got = t;
            return true;
          }
          if (t.address == address && t.state == "failed") {
            return Status::Corruption("the pull failed: " + t.last_error);
          }
        }
        return false;
      }));
  Say(kw->name +
      " pulled it over HTTPS, checked SHA-256, MD5 and SHA-1, "
      "re-encrypted it under its own key: evidence.received #" +
      std::to_string(got.entry_index) + ", naming " + us->name +
      "'s evidence.transferred #" + std::to_string(got.peer_entry));
  RETURN_IF_ERROR(
      WaitFor("the US to hear which entry received it", [&]() -> Result<bool> {
        ASSIGN_OR_RETURN(auto offer, Transfers(u).FindOffer(kw->name, address));
        return offer && offer->received_index == got.entry_index;
      }));
  Say(us->name + " knows it arrived as " + kw->name + "'s entry #" +
      std::to_string(got.entry_index));
  RETURN_IF_ERROR(Exchange(u)
                      .Move(actor, us_mla.id, RequestState::kFulfilled, "")
                      .status());
  RETURN_IF_ERROR(WaitState(k, kw_mla.id, RequestState::kFulfilled).status());
  Say(kw_mla.id + " fulfilled on both sides");

  Step(7, "Each log is cosigned by the other node (C2SP tlog-witness)");
  for (auto [a, b] :
       {std::pair{kw.get(), us.get()}, std::pair{us.get(), kw.get()}}) {
    ASSIGN_OR_RETURN(CustodyLog * log, a->node->Log());
    uint64_t size = log->Latest().size;
    RETURN_IF_ERROR(
        WaitFor(a->name + "'s log to be cosigned by " + b->name,
                [&] { return CosignedBy(a->node.get(), *b, size); }));
    Say(a->name + "/custody at " + std::to_string(size) +
        " entries or more, cosigned by " + b->name);
  }

  Step(8, "Kuwait verifies the evidence it received");
  ASSIGN_OR_RETURN(
      VerifyOutcome v,
      VerifyEvidence(*k, "KW-2026-0042", acquired.object.address, actor));
  if (!v.intact) return Status::Corruption("verification failed: " + v.problem);
  Say("re-hashed from the Kuwaiti vault: intact, " +
      std::to_string(v.check.size) + " bytes, SHA-256 " +
      address.substr(7, 16) + "… (evidence.verified #" +
      std::to_string(v.entry_index) + ")");
  ASSIGN_OR_RETURN(auto inbox, Mailroom(k).Inbox());
  for (const auto& m : inbox) {
    if (m.id != manifest) continue;
    json items = json::parse(m.body)["payload"]["items"];
    for (const auto& e : items[0]["entries"]) {
      auto entry = ParseCustodyEntry(e["entry"].get<std::string>());
      if (!entry.ok()) continue;
      Say("its US history, proved against " + us->name +
          "'s signed checkpoint: #" +
          std::to_string(e["index"].get<uint64_t>()) + " " +
          std::string(EntryKindName(entry->kind)) + " by " + entry->actor +
          " at " + FormatTime(entry->time_unix_micros));
    }
  }
  return Status::OK();
}

struct DemoArgs {
  std::string dir, evidence;
  bool keep = false;
};

int RunDemo(const DemoArgs& a) {
  fs::path dir;
  std::error_code ec;
  if (a.dir.empty()) {
    std::string tmpl =
        (fs::temp_directory_path() / "amanah-demo.XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr) {
      return Fail(Status::IOError("cannot make a directory for the demo in " +
                                  fs::temp_directory_path().string()));
    }
    dir = tmpl;
  } else {
    dir = a.dir;
    if (fs::exists(dir) && !fs::is_empty(dir, ec)) {
      return Fail(Status::Conflict(
          a.dir + " is not empty: the demo makes two new nodes there"));
    }
    fs::create_directories(dir, ec);
  }
  std::cout << "amanah demo: two nodes in " << dir.string() << "\n";
  Status s = Run(dir, a.evidence);
  bool keep = a.keep || !a.dir.empty();
  if (!keep) fs::remove_all(dir, ec);
  if (!s.ok()) return Fail(s);
  std::cout << "\nDone: every step above is in both custody logs.";
  if (keep) {
    std::cout << " The nodes are in " << dir.string() << " (amanah --data "
              << (dir / "ccd.moi.gov.kw").string() << " log show).";
  }
  std::cout << "\n";
  return 0;
}

}  // namespace

void AddDemoCommand(CLI::App& app, int& rc) {
  static DemoArgs a;
  auto* demo = app.add_subcommand(
      "demo",
      "two nodes on loopback walk preservation request, receipt, "
      "preservation, MLA request, evidence delivery, witnessing and "
      "verification");
  demo->add_option("--dir", a.dir,
                   "an empty directory for the two nodes, kept afterwards "
                   "(default: a temporary one, removed)");
  demo->add_option("--evidence", a.evidence,
                   "a file the US node delivers (default: a generated "
                   "mailbox)");
  demo->add_flag("--keep", a.keep, "keep the temporary directory");
  demo->callback([&] { rc = RunDemo(a); });
}

}  // namespace amanah
