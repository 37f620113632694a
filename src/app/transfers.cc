#include "app/transfers.h"

#include <algorithm>
#include <set>

#include "app/cases.h"
#include "app/custody_index.h"
#include "app/evidence.h"
#include "app/evidence_db.h"
#include "app/exchange.h"
#include "app/requests.h"
#include "base/json_writer.h"
#include "ledger/log_reader.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

namespace {

using nlohmann::json;

constexpr char kTransferColumns[] =
    "message_id, address, peer, request_id, case_id, size, hashes, "
    "peer_entry, state, offset, attempts, next_attempt, last_error, created, "
    "entry_index, confirmed";

Transfer ReadTransfer(const Statement& q) {
  Transfer t;
  t.message_id = q.Text(0);
  t.address = q.Text(1);
  t.peer = q.Text(2);
  t.request_id = q.Text(3);
  t.case_id = q.Text(4);
  t.size = q.Uint(5);
  t.hashes = json::parse(q.Text(6), nullptr, false);
  t.peer_entry = q.Uint(7);
  t.state = q.Text(8);
  t.offset = q.Uint(9);
  t.attempts = static_cast<int>(q.Int(10));
  t.next_attempt_unix = q.Int(11);
  t.last_error = q.Text(12);
  t.created = q.Text(13);
  t.entry_index = q.Int(14);
  t.confirmed = q.Int(15) != 0;
  return t;
}

bool IsLowerHex(const std::string& s, size_t n) {
  return s.size() == n && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// The hashes a manifest may name, and their hex lengths.
const std::map<std::string, size_t>& KnownHashes() {
  static const auto* known = new std::map<std::string, size_t>{
      {"md5", 32}, {"sha1", 40}, {"sha256", 64}};
  return *known;
}

// One manifest item, checked: every entry is in the peer's log under the
// manifest's checkpoint, is about this object, agrees with its size and
// hashes, and the last one releases it to us in this message.
// A list of disclosures as a manifest or a confirmation carries them
// (absent: none).
Result<std::vector<std::string>> DisclosureList(const json& j) {
  std::vector<std::string> out;
  if (j.is_null()) return out;
  if (!j.is_array() || j.size() > 64) {
    return Status::InvalidInput("disclosures are a list of at most 64");
  }
  for (const auto& d : j) {
    if (!d.is_string()) return Status::InvalidInput("a disclosure is a string");
    out.push_back(d.get<std::string>());
  }
  return out;
}

Status CheckItem(const json& item, const Checkpoint& cp, const Message& m,
                 const std::string& me, const std::string& from_request,
                 Transfer* t) {
  if (!item.is_object()) return Status::InvalidInput("an item is an object");
  ASSIGN_OR_RETURN(ContentAddress address,
                   ContentAddress::Parse(JsonString(item, "address")));
  t->address = address.ToString();
  auto bad = [&](const std::string& why) {
    return Status::InvalidInput(t->address + ": " + why);
  };
  if (!item.contains("size") || !item["size"].is_number_unsigned()) {
    return bad("no size");
  }
  t->size = item["size"];
  if (t->size > kMaxTransferBytes) return bad("larger than this node takes");
  const json& hashes = item.value("hashes", json());
  if (!hashes.is_object()) return bad("no hashes");
  for (const auto& [name, value] : hashes.items()) {
    auto known = KnownHashes().find(name);
    if (known == KnownHashes().end() || !value.is_string() ||
        !IsLowerHex(value.get<std::string>(), known->second)) {
      return bad("hash " + name.substr(0, 16) + " is not a known hash in hex");
    }
  }
  if (JsonString(hashes, "sha256") != HexEncode(address.digest)) {
    return bad("its sha256 is not its address");
  }
  t->hashes = hashes;
  const json& entries = item.value("entries", json());
  if (!entries.is_array() || entries.empty() || entries.size() > 1000) {
    return bad("1 to 1000 custody entries are required");
  }
  for (size_t i = 0; i < entries.size(); ++i) {
    const json& x = entries[i];
    if (!x.is_object() || !x.contains("index") ||
        !x["index"].is_number_unsigned() || !x.contains("entry") ||
        !x["entry"].is_string() || !x.contains("proof")) {
      return bad("entry " + std::to_string(i) +
                 " lacks its index, bytes or proof");
    }
    uint64_t index = x["index"];
    std::string text = x["entry"];
    ASSIGN_OR_RETURN(std::vector<Hash256> proof, ProofFromJson(x["proof"]));
    RETURN_IF_ERROR(
        VerifyEntryInclusion(cp, index, text, proof).Annotate(t->address));
    auto disclosed = DisclosureList(x.value("disclosures", json()));
    if (!disclosed.ok()) {
      return bad("entry " + std::to_string(index) + ": " +
                 disclosed.status().message());
    }
    auto opened = OpenCustodyEntry(text, *disclosed);
    if (!opened.ok()) {
      return bad("entry " + std::to_string(index) + ": " +
                 opened.status().message());
    }
    const CustodyEntry* e = &opened->entry;
    if (e->subject != t->address || e->node != m.from) {
      return bad("entry " + std::to_string(index) +
                 " is not about this object in " + m.from + "'s log");
    }
    if (e->kind == EntryKind::kEvidenceIngested ||
        e->kind == EntryKind::kEvidenceReceived) {
      if (e->data.value("size", json()) != item["size"]) {
        return bad("entry " + std::to_string(index) + " records another size");
      }
      const json& recorded = e->data.value("hashes", json::object());
      for (const auto& [name, value] : recorded.items()) {
        if (hashes.contains(name) && hashes[name] != value) {
          return bad("entry " + std::to_string(index) + " records another " +
                     name);
        }
      }
    }
    if (i + 1 == entries.size()) {
      if (e->kind != EntryKind::kEvidenceTransferred ||
          JsonString(e->data, "to") != me ||
          JsonString(e->data, "message") != m.id ||
          JsonString(e->data, "request") != from_request) {
        return bad(
            "the last entry must be the evidence.transferred releasing it to " +
            me + " in this message");
      }
      t->peer_entry = index;
    }
  }
  return Status::OK();
}

// What a peer is shown of this node's sealed entries about evidence it is
// given (docs/formats.md, "Evidence delivery"): everything but the case's
// id, which stays this node's, and the investigators' free-text notes.
std::vector<std::string> DisclosedToPeer(const std::vector<std::string>& all) {
  return SelectDisclosures(all, [](std::string_view name) {
    return name != "case" && name != "note";
  });
}

constexpr char kPullDomain[] = "amanah-pull/v1";
constexpr int64_t kPullSkewSeconds = 5 * 60;

std::string PullStatement(const std::string& from, const std::string& to,
                          const std::string& address, int64_t unix) {
  return from + "\n" + to + "\n" + address + "\n" + std::to_string(unix);
}

}  // namespace

std::string PullAuthorization(const Node& node, const std::string& peer,
                              const std::string& address) {
  int64_t now = node.env()->NowUnixNanos() / 1000000000;
  std::string me = node.info().name;
  return me + " " + std::to_string(now) + " " +
         node.SignStatement(kPullDomain, PullStatement(me, peer, address, now));
}

Result<std::string> CheckPullAuthorization(Node* node,
                                           const std::string& header,
                                           const std::string& address) {
  if (header.empty()) {
    return Status::InvalidInput(
        "send the Amanah-Pull header: <your node name> <unix seconds> "
        "<signature>");
  }
  size_t a = header.find(' ');
  size_t b = a == std::string::npos ? a : header.find(' ', a + 1);
  if (b == std::string::npos || header.size() > 512) {
    return Status::Permission(
        "send Amanah-Pull: <your node name> <unix seconds> <signature>");
  }
  std::string from = header.substr(0, a);
  std::string when = header.substr(a + 1, b - a - 1);
  int64_t unix = 0;
  if (when.empty() || when.size() > 12 ||
      !std::all_of(when.begin(), when.end(),
                   [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::Permission("the Amanah-Pull time is not unix seconds");
  }
  unix = std::stoll(when);
  int64_t now = node->env()->NowUnixNanos() / 1000000000;
  if (unix < now - kPullSkewSeconds || unix > now + kPullSkewSeconds) {
    return Status::Permission(
        "the Amanah-Pull time is more than five minutes from this node's "
        "clock");
  }
  ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node).Find(from));
  if (!peer) return Status::Permission(from + " is not a pinned peer");
  RETURN_IF_ERROR(VerifyStatement(
      kPullDomain, PullStatement(from, node->info().name, address, unix),
      header.substr(b + 1), peer->LogKey().public_key));
  return from;
}

int64_t Transfers::NowUnix() const {
  return node_->env()->NowUnixNanos() / 1000000000;
}

Result<std::string> Transfers::Deliver(const std::string& actor,
                                       const std::string& request_id,
                                       const std::vector<ContentAddress>& items,
                                       bool again) {
  std::lock_guard<std::recursive_mutex> one_at_a_time(ExchangeMutex());
  ASSIGN_OR_RETURN(std::optional<Request> r,
                   RequestBook(node_).Get(request_id));
  if (!r) return Status::NotFound("no request " + request_id);
  if (r->direction != Direction::kIncoming) {
    return Status::InvalidInput(
        request_id +
        " is our own request: evidence is delivered in answer "
        "to a peer's");
  }
  if (IsTerminal(r->state)) {
    return Status::Conflict(request_id + " is " +
                            std::string(RequestStateName(r->state)) +
                            ": nothing more can be delivered for it");
  }
  Exchange exchange(node_);
  ASSIGN_OR_RETURN(std::optional<RequestLink> link, exchange.Link(request_id));
  if (!link || link->remote_id.empty()) {
    return Status::InvalidInput(request_id +
                                " did not come from a peer: file it from the "
                                "inbox first");
  }
  if (items.empty() || items.size() > kMaxManifestItems) {
    return Status::InvalidInput("deliver 1 to " +
                                std::to_string(kMaxManifestItems) +
                                " objects at a time");
  }
  ASSIGN_OR_RETURN(auto held, CaseBook(node_).Items(r->case_id));
  std::set<std::string> seen;
  for (const auto& a : items) {
    std::string text = a.ToString();
    if (!seen.insert(text).second) {
      return Status::InvalidInput(text + " is named twice");
    }
    bool in_case = std::any_of(held.begin(), held.end(), [&](const auto& h) {
      return h.address == text;
    });
    if (!in_case || !node_->vault().Contains(a)) {
      return Status::NotFound(text + " is not evidence of case " + r->case_id);
    }
  }

  if (!again) {
    for (const auto& a : items) {
      Statement q(node_->sql(),
                  "SELECT message_id FROM evidence_offers WHERE request_id=? "
                  "AND address=? AND received_index<0 LIMIT 1");
      q.Bind(1, request_id);
      q.Bind(2, a.ToString());
      int rc = q.Step();
      if (rc == SQLITE_ROW) {
        return Status::Conflict(
            a.ToString() + " was delivered for " + request_id + " in message " +
            q.Text(0) +
            ", which the peer has not confirmed yet; it pulls until it has "
            "it (deliver again only if the peer lost it)");
      }
      if (rc != SQLITE_DONE) return q.Error();
    }
  }
  RETURN_IF_ERROR(CheckManifestFits(r->case_id, items));

  // Release each object, naming the message that will carry the manifest.
  std::string message = Mailroom::NewMessageId();
  auto released = node_->Apply(
      [&]() -> Result<std::vector<CustodyEntry>> {
        std::vector<CustodyEntry> out;
        for (const auto& a : items) {
          CustodyEntry e;
          e.kind = EntryKind::kEvidenceTransferred;
          e.actor = actor;
          e.case_id = r->case_id;
          e.subject = a.ToString();
          e.data = {{"to", link->peer},
                    {"message", message},
                    {"request", request_id},
                    {"peer_request", link->remote_id}};
          out.push_back(std::move(e));
        }
        return out;
      },
      [&](uint64_t first) -> Status {
        for (size_t i = 0; i < items.size(); ++i) {
          Statement ins(node_->sql(),
                        "INSERT INTO evidence_offers(message_id, address, "
                        "peer, request_id, entry_index) VALUES(?,?,?,?,?)");
          ins.Bind(1, message);
          ins.Bind(2, items[i].ToString());
          ins.Bind(3, link->peer);
          ins.Bind(4, request_id);
          ins.Bind(5, first + i);
          RETURN_IF_ERROR(ins.Run());
        }
        return Status::OK();
      });
  RETURN_IF_ERROR(released.status());

  RETURN_IF_ERROR(QueueManifest(actor, message)
                      .Annotate("the objects are released "
                                "(evidence.transferred) and the manifest "
                                "will be queued by the next courier round"));
  return message;
}

Status Transfers::CheckManifestFits(const std::string& case_id,
                                    const std::vector<ContentAddress>& items) {
  ASSIGN_OR_RETURN(CustodyLog * log, node_->Log());
  uint64_t proof_hashes = 2;
  for (uint64_t n = log->Latest().size + items.size(); n > 1; n >>= 1) {
    ++proof_hashes;
  }
  // An entry is a few hundred bytes; its proof 45 bytes of base64 a hash.
  const uint64_t per_entry = 800 + 48 * proof_hashes;
  uint64_t bytes = 1024;
  CustodyIndex index(&node_->sql());
  for (const auto& a : items) {
    ASSIGN_OR_RETURN(auto about, index.ForCaseSubject(case_id, a.ToString(), -1,
                                                      kMaxItemHistory + 1));
    if (about.size() >= kMaxItemHistory) {
      return Status::InvalidInput(
          a.ToString() + " has " + std::to_string(kMaxItemHistory) +
          " custody entries or more, too many for one manifest");
    }
    bytes += 400 + (about.size() + 1) * per_entry;
  }
  if (bytes > kMaxMessageBytes - (64 << 10)) {
    return Status::InvalidInput(
        "the manifest of these objects, with their custody histories, would "
        "not fit in one message: deliver fewer at a time");
  }
  return Status::OK();
}

Status Transfers::QueueManifest(const std::string& actor,
                                const std::string& message) {
  Statement q(node_->sql(),
              "SELECT address, peer, request_id FROM evidence_offers WHERE "
              "message_id=? ORDER BY rowid");
  q.Bind(1, message);
  std::vector<std::string> addresses;
  std::string peer, request_id;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    addresses.push_back(q.Text(0));
    peer = q.Text(1);
    request_id = q.Text(2);
  }
  if (rc != SQLITE_DONE) return q.Error();
  if (addresses.empty()) return Status::NotFound("no offer in " + message);
  ASSIGN_OR_RETURN(std::optional<Request> r,
                   RequestBook(node_).Get(request_id));
  ASSIGN_OR_RETURN(std::optional<RequestLink> link,
                   Exchange(node_).Link(request_id));
  if (!r || !link) return Status::NotFound("no linked request " + request_id);

