// What the API routes take from an HTTP request before a service sees it:
// JSON bodies checked against the fields a route accepts, whole numbers in
// queries and headers, the patterns of path parameters, and tlog-tiles
// paths. No httplib here, so that the server and the fuzz harnesses
// (fuzz/api_*_fuzz.cc) run the same code.

#ifndef AMANAH_SERVER_REQUEST_INPUT_H_
#define AMANAH_SERVER_REQUEST_INPUT_H_

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "vault/vault.h"

namespace amanah {

// A field a JSON body may have. Anything else is refused, so that a typo in
// a field name is an error rather than a silently ignored value.
struct BodyField {
  const char* name;
  nlohmann::json::value_t type;  // string, boolean, object, array or
                                 // number_unsigned (a whole number)
  bool required;
};
using BodyShape = std::span<const BodyField>;

// Parses `body` as a JSON object whose fields are all in `shape`, of their
// types, the required ones present. kInvalidInput naming the fault, also
// for a Content-Type other than application/json and for a body nested
// more than kMaxJsonDepth levels deep.
Result<nlohmann::json> ParseJsonBody(std::string_view content_type,
                                     std::string_view body, BodyShape shape);

// The bodies of the routes (docs/openapi.yaml).
namespace body {
using T = nlohmann::json::value_t;
inline constexpr BodyField kSession[] = {{"name", T::string, true},
                                         {"password", T::string, true}};
inline constexpr BodyField kUser[] = {{"name", T::string, true},
                                      {"role", T::string, true}};
inline constexpr BodyField kEnrolment[] = {{"name", T::string, true},
                                           {"secret", T::string, true},
                                           {"password", T::string, false},
                                           {"label", T::string, false},
                                           {"days", T::number_unsigned, false}};
inline constexpr BodyField kToken[] = {{"label", T::string, false},
                                       {"days", T::number_unsigned, false}};
inline constexpr BodyField kCase[] = {{"id", T::string, false},
                                      {"title", T::string, true},
                                      {"offence", T::string, true},
                                      {"legal_basis", T::string, true}};
inline constexpr BodyField kMember[] = {{"user", T::string, true}};
inline constexpr BodyField kCaseStatus[] = {{"status", T::string, true},
                                            {"reason", T::string, true}};
inline constexpr BodyField kRequest[] = {{"type", T::string, true},
                                         {"profile", T::string, true},
                                         {"direction", T::string, true},
                                         {"reference", T::string, false},
                                         {"fields", T::object, true}};
inline constexpr BodyField kMove[] = {{"to", T::string, true},
                                      {"reason", T::string, false}};
inline constexpr BodyField kSend[] = {{"peer", T::string, true}};
inline constexpr BodyField kDelivery[] = {{"items", T::array, true},
                                          {"again", T::boolean, false}};
inline constexpr BodyField kFile[] = {{"case", T::string, true}};
inline constexpr BodyField kUpload[] = {{"name", T::string, true},
                                        {"note", T::string, false},
                                        {"md5", T::boolean, false},
                                        {"sha1", T::boolean, false}};
inline constexpr BodyField kExport[] = {{"items", T::array, false}};
inline constexpr BodyField kMessageBatch[] = {{"messages", T::array, true}};
}  // namespace body

// A whole number of at most 19 decimal digits (so below 2^64); `what`
// names it in the error.
Result<uint64_t> ParseWholeNumber(std::string_view s, const char* what);

// The Upload-Complete header: "?1" true, "?0" or absent (empty) false.
Result<bool> ParseUploadComplete(std::string_view header);

// A body's list of "sha256:<hex>" strings.
Result<std::vector<ContentAddress>> ParseAddressList(
    const nlohmann::json& items);

// Path parameters, as regular expressions with one group each.
namespace route {
inline const std::string kCaseId = R"(([A-Za-z0-9][A-Za-z0-9._-]{0,63}))";
inline const std::string kRequestId = R"((R-[0-9]{4}-[0-9]{5,9}))";
inline const std::string kUploadId = R"(([0-9a-f]{32}))";
inline const std::string kMessageId = R"(([0-9a-f]{32}))";
inline const std::string kUserName = R"(([a-z0-9._-]{1,64}))";
inline const std::string kMemberName = R"(([a-z0-9][a-z0-9._-]{0,63}))";
inline const std::string kAddress = R"((sha256:[0-9a-f]{64}))";
inline const std::string kLogIndex = R"(([0-9]{1,19}))";
}  // namespace route

// A GET /log/tile/... path taken apart.
struct TileRoute {
  std::string rel;  // "tile/...": the path under /log/
  bool entries = false;
  // Whether it names a tile in its one spelling (no leading zeros, a
  // partial width of 1 to 255); the fields below are set only if so.
  bool valid = false;
  int level = -1;  // -1 for entry bundles
  uint64_t index = 0;
  uint64_t width = 0;  // 256 for a full tile
};
// nullopt if `path` is not /log/tile/<L or entries>/<N>[.p/<W>] at all.
std::optional<TileRoute> ParseTileRoute(const std::string& path);

}  // namespace amanah

#endif  // AMANAH_SERVER_REQUEST_INPUT_H_
