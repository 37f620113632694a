// Compact JSON output, byte for byte what nlohmann::json::dump() writes
// (sorted object keys, no whitespace, ensure_ascii off, invalid UTF-8
// replaced by U+FFFD), but without building temporaries: custody entries and
// API responses are written on hot paths.

#ifndef AMANAH_BASE_JSON_WRITER_H_
#define AMANAH_BASE_JSON_WRITER_H_

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace amanah {

// Appends `s` as a quoted JSON string.
void AppendJsonString(std::string* out, std::string_view s);

// Appends the compact serialisation of `value`.
void AppendJson(std::string* out, const nlohmann::json& value);

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace amanah

#endif  // AMANAH_BASE_JSON_WRITER_H_