  // The manifest: each object's whole custody history here, proved against
  // the checkpoint that now covers the releases.
  ASSIGN_OR_RETURN(CustodyLog * log, node_->Log());
  SignedCheckpoint cp = log->Latest();
  LogReader at = log->ReaderAt(cp.size);
  CustodyIndex index(&node_->sql());
  // The object's history in this request's case only, and the hashes this
  // case computed.
  ASSIGN_OR_RETURN(std::vector<CaseItem> held,
                   CaseBook(node_).Items(r->case_id));
  json list = json::array();
  for (const auto& text : addresses) {
    ASSIGN_OR_RETURN(ContentAddress a, ContentAddress::Parse(text));
    auto item = std::find_if(held.begin(), held.end(), [&](const CaseItem& h) {
      return h.address == text;
    });
    if (item == held.end()) {
      return Status::NotFound(text + " is no longer evidence of case " +
                              r->case_id);
    }
    json hashes = {{"sha256", HexEncode(a.digest)}};
    if (!item->md5.empty()) hashes["md5"] = item->md5;
    if (!item->sha1.empty()) hashes["sha1"] = item->sha1;
    json entries = json::array();
    for (const auto& e : item->custody) {
      if (e.index >= cp.size) continue;
      ASSIGN_OR_RETURN(std::string bytes, at.Entry(e.index));
      ASSIGN_OR_RETURN(std::vector<Hash256> proof, at.InclusionProof(e.index));
      ASSIGN_OR_RETURN(std::vector<std::string> disclosures,
                       index.Disclosures(e.index));
      entries.push_back({{"index", e.index},
                         {"entry", bytes},
                         {"disclosures", DisclosedToPeer(disclosures)},
                         {"proof", ProofToJson(proof)}});
    }
    list.push_back({{"address", text},
                    {"size", item->size},
                    {"hashes", hashes},
                    {"entries", entries}});
  }
  json payload = {{"request", link->remote_id},
                  {"from_request", request_id},
                  {"checkpoint", cp.note},
                  {"items", list}};
  return Mailroom(node_)
      .Enqueue(actor, peer, "evidence.manifest", payload, r->case_id, message)
      .status();
}

