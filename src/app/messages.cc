#include "app/messages.h"

#include <sodium.h>

#include <algorithm>
#include <map>
#include <set>

#include "app/custody_index.h"
#include "app/exchange.h"
#include "app/transfers.h"
#include "base/encoding.h"
#include "base/json_writer.h"
#include "crypto/hash.h"
#include "ledger/merkle.h"
#include "ledger/note.h"
#include "storage/sqlite/sqlite.h"

namespace amanah {

namespace {

using nlohmann::json;

constexpr char kMessageDomain[] = "amanah-message/v1";
constexpr char kReceiptDomain[] = "amanah-receipt/v1";

std::string Sha256Hex(std::string_view s) {
  Hash256 h = Sha256(AsBytes(s));
  return HexEncode(ByteView(h.data(), h.size()));
}

std::string Domain(const char* domain, std::string_view body) {
  std::string m(domain);
  m.push_back('\n');
  m.append(body);
  return m;
}

bool IsHex32(const std::string& s) {
  return s.size() == 32 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

OutboxItem ReadOutbox(const Statement& q) {
  OutboxItem o;
  o.id = q.Text(0);
  o.peer = q.Text(1);
  o.type = q.Text(2);
  o.body = q.Text(3);
  o.signature = q.Text(4);
  o.created = q.Text(5);
  o.state = q.Text(6);
  o.attempts = static_cast<int>(q.Int(7));
  o.next_attempt_unix = q.Int(8);
  o.last_error = q.Text(9);
  o.receipt = q.Text(10);
  return o;
}

constexpr char kOutboxColumns[] =
    "id, peer, type, body, signature, created, state, attempts, "
    "next_attempt, last_error, receipt";

}  // namespace

std::string JsonString(const json& j, const char* key) {
  if (!j.is_object()) return std::string();
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>()
                                          : std::string();
}

Status VerifyStatement(const char* domain, std::string_view body,
                       std::string_view signature, ByteView public_key) {
  auto sig = Base64Decode(signature);
  if (!sig.ok() || sig->size() != 64 || public_key.size() != 32) {
    return Status::Permission(
        "the signature is not one base64 Ed25519 "
        "signature");
  }
  Ed25519PublicKey key;
  std::copy(public_key.begin(), public_key.end(), key.begin());
  if (!Ed25519Verify(key, AsBytes(Domain(domain, body)), *sig)) {
    return Status::Permission(
        "the signature does not verify with the key "
        "pinned for the sender");
  }
  return Status::OK();
}

json ProofToJson(const std::vector<Hash256>& proof) {
  json lines = json::array();
  for (const Hash256& h : proof) {
    lines.push_back(Base64Encode(ByteView(h.data(), h.size())));
  }
  return lines;
}

Result<std::vector<Hash256>> ProofFromJson(const json& lines) {
  if (!lines.is_array() || lines.size() > 64) {
    return Status::InvalidInput("a proof is an array of at most 64 hashes");
  }
  std::vector<Hash256> proof;
  for (const auto& line : lines) {
    auto h = line.is_string() ? Base64Decode(line.get<std::string>())
                              : Result<Bytes>(Status::InvalidInput(""));
    if (!h.ok() || h->size() != 32) {
      return Status::InvalidInput("a proof line is not a base64 hash");
    }
    Hash256 x;
    std::copy(h->begin(), h->end(), x.begin());
    proof.push_back(x);
  }
  return proof;
}

Result<Checkpoint> VerifyPeerCheckpoint(const Peer& peer,
                                        const std::string& note_text) {
  ASSIGN_OR_RETURN(Note note, ParseNote(note_text));
  RETURN_IF_ERROR(VerifyNoteSignature(note, peer.LogKey()));
  ASSIGN_OR_RETURN(Checkpoint cp, ParseCheckpointBody(note.text));
  if (cp.origin != peer.origin()) {
    return Status::InvalidInput("a checkpoint of " + cp.origin + ", not of " +
                                peer.origin());
  }
  return cp;
}

Status VerifyEntryInclusion(const Checkpoint& cp, uint64_t index,
                            std::string_view entry,
                            const std::vector<Hash256>& proof) {
  if (index >= cp.size ||
      !merkle::VerifyInclusion(index, cp.size, merkle::LeafHash(AsBytes(entry)),
                               proof, cp.root)
           .ok()) {
    return Status::InvalidInput("the inclusion proof of entry " +
                                std::to_string(index) + " does not verify");
  }
  return Status::OK();
}

Status ValidateMessageType(std::string_view type) {
  if (type == "request" || type == "request.update" ||
      type == "evidence.manifest" || type == "evidence.received") {
    return Status::OK();
  }
  return Status::InvalidInput("unknown message type " +
                              std::string(type.substr(0, 64)));
}

std::string SignMessageBody(std::string_view body,
                            const Ed25519PrivateKey& key) {
  Ed25519Signature sig = key.Sign(AsBytes(Domain(kMessageDomain, body)));
  return Base64Encode(ByteView(sig.data(), sig.size()));
}

Status VerifyMessageBody(std::string_view body, std::string_view signature,
                         ByteView public_key) {
  return VerifyStatement(kMessageDomain, body, signature, public_key);
}

Result<Message> ParseMessage(std::string_view body) {
  if (body.size() > kMaxMessageBytes) {
    return Status::TooLarge("a message is at most 1 MiB");
  }
  // Before parsing: the body comes before its signature is checked, and
  // nlohmann::json copies values recursively.
  if (!JsonDepthAtMost(body, kMaxJsonDepth)) {
    return Status::InvalidInput("the message is nested more than " +
                                std::to_string(kMaxJsonDepth) + " levels deep");
  }
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::InvalidInput("the message is not a JSON object");
  }
  static const char* kFields[] = {"from", "id",   "payload", "time",
                                  "to",   "type", "v"};
  if (j.size() != std::size(kFields)) {
    return Status::InvalidInput(
        "a message has exactly the fields from, id, "
        "payload, time, to, type and v");
  }
  for (const char* f : kFields) {
    if (!j.contains(f)) {
      return Status::InvalidInput(std::string("the message has no ") + f);
    }
  }
  if (j["v"] != 1) return Status::InvalidInput("unknown message version");
  for (const char* f : {"from", "id", "time", "to", "type"}) {
    if (!j[f].is_string()) {
      return Status::InvalidInput(std::string(f) + " must be a string");
    }
  }
  if (!j["payload"].is_object()) {
    return Status::InvalidInput("payload must be an object");
  }
  Message m;
  m.id = j["id"];
  m.type = j["type"];
  m.from = j["from"];
  m.to = j["to"];
  m.time = j["time"];
  m.payload = j["payload"];
  m.body = std::string(body);
  if (!IsHex32(m.id)) {
    return Status::InvalidInput("a message id is 32 lowercase hex digits");
  }
  RETURN_IF_ERROR(ValidateMessageType(m.type));
  RETURN_IF_ERROR(ValidateNodeName(m.from));
  RETURN_IF_ERROR(ValidateNodeName(m.to));
  RETURN_IF_ERROR(ParseTime(m.time).status());
  // Exact bytes: the canonical form only, so one message has one body.
  std::string canonical;
  AppendJson(&canonical, j);
  if (canonical != body) {
    return Status::InvalidInput(
        "the message is not in canonical form "
        "(compact, keys sorted)");
  }
  return m;
}

std::string FormatMessageBatch(const std::vector<SignedMessage>& batch) {
  json messages = json::array();
  for (const SignedMessage& m : batch) {
    messages.push_back({{"body", m.body}, {"signature", m.signature}});
  }
  std::string out;
  AppendJson(&out, json{{"messages", std::move(messages)}});
  return out;
}

Result<std::vector<SignedMessage>> ParseMessageBatch(const json& j) {
  auto bad = [](const std::string& why) {
    return Status::InvalidInput(
        "a message batch is {\"messages\":[{\"body\":"
        "…,\"signature\":…},…]}: " +
        why);
  };
  if (!j.is_object() || j.size() != 1 || !j.contains("messages") ||
      !j["messages"].is_array()) {
    return bad("it is an object of one field, messages, an array");
  }
  const json& list = j["messages"];
  if (list.empty() || list.size() > kMaxBatchMessages) {
    return bad("it holds 1 to " + std::to_string(kMaxBatchMessages) +
               " messages, not " + std::to_string(list.size()));
  }
  std::vector<SignedMessage> out;
  for (const json& m : list) {
    if (!m.is_object() || m.size() != 2 || !m.contains("body") ||
        !m["body"].is_string() || !m.contains("signature") ||
        !m["signature"].is_string()) {
      return bad("message " + std::to_string(out.size()) +
                 " is not an object of two strings, body and signature");
    }
    out.push_back(
        {m["body"].get<std::string>(), m["signature"].get<std::string>()});
  }
  return out;
}

std::string Mailroom::NewMessageId() {
  uint8_t rnd[16];
  randombytes_buf(rnd, sizeof(rnd));
  return HexEncode(ByteView(rnd, sizeof(rnd)));
}

int64_t Mailroom::NowUnix() const {
  return node_->env()->NowUnixNanos() / 1000000000;
}

Result<std::string> Mailroom::Enqueue(const std::string& actor,
                                      const std::string& peer,
                                      const std::string& type,
                                      const json& payload,
                                      const std::string& case_id,
                                      const std::string& chosen_id) {
  RETURN_IF_ERROR(ValidateMessageType(type));
  if (!payload.is_object()) {
    return Status::InvalidInput("a message payload is a JSON object");
  }
  ASSIGN_OR_RETURN(std::optional<Peer> p, PeerBook(node_).Find(peer));
  if (!p) return Status::NotFound("no peer named " + peer);
  std::string id = chosen_id.empty() ? NewMessageId() : chosen_id;
  if (!IsHex32(id)) return Status::InvalidInput("a message id is 32 hex");
  std::string now = FormatTime(node_->env()->NowUnixNanos() / 1000);
  json j = {{"v", 1},
            {"id", id},
            {"type", type},
            {"from", node_->info().name},
            {"to", peer},
            {"time", now},
            {"payload", payload}};
  std::string body;
  AppendJson(&body, j);
  if (body.size() > kMaxMessageBytes) {
    return Status::TooLarge("a message is at most 1 MiB");
  }
  std::string sig = node_->SignStatement(kMessageDomain, body);
  auto r = node_->Apply([&]() -> Result<std::vector<CustodyEntry>> {
    Statement ins(node_->sql(),
                  "INSERT INTO outbox(id, peer, type, body, signature, "
                  "created, state) VALUES(?,?,?,?,?,?,'pending')");
    ins.Bind(1, id);
    ins.Bind(2, peer);
    ins.Bind(3, type);
    ins.Bind(4, body);
    ins.Bind(5, sig);
    ins.Bind(6, now);
    RETURN_IF_ERROR(ins.Run());
    CustodyEntry e;
    e.kind = EntryKind::kMessageSent;
    e.actor = actor;
    e.case_id = case_id;
    e.subject = "message:" + id;
    e.data = {{"to", peer}, {"type", type}, {"body_sha256", Sha256Hex(body)}};
    return std::vector<CustodyEntry>{std::move(e)};
  });
  RETURN_IF_ERROR(r.status());
  return id;
}

Result<Message> Mailroom::Check(std::string_view body,
                                std::string_view signature) {
  ASSIGN_OR_RETURN(Message m, ParseMessage(body));
  if (m.to != node_->info().name) {
    return Status::InvalidInput("the message is addressed to " + m.to +
                                ", not to this node");
  }
  ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node_).Find(m.from));
  if (!peer) {
    return Status::Permission("the sender " + m.from + " is not a pinned peer");
  }
  RETURN_IF_ERROR(
      VerifyMessageBody(body, signature, peer->LogKey().public_key));
  ASSIGN_OR_RETURN(int64_t sent_micros, ParseTime(m.time));
  int64_t age = NowUnix() - sent_micros / 1000000;
  if (age < -kMessageClockSkewSeconds) {
    return Status::InvalidInput(
        "the message is dated more than 15 minutes ahead of this node's "
        "clock");
  }
  if (age > kMessageMaxAgeSeconds) {
    return Status::InvalidInput(
        "the message is more than 30 days old; stale messages are refused");
  }
  return m;
}

