#include "ledger/note.h"

#include <sodium.h>

#include <algorithm>
#include <cstdio>
#include <cstring>

namespace amanah {

namespace {

constexpr std::string_view kDash = "\xe2\x80\x94 ";  // "— "
constexpr size_t kMaxNote = 1 << 20;
constexpr size_t kMaxSignatures = 100;

bool ValidKeyName(std::string_view name) {
  if (name.empty()) return false;
  for (unsigned char c : name) {
    if (c == '+' || c <= ' ' || c == 0x7f) return false;
  }
  return true;
}

std::string Hex8(uint32_t v) {
  char b[9];
  std::snprintf(b, sizeof(b), "%08x", v);
  return b;
}

std::string SignatureLine(std::string_view name, uint32_t key_id,
                          ByteView value) {
  // Sized once, then filled: GCC 12 at -O3 takes four push_backs followed
  // by an insert for a write past the end (-Wstringop-overflow).
  Bytes b(4 + value.size());
  for (int i = 0; i < 4; ++i) {
    b[i] = static_cast<uint8_t>(key_id >> (8 * (3 - i)));
  }
  std::copy(value.begin(), value.end(), b.begin() + 4);
  return std::string(kDash) + std::string(name) + " " + Base64Encode(b) + "\n";
}

std::string CosignedMessage(std::string_view body, uint64_t timestamp) {
  return "cosignature/v1\ntime " + std::to_string(timestamp) + "\n" +
         std::string(body);
}

Result<uint64_t> ParseDecimal(std::string_view s) {
  if (s.empty() || s.size() > 20 || (s.size() > 1 && s[0] == '0')) {
    return Status::InvalidInput("not a canonical decimal number");
  }
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return Status::InvalidInput("not a decimal number");
    uint64_t d = static_cast<uint64_t>(c - '0');
    if (v > (UINT64_MAX - d) / 10) return Status::InvalidInput("too large");
    v = v * 10 + d;
  }
  return v;
}

}  // namespace

uint32_t NoteKeyId(std::string_view name, uint8_t type, ByteView public_key) {
  const uint8_t nl = '\n';
  Hash256 h =
      Sha256({AsBytes(name), ByteView(&nl, 1), ByteView(&type, 1), public_key});
  return uint32_t{h[0]} << 24 | uint32_t{h[1]} << 16 | uint32_t{h[2]} << 8 |
         h[3];
}

std::string FormatVerifierKey(std::string_view name, uint8_t type,
                              const Ed25519PublicKey& key) {
  Bytes b = {type};
  b.insert(b.end(), key.begin(), key.end());
  return std::string(name) + "+" + Hex8(NoteKeyId(name, type, key)) + "+" +
         Base64Encode(b);
}

Result<VerifierKey> ParseVerifierKey(std::string_view text) {
  size_t p1 = text.find('+');
  size_t p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  // The name has no '+' and the key id is hex; base64 may contain '+'.
  if (p2 == std::string_view::npos) {
    return Status::InvalidInput("a verifier key is name+keyid+base64");
  }
  VerifierKey k;
  k.name = std::string(text.substr(0, p1));
  std::string_view hex = text.substr(p1 + 1, p2 - p1 - 1);
  if (!ValidKeyName(k.name)) {
    return Status::InvalidInput("invalid key name in verifier key");
  }
  auto id = HexDecode(hex);
  // Lowercase only, as FormatVerifierKey writes it: one key, one spelling.
  if (hex.size() != 8 || !id.ok() ||
      hex.find_first_of("ABCDEF") != std::string_view::npos) {
    return Status::InvalidInput(
        "verifier key id is not 8 lowercase hex digits");
  }
  k.key_id = uint32_t{(*id)[0]} << 24 | uint32_t{(*id)[1]} << 16 |
             uint32_t{(*id)[2]} << 8 | (*id)[3];
  auto raw = Base64Decode(text.substr(p2 + 1));
  if (!raw.ok() || raw->empty()) {
    return Status::InvalidInput("verifier key is not valid base64");
  }
  k.type = (*raw)[0];
  k.public_key.assign(raw->begin() + 1, raw->end());
  if ((k.type == kNoteKeyTypeEd25519 || k.type == kNoteKeyTypeCosignatureV1) &&
      k.public_key.size() != 32) {
    return Status::InvalidInput("an Ed25519 verifier key is 32 bytes");
  }
  if (NoteKeyId(k.name, k.type, k.public_key) != k.key_id) {
    return Status::InvalidInput("verifier key id does not match its key");
  }
  return k;
}