Status Transfers::QueueOwedManifests() {
  // Deliver releases and queues under this lock: without it, a manifest
  // it is about to queue looks owed here, and one of the two fails on the
  // outbox's key.
  std::lock_guard<std::recursive_mutex> one_at_a_time(ExchangeMutex());
  Statement q(node_->sql(),
              "SELECT DISTINCT message_id FROM evidence_offers WHERE "
              "message_id NOT IN (SELECT id FROM outbox)");
  std::vector<std::string> owed;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) owed.push_back(q.Text(0));
  if (rc != SQLITE_DONE) return q.Error();
  for (const auto& m : owed) {
    RETURN_IF_ERROR(QueueManifest("system:amanah", m));
  }
  return Status::OK();
}

Result<std::optional<Offer>> Transfers::FindOffer(const std::string& peer,
                                                  const std::string& address,
                                                  const std::string& message) {
  Statement q(node_->sql(),
              "SELECT message_id, address, peer, request_id, entry_index, "
              "received_index FROM evidence_offers WHERE peer=? AND address=? "
              "AND (?='' OR message_id=?) ORDER BY rowid DESC LIMIT 1");
  q.Bind(1, peer);
  q.Bind(2, address);
  q.Bind(3, message);
  q.Bind(4, message);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<Offer>();
  if (rc != SQLITE_ROW) return q.Error();
  return std::optional<Offer>(
      Offer{q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Uint(4), q.Int(5)});
}