Result<std::optional<std::string>> Mailroom::StoredBody(const std::string& id) {
  Statement q(node_->sql(), "SELECT body FROM inbox WHERE id=?");
  q.Bind(1, id);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<std::string>();
  if (rc != SQLITE_ROW) return q.Error();
  return std::optional<std::string>(q.Text(0));
}

Status Mailroom::InsertInbox(const Message& m, const std::string& received) {
  Statement ins(node_->sql(),
                "INSERT INTO inbox(id, peer, type, body, received) "
                "VALUES(?,?,?,?,?)");
  ins.Bind(1, m.id);
  ins.Bind(2, m.from);
  ins.Bind(3, m.type);
  ins.Bind(4, m.body);
  ins.Bind(5, received);
  return ins.Run();
}

Status Mailroom::Store(const std::vector<const Message*>& fresh) {
  // A message whose message.received entry became durable before a crash
  // kept the database from committing had its entry voided when the node
  // opened again (Node::VoidUncommitted): it is stored as new.
  const std::vector<const Message*>& unlogged = fresh;
  if (unlogged.empty()) return Status::OK();
  auto r = node_->Apply([&]() -> Result<std::vector<CustodyEntry>> {
    std::vector<CustodyEntry> entries;
    std::string now = FormatTime(node_->env()->NowUnixNanos() / 1000);
    for (const Message* m : unlogged) {
      RETURN_IF_ERROR(InsertInbox(*m, now));
      CustodyEntry e;
      e.kind = EntryKind::kMessageReceived;
      e.actor = "peer:" + m->from;
      e.subject = "message:" + m->id;
      e.data = {{"from", m->from},
                {"type", m->type},
                {"body_sha256", Sha256Hex(m->body)}};
      entries.push_back(std::move(e));
    }
    return entries;
  });
  if (r.ok() || r.status().code() != Code::kConflict || unlogged.size() != 1) {
    return r.status();
  }
  // Two deliveries of one message raced and met at the primary key: the
  // other one stored it, with the same body or not.
  ASSIGN_OR_RETURN(std::optional<std::string> stored,
                   StoredBody(unlogged[0]->id));
  if (stored && *stored == unlogged[0]->body) return Status::OK();
  return Status::Conflict("message " + unlogged[0]->id +
                          " was received before with another body");
}

