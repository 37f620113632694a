#include "cases/request.h"

#include <algorithm>
#include <array>

#include "cases/case.h"

namespace amanah {

namespace {

constexpr std::array<std::string_view, 5> kTypes = {
    "preservation", "disclosure", "production", "emergency", "subscriber"};
constexpr std::array<std::string_view, 3> kProfiles = {"budapest", "us-2703f",
                                                       "eu"};
constexpr std::array<std::string_view, 2> kDirections = {"outgoing",
                                                         "incoming"};
constexpr std::array<std::string_view, 11> kStates = {
    "draft",    "sent",      "received", "acknowledged",
    "executed", "preserved", "extended", "fulfilled",
    "refused",  "withdrawn", "expired"};

template <typename E, size_t N>
Result<E> ParseName(const std::array<std::string_view, N>& names,
                    std::string_view name, const char* what) {
  for (size_t i = 0; i < N; ++i) {
    if (names[i] == name) return static_cast<E>(i);
  }
  std::string list;
  for (size_t i = 0; i < N; ++i) {
    list += (i ? ", " : "") + std::string(names[i]);
  }
  return Status::InvalidInput("unknown " + std::string(what) + " \"" +
                              std::string(name) + "\"; one of " + list);
}

using S = RequestState;

}  // namespace

std::string_view RequestTypeName(RequestType t) {
  return kTypes[static_cast<size_t>(t)];
}
Result<RequestType> ParseRequestType(std::string_view n) {
  return ParseName<RequestType>(kTypes, n, "request type");
}
std::string_view ProfileName(Profile p) {
  return kProfiles[static_cast<size_t>(p)];
}
Result<Profile> ParseProfile(std::string_view n) {
  return ParseName<Profile>(kProfiles, n, "profile");
}
std::string_view DirectionName(Direction d) {
  return kDirections[static_cast<size_t>(d)];
}
Result<Direction> ParseDirection(std::string_view n) {
  return ParseName<Direction>(kDirections, n, "direction");
}
std::string_view RequestStateName(RequestState s) {
  return kStates[static_cast<size_t>(s)];
}
Result<RequestState> ParseRequestState(std::string_view n) {
  return ParseName<RequestState>(kStates, n, "request state");
}

bool IsTerminal(RequestState s) {
  return s == S::kFulfilled || s == S::kRefused || s == S::kWithdrawn ||
         s == S::kExpired;
}

int64_t PreservationSeconds(Profile p) {
  return (p == Profile::kUs2703f ? 90 : 60) * kDay;
}

int64_t ExtensionSeconds(Profile p) {
  switch (p) {
    case Profile::kUs2703f:
      return 90 * kDay;
    case Profile::kEu:
      return 30 * kDay;
    case Profile::kBudapest:
      return 60 * kDay;
  }
  return 0;
}

int MaxExtensions(Profile) { return 1; }

std::optional<int64_t> ResponseSeconds(Profile p, RequestType t) {
  if (t == RequestType::kEmergency) return 8 * 3600;
  if (p != Profile::kEu) return std::nullopt;
  if (t == RequestType::kPreservation) return std::nullopt;
  return 10 * kDay;  // EU 2023/1543 art. 10: production within 10 days
}

std::vector<RequestState> NextStates(RequestState from, RequestType type,
                                     Profile profile, int extensions) {
  bool preservation = type == RequestType::kPreservation;
  switch (from) {
    case S::kDraft:
      return {S::kSent, S::kWithdrawn};
    case S::kSent:
      return {S::kReceived, S::kAcknowledged, S::kRefused, S::kWithdrawn};
    case S::kReceived:
      return {S::kAcknowledged, S::kRefused, S::kWithdrawn};
    case S::kAcknowledged:
      return {preservation ? S::kPreserved : S::kExecuted, S::kRefused,
              S::kWithdrawn};
    case S::kPreserved:
    case S::kExtended: {
      std::vector<RequestState> next;
      if (extensions < MaxExtensions(profile)) next.push_back(S::kExtended);
      next.insert(next.end(), {S::kFulfilled, S::kWithdrawn});
      return next;
    }
    case S::kExecuted:
      return {S::kFulfilled, S::kWithdrawn};
    default:
      return {};
  }
}

bool MayMove(Role role, RequestType type, RequestState to) {
  if (role == Role::kProsecutor) return true;
  if (role != Role::kPoc) return false;
  // The 24/7 network's own business; MLA answers go through the central
  // authority, though the point of contact may still withdraw.
  return type == RequestType::kPreservation ||
         type == RequestType::kEmergency || type == RequestType::kDisclosure ||
         to == S::kWithdrawn;
}

Status CheckTransition(RequestState from, RequestState to, RequestType type,
                       Profile profile, int extensions,
                       std::string_view reason) {
  auto next = NextStates(from, type, profile, extensions);
  if (std::find(next.begin(), next.end(), to) == next.end()) {
    std::string allowed;
    for (auto s : next) {
      allowed +=
          (allowed.empty() ? "" : ", ") + std::string(RequestStateName(s));
    }
    return Status::Conflict(
        "a " + std::string(RequestTypeName(type)) + " request that is " +
        std::string(RequestStateName(from)) + " cannot become " +
        std::string(RequestStateName(to)) +
        (allowed.empty() ? " (it is closed)" : "; it can become " + allowed));
  }
  if (to == S::kRefused && reason.empty()) {
    return Status::InvalidInput("a refusal needs a reason");
  }
  return Status::OK();
}

std::optional<int64_t> NextDeadline(const RequestClock& c, RequestType type,
                                    Profile profile) {
  switch (c.state) {
    case S::kSent:
    case S::kReceived:
    case S::kAcknowledged: {
      auto r = ResponseSeconds(profile, type);
      if (!r || c.started_unix == 0) return std::nullopt;
      return c.started_unix + *r;
    }
    case S::kPreserved:
    case S::kExtended:
      return c.preserved_until_unix;
    default:
      return std::nullopt;
  }
}

namespace {

// {"en": "...", "ar": "..."} with at least one non-empty language.
Status CheckBilingual(const nlohmann::json& v, const std::string& name,
                      size_t max) {
  if (!v.is_object()) {
    return Status::InvalidInput("fields." + name +
                                " must be {\"en\": ..., \"ar\": ...}");
  }
  bool any = false;
  for (const auto& [lang, text] : v.items()) {
    if (lang != "en" && lang != "ar") {
      return Status::InvalidInput("fields." + name +
                                  ": languages are \"en\" and \"ar\"");
    }
    if (!text.is_string()) {
      return Status::InvalidInput("fields." + name + "." + lang +
                                  " must be a string");
    }
    const std::string& s = text.get_ref<const std::string&>();
    RETURN_IF_ERROR(ValidateText(s, max, "fields." + name + "." + lang, false));
    any = any || !s.empty();
  }
  if (!any) return Status::InvalidInput("fields." + name + " is empty");
  return Status::OK();
}

// An authority block of the T-CY forms.
Status CheckAuthority(const nlohmann::json& v, const std::string& name) {
  static const char* kKeys[] = {
      "name",      "contact_person",   "phone", "email", "office_hours",
      "time_zone", "preferred_channel"};
  if (!v.is_object()) {
    return Status::InvalidInput("fields." + name + " must be an object");
  }
  for (const auto& [k, x] : v.items()) {
    // (clang 14 cannot capture a structured binding itself.)
    if (std::find_if(std::begin(kKeys), std::end(kKeys),
                     [&key = k](const char* s) { return key == s; }) ==
        std::end(kKeys)) {
      return Status::InvalidInput("fields." + name + ": unknown field \"" + k +
                                  "\"");
    }
    if (!x.is_string()) {
      return Status::InvalidInput("fields." + name + "." + k +
                                  " must be a string");
    }
    RETURN_IF_ERROR(ValidateText(x.get_ref<const std::string&>(), 500,
                                 "fields." + name + "." + k, false));
  }
  if (!v.contains("name") || v["name"].get_ref<const std::string&>().empty()) {
    return Status::InvalidInput("fields." + name + ".name is required");
  }
  if (!v.contains("time_zone")) {
    return Status::InvalidInput("fields." + name +
                                ".time_zone is required (e.g. Asia/Kuwait): "
                                "deadlines are read in the other party's "
                                "time");
  }
  return Status::OK();
}

enum class Kind { kText, kBilingual, kAuthority, kBool, kDateRange, kList };
struct FieldSpec {
  const char* name;
  Kind kind;
  // Required for these types (bit per RequestType); 0 = optional for all.
  unsigned required;
  // Allowed for these types; ~0u = all.
  unsigned allowed;
};

constexpr unsigned Bit(RequestType t) { return 1u << static_cast<int>(t); }
constexpr unsigned kAll = ~0u;
constexpr unsigned kPres = Bit(RequestType::kPreservation);
constexpr unsigned kEmerg = Bit(RequestType::kEmergency);

constexpr FieldSpec kFields[] = {
    // T-CY: who asks whom, how to reach them, in which time zone.
    {"requesting_authority", Kind::kAuthority, kAll, kAll},
    {"requested_authority", Kind::kAuthority, kAll, kAll},
    {"confirmation_contact", Kind::kText, 0, kAll},
    {"prosecutor_case_number", Kind::kText, 0, kAll},
    {"court_case_number", Kind::kText, 0, kAll},
    {"related_tickets", Kind::kList, 0, kAll},
    // Art. 29(2)(b): the offence and a brief summary of facts.
    {"offence", Kind::kBilingual, kAll, kAll},
    {"summary_of_facts", Kind::kBilingual, kAll, kAll},
    // (c) the data and its relation to the offence.
    {"data_requested", Kind::kBilingual, kAll, kAll},
    {"relation_to_offence", Kind::kBilingual, kPres, kAll},
    // (d) custodian or location of the system.
    {"provider", Kind::kText, kPres, kAll},
    {"account_identifiers", Kind::kList, kPres, kAll},
    {"date_range", Kind::kDateRange, 0, kAll},
    // (e) why preservation is necessary; (f) an MLA request will follow.
    {"necessity", Kind::kBilingual, kPres, kAll},
    {"mla_to_follow", Kind::kBool, kPres, kPres},
    // Emergency: who vouches for it (forged emergency requests are a known
    // attack) and the threat.
    {"supervisor", Kind::kText, kEmerg, kEmerg},
    {"threat", Kind::kBilingual, kEmerg, kEmerg},
};

Status CheckField(const FieldSpec& f, const nlohmann::json& v) {
  std::string name = f.name;
  switch (f.kind) {
    case Kind::kText:
      if (!v.is_string()) {
        return Status::InvalidInput("fields." + name + " must be a string");
      }
      return ValidateText(v.get_ref<const std::string&>(), 2000,
                          "fields." + name, false);
    case Kind::kBilingual:
      return CheckBilingual(v, name, 20000);
    case Kind::kAuthority:
      return CheckAuthority(v, name);
    case Kind::kBool:
      if (!v.is_boolean()) {
        return Status::InvalidInput("fields." + name +
                                    " must be true or false");
      }
      return Status::OK();
    case Kind::kList:
      if (!v.is_array() || v.size() > 200) {
        return Status::InvalidInput("fields." + name +
                                    " must be a list of at most 200 strings");
      }
      for (const auto& x : v) {
        if (!x.is_string()) {
          return Status::InvalidInput("fields." + name + " must hold strings");
        }
        RETURN_IF_ERROR(ValidateText(x.get_ref<const std::string&>(), 500,
                                     "fields." + name, true));
      }
      return Status::OK();
    case Kind::kDateRange: {
      if (!v.is_object() || v.size() != 2 || !v.contains("from") ||
          !v.contains("to") || !v["from"].is_string() || !v["to"].is_string()) {
        return Status::InvalidInput(
            "fields." + name +
            " must be {\"from\": \"YYYY-MM-DD\", \"to\": \"YYYY-MM-DD\"}");
      }
      auto date = [](const std::string& s) {
        return s.size() == 10 && s[4] == '-' && s[7] == '-' &&
               std::all_of(s.begin(), s.end(), [](char c) {
                 return c == '-' || (c >= '0' && c <= '9');
               });
      };
      const std::string& from = v["from"].get_ref<const std::string&>();
      const std::string& to = v["to"].get_ref<const std::string&>();
      if (!date(from) || !date(to)) {
        return Status::InvalidInput("fields." + name +
                                    ": dates are YYYY-MM-DD");
      }
      if (from > to) {
        return Status::InvalidInput("fields." + name + ": from is after to");
      }
      return Status::OK();
    }
  }
  return Status::OK();
}

}  // namespace

Status ValidateRequestFields(RequestType type, const nlohmann::json& fields) {
  if (!fields.is_object()) {
    return Status::InvalidInput("fields must be a JSON object");
  }
  unsigned bit = Bit(type);
  for (const auto& [key, value] : fields.items()) {
    const FieldSpec* spec = nullptr;
    for (const auto& f : kFields) {
      if (key == f.name) spec = &f;
    }
    if (spec == nullptr || !(spec->allowed & bit)) {
      return Status::InvalidInput(
          "unknown field \"fields." + key + "\" for a " +
          std::string(RequestTypeName(type)) + " request");
    }
    RETURN_IF_ERROR(CheckField(*spec, value));
  }
  for (const auto& f : kFields) {
    if ((f.required & bit) && !fields.contains(f.name)) {
      return Status::InvalidInput(
          "fields." + std::string(f.name) + " is required for a " +
          std::string(RequestTypeName(type)) + " request");
    }
  }
  if (type == RequestType::kPreservation &&
      !fields["mla_to_follow"].get<bool>()) {
    return Status::InvalidInput(
        "a preservation request states that an MLA request will follow "
        "(Budapest Convention art. 29(2)(f)): set fields.mla_to_follow");
  }
  return Status::OK();
}

}  // namespace amanah