Result<std::vector<Offer>> Transfers::Offers() {
  Statement q(node_->sql(),
              "SELECT message_id, address, peer, request_id, entry_index, "
              "received_index FROM evidence_offers ORDER BY rowid");
  std::vector<Offer> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    out.push_back(
        Offer{q.Text(0), q.Text(1), q.Text(2), q.Text(3), q.Uint(4), q.Int(5)});
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Status Transfers::AcceptManifest(const Message& m) {
  if (m.type != "evidence.manifest") return Status::OK();
  Exchange exchange(node_);
  ASSIGN_OR_RETURN(std::string done, exchange.Outcome(m.id));
  if (!done.empty()) return Status::OK();  // a replay

  std::vector<Transfer> rows;
  auto check = [&]() -> Status {
    ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node_).Find(m.from));
    if (!peer) return Status::Permission(m.from + " is not a pinned peer");
    std::string ours = JsonString(m.payload, "request");
    std::string theirs = JsonString(m.payload, "from_request");
    ASSIGN_OR_RETURN(std::optional<RequestLink> link, exchange.Link(ours));
    if (!link || link->peer != m.from) {
      return Status::Permission(m.from + " may not deliver for request " +
                                ours + ": it is not linked to that peer");
    }
    if (!link->remote_id.empty() && link->remote_id != theirs) {
      return Status::Permission(m.from + " names its request " + theirs +
                                ", but " + ours + " is linked to " +
                                link->remote_id);
    }
    ASSIGN_OR_RETURN(std::optional<Request> r, RequestBook(node_).Get(ours));
    if (!r || r->direction != Direction::kOutgoing) {
      return Status::InvalidInput(ours + " is not a request of ours");
    }
    auto cp = VerifyPeerCheckpoint(*peer, JsonString(m.payload, "checkpoint"));
    if (!cp.ok()) return cp.status().Annotate("the manifest's checkpoint");
    const json& items = m.payload.value("items", json());
    if (!items.is_array() || items.empty() ||
        items.size() > kMaxManifestItems) {
      return Status::InvalidInput("a manifest lists 1 to " +
                                  std::to_string(kMaxManifestItems) +
                                  " objects");
    }
    std::set<std::string> seen;
    for (const auto& item : items) {
      Transfer t;
      RETURN_IF_ERROR(CheckItem(item, *cp, m, node_->info().name, theirs, &t));
      if (!seen.insert(t.address).second) {
        return Status::InvalidInput(t.address + " is listed twice");
      }
      t.message_id = m.id;
      t.peer = m.from;
      t.request_id = ours;
      t.case_id = r->case_id;
      rows.push_back(std::move(t));
    }
    return Status::OK();
  };
  Status s = check();
  if (!s.ok()) {
    return node_->sql().Transaction(
        [&] { return exchange.NoteOutcome(m.id, "refused: " + s.message()); });
  }
  std::string now = FormatTime(node_->env()->NowUnixNanos() / 1000);
  return node_->sql().Transaction([&]() -> Status {
    for (const auto& t : rows) {
      Statement ins(node_->sql(),
                    "INSERT OR IGNORE INTO evidence_transfers(message_id, "
                    "address, peer, request_id, case_id, size, hashes, "
                    "peer_entry, state, created) "
                    "VALUES(?,?,?,?,?,?,?,?,'pending',?)");
      ins.Bind(1, t.message_id);
      ins.Bind(2, t.address);
      ins.Bind(3, t.peer);
      ins.Bind(4, t.request_id);
      ins.Bind(5, t.case_id);
      ins.Bind(6, t.size);
      std::string hashes;
      AppendJson(&hashes, t.hashes);
      ins.Bind(7, hashes);
      ins.Bind(8, t.peer_entry);
      ins.Bind(9, now);
      RETURN_IF_ERROR(ins.Run());
    }
    return exchange.NoteOutcome(
        m.id, "accepted: " + std::to_string(rows.size()) + " to pull");
  });
}

