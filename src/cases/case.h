// Cases: the unit of access and of evidence. Pure domain types and rules.

#ifndef AMANAH_CASES_CASE_H_
#define AMANAH_CASES_CASE_H_

#include <string>
#include <string_view>

#include "base/status.h"

namespace amanah {

enum class Offence {
  kCybercrime,
  kTerrorism,
  kTerroristFinancing,
  kOther,
};

std::string_view OffenceName(Offence offence);  // "cybercrime", ...
Result<Offence> ParseOffence(std::string_view name);

enum class CaseStatus { kOpen, kClosed };
std::string_view CaseStatusName(CaseStatus status);
Result<CaseStatus> ParseCaseStatus(std::string_view name);

struct Case {
  std::string id;     // e.g. "KW-2026-0042"
  std::string title;  // free text, Arabic or English
  Offence offence = Offence::kOther;
  std::string legal_basis;  // e.g. "Budapest Convention art. 29; Law 63/2015"
  CaseStatus status = CaseStatus::kOpen;
  std::string opened;     // RFC 3339
  std::string opened_by;  // actor
  // The member who may change the case's membership alone (user name);
  // empty if none, when two members must agree on every change.
  std::string lead;
};

// Case ids: 1 to 64 of A-Z a-z 0-9 . _ -, starting with a letter or digit;
// they appear in URLs, file names, custody entries and court files.
Status ValidateCaseId(std::string_view id);

// Free text: valid UTF-8, no control characters but newline and tab,
// at most `max` bytes. `what` names the field in the error.
Status ValidateText(std::string_view text, size_t max, std::string_view what,
                    bool required);

}  // namespace amanah

#endif  // AMANAH_CASES_CASE_H_
