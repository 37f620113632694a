// The catalogue of user-facing text: every message shown to a person has an
// English and an Arabic entry here (STYLE.md). Errors carry a detail built
// by the code that failed; the title of each kind of error comes from here.

#ifndef AMANAH_BASE_MESSAGES_H_
#define AMANAH_BASE_MESSAGES_H_

#include <string_view>

#include "base/status.h"

namespace amanah {

enum class Lang { kEnglish, kArabic };

// "en" or "ar" from an Accept-Language header (first supported wins;
// English otherwise).
Lang LangFromAcceptLanguage(std::string_view header);
std::string_view LangTag(Lang lang);

// The short, fixed title of an error code.
std::string_view CodeTitle(Code code, Lang lang);

}  // namespace amanah

#endif  // AMANAH_BASE_MESSAGES_H_
