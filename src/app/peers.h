// Peers: the other nodes this node exchanges messages with and witnesses.
// A peer is pinned by its name, its log's verifier key (C2SP form, origin
// "<name>/custody") and optionally the SHA-256 of its TLS certificate. The
// same Ed25519 key, with key type 0x04 and the bare name, is the peer's
// cosigner key. Adding or removing a peer is a custody entry.

#ifndef AMANAH_APP_PEERS_H_
#define AMANAH_APP_PEERS_H_

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "app/node.h"
#include "ledger/note.h"

namespace amanah {

// localhost, 127.0.0.0/8 or ::1: where plain http between nodes is allowed
// (tests, a node and its tools on one machine); anywhere else nodes talk
// https with mutual TLS.
// Decided on the address itself: "127.attacker.example" is not loopback.
// `host` is a bare host, or an IPv6 address with or without its brackets.
bool IsLoopbackHost(std::string_view host);

// A peer's base URL, taken apart.
struct PeerUrl {
  std::string scheme;  // "http" or "https"
  std::string host;    // as written; an IPv6 address without its brackets
  int port = 0;        // 0: the scheme's default
};

// Parses http(s)://host[:port] and nothing more: no user name or password,
// path, query or fragment. The host is a DNS name, an IPv4 address in
// dotted decimal or an IPv6 address in brackets. kInvalidInput, saying
// what is wrong, for anything else.
Result<PeerUrl> ParsePeerUrl(std::string_view url);

struct Peer {
  std::string name;     // e.g. "cyber.doj.example"
  std::string url;      // base URL of its amanah serve, http(s)://host:port
  std::string log_key;  // verifier key of "<name>/custody", type 0x01
  std::string tls_pin;  // hex SHA-256 of its certificate (DER), or empty
  std::string added;    // RFC 3339

  std::string origin() const { return name + "/custody"; }
  // Parsed log key and the cosigner key derived from it.
  VerifierKey LogKey() const;
  VerifierKey CosignerKey() const;
};

class PeerBook {
 public:
  explicit PeerBook(Node* node) : node_(node) {}

  // Pins a peer. kInvalidInput for a malformed name, URL (ParsePeerUrl),
  // key or pin, a plain http URL whose host is not loopback, or a key that
  // is not the named node's; kConflict if the name is taken.
  Result<Peer> Add(const std::string& actor, const std::string& name,
                   const std::string& url, const std::string& log_key,
                   const std::string& tls_pin);
  Status Remove(const std::string& actor, const std::string& name);
  Result<std::vector<Peer>> List();
  Result<std::optional<Peer>> Find(const std::string& name);
  Result<std::optional<Peer>> FindByOrigin(const std::string& origin);

 private:
  Node* node_;
};

}  // namespace amanah

#endif  // AMANAH_APP_PEERS_H_
