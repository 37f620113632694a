#include "ledger/custody_entry.h"

#include <ctime>

#include "base/json_writer.h"

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
    {EntryKind::kUserAdded, "user.added"},
    {EntryKind::kUserDisabled, "user.disabled"},
    {EntryKind::kTokenIssued, "token.issued"},
    {EntryKind::kCaseOpened, "case.opened"},
    {EntryKind::kCaseMemberAdded, "case.member_added"},
    {EntryKind::kCaseMemberRemoved, "case.member_removed"},
    {EntryKind::kRequestCreated, "request.created"},
    {EntryKind::kRequestMoved, "request.moved"},
    {EntryKind::kCaseClosed, "case.closed"},
    {EntryKind::kCaseReopened, "case.reopened"},
    {EntryKind::kPeerAdded, "peer.added"},
    {EntryKind::kPeerRemoved, "peer.removed"},
    {EntryKind::kMessageSent, "message.sent"},
    {EntryKind::kMessageReceived, "message.received"},
    {EntryKind::kMessageDelivered, "message.delivered"},
    {EntryKind::kEvidenceTransferred, "evidence.transferred"},
    {EntryKind::kEvidenceReceived, "evidence.received"},
    {EntryKind::kEvidenceExported, "evidence.exported"},
    {EntryKind::kUserEnrolmentIssued, "user.enrolment_issued"},
    {EntryKind::kUserEnrolled, "user.enrolled"},
    {EntryKind::kCaseLeadChanged, "case.lead_changed"},
    {EntryKind::kCaseChangeProposed, "case.change_proposed"},
    {EntryKind::kEntryVoided, "entry.voided"},
    {EntryKind::kNodeRepaired, "node.repaired"},
};

}  // namespace

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

namespace {
// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
// civil_from_days); no locale, time zone or lock, unlike gmtime_r.
void CivilFromDays(int64_t z, int64_t* y, unsigned* m, unsigned* d) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  *d = doy - (153 * mp + 2) / 5 + 1;
  *m = mp < 10 ? mp + 3 : mp - 9;
  *y = static_cast<int64_t>(yoe) + era * 400 + (*m <= 2);
}

void PutDigits(char* p, uint64_t v, int n) {
  for (int i = n - 1; i >= 0; --i) {
    p[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
}
}  // namespace

std::string FormatTime(int64_t unix_micros) {
  int64_t secs = unix_micros / 1000000;
  int64_t micros = unix_micros % 1000000;
  if (micros < 0) {
    micros += 1000000;
    secs -= 1;
  }
  int64_t days = secs / 86400;
  int64_t rem = secs % 86400;
  if (rem < 0) {
    rem += 86400;
    days -= 1;
  }
  int64_t year;
  unsigned month, day;
  CivilFromDays(days, &year, &month, &day);
  if (year < 0 || year > 9999) {
    // Outside RFC 3339's four-digit years; never produced by a clock, kept
    // only so that the function is total.
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%04lld-%02u-%02uT%02d:%02d:%02d.%06dZ",
                  static_cast<long long>(year), month, day,
                  static_cast<int>(rem / 3600), static_cast<int>(rem / 60 % 60),
                  static_cast<int>(rem % 60), static_cast<int>(micros));
    return buf;
  }
  std::string out = "0000-00-00T00:00:00.000000Z";
  PutDigits(&out[0], static_cast<uint64_t>(year), 4);
  PutDigits(&out[5], month, 2);
  PutDigits(&out[8], day, 2);
  PutDigits(&out[11], static_cast<uint64_t>(rem / 3600), 2);
  PutDigits(&out[14], static_cast<uint64_t>(rem / 60 % 60), 2);
  PutDigits(&out[17], static_cast<uint64_t>(rem % 60), 2);
  PutDigits(&out[20], static_cast<uint64_t>(micros), 6);
  return out;
}

nlohmann::json CustodyEntryJson(const CustodyEntry& e) {
  return {{"v", e.version},
          {"kind", EntryKindName(e.kind)},
          {"time", FormatTime(e.time_unix_micros)},
          {"node", e.node},
          {"actor", e.actor},
          {"case", e.case_id},
          {"subject", e.subject},
          {"data", e.data}};
}

std::string FormatCustodyEntry(const CustodyEntry& e) {
  // Written directly (base/json_writer.h produces nlohmann's exact bytes);
  // the form is a contract: see docs/formats.md and the golden tests.
  std::string out;
  out.reserve(256);
  out += e.version == 1 ? "{\"v\":1,\"kind\":" : "{\"v\":2,\"kind\":";
  AppendJsonString(&out, EntryKindName(e.kind));
  out += ",\"time\":\"";
  out += FormatTime(e.time_unix_micros);
  out += "\",\"node\":";
  AppendJsonString(&out, e.node);
  out += ",\"actor\":";
  AppendJsonString(&out, e.actor);
  out += ",\"case\":";
  AppendJsonString(&out, e.case_id);
  out += ",\"subject\":";
  AppendJsonString(&out, e.subject);
  out += ",\"data\":";
  AppendJson(&out, e.data);
  out += "}";
  return out;
}

namespace {

bool IsDigestHex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A version 2 entry is sealed throughout or clear throughout: a reader can
// tell a digest from a value, and nothing about a case is half-hidden.
Status CheckVersion2Shape(const CustodyEntry& e) {
  auto digest = [](const std::string& v) {
    return v.size() == 67 && v.compare(0, 3, "sd:") == 0 &&
           IsDigestHex(std::string_view(v).substr(3));
  };
  if (e.case_id.empty()) {
    if (e.actor.rfind("sd:", 0) == 0 || e.subject.rfind("sd:", 0) == 0 ||
        e.data.contains("sd")) {
      return Status::Corruption(
          "custody entry without a case has sealed fields");
    }
    return Status::OK();
  }
  if (!digest(e.case_id) || !digest(e.actor) || !digest(e.subject)) {
    return Status::Corruption(
        "custody entry about a case is not sealed: case, actor and subject "
        "must be digests");
  }
  if (e.data.size() != 1 || !e.data.contains("sd") ||
      !e.data["sd"].is_array()) {
    return Status::Corruption(
        "custody entry about a case is not sealed: data must be {\"sd\":[…]}");
  }
  const std::string* previous = nullptr;
  for (const auto& d : e.data["sd"]) {
    if (!d.is_string() || !IsDigestHex(d.get_ref<const std::string&>())) {
      return Status::Corruption("a sealed field's digest is not 64 hex digits");
    }
    const std::string& s = d.get_ref<const std::string&>();
    if (previous != nullptr && !(*previous < s)) {
      return Status::Corruption(
          "a sealed entry's digests are not sorted and distinct");
    }
    previous = &s;
  }
  return Status::OK();
}

}  // namespace

Result<CustodyEntry> ParseCustodyEntry(std::string_view bytes) {
  if (!JsonDepthAtMost(bytes, kMaxJsonDepth)) {
    return Status::Corruption("custody entry is nested more than " +
                              std::to_string(kMaxJsonDepth) + " levels deep");
  }
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
  if (j["v"] != 1 && j["v"] != 2) {
    return Status::Corruption("custody entry version is not 1 or 2");
  }
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
  e.version = j["v"] == 1 ? 1 : 2;
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
  if (e.version == 2) RETURN_IF_ERROR(CheckVersion2Shape(e));
  if (FormatCustodyEntry(e) != bytes) {
    return Status::Corruption("custody entry is not in its canonical form");
  }
  return e;
}

}  // namespace amanah
