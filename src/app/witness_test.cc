#include "app/witness.h"

#include <gtest/gtest.h>

#include "app/peers.h"
#include "app/testutil.h"
#include "base/encoding.h"
#include "ledger/merkle_testutil.h"
#include "ledger/note.h"

namespace amanah {
namespace {

constexpr char kPeer[] = "cyber.doj.example";
constexpr char kOrigin[] = "cyber.doj.example/custody";

// This node witnesses a peer whose log is simulated here: an in-memory tree
// and the peer's signing key.
class WitnessTest : public testutil::NodeFixture {
 protected:
  void SetUp() override {
    NodeFixture::SetUp();
    auto p = PeerBook(node_.get())
                 .Add("local:admin", kPeer, "http://127.0.0.1:9",
                      FormatVerifierKey(kOrigin, kNoteKeyTypeEd25519,
                                        peer_key_.public_key()),
                      "");
    ASSERT_TRUE(p.ok()) << p.status().ToString();
  }

  void Grow(int n) {
    for (int i = 0; i < n; ++i) {
      std::string e = "entry " + std::to_string(tree_.size());
      tree_.Append(AsBytes(e));
    }
  }

  static std::string Checkpoint(const Ed25519PrivateKey& key, uint64_t size,
                                const Hash256& root) {
    return SignNote(FormatCheckpointBody({kOrigin, size, root, {}}), kOrigin,
                    key);
  }

  // An add-checkpoint body from `old` to the tree's current size.
  std::string Body(uint64_t old) {
    std::string body = "old " + std::to_string(old) + "\n";
    if (old > 0) {
      auto proof = merkle::ConsistencyProof(tree_, old, tree_.size());
      EXPECT_TRUE(proof.ok());
      for (const Hash256& h : *proof) {
        body += Base64Encode(ByteView(h.data(), h.size())) + "\n";
      }
    }
    return body + "\n" + Checkpoint(peer_key_, tree_.size(), tree_.Root());
  }

  // Checks a 200 reply's cosignature with this node's cosigner key.
  void ExpectCosigned(const WitnessReply& r) {
    ASSERT_EQ(r.http_status, 200) << r.reason;
    std::string note =
        Checkpoint(peer_key_, tree_.size(), tree_.Root()) + r.body;
    auto parsed = ParseNote(note);
    ASSERT_TRUE(parsed.ok());
    auto key = ParseVerifierKey(node_->CosignerKey());
    ASSERT_TRUE(key.ok());
    auto t = VerifyCosignature(*parsed, *key);
    ASSERT_TRUE(t.ok()) << t.status().ToString();
    EXPECT_NEAR(static_cast<double>(*t),
                static_cast<double>(env_.NowUnixNanos() / 1000000000), 5);
  }

