#include "app/peers.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cctype>

#include "base/encoding.h"
#include "storage/peer_store.h"

namespace amanah {

namespace {

Peer FromRecord(PeerRecord r) {
  Peer p;
  p.name = std::move(r.name);
  p.url = std::move(r.url);
  p.log_key = std::move(r.log_key);
  p.tls_pin = std::move(r.tls_pin);
  p.added = std::move(r.added);
  return p;
}

PeerRecord ToRecord(const Peer& p) {
  return PeerRecord{p.name, p.url, p.log_key, p.tls_pin, p.added};
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  std::string h(host);
  in_addr v4;
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

namespace {

// A DNS name: labels of letters, digits and '-', 1 to 63 bytes each, not
// starting or ending with '-'; at most 253 bytes, no trailing dot.
bool IsDnsName(std::string_view host) {
  if (host.empty() || host.size() > 253) return false;
  size_t start = 0;
  while (true) {
    size_t dot = host.find('.', start);
    std::string_view label = host.substr(start, dot == std::string_view::npos
                                                    ? std::string_view::npos
                                                    : dot - start);
    if (label.empty() || label.size() > 63 || label.front() == '-' ||
        label.back() == '-') {
      return false;
    }
    for (char c : label) {
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-') {
        return false;
      }
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

}  // namespace

Result<PeerUrl> ParsePeerUrl(std::string_view url) {
  auto malformed = [&](const std::string& why) {
    return Status::InvalidInput(
        "a peer URL is http(s)://host[:port], with no path and at most 2048 "
        "bytes (" +
        why + "): " + std::string(url.substr(0, 100)));
  };
  if (url.size() > 2048) return malformed("too long");
  for (char c : url) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f) {
      return Status::InvalidInput(
          "a peer URL is printable ASCII, with no spaces or control "
          "characters");
    }
  }
  // No user name or password: "http://127.0.0.1@evil.example" names
  // evil.example. The URL is not echoed, as it may hold a password.
  if (url.find('@') != std::string_view::npos) {
    return Status::InvalidInput(
        "a peer URL cannot carry a user name or password (user@host); give "
        "only http(s)://host[:port]");
  }
  PeerUrl out;
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    out.scheme = "https";
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    out.scheme = "http";
    rest = url.substr(7);
  } else {
    return malformed("the scheme is http or https");
  }
  if (rest.find_first_of("/?#\\") != std::string_view::npos) {
    return malformed("no path, query or fragment");
  }
  std::string_view port;
  if (!rest.empty() && rest.front() == '[') {
    size_t close = rest.find(']');
    if (close == std::string_view::npos) return malformed("an unclosed '['");
    out.host = std::string(rest.substr(1, close - 1));
    in6_addr v6;
    if (::inet_pton(AF_INET6, out.host.c_str(), &v6) != 1) {
      return malformed("not an IPv6 address between [ and ]");
    }
    rest = rest.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return malformed("only :port may follow ]");
      port = rest.substr(1);
      if (port.empty()) return malformed("an empty port");
    }
  } else {
    size_t colon = rest.find(':');
    out.host = std::string(rest.substr(0, colon));
    if (colon != std::string_view::npos) {
      port = rest.substr(colon + 1);
      if (port.empty()) return malformed("an empty port");
    }
    // An IPv4 address is written as four decimal numbers: the resolver
    // also takes "127.1", "2130706433" or "0x7f.1", which would hide what
    // address is meant.
    in_addr v4;
    bool dotted = ::inet_pton(AF_INET, out.host.c_str(), &v4) == 1;
    bool numeric = ::inet_aton(out.host.c_str(), &v4) != 0;
    size_t last_dot = out.host.rfind('.');
    std::string_view last = std::string_view(out.host).substr(
        last_dot == std::string::npos ? 0 : last_dot + 1);
    bool digits_last = !last.empty() && last.find_first_not_of("0123456789") ==
                                            std::string_view::npos;
    if (!dotted && (numeric || digits_last)) {
      return malformed("an IPv4 address is four decimal numbers, a.b.c.d");
    }
    if (!dotted && !IsDnsName(out.host)) {
      return malformed("the host is a DNS name, an IPv4 address or [IPv6]");
    }
  }
  if (!port.empty()) {
    bool digits = port.size() <= 5 && port.find_first_not_of("0123456789") ==
                                          std::string_view::npos;
    int n = digits ? std::stoi(std::string(port)) : 0;
    if (n < 1 || n > 65535) return malformed("the port is 1 to 65535");
    out.port = n;
  }
  return out;
}

namespace {

Status ValidateUrl(const std::string& url) {
  ASSIGN_OR_RETURN(PeerUrl parsed, ParsePeerUrl(url));
  if (parsed.scheme == "http" && !IsLoopbackHost(parsed.host)) {
    return Status::InvalidInput(
        "peers are reached over https, where TLS is mutual; plain http is "
        "for loopback only (127.0.0.0/8, ::1, localhost): " +
        url.substr(0, 100));
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
  ASSIGN_OR_RETURN(std::optional<PeerRecord> r,
                   node->stores().peers->Find(name));
  if (!r) return std::optional<Peer>();
  return std::optional<Peer>(FromRecord(std::move(*r)));
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
    Status s = node_->stores().peers->Insert(ToRecord(p));
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
        Status s = node_->stores().peers->Remove(name);
        if (s.code() == Code::kNotFound) {
          return Status::NotFound("no peer named " + name);
        }
        RETURN_IF_ERROR(s);
        CustodyEntry e;
        e.kind = EntryKind::kPeerRemoved;
        e.actor = actor;
        e.subject = "peer:" + name;
        return std::vector<CustodyEntry>{std::move(e)};
      })
      .status();
}

Result<std::vector<Peer>> PeerBook::List() {
  ASSIGN_OR_RETURN(std::vector<PeerRecord> records,
                   node_->stores().peers->List());
  std::vector<Peer> out;
  out.reserve(records.size());
  for (PeerRecord& r : records) out.push_back(FromRecord(std::move(r)));
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
