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

// The deepest nesting of arrays and objects that the parsers of signed and
// hashed documents (custody entries, disclosures) accept: nlohmann::json
// copies, compares and writes values recursively, so a deeper document
// from outside would exhaust the stack.
constexpr size_t kMaxJsonDepth = 64;

// True if no array or object in the JSON text `s` is nested deeper than
// `max_depth` levels (the outermost is level 1); brackets inside strings
// do not count. Made to be asked before parsing; `s` need not be valid.
bool JsonDepthAtMost(std::string_view s, size_t max_depth);

// True if `s` is well-formed UTF-8 (no overlongs, surrogates or code points
// above U+10FFFF).
bool IsValidUtf8(std::string_view s);

}  // namespace amanah

#endif  // AMANAH_BASE_JSON_WRITER_H_