  Ed25519PrivateKey peer_key_ = Ed25519PrivateKey::Generate();
  merkle::testutil::MemoryTree tree_;
};

TEST_F(WitnessTest, CosignsAGrowingLogAndKeepsItsState) {
  Witness w(node_.get());
  Grow(5);
  ExpectCosigned(w.AddCheckpoint(Body(0)));
  Grow(300);
  ExpectCosigned(w.AddCheckpoint(Body(5)));
  // The same checkpoint again is cosigned again (a retry after a lost reply).
  ExpectCosigned(w.AddCheckpoint(Body(305)));
  auto logs = w.Witnessed();
  ASSERT_TRUE(logs.ok());
  ASSERT_EQ(logs->size(), 1u);
  EXPECT_EQ((*logs)[0].origin, kOrigin);
  EXPECT_EQ((*logs)[0].size, 305u);
  EXPECT_TRUE(w.Alarms()->empty());
}

TEST_F(WitnessTest, AStaleOldSizeGetsTheCosignedSize) {
  Witness w(node_.get());
  Grow(10);
  ExpectCosigned(w.AddCheckpoint(Body(0)));
  Grow(10);
  WitnessReply r = w.AddCheckpoint(Body(0));
  EXPECT_EQ(r.http_status, 409);
  EXPECT_EQ(r.body, "10\n");
  ExpectCosigned(w.AddCheckpoint(Body(10)));
  EXPECT_TRUE(w.Alarms()->empty());
}

TEST_F(WitnessTest, RefusesWhatItCannotCheck) {
  Witness w(node_.get());
  Grow(8);
  // Unknown log.
  std::string other =
      "old 0\n\n" +
      SignNote(FormatCheckpointBody(
                   {"other.example/custody", tree_.size(), tree_.Root(), {}}),
               "other.example/custody", peer_key_);
  EXPECT_EQ(w.AddCheckpoint(other).http_status, 404);
  // Signed by a key that is not the pinned one.
  std::string forged = "old 0\n\n" + Checkpoint(Ed25519PrivateKey::Generate(),
                                                tree_.size(), tree_.Root());
  EXPECT_EQ(w.AddCheckpoint(forged).http_status, 403);
  // Malformed bodies.
  for (std::string bad :
       {std::string(""), std::string("old 01\n\n") + Body(0).substr(7),
        std::string("old x\n\n"), std::string("new 0\n\n"),
        std::string("old 0\nnot base64!\n\n"),
        std::string("old 0\n\n") + "not a note\n"}) {
    EXPECT_EQ(w.AddCheckpoint(bad).http_status, 400) << bad;
  }
  // An old size beyond the checkpoint, and a proof from size 0.
  std::string body = Body(0);
  EXPECT_EQ(w.AddCheckpoint("old 9" + body.substr(5)).http_status, 400);
  EXPECT_EQ(
      w.AddCheckpoint("old 0\n" + std::string(44, 'A').replace(43, 1, "=") +
                      "\n" + body.substr(6))
          .http_status,
      400);
  // 64 proof lines.
  std::string many = "old 4\n";
  for (int i = 0; i < 64; ++i) many += std::string(43, 'A') + "=\n";
  EXPECT_EQ(w.AddCheckpoint(many + "\n" + body.substr(7)).http_status, 400);
  // Too large.
  EXPECT_EQ(w.AddCheckpoint(std::string(Witness::kMaxRequestBytes + 1, 'x'))
                .http_status,
            413);
  // None of it moved the witness's state or raised an alarm.
  EXPECT_TRUE(w.Witnessed()->empty());
  EXPECT_TRUE(w.Alarms()->empty());
}

// A peer that rewrites its history is caught: a second root for a size it
// had shown, and a checkpoint that does not extend the cosigned one.
TEST_F(WitnessTest, AForkedLogIsRefusedAndRecorded) {
  Witness w(node_.get());
  Grow(20);
  ExpectCosigned(w.AddCheckpoint(Body(0)));
  std::string honest = Checkpoint(peer_key_, tree_.size(), tree_.Root());

  // A rewritten history of the same size.
  merkle::testutil::MemoryTree fork;
  for (int i = 0; i < 20; ++i) {
    std::string e = "rewritten " + std::to_string(i);
    fork.Append(AsBytes(e));
  }
  std::string same_size =
      "old 20\n\n" + Checkpoint(peer_key_, fork.size(), fork.Root());
  WitnessReply r = w.AddCheckpoint(same_size);
  EXPECT_EQ(r.http_status, 409);
  EXPECT_EQ(r.body, "20\n");

  // The rewritten history grown, with its own (valid for it) proof.
  for (int i = 20; i < 40; ++i) {
    std::string e = "rewritten " + std::to_string(i);
    fork.Append(AsBytes(e));
  }
  std::string grown = "old 20\n";
  auto fork_proof = merkle::ConsistencyProof(fork, 20, 40);
  ASSERT_TRUE(fork_proof.ok());
  std::vector<Hash256> hashes = *fork_proof;
  for (const Hash256& h : hashes) {
    grown += Base64Encode(ByteView(h.data(), h.size())) + "\n";
  }
  grown += "\n" + Checkpoint(peer_key_, fork.size(), fork.Root());
  EXPECT_EQ(w.AddCheckpoint(grown).http_status, 422);

  auto alarms = w.Alarms();
  ASSERT_TRUE(alarms.ok());
  ASSERT_EQ(alarms->size(), 2u);
  EXPECT_EQ((*alarms)[0].origin, kOrigin);
  EXPECT_NE((*alarms)[0].reason.find("two different roots"), std::string::npos);
  EXPECT_EQ((*alarms)[0].cosigned_note, honest);
  EXPECT_EQ((*alarms)[0].offered, same_size);
  EXPECT_NE((*alarms)[1].reason.find("not consistent"), std::string::npos);
  // The witness still stands by the honest history.
  EXPECT_EQ((*w.Witnessed())[0].size, 20u);
  Grow(5);
  ExpectCosigned(w.AddCheckpoint(Body(20)));
}

TEST_F(WitnessTest, PeersArePinnedWithTheirOwnKey) {
  PeerBook peers(node_.get());
  auto key = FormatVerifierKey("other.example/custody", kNoteKeyTypeEd25519,
                               peer_key_.public_key());
  // A key that names another node, a bad URL, a bad pin, itself.
  EXPECT_EQ(peers.Add("local:a", "third.example", "https://h:1", key, "")
                .status()
                .code(),
            Code::kInvalidInput);
  EXPECT_EQ(
      peers.Add("local:a", "other.example", "ftp://h", key, "").status().code(),
      Code::kInvalidInput);
  EXPECT_EQ(peers.Add("local:a", "other.example", "https://h:1/path", key, "")
                .status()
                .code(),
            Code::kInvalidInput);
  EXPECT_EQ(peers.Add("local:a", "other.example", "https://h:1", key, "abc")
                .status()
                .code(),
            Code::kInvalidInput);
  EXPECT_EQ(
      peers.Add("local:a", "other.example", "https://h:1", "not a key", "")
          .status()
          .code(),
      Code::kInvalidInput);
  EXPECT_EQ(peers
                .Add("local:a", kPeer, "https://h:1",
                     FormatVerifierKey(kOrigin, kNoteKeyTypeEd25519,
                                       peer_key_.public_key()),
                     "")
                .status()
                .code(),
            Code::kConflict);
  uint64_t before = LogSize();
  ASSERT_TRUE(peers
                  .Add("local:a", "other.example", "https://h:1", key,
                       std::string(64, 'a'))
                  .ok());
  EXPECT_EQ(LogSize(), before + 1);  // peer.added
  EXPECT_EQ(peers.List()->size(), 2u);
  ASSERT_TRUE(peers.Remove("local:a", "other.example").ok());
  EXPECT_EQ(peers.Remove("local:a", "other.example").code(), Code::kNotFound);
  EXPECT_EQ(LogSize(), before + 2);  // peer.removed
  EXPECT_EQ(peers.List()->size(), 1u);
}

}  // namespace
}  // namespace amanah
