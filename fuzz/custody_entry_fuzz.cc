// ParseCustodyEntry (ledger/custody_entry.h) on any bytes: an entry is
// stored and hashed as exact bytes, so what it accepts must be exactly what
// FormatCustodyEntry writes for the parsed entry.

#include "fuzz/fuzz_util.h"
#include "ledger/custody_entry.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  std::string_view bytes = fuzz::AsText(data, size);
  Result<CustodyEntry> e = ParseCustodyEntry(bytes);
  if (!e.ok()) {
    FUZZ_CHECK(e.status().code() == Code::kCorruption);
    return 0;
  }
  FUZZ_CHECK(FormatCustodyEntry(*e) == bytes);
  FUZZ_CHECK(!EntryKindName(e->kind).empty());
  FUZZ_CHECK(ParseTime(FormatTime(e->time_unix_micros)).ok());
  return 0;
}