Status Transfers::AcceptConfirmation(const Message& m) {
  if (m.type != "evidence.received") return Status::OK();
  Exchange exchange(node_);
  ASSIGN_OR_RETURN(std::string done, exchange.Outcome(m.id));
  if (!done.empty()) return Status::OK();
  std::string manifest = JsonString(m.payload, "manifest");
  const json& items = m.payload.value("items", json());
  auto check = [&]() -> Status {
    if (!items.is_array() || items.empty() ||
        items.size() > kMaxManifestItems) {
      return Status::InvalidInput("no items");
    }
    ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node_).Find(m.from));
    if (!peer) return Status::Permission(m.from + " is not a pinned peer");
    auto cp = VerifyPeerCheckpoint(*peer, JsonString(m.payload, "checkpoint"));
    if (!cp.ok()) return cp.status().Annotate("the confirmation's checkpoint");
    for (const auto& item : items) {
      if (!item.is_object())
        return Status::InvalidInput("an item is an object");
      std::string address = JsonString(item, "address");
      std::string text = JsonString(item, "entry");
      const json& at = item.value("entry_index", json());
      if (!at.is_number_unsigned()) {
        return Status::InvalidInput(address.substr(0, 80) + ": no entry_index");
      }
      ASSIGN_OR_RETURN(std::vector<Hash256> proof,
                       ProofFromJson(item.value("proof", json())));
      RETURN_IF_ERROR(VerifyEntryInclusion(*cp, at.get<uint64_t>(), text, proof)
                          .Annotate(address.substr(0, 80)));
      ASSIGN_OR_RETURN(std::optional<Offer> offer,
                       FindOffer(m.from, address, manifest));
      ASSIGN_OR_RETURN(std::vector<std::string> disclosed,
                       DisclosureList(item.value("disclosures", json())));
      auto opened = OpenCustodyEntry(text, disclosed);
      const CustodyEntry* e = opened.ok() ? &opened->entry : nullptr;
      if (!offer || offer->message_id != manifest || e == nullptr ||
          e->kind != EntryKind::kEvidenceReceived || e->subject != address ||
          e->node != m.from || JsonString(e->data, "message") != manifest ||
          e->data.value("peer_entry", json()) != offer->entry_index ||
          !item.value("entry_index", json()).is_number_unsigned()) {
        return Status::InvalidInput(
            address.substr(0, 80) +
            ": not the evidence.received entry for what we offered");
      }
    }
    return Status::OK();
  };
  Status s = check();
  if (!s.ok()) {
    return node_->sql().Transaction(
        [&] { return exchange.NoteOutcome(m.id, "refused: " + s.message()); });
  }
  return node_->sql().Transaction([&]() -> Status {
    for (const auto& item : items) {
      Statement up(node_->sql(),
                   "UPDATE evidence_offers SET received_index=? "
                   "WHERE message_id=? AND address=? AND peer=?");
      up.Bind(1, item["entry_index"].get<uint64_t>());
      up.Bind(2, manifest);
      up.Bind(3, JsonString(item, "address"));
      up.Bind(4, m.from);
      RETURN_IF_ERROR(up.Run());
    }
    return exchange.NoteOutcome(m.id, "applied");
  });
}

