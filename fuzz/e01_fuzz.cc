// E01 (EWF) images through libewf (vault/e01.h) on any bytes: the input is
// written to a file and opened as the first segment of an image set. The
// reader opens it or refuses it with a reason; once open it never hands
// out more media than the image declares nor more than was asked, and
// reports a bad chunk as kCorruption. At most 4 MiB of media are read per
// input (an image may declare far more than the file holds). The header
// values it takes are each named once, in the documented order, valid
// UTF-8 within their limits with no control or bidirectional override
// character, the dates in one of their two forms; and the ewf_header data
// field an ingest records of them is a disclosure that parses back.
//
// libewf itself is Debian's build, without coverage instrumentation: the
// fuzzer sees only which of amanah's paths an input takes. Its known leak on
// a corrupt chunk is suppressed by tests/lsan.supp (scripts/fuzz.sh).

#include <fstream>
#include <vector>

#include "app/evidence.h"
#include "base/json_writer.h"
#include "fuzz/fuzz_util.h"
#include "ledger/disclosure.h"
#include "vault/e01.h"

namespace amanah {
namespace {

void CheckHeader(const EwfHeader& h) {
  static const char* kOrder[] = {
      "case_number",     "evidence_number", "examiner",    "description",
      "notes",           "acquired",        "system_date", "operating_system",
      "software_version"};
  size_t next = 0;
  for (const auto& [name, value] : h.values) {
    while (next < std::size(kOrder) && name != kOrder[next]) ++next;
    FUZZ_CHECK(next < std::size(kOrder));  // known, once, in order
    ++next;
    bool text = name == "description" || name == "notes";
    FUZZ_CHECK(!value.empty());
    FUZZ_CHECK(value.size() <= (text ? kMaxEwfHeaderText : kMaxEwfHeaderValue));
    FUZZ_CHECK(IsValidUtf8(value));
    for (size_t i = 0; i < value.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(value[i]);
      FUZZ_CHECK(c >= 0x20 && c != 0x7f);
      FUZZ_CHECK(
          !(c == 0xc2 && static_cast<unsigned char>(value[i + 1]) < 0xa0));
    }
    for (const char* bidi : {"\u202a", "\u202b", "\u202c", "\u202d", "\u202e",
                             "\u2066", "\u2067", "\u2068", "\u2069"}) {
      FUZZ_CHECK(value.find(bidi) == std::string::npos);
    }
    if (name == "acquired" || name == "system_date") {
      FUZZ_CHECK(value.size() == 19 ||
                 (value.size() == 20 && value.back() == 'Z'));
      FUZZ_CHECK(value[4] == '-' && value[10] == 'T' && value[16] == ':');
    }
  }
  for (const std::string& why : h.refused) FUZZ_CHECK(!why.empty());
  // What an ingest records of it: a disclosure that parses back.
  nlohmann::json j = EwfHeaderJson(h);
  std::string d =
      MakeDisclosure(Bytes(kDisclosureSaltSize, 7), "ewf_header", j);
  Result<Disclosure> back = ParseDisclosure(d);
  FUZZ_CHECK(back.ok() && back->value == j);
}

}  // namespace
}  // namespace amanah

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace amanah;
  static const std::string path = fuzz::ScratchDir() + "/image.E01";
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data),
              static_cast<std::streamsize>(size));
  }
  FUZZ_CHECK(
      LooksLikeEwf(ByteView(data, size)) ==
      (size >= 8 && std::memcmp(data, "EVF\x09\x0d\x0a\xff\x00", 8) == 0));
  auto reader = EwfMediaReader::Open(path);
  if (!reader.ok()) {
    FUZZ_CHECK(reader.status().code() == Code::kCorruption ||
               reader.status().code() == Code::kIO);
    return 0;
  }
  EwfMediaReader& r = **reader;
  FUZZ_CHECK(r.stored_hashes().md5_hex.empty() ||
             r.stored_hashes().md5_hex.size() == 32);
  FUZZ_CHECK(r.stored_hashes().sha1_hex.empty() ||
             r.stored_hashes().sha1_hex.size() == 40);
  CheckHeader(r.header());
  std::vector<uint8_t> buf(64 << 10);
  uint64_t total = 0;
  while (total < (4u << 20)) {
    size_t want = 1 + (total * 7919 + size) % buf.size();
    Result<size_t> n = r.Read(buf.data(), want);
    if (!n.ok()) {
      FUZZ_CHECK(n.status().code() == Code::kCorruption ||
                 n.status().code() == Code::kIO);
      return 0;
    }
    FUZZ_CHECK(*n <= want);
    if (*n == 0) {
      FUZZ_CHECK(total == r.media_size());
      break;
    }
    total += *n;
    FUZZ_CHECK(total <= r.media_size());
  }
  return 0;
}