Result<std::string> Mailroom::ActAndReceipt(const Message& m) {
  // What the message asks is done once; whether it could be is kept with
  // it (amanah inbox), and the receipt is owed either way.
  if (m.type == "evidence.manifest") {
    (void)Transfers(node_).AcceptManifest(m);
  } else if (m.type == "evidence.received") {
    (void)Transfers(node_).AcceptConfirmation(m);
  } else {
    (void)Exchange(node_).Apply(m);
  }

  // The receipt, for a first delivery or a replay alike.
  std::string digest = Sha256Hex(m.body);
  ASSIGN_OR_RETURN(CustodyLog * log, node_->Log());
  CustodyIndex index(&node_->sql());
  ASSIGN_OR_RETURN(auto found, index.ForSubject("message:" + m.id, -1, 10));
  uint64_t entry_index = 0;
  bool have = false;
  for (const auto& e : found) {
    if (e.kind == "message.received") {
      entry_index = e.index;
      have = true;
    }
  }
  if (!have) return Status::Unavailable("the receipt entry is not indexed");
  SignedCheckpoint cp = log->Latest();
  LogReader at = log->ReaderAt(cp.size);
  ASSIGN_OR_RETURN(std::string entry, at.Entry(entry_index));
  ASSIGN_OR_RETURN(std::vector<Hash256> proof, at.InclusionProof(entry_index));
  json receipt = {{"v", 1},
                  {"message", m.id},
                  {"from", node_->info().name},
                  {"to", m.from},
                  {"body_sha256", digest},
                  {"entry_index", entry_index},
                  {"time", FormatTime(node_->env()->NowUnixNanos() / 1000)}};
  std::string receipt_text;
  AppendJson(&receipt_text, receipt);
  json proof_lines = ProofToJson(proof);
  json package = {
      {"receipt", receipt_text},
      {"signature", node_->SignStatement(kReceiptDomain, receipt_text)},
      {"entry", entry},
      {"proof", proof_lines},
      {"checkpoint", cp.note}};
  std::string out;
  AppendJson(&out, package);
  return out;
}