Result<std::vector<Transfer>> Transfers::Select(const char* where,
                                                int64_t bound) {
  Statement q(node_->sql(),
              (std::string("SELECT ") + kTransferColumns +
               " FROM evidence_transfers " + where + " ORDER BY rowid")
                  .c_str());
  if (std::string_view(where).find('?') != std::string_view::npos) {
    q.Bind(1, bound);
  }
  std::vector<Transfer> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadTransfer(q));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<std::vector<Transfer>> Transfers::List() { return Select("", 0); }

Result<std::vector<Transfer>> Transfers::Due() {
  return Select("WHERE state='pending' AND next_attempt<=?", NowUnix());
}

std::string Transfers::StagingPath(const Transfer& t) const {
  return JoinPath(node_->vault().TmpDir(),
                  "pull-" + t.message_id + "-" + t.address.substr(7, 32));
}

Status Transfers::NoteProgress(const Transfer& t, uint64_t offset) {
  return node_->sql().Transaction([&] {
    Statement up(node_->sql(),
                 "UPDATE evidence_transfers SET offset=? WHERE message_id=? "
                 "AND address=?");
    up.Bind(1, offset);
    up.Bind(2, t.message_id);
    up.Bind(3, t.address);
    return up.Run();
  });
}

Status Transfers::NoteFailure(const Transfer& t, const std::string& error,
                              bool refused, bool restart) {
  if (restart) {
    std::string path = StagingPath(t);
    if (node_->env()->FileExists(path)) {
      RETURN_IF_ERROR(node_->env()->RemoveFile(path));
    }
  }
  int64_t wait = int64_t{1} << std::min(t.attempts + 1, 9);
  return node_->sql().Transaction(
      [&] { return NoteFailureRow(t, error, refused, restart, wait); });
}

