// Two nodes for the harnesses whose parsers need one (the Amanah-Pull
// header, add-checkpoint): "ccd.moi.gov.kw", which has pinned the peer
// "cyber.doj.example", and that peer, whose signing key the harness holds.
// Made once per process under the scratch directory.

#ifndef AMANAH_FUZZ_FUZZ_NODE_H_
#define AMANAH_FUZZ_FUZZ_NODE_H_

#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include "app/node.h"
#include "app/peers.h"
#include "fuzz/fuzz_util.h"
#include "ledger/note.h"

namespace amanah::fuzz {

struct TwoNodes {
  std::unique_ptr<Node> node;  // the one under test
  std::unique_ptr<Node> peer;
  std::unique_ptr<Ed25519PrivateKey> peer_key;
};

inline TwoNodes& Nodes() {
  static TwoNodes* nodes = [] {
    auto* t = new TwoNodes;
    Env* env = Env::Default();
    std::string a = ScratchDir() + "/ccd", b = ScratchDir() + "/doj";
    FUZZ_CHECK(Node::Init(env, a, "ccd.moi.gov.kw").ok());
    Result<NodeInfo> peer = Node::Init(env, b, "cyber.doj.example");
    FUZZ_CHECK(peer.ok());
    auto opened = Node::Open(env, a);
    FUZZ_CHECK(opened.ok());
    t->node = std::move(opened).value();
    opened = Node::Open(env, b);
    FUZZ_CHECK(opened.ok());
    t->peer = std::move(opened).value();
    FUZZ_CHECK(PeerBook(t->node.get())
                   .Add("local:admin", "cyber.doj.example",
                        "http://127.0.0.1:9", peer->verifier_key, "")
                   .ok());
    std::stringstream key;
    key << std::ifstream(b + "/keys/signing.key").rdbuf();
    std::string text = key.str();
    while (!text.empty() && text.back() == '\n') text.pop_back();
    auto signer = ParseSignerKey(text);
    FUZZ_CHECK(signer.ok());
    t->peer_key =
        std::make_unique<Ed25519PrivateKey>(std::move(signer->second));
    return t;
  }();
  return *nodes;
}

}  // namespace amanah::fuzz

#endif  // AMANAH_FUZZ_FUZZ_NODE_H_
