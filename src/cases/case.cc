#include "cases/case.h"

#include <array>

#include "base/json_writer.h"

namespace amanah {

namespace {
constexpr std::array<std::string_view, 4> kOffences = {
    "cybercrime", "terrorism", "terrorist-financing", "other"};
constexpr std::array<std::string_view, 2> kStatuses = {"open", "closed"};
}  // namespace

std::string_view OffenceName(Offence o) {
  return kOffences[static_cast<size_t>(o)];
}

Result<Offence> ParseOffence(std::string_view name) {
  for (size_t i = 0; i < kOffences.size(); ++i) {
    if (kOffences[i] == name) return static_cast<Offence>(i);
  }
  return Status::InvalidInput(
      "unknown offence \"" + std::string(name) +
      "\"; offences are cybercrime, terrorism, terrorist-financing, other");
}

std::string_view CaseStatusName(CaseStatus s) {
  return kStatuses[static_cast<size_t>(s)];
}

Result<CaseStatus> ParseCaseStatus(std::string_view name) {
  for (size_t i = 0; i < kStatuses.size(); ++i) {
    if (kStatuses[i] == name) return static_cast<CaseStatus>(i);
  }
  return Status::InvalidInput("a case is open or closed");
}

Status ValidateCaseId(std::string_view id) {
  bool ok = !id.empty() && id.size() <= 64;
  for (size_t i = 0; ok && i < id.size(); ++i) {
    char c = id[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                 (c >= '0' && c <= '9');
    ok = alnum || (i > 0 && (c == '.' || c == '_' || c == '-'));
  }
  if (ok) return Status::OK();
  return Status::InvalidInput(
      "a case id is 1 to 64 of A-Z, a-z, 0-9, '.', '_', '-', starting with a "
      "letter or digit (write 123/2026 as 123-2026)");
}

Status ValidateText(std::string_view text, size_t max, std::string_view what,
                    bool required) {
  if (required && text.empty()) {
    return Status::InvalidInput(std::string(what) + " is required");
  }
  if (text.size() > max) {
    return Status::InvalidInput(std::string(what) + " has at most " +
                                std::to_string(max) + " bytes");
  }
  if (!IsValidUtf8(text)) {
    return Status::InvalidInput(std::string(what) + " is not valid UTF-8");
  }
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      return Status::InvalidInput(std::string(what) +
                                  " has control characters");
    }
  }
  return Status::OK();
}

}  // namespace amanah