Status Transfers::NoteFailureRow(const Transfer& t, const std::string& error,
                                 bool refused, bool restart, int64_t wait) {
  Statement up(node_->sql(),
               "UPDATE evidence_transfers SET attempts=attempts+1, "
               "refusals=refusals+?, next_attempt=?, last_error=?, "
               "offset=CASE WHEN ? THEN 0 ELSE offset END, "
               "state=CASE WHEN refusals+? >= ? THEN 'failed' ELSE state END "
               "WHERE message_id=? AND address=?");
  up.Bind(1, refused ? 1 : 0);
  up.Bind(2, NowUnix() + std::min<int64_t>(wait, 300));
  up.Bind(3, error.substr(0, 500));
  up.Bind(4, restart ? 1 : 0);
  up.Bind(5, refused ? 1 : 0);
  up.Bind(6, kMaxTransferAttempts);
  up.Bind(7, t.message_id);
  up.Bind(8, t.address);
  return up.Run();
}

Status Transfers::Complete(const Transfer& t, const PutResult& put) {
  // What arrived is what the manifest promised, by every hash it names.
  if (put.address.ToString() != t.address || put.size != t.size) {
    return Status::Corruption(t.peer + " sent " + std::to_string(put.size) +
                              " bytes hashing to " + put.address.ToString() +
                              ", not the " + std::to_string(t.size) +
                              " bytes of " + t.address);
  }
  for (const auto& [alg, digest] : put.digests) {
    std::string name(HashName(alg));
    if (t.hashes.contains(name) && t.hashes[name] != HexEncode(digest)) {
      return Status::Corruption(t.peer + " sent " + t.address +
                                " with another " + name +
                                " than its manifest names");
    }
  }
  std::string staging = StagingPath(t);
  if (node_->env()->FileExists(staging)) {
    RETURN_IF_ERROR(node_->vault().Adopt(staging, put.address).status());
  }
  auto digests = put.digests;
  auto hex = [&](HashAlgorithm a) {
    auto it = digests.find(a);
    return it == digests.end() ? std::string() : HexEncode(it->second);
  };
  std::string time = FormatTime(node_->env()->NowUnixNanos() / 1000);
  auto r = node_->Apply(
      [&]() -> Result<std::vector<CustodyEntry>> {
        // Checked before the entry is written: once it is in the log, only
        // a failing disk may undo the rest.
        ASSIGN_OR_RETURN(bool marked, MarkDone(t, put.size));
        if (!marked) {
          return Status::Conflict(t.address + " from message " + t.message_id +
                                  " was received already");
        }
        // "Already held" by this case only (its business, not another's).
        ASSIGN_OR_RETURN(bool duplicate,
                         node_->db().CaseHolds(t.case_id, t.address));
        CustodyEntry e;
        e.kind = EntryKind::kEvidenceReceived;
        e.actor = "peer:" + t.peer;
        e.case_id = t.case_id;
        e.subject = t.address;
        e.data = {{"from", t.peer},
                  {"message", t.message_id},
                  {"peer_entry", t.peer_entry},
                  {"request", t.request_id},
                  {"size", put.size},
                  {"hashes", HashesJson(digests)},
                  {"stored", duplicate ? "already held" : "new"}};
        return std::vector<CustodyEntry>{std::move(e)};
      },
      [&](uint64_t index) -> Status {
        return RecordReceived(t, index, put.size, hex(HashAlgorithm::kMd5),
                              hex(HashAlgorithm::kSha1), time);
      });
  RETURN_IF_ERROR(r.status());
  // The confirmation is queued now, or by the next round after a crash.
  return SendConfirmations();
}

