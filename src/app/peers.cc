#include "app/peers.h"

#include "base/encoding.h"
#include "storage/sqlite.h"

namespace amanah {

namespace {

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS peers (
  name TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  log_key TEXT NOT NULL,
  tls_pin TEXT NOT NULL,
  added TEXT NOT NULL
);
)sql";

constexpr char kColumns[] = "name, url, log_key, tls_pin, added";

Peer ReadPeer(const Statement& q) {
  Peer p;
  p.name = q.Text(0);
  p.url = q.Text(1);
  p.log_key = q.Text(2);
  p.tls_pin = q.Text(3);
  p.added = q.Text(4);
  return p;
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  return host == "localhost" || host == "[::1]" || host == "::1" ||
         host.rfind("127.", 0) == 0;
}

namespace {

Status ValidateUrl(const std::string& url) {
  bool scheme = url.rfind("http://", 0) == 0 || url.rfind("https://", 0) == 0;
  bool clean = url.size() <= 2048;
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) clean = false;
  }
  size_t host = url.find("://") + 3;
  if (!scheme || !clean || url.size() <= host || url.back() == '/' ||
      url.find('/', host) != std::string::npos) {
    return Status::InvalidInput(
        "a peer URL is http(s)://host[:port], with no path and at most 2048 "
        "bytes: " +
        url.substr(0, 100));
  }
  if (url.rfind("http://", 0) == 0) {
    std::string rest = url.substr(host);
    std::string name = rest[0] == '[' ? rest.substr(0, rest.find(']') + 1)
                                      : rest.substr(0, rest.find(':'));
    if (!IsLoopbackHost(name)) {
      return Status::InvalidInput(
          "peers are reached over https, where TLS is mutual; plain http is "
          "for loopback only: " +
          url.substr(0, 100));
    }
  }
  return Status::OK();
}

Status ValidatePin(const std::string& pin) {
  if (pin.empty()) return Status::OK();
  bool ok = pin.size() == 64;
  for (char c : pin) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) ok = false;
  }
  if (ok) return Status::OK();
  return Status::InvalidInput(
      "a TLS pin is the SHA-256 of the peer's certificate (DER) in 64 "
      "lowercase hex digits");
}

Result<std::optional<Peer>> FindWhere(Node* node, const std::string& name) {
  Statement q(
      node->sql(),
      (std::string("SELECT ") + kColumns + " FROM peers WHERE name=?").c_str());
  RETURN_IF_ERROR(q.status());
  q.Bind(1, name);
  int rc = q.Step();
  if (rc == SQLITE_DONE) return std::optional<Peer>();
  if (rc != SQLITE_ROW) return q.Error();
  return std::optional<Peer>(ReadPeer(q));
}

}  // namespace

VerifierKey Peer::LogKey() const {
  auto k = ParseVerifierKey(log_key);
  return k.ok() ? *k : VerifierKey{};
}

VerifierKey Peer::CosignerKey() const {
  VerifierKey k = LogKey();
  k.name = name;
  k.type = kNoteKeyTypeCosignatureV1;
  k.key_id = NoteKeyId(k.name, k.type, k.public_key);
  return k;
}

Status PeerBook::CreateTables(SqliteDb* sql) { return sql->Exec(kSchema); }

Result<Peer> PeerBook::Add(const std::string& actor, const std::string& name,
                           const std::string& url, const std::string& log_key,
                           const std::string& tls_pin) {
  RETURN_IF_ERROR(ValidateNodeName(name));
  if (name == node_->info().name) {
    return Status::InvalidInput("a node cannot be its own peer");
  }
  RETURN_IF_ERROR(ValidateUrl(url));
  RETURN_IF_ERROR(ValidatePin(tls_pin));
  auto key = ParseVerifierKey(log_key);
  if (!key.ok()) {
    return Status::InvalidInput("the peer's verifier key: " +
                                key.status().message());
  }
  if (key->type != kNoteKeyTypeEd25519 || key->name != name + "/custody") {
    return Status::InvalidInput("the verifier key is for " + key->name +
                                ", not for " + name +
                                "/custody (the peer's custody log)");
  }
  Peer p;
  p.name = name;
  p.url = url;
  p.log_key = log_key;
  p.tls_pin = tls_pin;
  p.added = FormatTime(node_->env()->NowUnixNanos() / 1000);
  auto r = node_->Apply([&]() -> Result<std::vector<CustodyEntry>> {
    Statement ins(node_->sql(),
                  "INSERT INTO peers(name, url, log_key, tls_pin, added) "
                  "VALUES(?,?,?,?,?)");
    ins.Bind(1, p.name);
    ins.Bind(2, p.url);
    ins.Bind(3, p.log_key);
    ins.Bind(4, p.tls_pin);
    ins.Bind(5, p.added);
    Status s = ins.Run();
    if (s.code() == Code::kConflict) {
      return Status::Conflict("a peer named " + name + " is pinned already");
    }
    RETURN_IF_ERROR(s);
    CustodyEntry e;
    e.kind = EntryKind::kPeerAdded;
    e.actor = actor;
    e.subject = "peer:" + name;
    e.data = {{"url", url}, {"key", log_key}};
    if (!tls_pin.empty()) e.data["tls_pin"] = tls_pin;
    return std::vector<CustodyEntry>{std::move(e)};
  });
  RETURN_IF_ERROR(r.status());
  return p;
}

Status PeerBook::Remove(const std::string& actor, const std::string& name) {
  return node_
      ->Apply([&]() -> Result<std::vector<CustodyEntry>> {
        Statement del(node_->sql(), "DELETE FROM peers WHERE name=?");
        del.Bind(1, name);
        RETURN_IF_ERROR(del.Run());
        if (sqlite3_changes(node_->sql().handle()) == 0) {
          return Status::NotFound("no peer named " + name);
        }
        CustodyEntry e;
        e.kind = EntryKind::kPeerRemoved;
        e.actor = actor;
        e.subject = "peer:" + name;
        return std::vector<CustodyEntry>{std::move(e)};
      })
      .status();
}

Result<std::vector<Peer>> PeerBook::List() {
  Statement q(node_->sql(),
              (std::string("SELECT ") + kColumns + " FROM peers ORDER BY name")
                  .c_str());
  RETURN_IF_ERROR(q.status());
  std::vector<Peer> out;
  int rc;
  while ((rc = q.Step()) == SQLITE_ROW) out.push_back(ReadPeer(q));
  if (rc != SQLITE_DONE) return q.Error();
  return out;
}

Result<std::optional<Peer>> PeerBook::Find(const std::string& name) {
  return FindWhere(node_, name);
}

Result<std::optional<Peer>> PeerBook::FindByOrigin(const std::string& origin) {
  constexpr std::string_view kSuffix = "/custody";
  if (origin.size() <= kSuffix.size() ||
      origin.compare(origin.size() - kSuffix.size(), kSuffix.size(), kSuffix) !=
          0) {
    return std::optional<Peer>();
  }
  return FindWhere(node_, origin.substr(0, origin.size() - kSuffix.size()));
}

}  // namespace amanah
