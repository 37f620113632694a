// C2SP signed-note, tlog-checkpoint and tlog-cosignature/v1.
//
// A signed note is UTF-8 text ending in a newline, a blank line, and one or
// more signature lines "— <key name> <base64(key id || signature)>\n".
// Key IDs are the first 4 bytes of SHA-256(name || "\n" || type || key).

#ifndef AMANAH_LEDGER_NOTE_H_
#define AMANAH_LEDGER_NOTE_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/encoding.h"
#include "base/status.h"
#include "crypto/ed25519.h"
#include "crypto/hash.h"

namespace amanah {

inline constexpr uint8_t kNoteKeyTypeEd25519 = 0x01;
inline constexpr uint8_t kNoteKeyTypeCosignatureV1 = 0x04;

uint32_t NoteKeyId(std::string_view name, uint8_t type, ByteView public_key);

struct VerifierKey {
  std::string name;
  uint32_t key_id = 0;
  uint8_t type = 0;
  Bytes public_key;
};

// "name+hex8(key id)+base64(type || public key)".
std::string FormatVerifierKey(std::string_view name, uint8_t type,
                              const Ed25519PublicKey& key);
// Checks the name, the hex key id, the key length for types 0x01 and 0x04,
// and that the key id is the one the name and key give.
Result<VerifierKey> ParseVerifierKey(std::string_view text);

// "PRIVATE+KEY+name+hex8(key id)+base64(0x01 || seed)": the node's key file.
std::string FormatSignerKey(std::string_view name,
                            const Ed25519PrivateKey& key);
Result<std::pair<std::string, Ed25519PrivateKey>> ParseSignerKey(
    std::string_view text);

struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  Bytes signature;  // the bytes after the 4-byte key id
};

struct Note {
  std::string text;  // ends with "\n"
  std::vector<NoteSignature> signatures;
};

// The signed note: text, blank line, one Ed25519 signature line.
// REQUIRES: text ends with a newline.
std::string SignNote(std::string_view text, std::string_view name,
                     const Ed25519PrivateKey& key);
// Adds signature lines to a signed note.
std::string AppendSignatureLines(std::string_view signed_note,
                                 const std::vector<std::string>& lines);

// Parses strictly (at most 1 MiB and 100 signatures); does not verify.
Result<Note> ParseNote(std::string_view signed_note);

// kNotFound when no signature line names `key`; kCorruption when one does
// but does not verify. Only type 0x01 keys.
Status VerifyNoteSignature(const Note& note, const VerifierKey& key);

// A C2SP tlog-checkpoint body.
struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  Hash256 root{};
  std::vector<std::string> extensions;
};

std::string FormatCheckpointBody(const Checkpoint& checkpoint);
Result<Checkpoint> ParseCheckpointBody(std::string_view text);

// A tlog-cosignature/v1 signature line by a witness over a checkpoint body:
// the witness signs "cosignature/v1\ntime <T>\n" + body; the line's value is
// key id || big-endian uint64 T || Ed25519 signature.
std::string CosignatureLine(std::string_view witness_name,
                            const Ed25519PrivateKey& witness_key,
                            std::string_view checkpoint_body,
                            uint64_t timestamp);
// Verifies the cosignature in `note` by `witness_key` (type 0x04); returns
// its timestamp.
Result<uint64_t> VerifyCosignature(const Note& note,
                                   const VerifierKey& witness_key);

}  // namespace amanah

#endif  // AMANAH_LEDGER_NOTE_H_