Result<std::string> Mailroom::Receive(std::string_view body,
                                      std::string_view signature) {
  std::vector<SignedMessage> one;
  one.push_back({std::string(body), std::string(signature)});
  return std::move(ReceiveBatch(one)[0]);
}

std::vector<Result<std::string>> Mailroom::ReceiveBatch(
    const std::vector<SignedMessage>& batch) {
  std::vector<Result<std::string>> out;
  std::vector<std::optional<Message>> checked(batch.size());
  // Each message checked alone; then whether it is new, a replay (the same
  // id and body as one stored, or as one earlier in the batch), or a
  // second body for an id already taken.
  std::map<std::string, const Message*> seen;
  std::vector<const Message*> fresh;
  for (size_t i = 0; i < batch.size(); ++i) {
    auto m = Check(batch[i].body, batch[i].signature);
    if (!m.ok()) {
      out.push_back(m.status());
      continue;
    }
    out.push_back(std::string());  // the receipt, below
    auto [it, first] = seen.emplace(m->id, nullptr);
    std::optional<std::string> before;
    if (!first) {
      if (it->second != nullptr) before = it->second->body;
    } else {
      auto stored = StoredBody(m->id);
      if (!stored.ok()) {
        out[i] = stored.status();
        continue;
      }
      before = std::move(stored).value();
    }
    if (before && *before != m->body) {
      out[i] = Status::Conflict("message " + m->id +
                                " was received before with another body");
      continue;
    }
    checked[i] = std::move(m).value();
    if (first) it->second = &*checked[i];
    if (first && !before) fresh.push_back(&*checked[i]);
  }
  // The new ones stored together, in one group commit; should that fail,
  // each alone, so that one message's failure is its own.
  Status all = fresh.empty() ? Status::OK() : Store(fresh);
  for (size_t f = 0; !all.ok() && f < fresh.size(); ++f) {
    Status s = fresh.size() == 1 ? all : Store({fresh[f]});
    for (size_t i = 0; i < batch.size() && !s.ok(); ++i) {
      if (checked[i] && checked[i]->id == fresh[f]->id) out[i] = s;
    }
  }
  // Acted on in order: a conversation's messages follow one another.
  for (size_t i = 0; i < batch.size(); ++i) {
    if (!checked[i] || !out[i].ok()) continue;
    out[i] = ActAndReceipt(*checked[i]);
  }
  return out;
}

