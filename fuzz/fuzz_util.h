// Shared by the libFuzzer harnesses (fuzz/*_fuzz.cc): a check that stops the
// run with a message, an in-memory input stream, and a scratch directory.

#ifndef AMANAH_FUZZ_FUZZ_UTIL_H_
#define AMANAH_FUZZ_FUZZ_UTIL_H_

#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <string_view>

#include "storage/env.h"

// A property of the parser under test that must hold for every input:
// libFuzzer records the input and stops when one breaks it.
#define FUZZ_CHECK(cond)                                                       \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::fprintf(stderr, "%s:%d: property failed: %s\n", __FILE__, __LINE__, \
                   #cond);                                                     \
      std::abort();                                                            \
    }                                                                          \
  } while (0)

namespace amanah::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return std::string_view(reinterpret_cast<const char*>(data), size);
}

// A SequentialFile over a byte string that hands out at most `chunk` bytes a
// read and checks that the reader never asks for bytes once it was told the
// stream ended twice (a reader that loops on the end would hang).
class ByteSource final : public SequentialFile {
 public:
  ByteSource(std::string_view bytes, size_t chunk)
      : bytes_(bytes), chunk_(std::max<size_t>(chunk, 1)) {}
  Result<size_t> Read(uint8_t* scratch, size_t n) override {
    size_t k = std::min({n, chunk_, bytes_.size() - pos_});
    if (k == 0 && n > 0) FUZZ_CHECK(++ends_ < 1000);
    std::memcpy(scratch, bytes_.data() + pos_, k);
    pos_ += k;
    return k;
  }
  size_t consumed() const { return pos_; }

 private:
  std::string_view bytes_;
  size_t chunk_;
  size_t pos_ = 0;
  int ends_ = 0;
};

// A directory of its own under $TMPDIR (or /tmp), removed at exit.
inline const std::string& ScratchDir() {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp && *tmp ? tmp : "/tmp") + "/amanah-fuzz-XXXXXX";
    FUZZ_CHECK(::mkdtemp(pattern.data()) != nullptr);
    static std::string removed_at_exit = pattern;
    std::atexit([] { std::filesystem::remove_all(removed_at_exit); });
    return pattern;
  }();
  return dir;
}

}  // namespace amanah::fuzz

#endif  // AMANAH_FUZZ_FUZZ_UTIL_H_