std::string FormatSignerKey(std::string_view name,
                            const Ed25519PrivateKey& key) {
  Bytes b = {kNoteKeyTypeEd25519};
  b.insert(b.end(), key.seed().begin(), key.seed().end());
  std::string out =
      "PRIVATE+KEY+" + std::string(name) + "+" +
      Hex8(NoteKeyId(name, kNoteKeyTypeEd25519, key.public_key())) + "+" +
      Base64Encode(b);
  sodium_memzero(b.data(), b.size());
  return out;
}

Result<std::pair<std::string, Ed25519PrivateKey>> ParseSignerKey(
    std::string_view text) {
  constexpr std::string_view kPrefix = "PRIVATE+KEY+";
  if (text.substr(0, kPrefix.size()) != kPrefix) {
    return Status::InvalidInput("a signer key starts with PRIVATE+KEY+");
  }
  text.remove_prefix(kPrefix.size());
  size_t p1 = text.find('+');
  size_t p2 = p1 == std::string_view::npos ? p1 : text.find('+', p1 + 1);
  if (p2 == std::string_view::npos) {
    return Status::InvalidInput("a signer key is PRIVATE+KEY+name+id+base64");
  }
  std::string name(text.substr(0, p1));
  if (!ValidKeyName(name)) return Status::InvalidInput("invalid key name");
  auto raw = Base64Decode(text.substr(p2 + 1));
  if (!raw.ok() || raw->size() != 33 || (*raw)[0] != kNoteKeyTypeEd25519) {
    return Status::InvalidInput("signer key is not an Ed25519 seed");
  }
  auto key = Ed25519PrivateKey::FromSeed(ByteView(raw->data() + 1, 32));
  sodium_memzero(raw->data(), raw->size());
  if (!key.ok()) return key.status();
  std::string hex(text.substr(p1 + 1, p2 - p1 - 1));
  if (hex != Hex8(NoteKeyId(name, kNoteKeyTypeEd25519, key->public_key()))) {
    return Status::InvalidInput("signer key id does not match its key");
  }
  return std::make_pair(std::move(name), std::move(key).value());
}

std::string SignNote(std::string_view text, std::string_view name,
                     const Ed25519PrivateKey& key) {
  Ed25519Signature sig = key.Sign(AsBytes(text));
  return std::string(text) + "\n" +
         SignatureLine(
             name, NoteKeyId(name, kNoteKeyTypeEd25519, key.public_key()), sig);
}

std::string AppendSignatureLines(std::string_view signed_note,
                                 const std::vector<std::string>& lines) {
  std::string out(signed_note);
  for (const auto& l : lines) out += l;
  return out;
}

Result<Note> ParseNote(std::string_view s) {
  if (s.size() > kMaxNote) return Status::InvalidInput("note over 1 MiB");
  size_t split = s.rfind("\n\n");
  if (split == std::string_view::npos) {
    return Status::InvalidInput("note has no blank line before signatures");
  }
  Note note;
  note.text = std::string(s.substr(0, split + 1));
  std::string_view sigs = s.substr(split + 2);
  if (sigs.empty() || sigs.back() != '\n') {
    return Status::InvalidInput("note signatures must end with a newline");
  }
  while (!sigs.empty()) {
    size_t nl = sigs.find('\n');
    std::string_view line = sigs.substr(0, nl);
    sigs.remove_prefix(nl + 1);
    if (line.substr(0, kDash.size()) != kDash) {
      return Status::InvalidInput("malformed note signature line");
    }
    line.remove_prefix(kDash.size());
    size_t sp = line.find(' ');
    if (sp == std::string_view::npos) {
      return Status::InvalidInput("malformed note signature line");
    }
    NoteSignature sig;
    sig.name = std::string(line.substr(0, sp));
    if (!ValidKeyName(sig.name)) {
      return Status::InvalidInput("invalid key name in signature line");
    }
    auto raw = Base64Decode(line.substr(sp + 1));
    if (!raw.ok() || raw->size() < 5) {
      return Status::InvalidInput("malformed signature in note");
    }
    sig.key_id = uint32_t{(*raw)[0]} << 24 | uint32_t{(*raw)[1]} << 16 |
                 uint32_t{(*raw)[2]} << 8 | (*raw)[3];
    sig.signature.assign(raw->begin() + 4, raw->end());
    note.signatures.push_back(std::move(sig));
    if (note.signatures.size() > kMaxSignatures) {
      return Status::InvalidInput("note has over 100 signatures");
    }
  }
  // The text itself must not contain the signature block marker.
  return note;
}

