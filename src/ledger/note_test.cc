#include "ledger/note.h"

#include <gtest/gtest.h>

namespace amanah {
namespace {

// The published example of golang.org/x/mod/sumdb/note (note_test.go),
// which C2SP signed-note follows.
constexpr char kPeterVerifier[] =
    "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
constexpr char kPeterSigner[] =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+"
    "AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
constexpr char kPeterText[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n";
constexpr char kPeterSigned[] =
    "If you think cryptography is the answer to your problem,\n"
    "then you don't know what your problem is.\n"
    "\n"
    "\xe2\x80\x94 PeterNeumann "
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngot"
    "pRZb6KE6RyyBwJnAM=\n";

TEST(NoteTest, GoldenVerifierKey) {
  auto k = ParseVerifierKey(kPeterVerifier);
  ASSERT_TRUE(k.ok()) << k.status().ToString();
  EXPECT_EQ(k->name, "PeterNeumann");
  EXPECT_EQ(k->key_id, 0xc74f20a3u);
  EXPECT_EQ(k->type, kNoteKeyTypeEd25519);
}

TEST(NoteTest, GoldenSignedNoteVerifies) {
  auto k = ParseVerifierKey(kPeterVerifier);
  auto n = ParseNote(kPeterSigned);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->text, kPeterText);
  ASSERT_EQ(n->signatures.size(), 1u);
  EXPECT_TRUE(VerifyNoteSignature(*n, *k).ok());
}

TEST(NoteTest, SigningReproducesGoldenNote) {
  auto signer = ParseSignerKey(kPeterSigner);
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  EXPECT_EQ(signer->first, "PeterNeumann");
  EXPECT_EQ(FormatVerifierKey("PeterNeumann", kNoteKeyTypeEd25519,
                              signer->second.public_key()),
            kPeterVerifier);
  EXPECT_EQ(SignNote(kPeterText, "PeterNeumann", signer->second), kPeterSigned);
  EXPECT_EQ(FormatSignerKey("PeterNeumann", signer->second), kPeterSigner);
}

TEST(NoteTest, RejectsMalformedAndTampered) {
  auto k = *ParseVerifierKey(kPeterVerifier);
  std::string good = kPeterSigned;
  // No blank line.
  EXPECT_FALSE(ParseNote(kPeterText).ok());
  // No final newline.
  EXPECT_FALSE(ParseNote(good.substr(0, good.size() - 1)).ok());
  // Bad base64.
  std::string bad = good;
  bad[bad.find("x08go")] = '*';
  EXPECT_FALSE(ParseNote(bad).ok());
  // Text altered: the signature fails.
  std::string altered = good;
  altered[3] = 'X';
  auto n = ParseNote(altered);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(VerifyNoteSignature(*n, k).code(), Code::kCorruption);
  // A flipped signature bit.
  n = ParseNote(good);
  n->signatures[0].signature[10] ^= 1;
  EXPECT_EQ(VerifyNoteSignature(*n, k).code(), Code::kCorruption);
  // Another key: not found.
  auto other = Ed25519PrivateKey::Generate();
  auto ok = *ParseVerifierKey(
      FormatVerifierKey("Other", kNoteKeyTypeEd25519, other.public_key()));
  EXPECT_EQ(VerifyNoteSignature(*ParseNote(good), ok).code(), Code::kNotFound);
  // Verifier keys: wrong id, '+' in name, short key.
  EXPECT_FALSE(
      ParseVerifierKey("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/"
                       "LDE4izWy10TW")
          .ok());
  EXPECT_FALSE(ParseVerifierKey("Peter+Neumann+c74f20a3+AQ==").ok());
  EXPECT_FALSE(ParseVerifierKey("PeterNeumann+c74f20a3+AQ==").ok());
}

// One key, one spelling: the key id in uppercase hex is refused, as the
// signer key's is (found by fuzz/verifier_key_fuzz.cc).
TEST(NoteTest, VerifierKeyIdIsLowercaseHex) {
  EXPECT_TRUE(ParseVerifierKey(kPeterVerifier).ok());
  auto upper = ParseVerifierKey(
      "PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW");
  EXPECT_EQ(upper.status().code(), Code::kInvalidInput);
  EXPECT_FALSE(ParseVerifierKey("PeterNeumann+C74f20a3+ARpc2QcUPDhMQegwxbzhKqi"
                                "BfsVkmqq/LDE4izWy10TW")
                   .ok());
}

TEST(NoteTest, CheckpointBody) {
  // The example of C2SP tlog-checkpoint.
  constexpr char kBody[] =
      "example.com/origin\n"
      "923748\n"
      "nND/nri/U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI=\n";
  auto c = ParseCheckpointBody(kBody);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->origin, "example.com/origin");
  EXPECT_EQ(c->size, 923748u);
  EXPECT_EQ(FormatCheckpointBody(*c), kBody);
  EXPECT_FALSE(ParseCheckpointBody(
                   "o\n0923748\nnND/nri/U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI=\n")
                   .ok());
  EXPECT_FALSE(ParseCheckpointBody("o\n1\nAAAA\n").ok());
  EXPECT_FALSE(ParseCheckpointBody("o\n1\n").ok());
  EXPECT_FALSE(
      ParseCheckpointBody("\n1\nnND/nri/U0xuHUrYSy0HtMeal2vzD9V4k/BO79C+QeI=\n")
          .ok());
  Checkpoint with_ext = *c;
  with_ext.extensions = {"ext one"};
  EXPECT_EQ(ParseCheckpointBody(FormatCheckpointBody(with_ext))->extensions,
            with_ext.extensions);
}

TEST(NoteTest, CosignatureRoundTripAndTamper) {
  auto log_key = Ed25519PrivateKey::Generate();
  auto witness = Ed25519PrivateKey::Generate();
  std::string body = FormatCheckpointBody(
      Checkpoint{"a.example/custody", 5, Sha256(AsBytes("root")), {}});
  std::string note = SignNote(body, "a.example/custody", log_key);
  note = AppendSignatureLines(
      note, {CosignatureLine("w.example", witness, body, 1700000000)});
  auto wkey = *ParseVerifierKey(FormatVerifierKey(
      "w.example", kNoteKeyTypeCosignatureV1, witness.public_key()));
  auto parsed = ParseNote(note);
  ASSERT_TRUE(parsed.ok());
  auto t = VerifyCosignature(*parsed, wkey);
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  EXPECT_EQ(*t, 1700000000u);
  // The log's own signature still verifies beside it.
  auto lkey = *ParseVerifierKey(FormatVerifierKey(
      "a.example/custody", kNoteKeyTypeEd25519, log_key.public_key()));
  EXPECT_TRUE(VerifyNoteSignature(*parsed, lkey).ok());
  // Altering the timestamp breaks the cosignature.
  parsed->signatures[1].signature[7] ^= 1;
  EXPECT_EQ(VerifyCosignature(*parsed, wkey).status().code(),
            Code::kCorruption);
}

// The tlog-cosignature spec's example publishes no witness key, so what can
// be checked of it is its framing; the signature bytes are checked against a
// vector made independently with `openssl pkeyutl -sign -rawin` from the
// Ed25519 seed 00 01 .. 1f over the spec's signed-message example.
TEST(NoteTest, CosignatureGoldenVectors) {
  constexpr char kBody[] =
      "example.com/behind-the-sofa\n20852163\n"
      "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
  std::string spec_note =
      std::string(kBody) +
      "\n\u2014 example.com/behind-the-sofa "
      "Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/"
      "Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n"
      "\u2014 witness.example.com/w1 "
      "jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/"
      "zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZ"
      "qhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
  auto parsed = ParseNote(spec_note);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  ASSERT_EQ(parsed->signatures.size(), 2u);
  const NoteSignature& w = parsed->signatures[1];
  EXPECT_EQ(w.name, "witness.example.com/w1");
  EXPECT_EQ(w.key_id, 0x8d66cf3fu);
  ASSERT_EQ(w.signature.size(), 8u + 64u);
  uint64_t t = 0;
  for (int i = 0; i < 8; ++i) t = t << 8 | w.signature[i];
  EXPECT_EQ(t, 1679315147u);  // the spec's "time 1679315147"

  Bytes seed(32);
  for (int i = 0; i < 32; ++i) seed[i] = static_cast<uint8_t>(i);
  auto key = Ed25519PrivateKey::FromSeed(seed);
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(
      CosignatureLine("witness.example.com/w1", *key, kBody, 1679315147),
      "\u2014 witness.example.com/w1 "
      "oAWfEQAAAABkGFDLBuRDazBLVac2NE+Y+IjbjQOcXLfF9CSDZVUIoS83rE1nFZsVE8Yi"
      "WV6Ngr7lV8H6bdoBQGP/l73euDMQ9k+bBQ==\n");
}

}  // namespace
}  // namespace amanah
