// E01 (EWF) images through libewf (vault/e01.h) on any bytes: the input is
// written to a file and opened as the first segment of an image set. The
// reader opens it or refuses it with a reason; once open it never hands
// out more media than the image declares nor more than was asked, and
// reports a bad chunk as kCorruption. At most 4 MiB of media are read per
// input (an image may declare far more than the file holds).
//
// libewf itself is Debian's build, without coverage instrumentation: the
// fuzzer sees only which of amanah's paths an input takes. Its known leak on
// a corrupt chunk is suppressed by tests/lsan.supp (scripts/fuzz.sh).

#include <fstream>
#include <vector>

#include "fuzz/fuzz_util.h"
#include "vault/e01.h"

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
