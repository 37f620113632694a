// Sealed custody entries (ledger/disclosure.h) on any bytes. The input is
// a bundle's entries/<n>, a newline, and its disclosures/<n> (one
// disclosure a line).
//
// - ParseDisclosure on the whole input and on every line: refused with
//   kCorruption, or the text is byte for byte MakeDisclosure of what was
//   parsed and its digest is the SHA-256 of the text.
// - OpenCustodyEntry(entry, lines): refused with kCorruption, or the opened
//   entry is the entry with exactly the given disclosures put back: each one
//   opened the actor, case or subject whose digest it is, or a data field
//   whose digest is in data.sd; nothing else changed, and the data fields
//   not given are counted as undisclosed. An entry in clear opens only with
//   no disclosures, to itself.
// - Round trip: an entry in clear that parses, made an entry of version 2
//   about a case (KW-2026-0042 if it names none), seals to an entry that
//   parses as sealed (or is refused with kInvalidInput for a data field
//   that could not be opened), and opens with its disclosures, in any
//   order, to the same entry; with only some of them, to the entry with
//   the others still sealed; with one twice, not at all.

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "ledger/disclosure.h"

namespace amanah {
namespace {

// The lines of a disclosures file (each ending in '\n'; a last line
// without one counts too).
std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    out.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return out;
}

void CheckParse(std::string_view text) {
  Result<Disclosure> d = ParseDisclosure(text);
  if (!d.ok()) {
    FUZZ_CHECK(d.status().code() == Code::kCorruption);
    return;
  }
  FUZZ_CHECK(text.size() <= kMaxDisclosureSize);
  Result<Bytes> salt = HexDecode(d->salt);
  FUZZ_CHECK(salt.ok() && salt->size() == kDisclosureSaltSize);
  FUZZ_CHECK(!d->name.empty());
  FUZZ_CHECK(MakeDisclosure(*salt, d->name, d->value) == text);
  FUZZ_CHECK(d->digest == DisclosureDigest(text));
  FUZZ_CHECK(d->digest.size() == 64);
}

std::string Sealed(const std::string& digest) { return "sd:" + digest; }

// What OpenCustodyEntry must have done with `given` on `entry`.
void CheckOpened(const CustodyEntry& entry,
                 const std::vector<std::string>& given,
                 const OpenedEntry& opened) {
  const CustodyEntry& o = opened.entry;
  FUZZ_CHECK(o.version == entry.version && o.kind == entry.kind &&
             o.time_unix_micros == entry.time_unix_micros &&
             o.node == entry.node);
  if (!IsSealed(entry)) {
    FUZZ_CHECK(given.empty());
    FUZZ_CHECK(opened.undisclosed == 0);
    FUZZ_CHECK(FormatCustodyEntry(o) == FormatCustodyEntry(entry));
    return;
  }
  std::set<std::string> digests;
  for (const auto& d : entry.data["sd"]) digests.insert(d.get<std::string>());
  bool actor = false, case_id = false, subject = false;
  size_t fields = 0;
  std::set<std::string> names;
  for (const std::string& text : given) {
    Result<Disclosure> d = ParseDisclosure(text);
    FUZZ_CHECK(d.ok());
    std::string sealed = Sealed(d->digest);
    // The same order as OpenCustodyEntry: a digest that is the actor's is
    // the actor's, whatever else it also is.
    if (sealed == entry.actor || sealed == entry.case_id ||
        sealed == entry.subject) {
      bool* which = sealed == entry.actor     ? &actor
                    : sealed == entry.case_id ? &case_id
                                              : &subject;
      const std::string& value = which == &actor     ? o.actor
                                 : which == &case_id ? o.case_id
                                                     : o.subject;
      FUZZ_CHECK(!*which);
      *which = true;
      FUZZ_CHECK(d->value.is_string() && value == d->value.get<std::string>());
      FUZZ_CHECK(d->name == (which == &actor     ? "actor"
                             : which == &case_id ? "case"
                                                 : "subject"));
      continue;
    }
    FUZZ_CHECK(digests.count(d->digest) == 1);
    FUZZ_CHECK(names.insert(d->name).second);
    FUZZ_CHECK(o.data.contains(d->name) && o.data[d->name] == d->value);
    ++fields;
  }
  if (!actor) FUZZ_CHECK(o.actor == entry.actor);
  if (!case_id) FUZZ_CHECK(o.case_id == entry.case_id);
  if (!subject) FUZZ_CHECK(o.subject == entry.subject);
  FUZZ_CHECK(o.data.is_object() && o.data.size() == fields);
  FUZZ_CHECK(opened.undisclosed + fields == digests.size());
}

// Deterministic "random" bytes: the salts need only differ.
RandomFn Counter() {
  auto next = std::make_shared<uint8_t>(0);
  return [next](uint8_t* out, size_t n) {
    for (size_t i = 0; i < n; ++i) out[i] = (*next)++;
  };
}

void CheckRoundTrip(CustodyEntry clear) {
  clear.version = 2;
  if (clear.case_id.empty()) clear.case_id = "KW-2026-0042";
  Bytes secret(kCaseSecretSize, 0x42);
  Result<SealedEntry> sealed = SealCustodyEntry(clear, secret, Counter());
  if (!sealed.ok()) {
    // Only for a data field that could not be opened (disclosure.h).
    FUZZ_CHECK(sealed.status().code() == Code::kInvalidInput);
    FUZZ_CHECK(clear.data.contains("sd") || clear.data.contains("actor") ||
               clear.data.contains("case") || clear.data.contains("subject") ||
               clear.data.contains(""));
    return;
  }
  Result<CustodyEntry> parsed = ParseCustodyEntry(sealed->bytes);
  FUZZ_CHECK(parsed.ok());
  FUZZ_CHECK(IsSealed(*parsed));
  FUZZ_CHECK(parsed->case_id == CaseDigest(secret, clear.case_id));
  FUZZ_CHECK(sealed->disclosures.size() == 3 + clear.data.size());
  for (const std::string& d : sealed->disclosures) CheckParse(d);

  Result<OpenedEntry> opened =
      OpenCustodyEntry(sealed->bytes, sealed->disclosures);
  FUZZ_CHECK(opened.ok());
  FUZZ_CHECK(opened->undisclosed == 0);
  FUZZ_CHECK(FormatCustodyEntry(opened->entry) == FormatCustodyEntry(clear));

  std::vector<std::string> reversed(sealed->disclosures.rbegin(),
                                    sealed->disclosures.rend());
  opened = OpenCustodyEntry(sealed->bytes, reversed);
  FUZZ_CHECK(opened.ok());
  FUZZ_CHECK(FormatCustodyEntry(opened->entry) == FormatCustodyEntry(clear));

  // Every other one: what is left out stays sealed.
  std::vector<std::string> some;
  for (size_t i = 0; i < sealed->disclosures.size(); i += 2) {
    some.push_back(sealed->disclosures[i]);
  }
  opened = OpenCustodyEntry(sealed->bytes, some);
  FUZZ_CHECK(opened.ok());
  CheckOpened(*parsed, some, *opened);
  FUZZ_CHECK(opened->undisclosed == clear.data.size() - (some.size() - 2));

  // A disclosure given twice is refused.
  some.push_back(some.front());
  opened = OpenCustodyEntry(sealed->bytes, some);
  FUZZ_CHECK(!opened.ok() && opened.status().code() == Code::kCorruption);
}

}  // namespace
}  // namespace amanah

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  std::string_view in = fuzz::AsText(data, size);
  CheckParse(in);
  size_t nl = in.find('\n');
  std::string entry_text(in.substr(0, nl));
  std::vector<std::string> given =
      Lines(nl == std::string_view::npos ? "" : in.substr(nl + 1));
  for (const std::string& line : given) CheckParse(line);

  Result<CustodyEntry> entry = ParseCustodyEntry(entry_text);
  Result<OpenedEntry> opened = OpenCustodyEntry(entry_text, given);
  if (!entry.ok()) {
    FUZZ_CHECK(!opened.ok());
    FUZZ_CHECK(opened.status().code() == Code::kCorruption);
    return 0;
  }
  if (opened.ok()) {
    CheckOpened(*entry, given, *opened);
  } else {
    FUZZ_CHECK(opened.status().code() == Code::kCorruption);
  }
  if (!IsSealed(*entry)) CheckRoundTrip(*entry);
  return 0;
}
