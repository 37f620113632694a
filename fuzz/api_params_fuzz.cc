// Path parameters, query numbers and upload headers of the HTTP API
// (server/request_input.h): the text is matched against every route
// pattern as httplib matches a path, and what a pattern lets through is
// checked as the route's service checks it; a case id, an address or an
// upload id that the pattern matches is also valid to the domain. The same
// text as a /log/tile/ path names at most one tile, in its one spelling;
// as a whole number (?limit=, ?after=, Upload-Offset) and as
// Upload-Complete it is refused cleanly or read back the same.

#include <regex>

#include "app/users.h"
#include "cases/case.h"
#include "fuzz/fuzz_util.h"
#include "ledger/tiles.h"
#include "server/request_input.h"
#include "vault/vault.h"

namespace amanah {
namespace {

// Compiled once: the patterns are fixed.
bool Matches(int which, const std::string& text, std::string* group) {
  static const std::regex kPatterns[] = {
      std::regex(route::kCaseId),   std::regex(route::kRequestId),
      std::regex(route::kUploadId), std::regex(route::kMessageId),
      std::regex(route::kUserName), std::regex(route::kMemberName),
      std::regex(route::kAddress),  std::regex(route::kLogIndex)};
  std::smatch m;
  if (!std::regex_match(text, m, kPatterns[which])) return false;
  *group = m[1];
  return true;
}

}  // namespace
}  // namespace amanah

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  // httplib refuses a request line longer than this.
  if (size > 8192) return 0;
  std::string text(fuzz::AsText(data, size));
  std::string g;
  if (Matches(0, text, &g)) FUZZ_CHECK(ValidateCaseId(g).ok());
  FUZZ_CHECK(Matches(0, text, &g) == ValidateCaseId(text).ok());
  if (Matches(1, text, &g)) FUZZ_CHECK(g == text);
  if (Matches(2, text, &g) || Matches(3, text, &g)) {
    FUZZ_CHECK(g.size() == 32);
  }
  if (Matches(4, text, &g)) {
    Status s = ValidateUserName(g);
    FUZZ_CHECK(s.ok() || s.code() == Code::kInvalidInput);
  }
  if (Matches(5, text, &g)) FUZZ_CHECK(ValidateUserName(g).ok());
  if (Matches(6, text, &g)) {
    Result<ContentAddress> a = ContentAddress::Parse(g);
    FUZZ_CHECK(a.ok() && a->ToString() == g);
  }
  if (Matches(7, text, &g)) {
    FUZZ_CHECK(ParseWholeNumber(g, "index").ok());
  }

  Result<uint64_t> n = ParseWholeNumber(text, "limit");
  if (n.ok()) {
    // The digits, less leading zeros.
    size_t first = std::min(text.find_first_not_of('0'), text.size() - 1);
    FUZZ_CHECK(std::to_string(*n) == text.substr(first));
  } else {
    FUZZ_CHECK(n.status().code() == Code::kInvalidInput);
  }
  Result<bool> complete = ParseUploadComplete(text);
  FUZZ_CHECK(complete.ok() == (text.empty() || text == "?0" || text == "?1"));

  std::optional<TileRoute> t = ParseTileRoute("/log/" + text);
  if (t && t->valid) {
    FUZZ_CHECK(text == t->rel);
    FUZZ_CHECK(t->width >= 1 && t->width <= kTileWidth);
    std::string spelled = t->entries ? EntryBundlePath(t->index, t->width)
                                     : TilePath(t->level, t->index, t->width);
    FUZZ_CHECK(spelled == t->rel);
  }
  return 0;
}