// What a checked receipt proves, to be recorded.
struct Mailroom::Delivery {
  std::string id, peer, digest, package;
  bool delivered_before = false;
  uint64_t entry_index = 0, checkpoint_size = 0;
};

Result<Mailroom::Delivery> Mailroom::CheckReceipt(
    const std::string& id, std::string_view package_text,
    std::map<std::string, Checkpoint>* verified) {
  Statement q(node_->sql(), (std::string("SELECT ") + kOutboxColumns +
                             " FROM outbox WHERE id=?")
                                .c_str());
  q.Bind(1, id);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("no outbox message " + id);
  if (rc != SQLITE_ROW) return q.Error();
  OutboxItem item = ReadOutbox(q);
  ASSIGN_OR_RETURN(std::optional<Peer> peer, PeerBook(node_).Find(item.peer));
  if (!peer) return Status::NotFound("no peer named " + item.peer);
  VerifierKey key = peer->LogKey();

  auto bad = [&](const std::string& why) {
    return Status::Corruption("the receipt of " + item.peer + " for message " +
                              id + ": " + why);
  };
  json p = json::parse(package_text, nullptr, false);
  if (p.is_discarded() || !p.is_object()) return bad("not a JSON object");
  for (const char* f : {"receipt", "signature", "entry", "checkpoint"}) {
    if (!p.contains(f) || !p[f].is_string()) return bad(std::string("no ") + f);
  }
  if (!p.contains("proof") || !p["proof"].is_array()) return bad("no proof");
  std::string receipt_text = p["receipt"];
  RETURN_IF_ERROR(VerifyStatement(kReceiptDomain, receipt_text,
                                  p["signature"].get<std::string>(),
                                  key.public_key)
                      .Annotate("the receipt's signature"));
  json receipt = json::parse(receipt_text, nullptr, false);
  std::string digest = Sha256Hex(item.body);
  if (!receipt.is_object() || JsonString(receipt, "message") != id ||
      JsonString(receipt, "from") != item.peer ||
      JsonString(receipt, "to") != node_->info().name ||
      JsonString(receipt, "body_sha256") != digest ||
      !receipt.contains("entry_index") ||
      !receipt["entry_index"].is_number_unsigned()) {
    return bad("it does not name this message, its body and both nodes");
  }
  uint64_t entry_index = receipt["entry_index"];
  // The entry says what the receipt says.
  std::string entry = p["entry"];
  ASSIGN_OR_RETURN(CustodyEntry e, ParseCustodyEntry(entry));
  if (e.kind != EntryKind::kMessageReceived || e.subject != "message:" + id ||
      e.node != item.peer || JsonString(e.data, "body_sha256") != digest) {
    return bad("its custody entry is not the receipt of this message");
  }
  // The entry is in the peer's log, at that index, under a checkpoint the
  // peer signed.
  // Receipts that travel together mostly share one checkpoint.
  std::string note = p["checkpoint"];
  std::string seen = item.peer + "\n" + note;
  auto known = verified->find(seen);
  Result<Checkpoint> cp = known != verified->end()
                              ? Result<Checkpoint>(known->second)
                              : VerifyPeerCheckpoint(*peer, note);
  if (!cp.ok()) return bad("its checkpoint: " + cp.status().message());
  if (known == verified->end()) verified->emplace(seen, *cp);
  auto proof = ProofFromJson(p["proof"]);
  if (!proof.ok()) return bad(proof.status().message());
  Status included = VerifyEntryInclusion(*cp, entry_index, entry, *proof);
  if (!included.ok()) return bad(included.message());

  Delivery d;
  d.id = id;
  d.peer = item.peer;
  d.digest = digest;
  d.package = std::string(package_text);
  d.delivered_before = item.state == "delivered";
  d.entry_index = entry_index;
  d.checkpoint_size = cp->size;
  return d;
}

