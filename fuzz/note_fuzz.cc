// C2SP signed notes, checkpoints and cosignatures (ledger/note.h) on any
// text. A parsed note is written back byte for byte from its text and
// signature lines; a parsed checkpoint body likewise; signatures and
// cosignatures are checked against fixed keys without crashing, and the
// input re-signed with those keys verifies.

#include "crypto/ed25519.h"
#include "fuzz/fuzz_util.h"
#include "ledger/note.h"

namespace amanah {
namespace {

const Ed25519PrivateKey& Key(uint8_t fill) {
  static const Ed25519PrivateKey log =
      *Ed25519PrivateKey::FromSeed(Bytes(32, 0x11));
  static const Ed25519PrivateKey witness =
      *Ed25519PrivateKey::FromSeed(Bytes(32, 0x22));
  return fill == 0x11 ? log : witness;
}

constexpr char kLog[] = "ccd.moi.gov.kw/custody";
constexpr char kWitness[] = "cyber.doj.example";

// The signed note written again from what ParseNote gave.
std::string Reformat(const Note& note) {
  std::string out = note.text + "\n";
  for (const NoteSignature& s : note.signatures) {
    Bytes value;
    for (int i = 3; i >= 0; --i) value.push_back(s.key_id >> (8 * i) & 0xff);
    value.insert(value.end(), s.signature.begin(), s.signature.end());
    out += "\xe2\x80\x94 " + s.name + " " + Base64Encode(value) + "\n";
  }
  return out;
}

}  // namespace
}  // namespace amanah

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  std::string_view text = fuzz::AsText(data, size);
  static const VerifierKey log_key = *ParseVerifierKey(
      FormatVerifierKey(kLog, kNoteKeyTypeEd25519, Key(0x11).public_key()));
  static const VerifierKey witness_key = *ParseVerifierKey(FormatVerifierKey(
      kWitness, kNoteKeyTypeCosignatureV1, Key(0x22).public_key()));

  // The input as a checkpoint body.
  Result<Checkpoint> body = ParseCheckpointBody(text);
  if (body.ok()) FUZZ_CHECK(FormatCheckpointBody(*body) == text);

  // The input as a signed note.
  Result<Note> note = ParseNote(text);
  if (!note.ok()) {
    FUZZ_CHECK(note.status().code() == Code::kInvalidInput);
  } else {
    FUZZ_CHECK(Reformat(*note) == text);
    FUZZ_CHECK(!note->signatures.empty() && note->signatures.size() <= 100);
    Status s = VerifyNoteSignature(*note, log_key);
    FUZZ_CHECK(s.ok() || s.code() == Code::kNotFound ||
               s.code() == Code::kCorruption);
    Result<uint64_t> t = VerifyCosignature(*note, witness_key);
    FUZZ_CHECK(t.ok() || t.status().code() == Code::kNotFound ||
               t.status().code() == Code::kCorruption);
    Result<Checkpoint> cp = ParseCheckpointBody(note->text);
    if (cp.ok()) FUZZ_CHECK(FormatCheckpointBody(*cp) == note->text);
  }

  // The input as a note text, signed and cosigned here: it must verify.
  if (!text.empty() && text.back() == '\n' &&
      text.find("\n\n") == std::string_view::npos) {
    std::string signed_note = SignNote(text, kLog, Key(0x11));
    signed_note += CosignatureLine(kWitness, Key(0x22), text, size);
    Result<Note> n = ParseNote(signed_note);
    FUZZ_CHECK(n.ok());
    FUZZ_CHECK(n->text == text);
    FUZZ_CHECK(VerifyNoteSignature(*n, log_key).ok());
    Result<uint64_t> t = VerifyCosignature(*n, witness_key);
    FUZZ_CHECK(t.ok() && *t == size);
  }
  return 0;
}
