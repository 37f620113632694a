// Test support for vault objects and staging files. Included only by tests.

#ifndef AMANAH_VAULT_TESTUTIL_H_
#define AMANAH_VAULT_TESTUTIL_H_

#include <fstream>
#include <iterator>
#include <string>

namespace amanah::testutil {

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

// Whether two files that seal the same chunk positions under one object key
// (two states of one staging file: their headers are the same) used a
// keystream twice. `a` and `b` hold `chunks` sealed chunks of `stride`
// bytes each from `start`, sealed from the plaintexts `p` and `q`, each
// `chunks` times `chunk_size` bytes. A keystream used twice shows as
// a xor b = p xor q; the ciphertext may follow some framing in its chunk,
// so every offset from 0 to 63 bytes into each chunk is tried, over 4 KiB.
// With p = q this asks whether the same plaintext came out as the same
// ciphertext: a nonce used again. A file too short to tell counts as
// reuse, so that a test cannot pass by reading past the end.
inline bool KeystreamReused(const std::string& a, const std::string& b,
                            size_t start, size_t stride, size_t chunks,
                            size_t chunk_size, const std::string& p,
                            const std::string& q) {
  constexpr size_t kSpan = 4096;
  for (size_t chunk = 0; chunk < chunks; ++chunk) {
    for (size_t d = 0; d < 64; ++d) {
      const size_t at = start + chunk * stride + d;
      if (at + kSpan > a.size() || at + kSpan > b.size()) return true;
      bool same = true;
      for (size_t i = 0; i < kSpan && same; ++i) {
        const size_t in = chunk * chunk_size + i;
        same = (a[at + i] ^ b[at + i]) == (p[in] ^ q[in]);
      }
      if (same) return true;
    }
  }
  return false;
}

}  // namespace amanah::testutil

#endif  // AMANAH_VAULT_TESTUTIL_H_
