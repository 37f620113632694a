#include "server/request_input.h"

#include <regex>

#include "base/json_writer.h"
#include "ledger/tiles.h"

namespace amanah {

using nlohmann::json;

Result<json> ParseJsonBody(std::string_view content_type, std::string_view body,
                           BodyShape shape) {
  if (content_type.rfind("application/json", 0) != 0) {
    return Status::InvalidInput(
        "send the body as Content-Type: "
        "application/json");
  }
  // Before parsing: nlohmann::json copies values recursively.
  if (!JsonDepthAtMost(body, kMaxJsonDepth)) {
    return Status::InvalidInput("the body is nested more than " +
                                std::to_string(kMaxJsonDepth) + " levels deep");
  }
  json j = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return Status::InvalidInput("the body is not JSON");
  if (!j.is_object()) {
    return Status::InvalidInput("the body must be a JSON object");
  }
  for (const auto& [key, value] : j.items()) {
    const BodyField* f = nullptr;
    for (const BodyField& x : shape) {
      if (key == x.name) f = &x;
    }
    if (f == nullptr) {
      return Status::InvalidInput("unknown field \"" + key + "\"");
    }
    bool ok = f->type == json::value_t::number_unsigned
                  ? value.is_number_unsigned()
                  : value.type() == f->type;
    if (!ok) {
      const char* want = f->type == json::value_t::string    ? "a string"
                         : f->type == json::value_t::boolean ? "true or false"
                         : f->type == json::value_t::object  ? "an object"
                         : f->type == json::value_t::array   ? "an array"
                                                             : "a whole number";
      return Status::InvalidInput("field \"" + key + "\" must be " + want);
    }
  }
  for (const BodyField& f : shape) {
    if (f.required && !j.contains(f.name)) {
      return Status::InvalidInput(std::string("field \"") + f.name +
                                  "\" is required");
    }
  }
  return j;
}

Result<uint64_t> ParseWholeNumber(std::string_view s, const char* what) {
  if (s.empty() || s.size() > 19 ||
      s.find_first_not_of("0123456789") != std::string_view::npos) {
    return Status::InvalidInput(std::string(what) + " must be a whole number");
  }
  uint64_t v = 0;
  for (char c : s) v = v * 10 + static_cast<uint64_t>(c - '0');
  return v;
}

Result<bool> ParseUploadComplete(std::string_view header) {
  if (header.empty() || header == "?0") return false;
  if (header == "?1") return true;
  return Status::InvalidInput("Upload-Complete is ?1 or ?0");
}

Result<std::vector<ContentAddress>> ParseAddressList(const json& items) {
  std::vector<ContentAddress> out;
  for (const auto& item : items) {
    if (!item.is_string()) {
      return Status::InvalidInput("items are sha256:<hex> strings");
    }
    ASSIGN_OR_RETURN(ContentAddress a,
                     ContentAddress::Parse(item.get<std::string>()));
    out.push_back(a);
  }
  return out;
}

std::optional<TileRoute> ParseTileRoute(const std::string& path) {
  // tlog-tiles paths: tile/<L>/<N>[.p/<W>] and tile/entries/<N>[.p/<W>],
  // where <N> is groups of three digits with an 'x' on all but the last.
  static const std::regex kTilePath(
      R"(/log/(tile/(entries|[0-9]{1,2})/((?:x[0-9]{3}/)*[0-9]{3})(\.p/[0-9]{1,3})?))");
  std::smatch m;
  if (!std::regex_match(path, m, kTilePath)) return std::nullopt;
  TileRoute t;
  t.rel = m[1];
  t.entries = m[2] == "entries";
  auto index = ParseTileIndexPath(m[3].str());
  if (!index.ok()) return t;
  int level = t.entries ? -1 : std::stoi(m[2]);  // 1-2 digits
  uint64_t width = kTileWidth;
  if (m[4].matched) width = std::stoull(m[4].str().substr(3));  // 1-3
  // One spelling of each tile: no leading zeros.
  if ((!t.entries && m[2].str() != std::to_string(level)) ||
      (m[4].matched && m[4].str().substr(3) != std::to_string(width)) ||
      width == 0 || (m[4].matched && width >= kTileWidth)) {
    return t;
  }
  t.valid = true;
  t.level = level;
  t.index = *index;
  t.width = width;
  return t;
}

}  // namespace amanah
