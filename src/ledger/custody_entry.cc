#include "ledger/custody_entry.h"

#include <ctime>

namespace amanah {

namespace {
struct KindName {
  EntryKind kind;
  std::string_view name;
};
constexpr KindName kKinds[] = {
    {EntryKind::kEvidenceIngested, "evidence.ingested"},
    {EntryKind::kEvidenceAccessed, "evidence.accessed"},
    {EntryKind::kEvidenceVerified, "evidence.verified"},
    {EntryKind::kNodeChecked, "node.checked"},
};

// Parses FormatTime's output exactly.
Result<int64_t> ParseTime(const std::string& s) {
  std::tm tm{};
  int micros = 0;
  char z = 0;
  if (s.size() != 27 ||
      std::sscanf(s.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d.%6d%c", &tm.tm_year,
                  &tm.tm_mon, &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec,
                  &micros, &z) != 8 ||
      z != 'Z') {
    return Status::InvalidInput(
        "entry time is not YYYY-MM-DDTHH:MM:SS.ffffffZ");
  }
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  int64_t secs = timegm(&tm);
  int64_t t = secs * 1000000 + micros;
  if (FormatTime(t) != s)
    return Status::InvalidInput("entry time out of range");
  return t;
}
}  // namespace

std::string_view EntryKindName(EntryKind kind) {
  for (const auto& k : kKinds) {
    if (k.kind == kind) return k.name;
  }
  return "";
}

Result<EntryKind> ParseEntryKind(std::string_view name) {
  for (const auto& k : kKinds) {
    if (k.name == name) return k.kind;
  }
  return Status::InvalidInput("unknown custody entry kind \"" +
                              std::string(name) + "\"");
}

std::string FormatTime(int64_t unix_micros) {
  int64_t secs = unix_micros / 1000000;
  int64_t micros = unix_micros % 1000000;
  if (micros < 0) {
    micros += 1000000;
    secs -= 1;
  }
  std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[96];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ",
                tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                tm.tm_min, tm.tm_sec, static_cast<int>(micros));
  return buf;
}

std::string FormatCustodyEntry(const CustodyEntry& e) {
  using nlohmann::json;
  std::string out = "{\"v\":1,\"kind\":";
  out += json(std::string(EntryKindName(e.kind))).dump();
  out += ",\"time\":" + json(FormatTime(e.time_unix_micros)).dump();
  out += ",\"node\":" + json(e.node).dump();
  out += ",\"actor\":" + json(e.actor).dump();
  out += ",\"case\":" + json(e.case_id).dump();
  out += ",\"subject\":" + json(e.subject).dump();
  // nlohmann's objects keep keys sorted; dump() is compact. Invalid UTF-8 is
  // replaced rather than thrown on.
  out += ",\"data\":" +
         e.data.dump(-1, ' ', false, json::error_handler_t::replace);
  out += "}";
  return out;
}

Result<CustodyEntry> ParseCustodyEntry(std::string_view bytes) {
  nlohmann::json j = nlohmann::json::parse(bytes, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    return Status::Corruption("custody entry is not a JSON object");
  }
  static const char* kKeys[] = {"v",     "kind", "time",    "node",
                                "actor", "case", "subject", "data"};
  if (j.size() != 8) return Status::Corruption("custody entry has extra keys");
  for (const char* k : kKeys) {
    if (!j.contains(k)) {
      return Status::Corruption(std::string("custody entry lacks \"") + k +
                                "\"");
    }
  }
  if (j["v"] != 1) return Status::Corruption("custody entry version is not 1");
  for (const char* k : {"kind", "time", "node", "actor", "case", "subject"}) {
    if (!j[k].is_string()) {
      return Status::Corruption(std::string("custody entry \"") + k +
                                "\" is not a string");
    }
  }
  if (!j["data"].is_object()) {
    return Status::Corruption("custody entry \"data\" is not an object");
  }
  CustodyEntry e;
  auto kind = ParseEntryKind(j["kind"].get<std::string>());
  if (!kind.ok()) return Status::Corruption(kind.status().message());
  e.kind = *kind;
  auto t = ParseTime(j["time"].get<std::string>());
  if (!t.ok()) return Status::Corruption(t.status().message());
  e.time_unix_micros = *t;
  e.node = j["node"];
  e.actor = j["actor"];
  e.case_id = j["case"];
  e.subject = j["subject"];
  e.data = j["data"];
  if (FormatCustodyEntry(e) != bytes) {
    return Status::Corruption("custody entry is not in its canonical form");
  }
  return e;
}

}  // namespace amanah