Status VerifyNoteSignature(const Note& note, const VerifierKey& key) {
  if (key.type != kNoteKeyTypeEd25519 || key.public_key.size() != 32) {
    return Status::InvalidInput("not an Ed25519 verifier key");
  }
  Ed25519PublicKey pk;
  std::memcpy(pk.data(), key.public_key.data(), 32);
  bool seen = false;
  for (const auto& s : note.signatures) {
    if (s.name != key.name || s.key_id != key.key_id) continue;
    seen = true;
    if (Ed25519Verify(pk, AsBytes(note.text), s.signature)) {
      return Status::OK();
    }
  }
  if (seen) {
    return Status::Corruption("signature by " + key.name + " does not verify");
  }
  return Status::NotFound("no signature by " + key.name);
}

std::string FormatCheckpointBody(const Checkpoint& c) {
  std::string out = c.origin + "\n" + std::to_string(c.size) + "\n" +
                    Base64Encode(c.root) + "\n";
  for (const auto& e : c.extensions) out += e + "\n";
  return out;
}

Result<Checkpoint> ParseCheckpointBody(std::string_view text) {
  if (text.empty() || text.back() != '\n') {
    return Status::InvalidInput("checkpoint does not end with a newline");
  }
  std::vector<std::string_view> lines;
  std::string_view rest = text;
  while (!rest.empty()) {
    size_t nl = rest.find('\n');
    lines.push_back(rest.substr(0, nl));
    rest.remove_prefix(nl + 1);
  }
  if (lines.size() < 3) {
    return Status::InvalidInput("checkpoint has fewer than three lines");
  }
  Checkpoint c;
  c.origin = std::string(lines[0]);
  if (c.origin.empty()) return Status::InvalidInput("checkpoint origin empty");
  auto size = ParseDecimal(lines[1]);
  if (!size.ok()) {
    return Status::InvalidInput("checkpoint tree size: " +
                                size.status().message());
  }
  c.size = *size;
  auto root = Base64Decode(lines[2]);
  if (!root.ok() || root->size() != 32) {
    return Status::InvalidInput("checkpoint root is not 32 bytes of base64");
  }
  std::memcpy(c.root.data(), root->data(), 32);
  for (size_t i = 3; i < lines.size(); ++i) {
    if (lines[i].empty()) {
      return Status::InvalidInput("checkpoint has an empty extension line");
    }
    c.extensions.emplace_back(lines[i]);
  }
  return c;
}

std::string CosignatureLine(std::string_view witness_name,
                            const Ed25519PrivateKey& witness_key,
                            std::string_view checkpoint_body,
                            uint64_t timestamp) {
  std::string msg = CosignedMessage(checkpoint_body, timestamp);
  Ed25519Signature sig = witness_key.Sign(AsBytes(msg));
  Bytes value;
  for (int i = 7; i >= 0; --i) {
    value.push_back(static_cast<uint8_t>(timestamp >> (8 * i)));
  }
  value.insert(value.end(), sig.begin(), sig.end());
  return SignatureLine(witness_name,
                       NoteKeyId(witness_name, kNoteKeyTypeCosignatureV1,
                                 witness_key.public_key()),
                       value);
}

Result<uint64_t> VerifyCosignature(const Note& note,
                                   const VerifierKey& witness_key) {
  if (witness_key.type != kNoteKeyTypeCosignatureV1 ||
      witness_key.public_key.size() != 32) {
    return Status::InvalidInput("not a cosignature/v1 verifier key");
  }
  Ed25519PublicKey pk;
  std::memcpy(pk.data(), witness_key.public_key.data(), 32);
  bool seen = false;
  for (const auto& s : note.signatures) {
    if (s.name != witness_key.name || s.key_id != witness_key.key_id) continue;
    seen = true;
    if (s.signature.size() != 8 + 64) continue;
    uint64_t t = 0;
    for (int i = 0; i < 8; ++i) t = t << 8 | s.signature[i];
    std::string msg = CosignedMessage(note.text, t);
    if (Ed25519Verify(pk, AsBytes(msg), ByteView(s.signature).subspan(8))) {
      return t;
    }
  }
  if (seen) {
    return Status::Corruption("cosignature by " + witness_key.name +
                              " does not verify");
  }
  return Status::NotFound("no cosignature by " + witness_key.name);
}

}  // namespace amanah