Status Mailroom::AcceptReceipt(const std::string& id,
                               std::string_view package) {
  return AcceptReceipts({{id, std::string(package)}})[0];
}

std::vector<Status> Mailroom::AcceptReceipts(
    const std::vector<std::pair<std::string, std::string>>& receipts) {
  std::vector<Status> out;
  std::vector<Delivery> todo;
  std::vector<size_t> slot;  // todo[k] answers receipts[slot[k]]
  std::map<std::string, Checkpoint> verified;  // checkpoint notes
  for (size_t i = 0; i < receipts.size(); ++i) {
    auto d = CheckReceipt(receipts[i].first, receipts[i].second, &verified);
    out.push_back(d.status());
    if (d.ok() && !d->delivered_before) {
      todo.push_back(std::move(d).value());
      slot.push_back(i);
    }
  }
  if (todo.empty()) return out;
  auto r = node_->Apply([&]() -> Result<std::vector<CustodyEntry>> {
    std::vector<CustodyEntry> entries;
    for (const Delivery& d : todo) {
      Statement up(node_->sql(),
                   "UPDATE outbox SET state='delivered', receipt=?, "
                   "last_error='' WHERE id=? AND state='pending'");
      up.Bind(1, d.package);
      up.Bind(2, d.id);
      RETURN_IF_ERROR(up.Run());
      // A concurrent acceptance of the same receipt got there first: fine.
      if (sqlite3_changes(node_->sql().handle()) == 0) continue;
      CustodyEntry e;
      e.kind = EntryKind::kMessageDelivered;
      e.actor = "system:amanah";
      e.subject = "message:" + d.id;
      e.data = {{"to", d.peer},
                {"peer_entry_index", d.entry_index},
                {"peer_checkpoint_size", d.checkpoint_size},
                {"body_sha256", d.digest}};
      entries.push_back(std::move(e));
    }
    if (entries.empty()) {
      return Status::Conflict("every message is delivered already");
    }
    return entries;
  });
  if (!r.ok() && r.status().code() != Code::kConflict) {
    for (size_t k : slot) out[k] = r.status();
  }
  return out;
}