Result<bool> Transfers::MarkDone(const Transfer& t, uint64_t size) {
  Statement up(node_->sql(),
               "UPDATE evidence_transfers SET state='done', offset=?, "
               "last_error='' WHERE message_id=? AND address=? AND "
               "state='pending'");
  up.Bind(1, size);
  up.Bind(2, t.message_id);
  up.Bind(3, t.address);
  RETURN_IF_ERROR(up.Run());
  return sqlite3_changes(node_->sql().handle()) > 0;
}

Status Transfers::RecordReceived(const Transfer& t, uint64_t index,
                                 uint64_t size, const std::string& md5,
                                 const std::string& sha1,
                                 const std::string& time) {
  Statement up(node_->sql(),
               "UPDATE evidence_transfers SET entry_index=? WHERE "
               "message_id=? AND address=?");
  up.Bind(1, index);
  up.Bind(2, t.message_id);
  up.Bind(3, t.address);
  RETURN_IF_ERROR(up.Run());
  return node_->db().RecordIngest(
      {t.address, size, md5, sha1},
      {t.address, t.case_id, index, "peer:" + t.peer, time, md5, sha1});
}

Status Transfers::SendConfirmations() {
  ASSIGN_OR_RETURN(std::vector<Transfer> owed,
                   Select("WHERE state='done' AND confirmed=0", 0));
  for (const auto& t : owed) RETURN_IF_ERROR(Confirm(t));
  return Status::OK();
}

Status Transfers::Confirm(const Transfer& t) {
  ASSIGN_OR_RETURN(std::optional<RequestLink> link,
                   Exchange(node_).Link(t.request_id));
  // The entry with its inclusion proof: the peer keeps proof of receipt.
  ASSIGN_OR_RETURN(CustodyLog * log, node_->Log());
  SignedCheckpoint cp = log->Latest();
  LogReader at = log->ReaderAt(cp.size);
  uint64_t index = static_cast<uint64_t>(t.entry_index);
  ASSIGN_OR_RETURN(std::string entry, at.Entry(index));
  ASSIGN_OR_RETURN(std::vector<Hash256> proof, at.InclusionProof(index));
  ASSIGN_OR_RETURN(std::vector<std::string> disclosures,
                   CustodyIndex(&node_->sql()).Disclosures(index));
  json payload = {
      {"manifest", t.message_id},
      {"request", link ? link->remote_id : std::string()},
      {"checkpoint", cp.note},
      {"items", json::array({{{"address", t.address},
                              {"entry_index", t.entry_index},
                              {"entry", entry},
                              {"disclosures", DisclosedToPeer(disclosures)},
                              {"proof", ProofToJson(proof)}}})}};
  RETURN_IF_ERROR(Mailroom(node_)
                      .Enqueue("system:amanah", t.peer, "evidence.received",
                               payload, t.case_id)
                      .status());
  return node_->sql().Transaction([&] {
    Statement up(node_->sql(),
                 "UPDATE evidence_transfers SET confirmed=1 WHERE "
                 "message_id=? AND address=?");
    up.Bind(1, t.message_id);
    up.Bind(2, t.address);
    return up.Run();
  });
}

}  // namespace amanah
