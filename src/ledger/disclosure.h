// Sealed custody entries (format version 2, docs/formats.md "Custody
// entry"): the custody log is read by every peer and witness, so an entry
// about a case commits to the case's content without carrying it.
//
// Each sealed value is a *disclosure*, a compact JSON array
//
//   ["<salt: 32 hex digits>","<name>",<value>]
//
// and the entry holds the lowercase hex SHA-256 of the disclosure's exact
// bytes in its place: "actor", "case" and "subject" as "sd:<hex>", every
// data field in data.sd (sorted). The disclosures stay in the node's
// database, readable by the case's members; whoever is given a disclosure
// (a court in a bundle, a peer in an evidence manifest) learns that one
// value and can check it against the entry, and nothing else.
//
// Salts: the case's and each subject's are derived from a secret of the
// case (HMAC-SHA256), so that all entries of one case carry the same case
// digest and all entries about one object in that case the same subject
// digest (a reader of the log can group them, and a court holding one
// subject's disclosure can find every entry about it); the actor's and the
// data fields' salts are random per entry.

#ifndef AMANAH_LEDGER_DISCLOSURE_H_
#define AMANAH_LEDGER_DISCLOSURE_H_

#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "base/encoding.h"
#include "base/status.h"
#include "ledger/custody_entry.h"

namespace amanah {

constexpr size_t kDisclosureSaltSize = 16;
constexpr size_t kCaseSecretSize = 32;
// A disclosure is at most this long (an entry is at most 64 KiB).
constexpr size_t kMaxDisclosureSize = 64 << 10;

struct Disclosure {
  std::string salt;  // 32 hex digits
  std::string name;  // "actor", "case", "subject" or a data field's name
  nlohmann::json value;
  std::string digest;  // hex SHA-256 of the disclosure's bytes
};

// The disclosure's bytes for a salt, name and value.
std::string MakeDisclosure(ByteView salt, std::string_view name,
                           const nlohmann::json& value);
// Parses a disclosure and checks it is in its one canonical form.
Result<Disclosure> ParseDisclosure(std::string_view text);
// Lowercase hex SHA-256 of a disclosure's bytes.
std::string DisclosureDigest(std::string_view text);

// Fills `out` with random bytes (libsodium in the node; fixed in tests).
using RandomFn = std::function<void(uint8_t* out, size_t n)>;

struct SealedEntry {
  std::string bytes;                     // the entry as it is appended
  std::vector<std::string> disclosures;  // every disclosure, exact bytes
};

// Seals an entry about a case. REQUIRES: entry.case_id is not empty and
// entry.version is 2; case_secret has kCaseSecretSize bytes. A data field
// may not be named "sd", "actor", "case", "subject" or nothing, which could
// not be opened (kInvalidInput).
Result<SealedEntry> SealCustodyEntry(const CustodyEntry& entry,
                                     ByteView case_secret,
                                     const RandomFn& random);

// The case digest every sealed entry of a case carries: "sd:<hex>".
std::string CaseDigest(ByteView case_secret, const std::string& case_id);

struct OpenedEntry {
  // The entry with what was disclosed put back in clear. Actor, case and
  // subject that were not disclosed stay "sd:<hex>"; data holds only the
  // disclosed fields.
  CustodyEntry entry;
  // The data fields that stayed sealed (digests not disclosed).
  size_t undisclosed = 0;
};

// Parses an entry and opens it with `disclosures`, each of which must match
// one of its digests (kCorruption names the one that does not). An entry in
// clear (version 1, or version 2 without a case) takes no disclosures.
Result<OpenedEntry> OpenCustodyEntry(
    std::string_view bytes, const std::vector<std::string>& disclosures);

// The disclosures among `all` whose name `keep` accepts; `all` must be
// well formed (those that do not parse are dropped).
std::vector<std::string> SelectDisclosures(
    const std::vector<std::string>& all,
    const std::function<bool(std::string_view name)>& keep);

}  // namespace amanah

#endif  // AMANAH_LEDGER_DISCLOSURE_H_