Status Mailroom::NoteFailure(const std::string& id, const std::string& error) {
  // In a transaction of its own: another thread's may be open on the
  // connection, and this must neither join nor wait on its outcome.
  return node_->sql().Transaction([&] {
    Statement up(node_->sql(),
                 "UPDATE outbox SET attempts=attempts+1, last_error=?, "
                 "next_attempt=? + min(300, 1 << min(attempts + 1, 9)) "
                 "WHERE id=? AND state='pending'");
    up.Bind(1, error.substr(0, 1000));
    up.Bind(2, NowUnix());
    up.Bind(3, id);
    return up.Run();
  });
}

namespace {

Result<std::vector<OutboxItem>> ReadAll(Statement& q) {
  RETURN_IF_ERROR(q.status());
  std::vector<OutboxItem> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadOutbox(q));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

}  // namespace

Result<std::vector<OutboxItem>> Mailroom::Outbox(bool pending_only) {
  std::string sql = std::string("SELECT ") + kOutboxColumns + " FROM outbox" +
                    (pending_only ? " WHERE state='pending'" : "") +
                    " ORDER BY rowid";
  Statement q(node_->sql(), sql.c_str());
  return ReadAll(q);
}

std::string ConversationOf(const Message& m) {
  auto field = [&](const char* key) {
    return m.payload.contains(key) && m.payload[key].is_string()
               ? m.payload[key].get<std::string>()
               : std::string();
  };
  std::string request;
  if (m.type == "request") request = field("request");
  if (m.type == "request.update" || m.type == "evidence.manifest") {
    request = field("from_request");
  }
  if (!request.empty()) return m.to + " request " + request;
  if (m.type == "evidence.received")
    return m.to + " manifest " + field("manifest");
  return m.to + " message " + m.id;
}

Result<std::vector<OutboxItem>> Mailroom::Due() {
  Statement q(node_->sql(), (std::string("SELECT ") + kOutboxColumns +
                             " FROM outbox WHERE state='pending' ORDER BY "
                             "rowid LIMIT 10000")
                                .c_str());
  ASSIGN_OR_RETURN(std::vector<OutboxItem> pending, ReadAll(q));
  // A message waits while an earlier one of its conversation does, so that
  // the peer gets them in the order they were made.
  int64_t now = NowUnix();
  std::set<std::string> waiting;
  std::vector<OutboxItem> due;
  for (auto& item : pending) {
    auto m = ParseMessage(item.body);
    item.conversation = m.ok() ? ConversationOf(*m) : "message " + item.id;
    if (waiting.count(item.conversation)) continue;
    if (item.next_attempt_unix > now) {
      waiting.insert(item.conversation);
      continue;
    }
    due.push_back(std::move(item));
  }
  return due;
}

Result<std::vector<InboxItem>> Mailroom::Inbox() {
  Statement q(node_->sql(),
              "SELECT id, peer, type, body, received FROM inbox "
              "ORDER BY received, id");
  RETURN_IF_ERROR(q.status());
  std::vector<InboxItem> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) {
    InboxItem i;
    i.id = q.Text(0);
    i.peer = q.Text(1);
    i.type = q.Text(2);
    i.body = q.Text(3);
    i.received = q.Text(4);
    out.push_back(std::move(i));
  }
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

}  // namespace amanah
