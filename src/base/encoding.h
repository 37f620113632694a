// Hex and base64 (RFC 4648, standard alphabet with padding) encodings.

#ifndef AMANAH_BASE_ENCODING_H_
#define AMANAH_BASE_ENCODING_H_

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace amanah {

using Bytes = std::vector<uint8_t>;
using ByteView = std::span<const uint8_t>;

inline ByteView AsBytes(std::string_view s) {
  return ByteView(reinterpret_cast<const uint8_t*>(s.data()), s.size());
}
inline std::string_view AsString(ByteView b) {
  return std::string_view(reinterpret_cast<const char*>(b.data()), b.size());
}

std::string HexEncode(ByteView data);
// Accepts lower- or upper-case hex of even length.
Result<Bytes> HexDecode(std::string_view hex);

std::string Base64Encode(ByteView data);
// Strict: rejects missing padding, whitespace and non-canonical trailing bits.
Result<Bytes> Base64Decode(std::string_view text);

}  // namespace amanah

#endif  // AMANAH_BASE_ENCODING_H_
